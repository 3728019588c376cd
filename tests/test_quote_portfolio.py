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
    assert load == pytest.approx(pf["rate"] * (pf["co_tvar"] - pf["aal"]) * pf["quote_per_usd"], rel=1e-12)
    assert q["premium"] == pytest.approx((el + load) / (1 - 0.10 - 0.10), rel=1e-12)
    assert sum(q["premium_components"].values()) == pytest.approx(q["premium"], rel=1e-12)
    assert q["inputs"]["portfolio"]["book_sha256"]
    # same inputs, same bytes
    code2, out2, _ = cli(*args)
    assert code2 == 0 and out2 == out


def test_bad_book_is_an_input_error(cli, tmp_path):
    bad = tmp_path / "book.csv"
    bad.write_text("exchange_id,submission,policy\nx,nope.json,nope.toml\n", encoding="utf-8")
    code, _, err = cli("quote", EXAMPLES / "jp_small_exchange.json", "--portfolio", bad)
    assert code == 2 and "Traceback" not in err
