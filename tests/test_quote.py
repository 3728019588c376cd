"""End-to-end quotes: stable keys, byte-identical reruns, numbers checked by a second method."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from tests.conftest import EXAMPLES, ROOT, SUBMISSIONS
from underwriting.domain.policy import load_policy
from underwriting.domain.submission import load_submission

KEYS = {"exchange", "as_of", "currency", "risk_score", "p_breach_1y", "expected_loss", "premium", "tvar_995",
        "reserve", "versions"}
RESERVE_KEYS = {"requirement", "credit", "credit_share", "checks"}


@pytest.mark.parametrize("name", SUBMISSIONS)
def test_quote_json_keys(cli, name):
    code, out, err = cli("quote", EXAMPLES / name, "--terms", EXAMPLES / "policy_jp_primary.toml", "--json")
    assert code == 0, err
    q = json.loads(out)
    assert KEYS <= q.keys()
    assert RESERVE_KEYS <= q["reserve"].keys()
    assert q["premium"] > q["expected_loss"] > 0
    assert 0 < q["p_breach_1y"] < 1
    assert q["versions"]["underwriting"] and q["versions"]["datasets"]


@pytest.mark.slow
def test_same_input_same_bytes_across_processes():
    cmd = [sys.executable, "-m", "underwriting", "quote", str(EXAMPLES / "hk_exchange_with_incident.json"),
           "--terms", str(EXAMPLES / "policy_usd_excess.toml"), "--seed", "11", "--json"]
    a = subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT).stdout
    b = subprocess.run(cmd, capture_output=True, check=True, cwd=ROOT).stdout
    assert a == b and len(a) > 500


def test_out_file_matches_stdout(cli, tmp_path):
    out_file = tmp_path / "q.json"
    code, out, _ = cli("quote", EXAMPLES / "jp_small_exchange.json", "--json", "--out", out_file)
    assert code == 0 and out_file.read_text(encoding="utf-8") == out


def _tier_severities(sev, hot_usd, total_usd, hot_share):
    """The loss model's severities, built by hand: the hot-wallet lognormal's median raised to the drained
    share of the hot wallet (read from perils.toml here) and capped at it; other tiers capped at the total."""
    import math
    import tomllib

    from underwriting.losses.severity import CappedSeverity, Lognormal, MixtureSeverity

    d = tomllib.loads((ROOT / "underwriting" / "losses" / "perils.toml")
                      .read_text(encoding="utf-8"))["hot_wallet"]["median_drain_share"]
    hot = CappedSeverity(Lognormal(max(sev.mu, math.log(d * hot_usd)), sev.sigma), hot_usd)
    everything = CappedSeverity(sev, total_usd)
    return {"hot_wallet_theft": hot, "cold_wallet_theft": everything}, MixtureSeverity((hot, everything),
                                                                                       (hot_share, 1 - hot_share))


def test_expected_loss_matches_closed_form_per_peril():
    """Second method: with Poisson counts and no aggregate terms, E[S] = Σ λ_p E[layer(X_p)] exactly."""
    from underwriting.pricing.layers import Layer
    from underwriting.quote.calibration import record_calibration
    from underwriting.quote.losses import _covered_perils
    from underwriting.quote.make import make_quote

    sub = load_submission(str(EXAMPLES / "global_large_exchange.json"))  # USD: no conversion
    terms = load_policy(str(EXAMPLES / "policy_usd_excess.toml")).with_(
        aggregate_limit=None, reinstatements=0, coinsurance=1.0)
    q = make_quote(sub, terms, frequency_model="baseline")
    cal = record_calibration()
    a = sub.exposure.customer_assets
    sev = cal.severity_fit.severity
    by_peril, mixed = _tier_severities(sev, a.hot + a.warm, a.total, cal.hot_share)
    layer = Layer(deductible=terms.deductible, limit=terms.limit)
    expected = 0.0
    for p in _covered_perils(terms):
        s = by_peril.get(p, mixed)
        lam = q.expected_breaches_term * cal.peril_shares[p]
        expected += lam * (s.lev(layer.deductible + layer.limit) - s.lev(layer.deductible))
    # the baseline carries parameter uncertainty (negative binomial): the mean is unchanged
    assert q.expected_loss == pytest.approx(expected, rel=1e-6)


def test_excluded_peril_is_not_priced():
    from underwriting.quote.make import make_quote

    sub = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    full = load_policy(str(EXAMPLES / "policy_jp_primary.toml"))
    no_cold = full.with_(exclusions=[*full.exclusions, "cold_wallet"])
    a, b = make_quote(sub, full), make_quote(sub, no_cold)
    assert "cold_wallet_theft" not in b.terms["perils_covered"]
    assert b.expected_loss < a.expected_loss


def test_policy_in_another_currency_is_converted_with_a_recorded_rate():
    from underwriting.quote.make import make_quote

    sub = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    usd_policy = load_policy(str(EXAMPLES / "policy_usd_excess.toml"))
    q = make_quote(sub, usd_policy, fx_rates={"JPY": 150.0})
    assert q.fx == [{"currency": "JPY", "units_per_usd": 150.0, "basis": "user-supplied", "source": "user",
                     "basis_message": {"kind": "message", "id": "user-supplied", "args": {}}}]  # the basis as a message too
    assert q.terms["limit"] == pytest.approx(200_000_000 * 150.0)


def test_without_terms_reserve_has_requirement_but_no_credit():
    from underwriting.quote.make import make_quote

    q = make_quote(load_submission(str(EXAMPLES / "jp_small_exchange.json")))
    assert q.terms["default_terms"] is True
    assert q.reserve.requirement > 0 and q.reserve.credit == 0
    assert "no policy given" in q.reserve.note


def test_jurisdiction_without_regime_says_so():
    from underwriting.quote.make import make_quote

    q = make_quote(load_submission(str(EXAMPLES / "global_large_exchange.json")))
    assert q.reserve.regime is None and "pass --regime" in q.reserve.note


def test_baseline_base_rate_oracle():
    """Poisson MLE on a hand-made roster: 3 breaches over 2 + 4 + 0.5 years = 6.5 exchange-years."""
    import datetime as dt

    import pandas as pd

    from underwriting.frequency.baseline import base_rate_from_roster

    ex = pd.DataFrame({"exchange_id": ["a", "b", "c"],
                       "launch_date": pd.to_datetime(["2020-01-01", "2018-01-01", "2021-07-01"]),
                       "closure_date": pd.to_datetime([None, None, "2022-01-01"])})
    inc = pd.DataFrame({"exchange_id": ["a", "b", "b", "c", "zz"],
                        "incident_date": pd.to_datetime(["2021-01-01", "2019-01-01", "2020-01-01", "2021-09-01",
                                                         "2021-01-01"]),
                        "event_type": ["hack", "hack", "exit_scam", "insider", "hack"]})
    br = base_rate_from_roster(ex, inc, cutoff=dt.date(2022, 1, 1))
    years = (pd.Timestamp("2022-01-01") - pd.Timestamp("2020-01-01")).days / 365.25 \
        + (pd.Timestamp("2022-01-01") - pd.Timestamp("2018-01-01")).days / 365.25 \
        + (pd.Timestamp("2022-01-01") - pd.Timestamp("2021-07-01")).days / 365.25
    assert br.events == 3
    assert br.rate == pytest.approx(3 / years, rel=1e-12)
    assert br.variance == pytest.approx(3 / years**2, rel=1e-12)
    assert math.isclose(br.exchange_years, years)


def test_amounts_in_two_currencies_are_each_converted_once():
    """JPY submission, USD policy, user rate 150: the closed form in USD times 150, by hand.

    Assets are divided by the rate once (severity caps in USD), the policy is priced in USD as
    written, and the result is multiplied by the rate once; a missed or doubled conversion moves
    the expected loss by a factor of 150 or more.
    """
    from underwriting.quote.calibration import record_calibration
    from underwriting.quote.losses import _covered_perils
    from underwriting.quote.make import make_quote

    rate = 150.0
    sub = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    terms = load_policy(str(EXAMPLES / "policy_usd_excess.toml")).with_(
        aggregate_limit=None, reinstatements=0)
    q = make_quote(sub, terms, frequency_model="baseline", fx_rates={"JPY": rate})
    cal = record_calibration()
    a = sub.exposure.customer_assets
    sev = cal.severity_fit.severity
    by_peril, mixed = _tier_severities(sev, (a.hot + a.warm) / rate, a.total / rate, cal.hot_share)
    d, lim = terms.deductible, terms.limit  # USD, as written
    el_usd = sum(q.expected_breaches_term * cal.peril_shares[p] * terms.coinsurance
                 * (by_peril.get(p, mixed).lev(d + lim) - by_peril.get(p, mixed).lev(d))
                 for p in _covered_perils(terms))
    assert el_usd > 0
    assert q.expected_loss == pytest.approx(el_usd * rate, rel=1e-6)
    assert q.terms["deductible"] == pytest.approx(d * rate, rel=1e-12)
    assert q.terms["limit"] == pytest.approx(lim * rate, rel=1e-12)
    # the rate on line is currency-free: premium over the insurer's share of the limit, same currency
    # (both canonical: the premium to the yen, the rate to 6 significant digits, docs/reproducibility.md)
    assert q.rate_on_line == pytest.approx(q.premium / (lim * rate * terms.coinsurance), rel=1e-5)
    # each component and the premium are rounded to the yen on their own: the sum holds to that rounding
    assert sum(q.premium_components.values()) == pytest.approx(q.premium, abs=0.5 * (len(q.premium_components) + 1))


def test_default_terms_starting_on_29_february(example_submission):
    """A submission dated 28 February of a leap year: the ground-up term starts on 29 February and
    ends on 28 February a year later (it used to raise ValueError: day is out of range)."""
    import datetime as dt

    from underwriting.domain.submission import Submission
    from underwriting.quote.losses import default_terms

    # a valid submission dated 28 February 2024: posture dates moved before it
    data = dict(example_submission, as_of="2024-02-28")
    data["posture"] = {k: ("2023-06-01" if isinstance(v, str) and v[:2] == "20" and v > "2024-02-28" else v)
                       for k, v in data["posture"].items()}
    t = default_terms(Submission.model_validate(data))
    assert (t.inception, t.expiry) == (dt.date(2024, 2, 29), dt.date(2025, 2, 28))
    sub = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    t = default_terms(sub.with_(as_of=dt.date(2026, 9, 30)))
    assert (t.inception, t.expiry) == (dt.date(2026, 10, 1), dt.date(2027, 10, 1))


def test_with_revalidates_where_model_copy_does_not():
    from underwriting.errors import InputError

    terms = load_policy(str(EXAMPLES / "policy_jp_primary.toml"))
    with pytest.raises(InputError, match="deductible"):
        terms.with_(deductible=terms.limit * 2)
    with pytest.raises(InputError, match="no_such_field"):
        terms.with_(no_such_field=1)
    changed = terms.with_(coinsurance=0.5)
    assert changed.coinsurance == 0.5 and terms.coinsurance != 0.5 and changed.limit == terms.limit


def test_to_layer_converts_every_amount_once():
    from underwriting.domain.currency import FxTable
    from underwriting.pricing.layers import Layer

    terms = load_policy(str(EXAMPLES / "policy_usd_excess.toml")).with_(sublimits={"insider": 1e6})
    assert terms.to_layer() == Layer(deductible=terms.deductible, limit=terms.limit,
                                     agg_deductible=terms.aggregate_deductible, agg_limit=terms.aggregate_limit,
                                     share=terms.coinsurance, reinstatements=terms.reinstatements,
                                     reinstatement_premium=terms.reinstatement_premium_pct,
                                     sublimits={"insider": 1e6}, term_years=terms.term_years)
    half = terms.to_layer(2.0)
    assert (half.deductible, half.limit, half.sublimits["insider"]) == (terms.deductible / 2, terms.limit / 2, 5e5)
    jp = load_policy(str(EXAMPLES / "policy_jp_primary.toml"))
    fx = FxTable.bundled().with_user_rates({"JPY": 160.0})
    assert jp.to_layer(fx, year=2026).limit == pytest.approx(jp.limit / 160.0, rel=1e-15)


def test_schema_quote_describes_the_quote_json(cli):
    code, out, _ = cli("schema", "quote")
    assert code == 0
    schema = json.loads(out)
    q = json.loads(cli("quote", EXAMPLES / "jp_small_exchange.json", "--json")[1])
    assert set(q) == set(schema["properties"]) and set(schema["required"]) <= set(q)
    assert "1/P(attach) to 1 in 10,000" in schema["properties"]["ep_points"]["description"]  # issue #27
    freq = schema["$defs"]["FrequencyBlock"]["properties"]
    assert set(q["frequency"]) <= set(freq) and set(q["score"]) == set(schema["$defs"]["ScoreBlock"]["properties"])


def test_both_frequency_methods_return_one_type():
    from underwriting.domain.currency import FxTable
    from underwriting.domain.frequency import FrequencyEstimate
    from underwriting.quote.losses import build_loss_model

    sub = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    terms = load_policy(str(EXAMPLES / "policy_jp_primary.toml"))
    fx = FxTable.bundled()
    for model in ("survival", "baseline"):
        fe = build_loss_model(sub, terms, fx=fx, frequency_model=model).frequency
        assert type(fe) is FrequencyEstimate
        assert fe.p_at_least_one == pytest.approx(-math.expm1(-fe.expected_breaches), rel=1e-12)
        assert fe.term_years == terms.term_years and fe.assumptions
        assert fe.annual_rate == pytest.approx(fe.expected_breaches / fe.term_years, rel=1e-12)


def test_default_quote_builds_no_synthetic_feature_frame(monkeypatch):
    """The posture-only scorer and the landmark model left the quote path (issue #13): the default
    quote builds none of their feature frames; the survival comparison builds one."""
    import underwriting.features as features
    from underwriting.quote.make import make_quote

    sub = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    make_quote(sub)  # warm the caches (models, calibration)
    calls = []
    real = features.exchange_features

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(features, "exchange_features", counting)
    make_quote(sub)
    assert len(calls) == 0
    make_quote(sub, frequency_model="survival")
    assert len(calls) >= 1
