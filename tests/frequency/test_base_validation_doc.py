"""docs/frequency_validation.md quotes the runs stored with the shipped model (training.json)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_validation_page_quotes_the_stored_runs():
    rep = json.loads((ROOT / "models/frequency/0.1.0/training.json").read_text(encoding="utf-8"))
    doc = (ROOT / "docs/frequency_validation.md").read_text(encoding="utf-8")
    oot = rep["out_of_time"]
    assert f"observed {oot['observed']}, expected {oot['expected']:.2f}, O/E {oot['oe']:.2f}" in doc
    assert f"interval {oot['oe_interval'][0]:.2f}–{oot['oe_interval'][1]:.2f}" in doc
    tt = rep["trend_test"]
    assert f"coefficient {tt['coef']:.3f}/year (SE {tt['se']:.3f}" in doc and f"p = {tt['p']:.3f}" in doc
    for t, e in rep["effects"].items():
        assert f"| {t} | {e['coef']:+.3f} | {e['se']:.3f} | {e['rate_ratio']:.3f} | {e['lo']:.3f}–{e['hi']:.3f} |" in doc, t
    for y in rep["by_calendar_year"]:
        assert f"| {y['exchanges']} | {y['exposure_years']:.1f} | {y['breaches']} | {y['rate']:.4f} |" in doc, y["year"]
    ins = rep["in_sample"]
    assert f"**{ins['exchanges']} exchanges, {ins['exposure_years']:,.1f} exchange-years, {ins['observed']} breaches**" in doc
    eb = rep["ever_breached"]
    assert f"| {eb['implied_share_2020_top_third']:.1%} |" in doc and f"| {eb['implied_share_2020_cohort']:.1%} |" in doc
