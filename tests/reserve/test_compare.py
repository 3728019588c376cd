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


def test_programme_cost_formula(jp_sub):
    pol = make_policy(policy_id="x", insurer_rating="A", deductible=0.0, limit=4e8)
    cand = Candidate(pol, premium=10e6, expected_recovery=4e6)
    comp = optimise(jp_sub, "jp-fsa-2026", [cand], horizon_years=2, assumptions=CA)
    p = next(p for p in comp.programmes if p.policies == ("x",))
    assert p.credit == pytest.approx(200e6)  # 50% cap binds
    pd = CA.pd_1y["A"]
    annual_end = 0.05 * 200e6 - 4e6 + pd * 0.6 * 4e6 + 0.0
    assert p.npv == pytest.approx(10e6 * annuity(0.05, 2, advance=True) + annual_end * annuity(0.05, 2))


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

    from underwriting.losses.frequency import Poisson
    from underwriting.losses.severity import Lognormal
    from underwriting.reserve.compare import layer_pricer

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
