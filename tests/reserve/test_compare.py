"""Insurance versus cash: formulas, optimiser, quotes, pricing callable, plots."""

from __future__ import annotations

import json

import pytest

from tests.reserve.helpers import make_policy
from underwriting.reserve.compare import (
    Candidate,
    CostAssumptions,
    annuity,
    grid_candidates,
    load_quotes,
    optimise,
    plot_costs,
    plot_waterfall,
)

QUOTES = "underwriting/reserve/examples/quotes_jp_small.toml"
CA = CostAssumptions.default(funding_cost=0.07, reserve_yield=0.02, discount_rate=0.05, lgd=0.6,
                             basis_risk_load=0.1)


def test_annuity():
    assert annuity(0.0, 3) == 3.0
    assert annuity(0.1, 2) == pytest.approx(1 / 1.1 + 1 / 1.21)
    assert annuity(0.1, 2, advance=True) == pytest.approx(1 + 1 / 1.1)


def test_cash_only_npv(jp_sub):
    comp = optimise(jp_sub, "jp-fsa-2026", [], horizon_years=3, assumptions=CA)
    assert comp.best is comp.cash_only and comp.best.policies == () and len(comp.programmes) == 1
    assert comp.cash_only.npv == pytest.approx(0.05 * 400e6 * annuity(0.05, 3))


def _exact_average_credit(raw: float, cap: float, full: int = 365, zero: int = 90) -> float:
    """Average over a one-year policy's year of min(cap, raw × (1 − h(residual days))), h linear from
    ``full`` to ``zero`` days: an exact integral, independent of the engine's sampling."""
    from scipy.integrate import quad

    def credit(r):
        g = 1.0 if r >= full else 0.0 if r <= zero else (r - zero) / (full - zero)
        return min(cap, raw * g)

    return quad(credit, 0.0, 365.0, points=[zero, full], limit=200)[0] / 365.0


def test_programme_cost_formula(jp_sub):
    pol = make_policy(policy_id="x", insurer_rating="A", deductible=0.0, limit=4e8)
    cand = Candidate(pol, premium=10e6, expected_recovery=4e6)
    comp = optimise(jp_sub, "jp-fsa-2026", [cand], horizon_years=2, assumptions=CA)
    p = next(p for p in comp.programmes if p.policies == ("x",))
    assert p.credit_start == pytest.approx(200e6)  # 50% cap binds on the first day
    # through the year the residual-term haircut takes the credit down to 0 (90 days left) before renewal
    exact = _exact_average_credit(0.95 * 400e6, 200e6)
    assert exact == pytest.approx(111.03e6, rel=1e-3)  # by hand: (200 x 130.26 + 380/275 x 144.74²/2) / 365
    assert p.credit == pytest.approx(exact, rel=0.01)
    assert all(c == pytest.approx(exact, rel=0.01) for c in p.credit_by_year)
    assert p.credit_low == 0.0 and p.peak_cash == pytest.approx(400e6)
    pd = CA.pd_1y["A"]
    assert p.carry_by_year == pytest.approx([0.05 * (400e6 - c) for c in p.credit_by_year])
    assert p.gap_cost == pytest.approx(0.05 * (200e6 - p.credit))
    annual_other = -4e6 + pd * 0.6 * 4e6 + 0.0
    assert p.npv == pytest.approx(10e6 * annuity(0.05, 2, advance=True)
                                  + sum((cy + annual_other) / 1.05 ** (t + 1) for t, cy in enumerate(p.carry_by_year)))


def test_optimiser_on_example_quotes(jp_sub):
    cands = load_quotes(QUOTES)
    comp = optimise(jp_sub, "jp-fsa-2026", cands, horizon_years=3, assumptions=CA)
    assert comp.best.compliant and comp.best.npv <= comp.cash_only.npv
    assert all(comp.best.npv <= p.npv for p in comp.programmes if p.compliant)
    bbb = next(p for p in comp.programmes if p.policies == ("bbb-cheap-400m",))
    assert not bbb.compliant and bbb.credit == 0.0
    d = comp.to_dict()
    json.dumps(d)
    assert d["best"]["label"] == comp.best.label


def test_grid_with_price_callable(jp_sub):
    template = make_policy(policy_id="grid", insurer_rating="A+")
    cands = grid_candidates(template, [0.0, 5e7, 1e8], [2e8, 4e8], lambda d, lim: 0.05 * lim - 0.1 * d)
    assert len(cands) == 6
    comp = optimise(jp_sub, "jp-fsa-2026", cands, horizon_years=3, assumptions=CA, max_layers=2)
    assert comp.best.compliant


def test_grid_through_pricing_engine(jp_sub):
    pytest.importorskip("underwriting.pricing.premium")
    import math

    from underwriting.losses.counts import Poisson
    from underwriting.losses.severity import Lognormal
    from underwriting.reserve.candidates import layer_pricer

    price, loss = layer_pricer(Poisson(0.1), Lognormal(math.log(5e7), 2.0))
    cands = grid_candidates(make_policy(policy_id="g"), [1e7], [2e8], price, loss_fn=loss)
    assert cands[0].premium > cands[0].expected_recovery > 0


def test_plots(jp_sub, tmp_path):
    comp = optimise(jp_sub, "jp-fsa-2026", load_quotes(QUOTES), horizon_years=3, assumptions=CA)
    a = plot_costs(comp, tmp_path / "c.png")
    b = plot_waterfall(comp.best_assessment, tmp_path / "w.png")
    assert a.read_bytes()[:4] == b"\x89PNG" and b.read_bytes()[:4] == b"\x89PNG"


def test_compare_cli(reserve_cli, tmp_path):
    code, out, err = reserve_cli("compare-reserve", "datasets/examples/jp_small_exchange.json", "--regime",
                                 "jp-fsa-2026", "--horizon-years", "3", "--quotes", QUOTES, "--json",
                                 "--plot", str(tmp_path))
    assert code == 0, err
    d = json.loads(out)
    assert d["best"]["compliant"] and len(d["plots"]) == 2
    assert (tmp_path / "waterfall.png").exists()


def test_double_insured_programmes_left_out_unless_asked(jp_sub):
    cands = load_quotes(QUOTES)
    comp = optimise(jp_sub, "jp-fsa-2026", cands, horizon_years=3, assumptions=CA)
    labels = {p.label for p in comp.programmes}
    # full-400m and primary-200m-xs-20m both pay every cell on 20m..220m: double insurance
    assert "full-400m + primary-200m-xs-20m" not in labels
    assert "full-400m + primary-200m-xs-20m" in comp.skipped_overlap
    for p in comp.programmes:  # no kept programme has two policies on the same losses
        ids = set(p.policies)
        assert not any({a, b} <= ids for a, b in _pairs(comp))
    both = optimise(jp_sub, "jp-fsa-2026", cands, horizon_years=3, assumptions=CA, allow_overlap=True)
    assert "full-400m + primary-200m-xs-20m" in {p.label for p in both.programmes}
    assert both.skipped_overlap == ()
    # layers stacked without overlap are kept
    lo = Candidate(make_policy(policy_id="lo", deductible=0.0, limit=1e8), 1e6, 5e5)
    hi = Candidate(make_policy(policy_id="hi", deductible=1e8, limit=3e8), 1e6, 5e5)
    c2 = optimise(jp_sub, "jp-fsa-2026", [lo, hi], horizon_years=1, assumptions=CA)
    assert "lo + hi" in {p.label for p in c2.programmes}


def _pairs(comp):
    return [tuple(x.split(" + ")) for x in comp.skipped_overlap if x.count(" + ") == 1]


def test_cost_columns_are_what_is_charged(jp_sub):
    comp = optimise(jp_sub, "jp-fsa-2026", load_quotes(QUOTES), horizon_years=3, assumptions=CA)
    for p in comp.programmes:
        assert p.basis_cost == pytest.approx(CA.basis_risk_load * p.basis_risk)
    hot = next(p for p in comp.programmes if p.policies == ("hot-only-200m",))
    assert hot.credit == 0.0 and hot.basis_cost == 0.0   # no credit: no credited band to miss
    assert hot.premium == 7e6                            # the premium charged
    table = comp.to_table()
    assert "basis cost/yr" in table and "premiums as charged" in table


def test_amount_suffixes():
    from underwriting.cli.compare_reserve import parse_amount
    from underwriting.errors import InputError

    assert parse_amount("10M", "--x") == 1e7
    assert parse_amount("2.5bn", "--x") == 2.5e9
    assert parse_amount("750k", "--x") == 7.5e5
    assert parse_amount("1,000,000", "--x") == 1e6
    with pytest.raises(InputError) as e:
        parse_amount("ten", "--severity-median")
    assert e.value.field == "--severity-median"


def test_compare_cli_grid_with_suffixes_and_user_model(reserve_cli):
    code, out, err = reserve_cli("compare-reserve", "datasets/examples/jp_small_exchange.json", "--horizon-years",
                                 "2", "--template", "datasets/examples/policy_jp_primary.toml", "--frequency", "0.1",
                                 "--severity-median", "10M", "--severity-sigma", "2", "--deductibles", "0,20M",
                                 "--limits", "200M,400M", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert {c["deductible"] for c in d["candidates"]} == {0.0, 2e7}
    assert {c["limit"] for c in d["candidates"]} == {2e8, 4e8}
    assert all(c["premium"] > c["expected_recovery"] > 0 for c in d["candidates"])
    assert "wang:0.25" in d["pricing_note"] and "as charged" in d["pricing_note"]


def test_compare_cli_partial_model_is_refused(reserve_cli):
    code, out, err = reserve_cli("compare-reserve", "datasets/examples/jp_small_exchange.json", "--horizon-years",
                                 "2", "--template", "datasets/examples/policy_jp_primary.toml", "--frequency", "0.1",
                                 "--deductibles", "0", "--limits", "200M")
    assert code == 2 and "--severity-median" in err


def test_compare_cli_grid_defaults_to_the_exchange_quote(reserve_cli):
    code, out, err = reserve_cli("compare-reserve", "datasets/examples/jp_small_exchange.json", "--horizon-years",
                                 "2", "--template", "datasets/examples/policy_jp_primary.toml",
                                 "--deductibles", "20M", "--limits", "400M", "--max-layers", "1", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert "exchange's own quote loss model" in d["pricing_note"]
    assert d["candidates"][0]["premium"] > d["candidates"][0]["expected_recovery"] > 0


def test_grid_premium_is_the_premium_the_quote_charges(jp_sub):
    """A grid layer priced on the exchange's loss model equals make_quote's premium for the same terms."""
    from underwriting.domain.currency import FxTable
    from underwriting.domain.policy import load_policy
    from underwriting.pricing.premium import DEFAULT_PRINCIPLE, Loadings
    from underwriting.quote.losses import build_loss_model
    from underwriting.quote.make import make_quote
    from underwriting.quote.request import PricingBasis
    from underwriting.reserve.compare import perils_pricer

    template = load_policy("datasets/examples/policy_jp_primary.toml")
    fx_rates = {"JPY": 150.0}
    q = make_quote(jp_sub, template, fx_rates=fx_rates)
    lm = build_loss_model(jp_sub, template, fx=FxTable.bundled().with_user_rates(fx_rates))
    b = PricingBasis()
    price, loss = perils_pricer(lm.perils, lm.policy_per_usd, template, principle=DEFAULT_PRINCIPLE,
                                loadings=Loadings(expense=b.expense, commission=b.commission, tax=b.tax),
                                level=b.level)
    # the quote is canonical (issue #23): money rounded to the currency's minor unit (the yen)
    assert price(template.deductible, template.limit) == pytest.approx(q.premium, abs=0.5)
    assert loss(template.deductible, template.limit) == pytest.approx(q.expected_loss, abs=0.5)
