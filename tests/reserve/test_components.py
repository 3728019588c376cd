"""Credit per requirement component (issue #18 item 1), Dubai VARA, jurisdictions and risk-based sizing."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tests.reserve.helpers import EXAMPLES, make_policy, with_exposure
from underwriting.domain.policy import load_policy
from underwriting.errors import InputError
from underwriting.reserve import assess
from underwriting.reserve.jurisdictions import default_regime, regime_note

USD_EXCESS = load_policy(str(EXAMPLES / "policy_usd_excess.toml"))


def test_hong_kong_usd_excess_worked_by_hand(hk_sub, fx):
    """docs/reserve.md, 'Worked example': 200m xs 10m USD at 7.8 HKD/USD, 90% share, hot only."""
    a = assess(hk_sub, [USD_EXCESS], "hk-sfc-vatp", fx)
    att, hot = 10e6 * 7.8, 1.0e9
    covered = 0.55 + 0.30 + 0.10          # external hack, vendor, insider; social engineering not covered
    expected_hot = covered * 0.9 * (hot - att)
    assert expected_hot == pytest.approx(788_310_000.0)
    comps = {row["component"]: row for row in a.component_table()}
    assert comps["hot"]["amount"] == pytest.approx(1.0e9)
    assert comps["cold"]["amount"] == pytest.approx(3.5e9)
    assert comps["hot"]["credit_before_cap"] == pytest.approx(expected_hot)
    assert comps["cold"]["credit_before_cap"] == 0.0          # cold wallets excluded
    assert a.credit == pytest.approx(expected_hot)
    assert 600e6 <= a.credit <= 1_000e6                        # the done-criterion
    pol = comps["hot"]["policies"][0]
    assert (pol["band_from"], pol["band_to"]) == (pytest.approx(att), pytest.approx(hot))
    assert pol["covered_share"] == pytest.approx(covered)
    table = a.to_table()
    assert "hot        amount       1,000,000,000.00  credit         788,310,000.00" in table
    assert a.to_dict()["components"][0]["credit_before_cap"] == pytest.approx(expected_hot)


def test_hong_kong_with_the_bundled_fx_table(hk_sub):
    a = assess(hk_sub, [USD_EXCESS], "hk-sfc-vatp")
    rate = next(u.rate for u in a.fx if u.from_currency == "USD")
    assert a.credit == pytest.approx(0.95 * 0.9 * (1e9 - 10e6 * rate))
    assert 600e6 <= a.credit <= 1_000e6


def test_component_credit_never_above_its_component(hk_sub, fx):
    pol = make_policy(currency="HKD", deductible=0.0, limit=1e12)
    a = assess(hk_sub, [pol], "hk-sfc-vatp", fx)
    for row in a.component_table():
        assert row["credit_before_cap"] == pytest.approx(row["amount"])
    # a hot-only layer wider than the hot part earns the hot part and nothing more
    hot_only = make_policy(currency="HKD", deductible=0.0, limit=4e9, perils=["hot_wallet_theft", "third_party_vendor",
                                                                            "insider", "social_engineering"])
    b = assess(hk_sub, [hot_only], "hk-sfc-vatp", fx)
    assert b.credit == pytest.approx(1e9)


def test_tower_on_a_component_counts_overlap_once(hk_sub, fx):
    p1 = make_policy(policy_id="a", currency="HKD", deductible=0.0, limit=6e8, exclusions=["cold_wallet"])
    p2 = make_policy(policy_id="b", currency="HKD", deductible=4e8, limit=6e8, exclusions=["cold_wallet"])
    a = assess(hk_sub, [p1, p2], "hk-sfc-vatp", fx)
    assert a.credit == pytest.approx(1e9)        # hot 0..1bn covered once by a (0-600m) and b (400m-1bn)


def test_single_component_regimes_keep_the_mixture(jp_sub):
    """A one-amount requirement: tiers are a mixture inside it (the band is measured against R)."""
    a = assess(jp_sub, [make_policy(deductible=1e8, limit=1e10)], "jp-fsa-2026",
               overrides={"credit.cap_share": 1.0})
    assert [k.name for k in a.components] == ["all tiers"]
    assert a.credit == pytest.approx(a.requirement.amount - 1e8)


# ---- Dubai VARA ------------------------------------------------------------------------------------

def _dubai(global_sub, overheads):
    data = with_exposure(global_sub, fixed_overheads_prior_year=overheads).model_dump()
    data["exchange"]["jurisdiction"] = "AE"
    return type(global_sub).model_validate(data)


def test_dubai_submission_gets_a_vara_requirement(global_sub):
    sub = _dubai(global_sub, 20e6)
    assert default_regime("AE") == "ae-vara"
    a = assess(sub, [], default_regime(sub.exchange.jurisdiction))
    # own custody: max(AED 1.5m, 25% FO) + max(AED 600k, 25% FO) = 5m + 5m USD
    assert a.requirement.amount == pytest.approx(10e6)
    assert a.regime.requirement_only and a.cap_share == 0.0
    assert "Requirement only" in a.to_table()


def test_vara_minimums_bind_for_a_small_exchange(global_sub):
    sub = _dubai(global_sub, 1e6)
    a = assess(sub, [], "ae-vara")
    # exchange: the AED 1.5m minimum binds; custody: 25% of USD 1m = 250k is above AED 600k (163k USD)
    assert a.requirement.amount == pytest.approx(1.5e6 / 3.6725 + 0.25e6)
    b = assess(sub, [], "ae-vara", overrides={"requirement.uses_licensed_custodian": True})
    assert b.requirement.amount == pytest.approx(max(0.8e6 / 3.6725, 0.15 * 1e6))
    c = assess(_dubai(global_sub, 40e6), [], "ae-vara", overrides={"requirement.uses_licensed_custodian": True})
    assert c.requirement.amount == pytest.approx(0.15 * 40e6)


def test_vara_policy_earns_no_credit(global_sub):
    a = assess(_dubai(global_sub, 20e6), [make_policy(currency="USD", limit=1e9)], "ae-vara")
    assert a.credit == 0.0 and a.residual_cash == pytest.approx(a.requirement.amount)


# ---- jurisdictions -----------------------------------------------------------------------------------

def test_jurisdiction_map():
    assert default_regime("JP") == "jp-fsa-2026"
    assert default_regime("HK") == "hk-sfc-vatp"
    assert default_regime("FR") == "eu-mica-art67"
    assert default_regime("AE") == "ae-vara"
    assert default_regime("SG") is None and default_regime("US") is None
    assert regime_note("JP") is None
    assert regime_note("SG").startswith("no statutory reserve rule for SG")
    assert "no bundled regime" not in regime_note("SG")
    assert "encoded" in regime_note("US")


def test_cli_singapore_says_so_plainly(reserve_cli):
    code, out, err = reserve_cli("reserve", str(EXAMPLES / "global_large_exchange.json"))
    assert code == 0, err
    assert out.startswith("no statutory reserve rule for SG")


# ---- risk-based sizing -----------------------------------------------------------------------------

def test_annual_loss_quantile_matches_an_exact_oracle():
    """Poisson(λ) × exponential(θ): P(S ≤ x) = e^{-λ} + Σ_n Pois(n; λ) Gamma(n, θ).cdf(x)."""
    from underwriting.losses.aggregate import Peril
    from underwriting.losses.counts import Poisson
    from underwriting.losses.severity import Weibull
    from underwriting.reserve.sizing import annual_ground_up_loss

    lam, theta = 0.8, 2e6
    al = annual_ground_up_loss([Peril("all", Poisson(lam), Weibull(1.0, theta))], 150.0)
    q = 0.995
    ns = np.arange(1, 80)

    def cdf(x):
        return math.exp(-lam) + float(np.sum(stats.poisson.pmf(ns, lam) * stats.gamma.cdf(x, ns, scale=theta)))

    lo, hi = 0.0, 1e9
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if cdf(mid) < q else (lo, mid)
    assert al.value_at_risk(q) == pytest.approx(150.0 * hi, rel=2e-3)
    assert al.mean == pytest.approx(150.0 * lam * theta, rel=1e-6)


def test_risk_sizing_beside_the_precedent_band(jp_sub):
    a = assess(jp_sub, [make_policy(limit=1e10)], "jp-fsa-2026", annual_loss=lambda q: 5e9 if q == 0.995 else 0.0,
               loss_model_note="test model")
    rs = a.risk_sizing
    assert rs["amount"] == 5e9 and rs["quantile"] == 0.995 and rs["status"] == "assumption"
    assert (rs["band_low"], rs["band_high"]) == (2e9, 40e9)
    assert rs["position"] == "inside the band"
    # the same programme against the scenario's 5bn, JP's 50% cap: min(0.95 × 5bn, 2.5bn)
    assert rs["credit"] == pytest.approx(2.5e9)
    assert "Risk-based sizing scenario [assumption]" in a.to_table()
    b = assess(jp_sub, [], "jp-fsa-2026", annual_loss=lambda q: 1e9,
               overrides={"risk_sizing.quantile": 0.99})
    assert b.risk_sizing["quantile"] == 0.99 and b.risk_sizing["position"].startswith("below the band (0.50×")
    assert assess(jp_sub, [], "hk-sfc-vatp").risk_sizing is None
    with pytest.raises(InputError):
        assess(jp_sub, [], "jp-fsa-2026", annual_loss=lambda q: float("nan"))


def test_cli_builds_the_risk_sizing_from_the_quote_loss_model(reserve_cli):
    """Layer 8 builds the loss model (quote.losses.build_loss_model, ground up) and passes it down."""
    import json

    code, out, err = reserve_cli("reserve", str(EXAMPLES / "jp_small_exchange.json"), "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["regime"] == "jp-fsa-2026" and d["warnings"]
    rs = d["risk_sizing"]
    assert rs["quantile"] == 0.995 and "ground-up, all tiers" in rs["loss_model"]
    assert rs["band_low"] == 2e9 and rs["band_high"] == 40e9
    # the one risk model gives this small exchange P(any loss) of about 1% a year: the 99.5% quantile
    # reaches into the loss distribution and stays below its TVaR
    assert 0.005 < rs["p_any_loss"] < 0.02 and 0 < rs["amount"] <= rs["tvar"] and rs["note"] == ""
    # at 98% the quantile falls in the no-loss mass: it is 0, said plainly, with the TVaR beside it
    code, out, err = reserve_cli("reserve", str(EXAMPLES / "jp_small_exchange.json"), "--json",
                                 "--param", "risk_sizing.quantile=0.98")
    assert code == 0, err
    rs = json.loads(out)["risk_sizing"]
    assert rs["amount"] == 0.0 and rs["tvar"] > 0 and "quantile is 0" in rs["note"]


def test_mica_example_policy_declaring_the_risk_list(global_sub, fx):
    """underwriting/reserve/examples/policy_mica_declared.toml earns credit; without its declarations, none."""
    from pathlib import Path

    from underwriting.reserve.regime_params import DECLARABLE

    path = Path(__file__).resolve().parents[2] / "underwriting" / "reserve" / "examples" / "policy_mica_declared.toml"
    pol = load_policy(str(path))
    assert all(getattr(pol.declared_coverage, k) for k in DECLARABLE)
    a = assess(global_sub, [pol], "eu-mica-art67", fx)
    # requirement max(EUR 150k, 1/4 x USD 650m) = USD 162.5m; EUR 200m at 0.92 EUR/USD = USD 217.4m covers it
    assert a.requirement.amount == pytest.approx(162.5e6)
    assert a.credit == pytest.approx(162.5e6)
    bare = pol.model_copy(update={"declared_coverage": type(pol.declared_coverage)()})
    assert assess(global_sub, [bare], "eu-mica-art67", fx).credit == 0.0
