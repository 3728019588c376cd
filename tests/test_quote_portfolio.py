"""`quote --portfolio BOOK`: the risk load is the exchange's Euler capital share of the book."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EXAMPLES

BOOK = EXAMPLES / "books" / "sample"


def test_portfolio_quote_rebuilds_premium_from_capital_load(cli):
    args = ["quote", EXAMPLES / "jp_small_exchange.json", "--terms", EXAMPLES / "policy_jp_primary.toml",
            "--portfolio", BOOK, "--json"]
    code, out, err = cli(*args)
    assert code == 0, err
    q = json.loads(out)
    pf = q["portfolio"]
    el, load = q["expected_loss"], pf["capital_load_quote_currency"]
    # canonical amounts (docs/reproducibility.md): USD figures to the cent, yen to the yen, so each identity holds
    # to the rounding of its terms
    usd = pf["rate"] * (pf["co_tvar"] - pf["aal"])
    assert load == pytest.approx(usd * pf["quote_per_usd"], abs=0.5 + pf["rate"] * 0.01 * pf["quote_per_usd"])
    assert q["premium"] == pytest.approx((el + load) / (1 - 0.10 - 0.10), abs=0.5 + 1.0 / 0.8)
    n = len(q["premium_components"])
    assert sum(q["premium_components"].values()) == pytest.approx(q["premium"], abs=0.5 * (n + 1))
    assert q["inputs"]["portfolio"]["book_sha256"]
    # the sample book has 3 exchanges: its thin capital allocation is flagged
    assert pf["book_exchanges"] == 3
    assert any("fewer than 20" in w and "MIN_BOOK_EXCHANGES" in w for w in q["warnings"])
    # same inputs, same bytes
    code2, out2, _ = cli(*args)
    assert code2 == 0 and out2 == out


def test_bad_book_is_an_input_error(cli, tmp_path):
    bad = tmp_path / "book.csv"
    bad.write_text("exchange_id,submission,policy\nx,nope.json,nope.toml\n", encoding="utf-8")
    code, _, err = cli("quote", EXAMPLES / "jp_small_exchange.json", "--portfolio", bad)
    assert code == 2 and "Traceback" not in err


def test_portfolio_premium_keeps_the_reinstatement_credit():
    """With reinstatements, expected reinstatement premiums come out of the upfront premium in both the
    standalone and the portfolio quote: premium × (1 + φ) = (EL + load) / (1 − e − c), with the same φ."""
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission
    from underwriting.portfolio.capital import portfolio_quote
    from underwriting.quote.make import make_quote
    from underwriting.quote.request import QuoteRequest

    sub = load_submission(str(EXAMPLES / "hk_exchange_with_incident.json"))
    terms = load_policy(str(EXAMPLES / "policy_usd_excess.toml"))  # one reinstatement at 100%
    alone = make_quote(sub, terms)
    rc = alone.premium_components["reinstatement_credit"]
    assert rc < 0, "the example must exercise a reinstatement"
    phi = -rc / alone.premium
    # the factor the quote carries (from the layer and the loss distribution) is the one its components imply
    # canonical: φ to 6 significant digits, amounts to the cent (docs/reproducibility.md)
    assert alone.reinstatement_factor == pytest.approx(phi, rel=1e-5) and phi > 0
    q = portfolio_quote(QuoteRequest.build(sub, terms), BOOK, years=5_000)
    # a negative capital load (the exchange diversifies this thin book) is floored at 0 with a warning
    load = q.portfolio.capital_load_quote_currency
    assert (load < 0) == any("floored" in w for w in q.warnings)
    gross = (q.expected_loss + max(load, 0.0)) / (1 - 0.10 - 0.10)
    assert q.premium >= q.expected_loss
    assert q.premium * (1 + phi) == pytest.approx(gross, rel=1e-5)
    n = len(q.premium_components)
    assert sum(q.premium_components.values()) == pytest.approx(q.premium, abs=0.005 * (n + 1))
