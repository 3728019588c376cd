"""Issue #16: excess layers, towers, sub-limits, minimum premium, quote currency, defence block, guard rails.

Numbers are checked against a second method: closed-form layer means (E[S] = Σ λ_p E[layer(X_p)] for
Poisson counts without aggregate terms), layer additivity (a tower's layers against the same layers
quoted alone), and conversion at the recorded rate.
"""

from __future__ import annotations

import json
import math

import pytest

from tests.conftest import EXAMPLES
from underwriting.domain.policy import PolicyTerms, Programme, load_terms
from underwriting.domain.submission import load_submission
from underwriting.errors import InputError
from underwriting.quote.defence import ep_return_periods
from underwriting.quote.layers import EP_RETURN_PERIODS

GLOBAL = EXAMPLES / "global_large_exchange.json"  # USD: no conversion in the oracles
BASE = dict(policy_id="t", insurer="Example Re", insurer_rating="AA-", insurer_authorised=True,
            inception="2026-10-01", expiry="2027-10-01", cancellation_notice_days=60, currency="USD",
            perils=["hot_wallet_theft", "cold_wallet_theft", "third_party_vendor", "insider", "social_engineering"])
TOWER_TOML = """
policy_id = "tower"
insurer = "Example Re"
insurer_rating = "AA-"
insurer_authorised = true
inception = 2026-10-01
expiry = 2027-10-01
cancellation_notice_days = 60
currency = "USD"
deductible = 1_000_000
perils = ["hot_wallet_theft", "cold_wallet_theft", "third_party_vendor", "insider", "social_engineering"]

[[layers]]
policy_id = "primary"
limit = 49_000_000

[[layers]]
policy_id = "excess"
attachment = 50_000_000
limit = 150_000_000
"""


def terms(**kw) -> PolicyTerms:
    return PolicyTerms.model_validate({**BASE, **kw})


@pytest.fixture(scope="module")
def sub():
    return load_submission(str(GLOBAL))


def quote(sub, t, **kw):
    from underwriting.quote.make import make_quote

    return make_quote(sub, t, frequency_model="baseline", **kw)


def closed_form_el(sub, t: PolicyTerms) -> float:
    """Σ_p λ_p share E[min((X_p - a)+, l_p)] from the loss model's perils (Poisson, no aggregate terms)."""
    from underwriting.domain.currency import FxTable
    from underwriting.quote.losses import build_loss_model

    lm = build_loss_model(sub, t, fx=FxTable.bundled())
    a = t.attachment_point
    return sum(p.frequency.mean() * t.coinsurance * float(p.severity.lev(a + min(t.limit, t.sublimits.get(p.name, math.inf)))
                                                       - p.severity.lev(a)) for p in lm.perils)


# ---- item 1: excess layers, towers, sub-limits, minimum premium ------------------------------------------

def test_50m_xs_200m_quotes_and_matches_the_closed_form(sub):
    from underwriting.quote.make import make_quote

    t = terms(attachment=200e6, limit=50e6)
    q = make_quote(sub, t)
    assert q.terms["attachment"] == 200e6 and q.terms["limit"] == 50e6
    assert q.expected_loss == pytest.approx(closed_form_el(sub, t), rel=1e-6)
    assert q.premium > q.expected_loss > 0
    assert q.layers[0].label == "50m xs 200m USD"
    assert 0 < q.p_exhaust < q.p_attach < 1


def test_the_insured_retention_does_not_move_an_excess_layer(sub):
    a = quote(sub, terms(attachment=200e6, limit=50e6))
    b = quote(sub, terms(attachment=200e6, limit=50e6, deductible=5e6))
    assert b.premium == a.premium and b.expected_loss == a.expected_loss
    assert b.terms["deductible"] == 5e6


def test_attachment_rules_name_the_field():
    from underwriting.domain.validation import validate_model

    with pytest.raises(InputError, match="must not exceed the attachment"):
        validate_model(PolicyTerms, {**BASE, "attachment": 1e6, "deductible": 2e6, "limit": 5e6})
    with pytest.raises(InputError, match="give attachment instead"):
        validate_model(PolicyTerms, {**BASE, "deductible": 200e6, "limit": 50e6})


def test_an_existing_policy_dumps_as_before():
    t = terms(deductible=1e6, limit=9e6)
    assert "attachment" not in t.model_dump() and "minimum_premium" not in t.model_dump()
    assert t.attachment_point == 1e6
    assert terms(attachment=3e6, limit=9e6).model_dump()["attachment"] == 3e6


def test_tower_has_per_layer_results_equal_to_each_layer_alone(sub, tmp_path):
    path = tmp_path / "tower.toml"
    path.write_text(TOWER_TOML, encoding="utf-8")
    prog = load_terms(str(path))
    assert isinstance(prog, Programme) and [lay.policy_id for lay in prog.layers] == ["primary", "excess"]
    q = quote(sub, prog)
    assert [lay.policy_id for lay in q.layers] == ["primary", "excess"]
    for lay, t in zip(q.layers, prog.layers, strict=True):
        alone = quote(sub, t)
        assert lay.premium == pytest.approx(alone.premium, rel=1e-12)
        assert lay.expected_loss == pytest.approx(alone.expected_loss, rel=1e-12)
        assert lay.p_attach == pytest.approx(alone.p_attach, rel=1e-12)
    # canonical amounts (cents): a sum of rounded layers is within a cent per layer of the rounded total
    assert q.premium == pytest.approx(sum(lay.premium for lay in q.layers), abs=0.01 * len(q.layers))
    assert q.expected_loss == pytest.approx(sum(lay.expected_loss for lay in q.layers), abs=0.01 * len(q.layers))
    # layer algebra: the two contiguous layers together are the single layer 199m xs 1m
    whole = quote(sub, terms(deductible=1e6, limit=199e6))
    assert q.expected_loss == pytest.approx(whole.expected_loss, rel=1e-4)
    assert q.terms["attachment"] == 1e6 and q.terms["limit"] == 199e6 and q.terms["layers"] == 2
    # the OEP of stacked layers is the whole span's OEP (comonotonic per occurrence)
    for a, b in zip(q.ep_points, whole.ep_points, strict=True):
        assert a.oep == pytest.approx(b.oep, rel=2e-3, abs=1.0)


def test_a_gap_or_an_overlap_in_a_tower_is_a_warning(sub, tmp_path):
    gap = TOWER_TOML.replace("attachment = 50_000_000", "attachment = 60_000_000")
    overlap = TOWER_TOML.replace("attachment = 50_000_000", "attachment = 40_000_000")
    for text, needle in ((gap, "the gap between them is retained"), (overlap, "overlap from 40,000,000 to 50,000,000")):
        path = tmp_path / "t.toml"
        path.write_text(text, encoding="utf-8")
        assert any(needle in w for w in quote(sub, load_terms(str(path))).warnings), needle
    path.write_text(TOWER_TOML, encoding="utf-8")
    assert quote(sub, load_terms(str(path))).warnings == []


def test_tower_layers_must_share_period_and_currency(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(TOWER_TOML + '\n[[layers]]\nattachment = 200_000_000\nlimit = 1e8\ncurrency = "EUR"\n',
                    encoding="utf-8")
    with pytest.raises(InputError, match="layers.2.currency"):
        load_terms(str(path))


def test_tower_from_the_cli_prints_layers(cli, tmp_path):
    path = tmp_path / "tower.toml"
    path.write_text(TOWER_TOML, encoding="utf-8")
    code, out, err = cli("quote", GLOBAL, "--terms", path)
    assert code == 0, err
    assert "Layers" in out and "primary: 49m xs 1m USD" in out and "excess: 150m xs 50m USD" in out


def test_sub_limits_are_honoured(sub):
    full = quote(sub, terms(deductible=1e6, limit=99e6))
    capped = quote(sub, terms(deductible=1e6, limit=99e6, sublimits={"hot_wallet_theft": 5e6}))
    per = {p.name: p.expected_loss for p in capped.perils}
    before = {p.name: p.expected_loss for p in full.perils}
    assert per["hot_wallet_theft"] < before["hot_wallet_theft"]
    for name in per:
        if name != "hot_wallet_theft":
            assert per[name] == pytest.approx(before[name], rel=1e-6)
    # the hot-wallet peril pays at most the sub-limit per occurrence: its mean is E[N] E[min((X - 1m)+, 5m)]
    from underwriting.domain.currency import FxTable
    from underwriting.quote.losses import build_loss_model

    lm = build_loss_model(sub, terms(deductible=1e6, limit=99e6), fx=FxTable.bundled(), frequency_model="baseline")
    hot = next(p for p in lm.perils if p.name == "hot_wallet_theft")
    oracle = hot.frequency.mean() * float(hot.severity.lev(6e6) - hot.severity.lev(1e6))
    assert per["hot_wallet_theft"] == pytest.approx(oracle, rel=1e-6)
    # each peril's figure and the total are rounded to the cent on their own (canonical quote): the sum holds to that
    assert capped.expected_loss == pytest.approx(sum(per.values()), abs=0.005 * (len(per) + 1))


def test_minimum_premium_is_a_floor(sub):
    base = quote(sub, terms(attachment=200e6, limit=50e6))
    floor = 3 * base.premium
    q = quote(sub, terms(attachment=200e6, limit=50e6, minimum_premium=floor))
    assert q.premium == pytest.approx(floor, rel=1e-12)
    assert q.premium_components["minimum_uplift"] == pytest.approx(floor - base.premium, rel=1e-9)
    assert sum(q.premium_components.values()) == pytest.approx(q.premium, rel=1e-12)


# ---- item 2: currency ----------------------------------------------------------------------------------

def test_quote_in_eur_is_the_usd_quote_at_the_recorded_rate(cli):
    code, out, err = cli("quote", GLOBAL, "--json")
    code2, out2, err2 = cli("quote", GLOBAL, "--currency", "eur", "--json")
    assert code == 0 and code2 == 0, err + err2
    usd, eur = json.loads(out), json.loads(out2)
    assert eur["currency"] == "EUR"
    (rate,) = [u["units_per_usd"] for u in eur["fx"] if u["currency"] == "EUR"]
    for k in ("expected_loss", "premium", "tvar_995"):  # both to the cent: half a cent each side, times the rate
        assert eur[k] == pytest.approx(usd[k] * rate, abs=0.005 * rate + 0.005 + 1e-9 * eur[k])
    for a, b in zip(usd["ep_points"], eur["ep_points"], strict=True):
        assert b["aep"] == pytest.approx(a["aep"] * rate, rel=1e-9, abs=0.005 * rate + 0.005)
    code3, text, _ = cli("quote", GLOBAL, "--currency", "EUR")
    assert code3 == 0 and "FX rates used" in text and f"EUR  {rate:,.6g} per USD" in text


def test_quote_currency_records_the_submission_rate_too():
    import underwriting.api as uw

    q = uw.quote(EXAMPLES / "jp_small_exchange.json", currency="EUR", fx={"JPY": 150.0, "EUR": 0.9})
    cur = {u["currency"]: u["units_per_usd"] for u in q.fx}
    assert q.currency == "EUR" and cur == {"JPY": 150.0, "EUR": 0.9} and len(q.fx) == 2  # one row per currency
    assert [u.get("purpose") for u in q.fx if u["currency"] == "JPY"] == ["submission amounts converted from JPY to EUR"]
    assert q.inputs["currency"] == "EUR" and q.inputs["submission"]["exposure"]["currency"] == "JPY"
    assert q.warnings == []


def test_an_unused_user_rate_is_a_warning(cli):
    code, out, err = cli("quote", GLOBAL, "--fx", "USD=2", "--fx", "GBP=0.8", "--json")
    assert code == 0, err
    w = json.loads(out)["warnings"]
    assert any("USD=2" in x for x in w) and any("GBP=0.8" in x for x in w)


def test_unknown_quote_currency_is_refused(cli):
    code, _, err = cli("quote", GLOBAL, "--currency", "E1R")
    assert code == 2 and "--currency" in err
    code, _, err = cli("quote", GLOBAL, "--currency", "XQZ")
    assert code == 2 and "--currency" in err and "XQZ" in err and "Traceback" not in err


# ---- item 3: the defence block -------------------------------------------------------------------------

DEFENCE = {"severity", "perils", "p_attach", "p_exhaust", "ep_points", "warnings"}


@pytest.mark.slow
def test_defence_block_is_consistent(sub):
    q = quote(sub, terms(deductible=10e6, limit=190e6))
    d = q.to_dict()
    assert DEFENCE <= set(d)
    sev = d["severity"]
    assert sev["family"] and sev["parameters"] and set(sev["gof"]) >= {"statistic", "p_value"}
    assert 0 <= sev["gof"]["p_value"] <= 1
    from underwriting.quote.calibration import record_calibration

    fit = record_calibration().severity_fit
    # canonical: 6 significant digits (docs/reproducibility.md)
    from underwriting.domain.canonical import round_significant as r6

    assert sev["parameters"] == {k: r6(v) for k, v in fit.params.items()}
    assert sev["gof"]["statistic"] == r6(fit.gof.ad_statistic)
    # the p-value is the parametric bootstrap of that very fit (threshold handled: A² is small, not ~8.8)
    from underwriting.losses.severity import gof_bootstrap

    boot = gof_bootstrap(fit, n_boot=200, random_state=0)
    assert sev["gof"]["p_value"] == r6(boot.ad_pvalue) and sev["gof"]["ks_p_value"] == r6(boot.ks_pvalue)
    assert sev["gof"]["statistic"] < 2 and "bootstrap" in sev["gof"]["p_value_method"]
    sel = sev["selection"]
    assert {r["family"] for r in sel} == {"lognormal", "lomax", "weibull", "gamma"} and sel[0]["delta_aic"] == 0
    assert [r["aic"] for r in sel] == sorted(r["aic"] for r in sel)
    assert sum(r["akaike_weight"] for r in sel) == pytest.approx(1.0)
    (mine,) = [r for r in sel if r["family"] == sev["family"]]
    assert mine["aic"] == pytest.approx(sev["aic"], rel=1e-12)
    assert [e["return_period"] for e in d["ep_points"]] == list(ep_return_periods(q.p_attach))
    aep = [e["aep"] for e in d["ep_points"]]
    assert aep == sorted(aep) and all(0 <= e["oep"] <= 190e6 for e in d["ep_points"])
    # P(attach) is the probability of a positive loss; the EP point at 1/T is positive iff 1/T < P(attach)
    for e in d["ep_points"]:
        assert (e["aep"] > 0) == (1 / e["return_period"] < q.p_attach)
    # canonical (cents; 6 significant digits): sums of rounded terms within their rounding
    n = len(d["perils"])
    assert sum(p["expected_loss"] for p in d["perils"]) == pytest.approx(q.expected_loss, abs=0.005 * (n + 1))
    assert sum(p["expected_count"] for p in d["perils"]) == pytest.approx(q.expected_breaches_term, rel=5e-6 * n)


def test_ep_return_periods_follow_the_layers_own_probability():
    """Issue #27: a layer reached at least once in 10 terms keeps 1-in-10..250; a rarer one gets six points
    from its own 1/P(attach) to 1 in 10,000 (10 x 1/P(attach) when rarer still), two significant figures."""
    assert ep_return_periods(0.5) == ep_return_periods(0.1) == EP_RETURN_PERIODS
    assert ep_return_periods(0.0) == EP_RETURN_PERIODS  # no layer: nothing to choose from
    assert ep_return_periods(0.005355) == (360.0, 700.0, 1400.0, 2700.0, 5200.0, 10000.0)
    assert ep_return_periods(1e-5) == (150000.0, 220000.0, 320000.0, 460000.0, 680000.0, 1000000.0)
    for p in (0.099, 0.05, 0.01, 3e-3, 1e-3, 2e-4, 1e-4, 3e-5, 1e-7):
        rps = ep_return_periods(p)
        assert len(rps) == 6 and all(b > a for a, b in zip(rps, rps[1:], strict=False)), (p, rps)
        assert rps[0] > 1 / p and rps[-1] == pytest.approx(max(10_000, 10 / p), rel=0.05), (p, rps)
        assert all(float(f"{t:.2g}") == t for t in rps), rps


def test_a_rarely_attaching_layer_has_no_zero_ep_point(cli):
    """The JP sample's primary is reached about once in 190 years: before issue #27 four of its six points
    (1 in 10..100) were zero; now each lies inside the layer, the largest at 1 in 10,000."""
    code, out, err = cli("quote", EXAMPLES / "jp_small_exchange.json", "--terms",
                         EXAMPLES / "policy_jp_primary.toml", "--json")
    assert code == 0, err
    q = json.loads(out)
    assert q["p_attach"] < 1 / 100
    rps = [e["return_period"] for e in q["ep_points"]]
    assert rps[-1] == 10_000 and rps[0] > 1 / q["p_attach"]
    assert all(e["oep"] > 0 and e["aep"] > 0 for e in q["ep_points"])
    assert [e["aep"] for e in q["ep_points"]] == sorted(e["aep"] for e in q["ep_points"])
    code, text, _ = cli("quote", EXAMPLES / "jp_small_exchange.json", "--terms", EXAMPLES / "policy_jp_primary.toml")
    assert "1 in 10,000  OEP" in text and "1 in    250" not in text


@pytest.mark.parametrize("name", ["global_large_exchange.json", "hk_exchange_with_incident.json",
                                  "jp_small_exchange.json"])
def test_every_example_has_the_defence_keys_in_json_and_text(cli, name):
    code, out, err = cli("quote", EXAMPLES / name, "--json")
    assert code == 0, err
    q = json.loads(out)
    assert DEFENCE <= set(q) and q["severity"] and q["perils"] and len(q["ep_points"]) == 6
    code, text, _ = cli("quote", EXAMPLES / name)
    rps = ep_return_periods(q["p_attach"])
    for needle in ("Defence", "goodness of fit", "P(attach)", "P(exhaust)", "Perils", f"1 in {rps[-1]:>6,.0f}"):
        assert needle in text


# ---- item 4: guard rails -------------------------------------------------------------------------------

@pytest.mark.parametrize("extra,field", [
    ({"limit": 250e6, "aggregate_deductible": 2e9}, "aggregate_deductible"),
    ({"limit": 1e-6}, "limit"),
    ({"limit": 5e6, "sublimits": {"insider": 0.5}}, "sublimits.insider"),
    ({"attachment": 5e12, "limit": 1e6}, "attachment"),
])
def test_worthless_terms_are_refused_naming_the_field(cli, tmp_path, extra, field):
    t = terms(**extra)
    path = tmp_path / "p.json"
    path.write_text(t.model_dump_json(), encoding="utf-8")
    code, out, err = cli("quote", GLOBAL, "--terms", path)
    assert code == 2 and field in err and "Traceback" not in err and out == ""


def test_a_policy_that_excludes_everything_it_covers_is_refused(cli, tmp_path):
    path = tmp_path / "p.json"
    path.write_text(terms(limit=1e8, perils=["cold_wallet_theft"], exclusions=["cold_wallet"]).model_dump_json(),
                    encoding="utf-8")
    code, out, err = cli("quote", GLOBAL, "--terms", path)
    assert code == 2 and "exclusions" in err and "nothing is covered" in err and out == ""


def test_a_layer_reached_very_rarely_is_quoted_with_a_warning(sub):
    q = quote(sub, terms(attachment=3e9, limit=1e9))
    assert q.p_attach * 10_000 < 1 and any("less than once in 10,000" in w for w in q.warnings)


@pytest.mark.parametrize("lim", [1.0, 10.0, 1e3])
def test_premium_never_below_expected_loss_and_no_negative_risk_load(sub, lim):
    try:
        q = quote(sub, terms(attachment=1e6, limit=lim))
    except InputError as exc:  # the engine may refuse a layer it cannot price reliably: never a bad number
        assert exc.field == "severity" and "cannot be computed reliably" in str(exc)
        return
    assert q.premium >= q.expected_loss > 0
    assert q.premium_components["risk_load"] >= 0
    assert all(lay.premium >= lay.expected_loss for lay in q.layers)


def test_negative_risk_load_is_floored_with_a_warning(sub, monkeypatch):
    """Force a principle that undercuts the mean (as discretisation can) and check the floor."""
    from underwriting.pricing import premium as P

    real = P.Principle.technical_premium
    monkeypatch.setattr(P.Principle, "technical_premium", lambda self, r, level=0.995: 0.5 * real(self, r, level))
    q = quote(sub, terms(deductible=1e6, limit=9e6))
    assert q.premium_components["risk_load"] == 0.0
    assert q.premium == pytest.approx(q.expected_loss / 0.8, abs=0.005 / 0.8 + 0.005 + 1e-9)  # both to the cent
    assert q.layers[0].risk_load_floored and any("floored at the expected loss" in w for w in q.warnings)


def test_bundled_structures_quote_or_are_refused_for_a_reason(cli, tmp_path):
    code, out, err = cli("quote", GLOBAL, "--terms", EXAMPLES / "excess_usd_50m_xs_200m.toml", "--json")
    assert code == 0, err
    q = json.loads(out)
    assert q["terms"]["attachment"] == 200e6 and q["terms"]["deductible"] == 5e6 and len(q["layers"]) == 1
    code, out, err = cli("quote", GLOBAL, "--terms", EXAMPLES / "tower_usd.toml", "--json")
    assert code == 0, err
    assert [lay["label"] for lay in json.loads(out)["layers"]] == ["45m xs 5m USD", "150m xs 50m USD"]
    # one breach cannot take more than all the JP sample's custodied assets (JPY 30bn, about 200.5m USD at the
    # 2025 rate): the same excess layer attaching at 250m USD is unreachable and refused
    unreachable = tmp_path / "excess_250m.toml"
    unreachable.write_text((EXAMPLES / "excess_usd_50m_xs_200m.toml").read_text(encoding="utf-8")
                           .replace("attachment = 200_000_000", "attachment = 250_000_000"), encoding="utf-8")
    code, out, err = cli("quote", EXAMPLES / "jp_small_exchange.json", "--terms", unreachable)
    assert code == 2 and "attachment" in err and "no single loss" in err and out == ""


def test_a_tower_quoted_in_another_currency_reproduces_bit_for_bit(cli, tmp_path):
    from underwriting.lifecycle.reproduction import reproduce

    out = tmp_path / "q.json"
    code, _, err = cli("quote", EXAMPLES / "jp_small_exchange.json", "--terms", EXAMPLES / "tower_usd.toml",
                       "--currency", "EUR", "--out", out, "--json")
    assert code == 0, err
    r = reproduce(out)
    assert r.identical, r.differences
    assert r.quote.currency == "EUR" and len(r.quote.layers) == 2


def test_the_reserve_tower_places_an_excess_layer_at_its_attachment():
    from underwriting.domain.policy import load_policy
    from underwriting.quote.make import make_quote

    sub = load_submission(str(EXAMPLES / "jp_small_exchange.json"))
    primary = load_policy(str(EXAMPLES / "policy_jp_primary.toml"))  # 5bn xs 100m JPY
    excess = primary.with_(attachment=150e6)
    (a,) = [c["reason"] for c in make_quote(sub, primary).reserve.checks if c["rule"] == "engine.retention"]
    (b,) = [c["reason"] for c in make_quote(sub, excess).reserve.checks if c["rule"] == "engine.retention"]
    assert "first 100,000,000.00 JPY" in a and "first 150,000,000.00 JPY" in b


def test_upfront_premium_never_below_expected_loss_with_a_large_reinstatement_credit(sub):
    """Pure premium without loads and paid reinstatements: upfront = E[L] / (1 + φ) < E[L] would follow."""
    from underwriting.quote.request import PricingBasis

    basis = PricingBasis(principle="pure", expense=0.0, commission=0.0)
    t = terms(deductible=1e6, limit=2e6, reinstatements=5, reinstatement_premium_pct=1.0)
    q = quote(sub, t, basis=basis)
    assert q.reinstatement_factor > 0
    assert q.premium == pytest.approx(q.expected_loss, rel=1e-12)
    assert sum(q.premium_components.values()) == pytest.approx(q.premium, rel=1e-12)
    assert any("reinstatement credit took the upfront premium below" in w for w in q.warnings)


ITEM3 = {"frequency", "severity", "perils", "p_attach", "p_exhaust", "ep_points", "premium_range", "warnings"}


def test_every_golden_quote_carries_the_whole_defence_block():
    """Each bundled example, under each frequency method and policy structure, has every key of #16 item 3."""
    from tests.golden.make_quotes import OUT

    files = sorted(OUT.glob("*.json"))
    assert len(files) == 28
    for f in files:
        q = json.loads(f.read_text(encoding="utf-8"))
        assert ITEM3 <= set(q), f.name
        fr = q["frequency"]
        assert fr["factors"] and len(fr["interval"]) == 2, f.name
        assert fr["interval"][0] <= q["expected_breaches_term"] <= fr["interval"][1], f.name
        lo, hi = q["premium_range"]
        assert lo <= q["premium"] <= hi, f.name
        assert {"statistic", "p_value"} <= set(q["severity"]["gof"]) and q["severity"]["parameters"]
        assert [e["return_period"] for e in q["ep_points"]] == list(ep_return_periods(q["p_attach"])), f.name
        assert q["premium"] >= q["expected_loss"] and q["premium_components"].get("risk_load", 0) >= 0, f.name


def test_a_towers_premium_range_is_the_sum_of_its_layers_ranges(sub, tmp_path):
    from underwriting.domain.canonical import minor_unit
    from underwriting.quote.make import make_quote

    path = tmp_path / "tower.toml"
    path.write_text(TOWER_TOML, encoding="utf-8")
    prog = load_terms(str(path))
    q = make_quote(sub, prog)
    alone = [make_quote(sub, t) for t in prog.layers]
    assert q.frequency.interval == alone[0].frequency.interval
    for k in (0, 1):
        # canonical money: each figure rounded to the minor unit, so the sum holds to one unit per layer
        unit = 10.0 ** -minor_unit(q.currency)
        assert q.premium_range[k] == pytest.approx(sum(a.premium_range[k] for a in alone), abs=unit * len(alone))
    assert q.premium_range[0] < q.premium < q.premium_range[1]


def test_the_service_engine_quotes_a_tower_in_another_currency():
    import tomllib

    from underwriting.quote.make import make_quote
    from underwriting.service import engine

    sub = json.loads(GLOBAL.read_text(encoding="utf-8"))
    tower = tomllib.loads(TOWER_TOML)
    tower = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in tower.items()}
    got = engine.quote({"submission": sub, "terms": tower, "options": {"currency": "eur"}})
    want = make_quote(load_submission(str(GLOBAL)), Programme.model_validate(tower), currency="EUR")
    assert got.to_json() == want.to_json() and got.currency == "EUR" and len(got.layers) == 2
    with pytest.raises(engine.FieldErrors) as e:
        engine.quote({"submission": sub, "options": {"currency": "euro"}})
    assert e.value.errors[0]["field"] == "options.currency"


def test_reserve_takes_a_tower_file_as_its_layers(cli, tmp_path):
    hk = EXAMPLES / "hk_exchange_with_incident.json"
    prog = load_terms(str(EXAMPLES / "tower_usd.toml"))
    files = []
    for i, lay in enumerate(prog.layers):
        files += ["--policy", tmp_path / f"l{i}.json"]
        (tmp_path / f"l{i}.json").write_text(lay.model_dump_json(), encoding="utf-8")
    code, a, err = cli("reserve", hk, "--policy", EXAMPLES / "tower_usd.toml", "--regime", "hk-sfc-vatp", "--json")
    code2, b, err2 = cli("reserve", hk, *files, "--regime", "hk-sfc-vatp", "--json")
    assert code == 0 and code2 == 0, err + err2
    assert a == b and json.loads(a)["credit"] > 0


def test_the_api_quotes_a_tower_from_a_file_or_a_mapping(tmp_path):
    import tomllib

    import underwriting.api as uw

    path = tmp_path / "tower.toml"
    path.write_text(TOWER_TOML, encoding="utf-8")
    a = uw.quote(GLOBAL, path)
    b = uw.quote(GLOBAL, tomllib.loads(TOWER_TOML))
    assert a.to_json() == b.to_json() and [lay.policy_id for lay in a.layers] == ["primary", "excess"]
