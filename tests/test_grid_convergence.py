"""The grid-convergence study (benchmarks/grid_convergence.py): its grid patch forces the size it says,
changes nothing at the shipped size and is removed afterwards; a short run writes its tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("grid_convergence", ROOT / "benchmarks" / "grid_convergence.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _case(name):
    from tests.golden.make_quotes import cases

    return next(c for c in cases() if c[0] == name)


def test_patch_forces_the_grid_and_is_removed(study):
    import underwriting.losses.aggregate as agg
    import underwriting.losses.aggregate.engines as eng
    import underwriting.pricing.layers as pl
    import underwriting.quote.layers as ql

    before = (pl.compound, agg.compound, eng._compound_grid, ql.premium_range)
    name, sub, terms, model = _case("jp_small_exchange__policy_jp_primary__frequency")
    patch = study.GridPatch()
    with patch.installed():
        shipped = study._quote(patch, 2**16, sub, terms, model, name)
        finer = study._quote(patch, 2**17, sub, terms, model, name)
    assert (pl.compound, agg.compound, eng._compound_grid, ql.premium_range) == before
    # every compound call of the quote (layer, both range ends, the reserve's ground-up loss) was seen
    assert [c["role"] for c in shipped["calls"]] == ["layer", "premium range", "premium range", "reserve ground-up"]
    assert {c["grid"] for c in shipped["calls"]} == {2**16} and {c["grid"] for c in finer["calls"]} == {2**17}
    # the shipped size through the patch is the shipped quote
    from tests.golden.make_quotes import OUT
    from underwriting.domain.canonical import compare

    recorded = json.loads((OUT / f"{name}.json").read_text(encoding="utf-8"))
    assert compare(recorded, shipped["canonical"]).status in ("identical", "within")
    # a finer grid moves the premium (discretisation), never the recorded inputs
    assert finer["raw"]["premium"] != shipped["raw"]["premium"]
    assert finer["canonical"]["inputs"] == shipped["canonical"]["inputs"]


def test_short_run_writes_its_tables(study, tmp_path):
    out = tmp_path / "grid.md"
    text = study.main(["--main-only", "--grids", "16,17", "--out", str(out)])
    assert out.read_text(encoding="utf-8") == text
    for s in study.MAIN_SUBMISSIONS:
        assert f"### {s}__policy_jp_primary__frequency" in text
    assert "| premium |" in text and "mean_rel_err" in text and "FAIL" not in text
