"""The CFO case of issue #26, recomputed: docs/reserve.md's figures are the tool's.

A JFSA-registered exchange with JPY 200bn of customer assets (``datasets/examples/jp_large_exchange.json``)
and the candidate quotes ``underwriting/reserve/examples/quotes_jp_large.toml``, compared over 3 years
with ``compare-reserve``: once with the credit through the term (the tool's default) and once with the
day-one credit held all year (the residual-term haircut switched off by ``--param``, which is what the
tool did before issue #26). Every figure of the doc's CFO table is checked against those two runs.
"""

from __future__ import annotations

import contextlib
import io
import json
import re

import pytest

from tests.conftest import EXAMPLES, ROOT

SUB = EXAMPLES / "jp_large_exchange.json"
QUOTES = ROOT / "underwriting" / "reserve" / "examples" / "quotes_jp_large.toml"
DOC = ROOT / "docs" / "reserve.md"
BASE = ["compare-reserve", str(SUB), "--regime", "jp-fsa-2026", "--horizon-years", "3", "--quotes", str(QUOTES),
        "--json"]
HELD = ["--param", "rules.jp.residual_term.full_credit_days=1", "--param", "rules.jp.residual_term.zero_credit_days=0"]


@pytest.fixture(scope="module")
def runs():
    """(through the term, day-one credit held all year) compare-reserve JSON."""
    from underwriting.cli.main import main

    out = {}
    for key, extra in (("term", []), ("held", HELD)):
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(BASE + extra) == 0
        out[key] = json.loads(buf.getvalue())
    return out


def _doc_table() -> dict[str, str]:
    """The rows of the doc's CFO table: ``| key | figure |`` between its two markers."""
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- cfo-case:start -->", 1)[1].split("<!-- cfo-case:end -->", 1)[0]
    rows = {}
    for line in block.splitlines():
        m = re.match(r"\|\s*`([a-z_0-9.]+)`[^|]*\|\s*([^|]+?)\s*\|", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def _m(x: float) -> str:
    """Yen in millions to one decimal, as the doc writes them: ``¥67.5m``."""
    return f"¥{x / 1e6:,.1f}m"


def _programme(comp: dict, label: str) -> dict:
    return next(p for p in comp["programmes"] if p["label"] == label)


def figures(runs: dict) -> dict[str, str]:
    """The CFO table's figures, each from the tool's JSON."""
    term, held = runs["term"], runs["held"]
    old_best = held["best"]["label"]
    same = _programme(term, old_best)
    cash = term["cash_only"]["npv"]
    out = {
        "requirement": _m(term["best"]["requirement"]),
        "cap": _m(term["best"]["requirement"] * term["cap"]["share"]),
        "cash_only_npv": _m(cash),
        "held.best": old_best,
        "held.npv": _m(held["best"]["npv"]),
        "held.saving": _m(held["saving_vs_cash"]),
        "term.best": term["best"]["label"],
        "term.credit_day1": _m(term["best"]["credit_start"]),
        "term.credit_avg": _m(term["best"]["credit_average"]),
        "term.gap_carry": _m(term["best"]["gap_cost"]),
        "term.npv": _m(term["best"]["npv"]),
        "term.saving": _m(term["saving_vs_cash"]),
        "same.credit_avg": _m(same["credit_average"]),
        "same.gap_carry": _m(same["gap_cost"]),
        "same.npv": _m(same["npv"]),
        "same.saving": _m(cash - same["npv"]),
    }
    for name, s in term["cap_scenarios"].items():
        out[f"cap.{name}"] = f"{s['best']}, {_m(s['saving_vs_cash'])}"
    for name, s in held["cap_scenarios"].items():
        out[f"held_cap.{name}"] = f"{s['best']}, {_m(s['saving_vs_cash'])}"
    return out


def test_the_docs_cfo_figures_are_the_tools(runs):
    want = figures(runs)
    got = _doc_table()
    assert set(got) == set(want), sorted(set(got) ^ set(want))
    diff = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not diff, diff


def test_the_cfo_case_matches_the_issue(runs):
    """The issue's inputs: JPY 200bn of customer assets; a day-one credit of JPY 1.50bn (the 50% cap of a
    JPY 3bn requirement); cash only costs JPY 393.6m over 3 years, so the issue's old 'saves JPY 175.7m'
    is an NPV of JPY 218.0m for an excess layer."""
    term, held = runs["term"], runs["held"]
    assert term["best"]["requirement"] == pytest.approx(3e9)
    assert term["cash_only"]["npv"] == pytest.approx(393.65e6, abs=0.01e6)
    assert held["best"]["label"].startswith("excess-")
    assert held["saving_vs_cash"] == pytest.approx(175.7e6, rel=0.05)     # the old figure, from our quotes
    assert 0 < term["saving_vs_cash"] < 0.5 * held["saving_vs_cash"]    # far below it
    for p in term["programmes"]:                                          # the day-one credit decays
        if p["policies"] and p["compliant"]:
            assert p["credit_average"] < p["credit_start"]


def test_the_cfo_quotes_are_the_toolkits_own_prices(tmp_path):
    """The eligible candidates' premiums and expected losses are what the toolkit charges for those layers on
    this exchange (rounded to JPY 1,000), as the quotes file says. If the loss model or the loads change on
    purpose, re-price the file with the command in its header and update docs/reserve.md's CFO table."""
    import tomllib

    from underwriting.cli.main import main

    doc = tomllib.loads(QUOTES.read_text(encoding="utf-8"))
    lines = [f"{k} = {json.dumps(v, ensure_ascii=False)}" if not hasattr(v, "isoformat") else f"{k} = {v}"
             for k, v in doc["defaults"].items()]
    (tmp_path / "template.toml").write_text("\n".join([*lines, 'policy_id = "grid"', "deductible = 0",
                                                       "limit = 1"]) + "\n", encoding="utf-8")
    priced = [q for q in doc["quote"] if "insurer" not in q and "cold_wallet" not in q.get("exclusions", [])]
    deds = sorted({q["deductible"] for q in priced})
    lims = sorted({q["limit"] for q in priced})
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["compare-reserve", str(SUB), "--regime", "jp-fsa-2026", "--horizon-years", "1",
                     "--template", str(tmp_path / "template.toml"), "--deductibles", ",".join(map(str, deds)),
                     "--limits", ",".join(map(str, lims)), "--max-layers", "1", "--json"]) == 0
    grid = {(c["deductible"], c["limit"]): c for c in json.loads(buf.getvalue())["candidates"]}
    assert len(priced) == 6
    for q in priced:
        c = grid[(float(q["deductible"]), float(q["limit"]))]
        assert q["premium"] == pytest.approx(c["premium"], abs=500), q["policy_id"]
        assert q["expected_loss"] == pytest.approx(c["expected_recovery"], abs=500), q["policy_id"]
