"""Issue #26 (3, 6): what a board reads from compare-reserve: caveats, cap scenarios, reasons, attachments;
the Python entry point and its errors; shares written as 0.07 or 7%."""

from __future__ import annotations

import json

import pytest

from underwriting.errors import InputError
from underwriting.reserve.compare import CostAssumptions, load_quotes, optimise
from underwriting.reserve.compare_plots import caveat_lines

JP = "datasets/examples/jp_small_exchange.json"
QUOTES = "underwriting/reserve/examples/quotes_jp_small.toml"
CA = CostAssumptions.default()


@pytest.fixture(scope="module")
def comp():
    from tests.reserve.helpers import load_example

    return optimise(load_example("jp_small_exchange.json"), "jp-fsa-2026", load_quotes(QUOTES), horizon_years=3,
                    assumptions=CA)


def test_caveats_in_python_text_json_and_plot(comp, tmp_path):
    # Python
    assert any("effective date 2027-04-01" in c for c in comp.caveats)
    assert any("PROVISIONAL" in c for c in comp.caveats)
    assert any("50% of the requirement) is [assumption]" in c for c in comp.caveats)
    # text: every caveat, the renewal assumption and the cap-scenario table
    text = comp.to_table()
    for c in comp.caveats:
        assert f"WARNING: {c}" in text
    assert "renewal [assumption]: each policy renewed" in text and "Cap scenarios" in text
    # JSON
    d = json.loads(json.dumps(comp.to_dict()))
    assert d["caveats"] == list(comp.caveats) and d["provisional"] is True and d["cap"]["status"] == "assumption"
    assert set(d["cap_scenarios"]) == {"none", "low", "mid", "full"}
    assert d["renewal"].startswith("each policy renewed")
    # plot: the lines drawn under the chart carry the caveats and the scenarios
    lines = " ".join(caveat_lines(comp))
    assert "PROVISIONAL" in lines and "effective date" in lines and "cap 20% (low)" in lines
    from underwriting.reserve.compare import plot_costs

    assert plot_costs(comp, tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_cap_scenarios_are_the_optimiser_rerun_at_each_cap(comp):
    """Each scenario's best programme equals a full re-run with --param credit.cap_share=<share>."""
    from tests.reserve.helpers import load_example
    from underwriting.reserve import load_regime

    sub = load_example("jp_small_exchange.json")
    for name, sc in comp.cap_scenarios.items():
        reg = load_regime("jp-fsa-2026").with_overrides({"credit.cap_share": sc["cap_share"]})
        alt = optimise(sub, reg, load_quotes(QUOTES), horizon_years=3, assumptions=CA)
        assert sc["best"] == alt.best.label, name
        assert sc["npv"] == pytest.approx(alt.best.npv, rel=1e-12)
        assert sc["saving_vs_cash"] == pytest.approx(alt.saving_vs_cash, rel=1e-9, abs=1e-6)
    assert comp.cap_scenarios["none"]["best"] == "cash only"


def test_ineligible_programmes_say_why(comp):
    bbb = next(p for p in comp.programmes if p.policies == ("bbb-cheap-400m",))
    hot = next(p for p in comp.programmes if p.policies == ("hot-only-200m",))
    assert not bbb.compliant and "jp.insurer_rating" in bbb.ineligible_reasons[0] and "BBB" in bbb.note
    assert "cold_wallet_theft" in hot.ineligible_reasons[0]
    assert "Ineligible programmes (no credit; why):" in comp.to_table()


def test_candidates_carry_their_attachment(comp):
    d = comp.to_dict()
    by = {c["policy_id"]: c for c in d["candidates"]}
    assert by["excess-250m-xs-150m"]["attachment"] == 150e6 and by["excess-250m-xs-150m"]["limit"] == 250e6
    assert {"aggregate_limit", "reinstatements", "coinsurance", "inception", "expiry"} <= set(by["full-400m"])


@pytest.mark.parametrize("value", ["7", "1.5", "-2"])
def test_a_share_above_one_needs_a_percent_sign(reserve_cli, value):
    code, out, err = reserve_cli("compare-reserve", JP, "--regime", "jp-fsa-2026", "--horizon-years", "1",
                                 "--quotes", QUOTES, "--funding-cost", value)
    assert code == 2 and "--funding-cost" in err and "Traceback" not in err and out == ""


def test_percent_and_share_give_the_same_answer(reserve_cli):
    runs = [reserve_cli("compare-reserve", JP, "--regime", "jp-fsa-2026", "--horizon-years", "1", "--quotes", QUOTES,
                        "--funding-cost", v, "--json") for v in ("7%", "0.07")]
    assert all(code == 0 for code, _, _ in runs)
    a, b = (json.loads(out) for _, out, _ in runs)
    assert a["assumptions"]["funding_cost"] == pytest.approx(0.07) and a["best"] == b["best"]


def test_python_entry_point_matches_the_cli(reserve_cli):
    import underwriting.api as uw

    c = uw.compare_reserve(JP, QUOTES, regime="jp-fsa-2026", horizon_years=2)
    code, out, err = reserve_cli("compare-reserve", JP, "--regime", "jp-fsa-2026", "--horizon-years", "2",
                                 "--quotes", QUOTES, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["best"]["label"] == c.best.label and d["saving_vs_cash"] == pytest.approx(c.saving_vs_cash)


@pytest.mark.parametrize(("kw", "field"), [
    ({"horizon_years": 0}, "horizon_years"),
    ({"max_layers": 9}, "max_layers"),
    ({"assumptions": {"funding_cost": 7}}, "assumptions.funding_cost"),
    ({"params": {"credit.cap_shar": 0.2}}, "params['credit.cap_shar']"),
    ({"quotes": None}, "quotes"),
])
def test_python_errors_name_python_arguments(kw, field):
    import underwriting.api as uw

    args = {"quotes": QUOTES, "regime": "jp-fsa-2026", **kw}
    with pytest.raises(InputError) as e:
        uw.compare_reserve(JP, **args)
    assert e.value.field == field and "--" not in (e.value.field or "")
