"""docs/frequency_validation.md quotes the runs stored with the shipped model (training.json)."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _default() -> str:
    return (ROOT / "models/frequency/DEFAULT").read_text(encoding="utf-8").strip()


def _row(x: dict) -> str:
    return (f"| {x['segment']} | {x['exchanges']} | {x['exposure_years']:.1f} | {x['observed']} | {x['expected']:.2f} | "
            f"{x['oe']:.2f} | {x['interval'][0]:.2f}–{x['interval'][1]:.2f} | {'yes' if x['inside'] else 'no'} |")


def test_validation_page_quotes_the_stored_runs():
    version = _default()
    rep = json.loads((ROOT / f"models/frequency/{version}/training.json").read_text(encoding="utf-8"))
    doc = (ROOT / "docs/frequency_validation.md").read_text(encoding="utf-8")
    assert f"`models/frequency/{version}`" in doc and f"`models/frequency/{version}/training.json`" in doc
    for block in ("segments_out_of_time", "segments_sensitivity_2021"):
        for x in rep[block]["rows"] + rep[block]["information"]:
            assert _row(x) in doc, (block, x["segment"])
    seg = rep["segments_out_of_time"]
    assert f"**{seg['fit_window'][1]}** ({seg['fit_events']} breaches, {seg['fit_exposure_years']:.1f} exchange-years)" in doc
    tt = rep["trend_test"]
    assert f"coefficient {tt['coef']:.3f}/year (SE {tt['se']:.3f}" in doc and f"p = {tt['p']:.3f}" in doc
    for t, e in rep["effects"].items():
        assert f"| {t} | {e['coef']:+.3f} | {e['se']:.3f} | {e['rate_ratio']:.3f} | {e['lo']:.3f}–{e['hi']:.3f} |" in doc, t
    for y in rep["by_calendar_year"]:
        assert f"| {y['exchanges']} | {y['exposure_years']:.1f} | {y['breaches']} | {y['rate']:.4f} |" in doc, y["year"]
    ins = rep["in_sample"]
    assert f"**{ins['exchanges']} exchanges, {ins['exposure_years']:,.1f} exchange-years, {ins['observed']} breaches**" in doc
    tail = rep["population"]["removed_tail"]
    assert f"**{tail['exchanges']} exchanges, {tail['exposure_years']:,.1f} exchange-years, {tail['breaches']} breaches**" in doc
    tol = rep["survival_check"]["time_on_list"]
    assert f"**LR {tol['lr']:.2f} on {tol['df']} df, p = {tol['p']:.3f}**" in doc
    w = rep["survival_check"]["weibull"]
    assert f"**ρ = {w['rho']:.2f} (90% {w['rho_interval'][0]:.2f}–{w['rho_interval'][1]:.2f})**" in doc
    eb = rep["ever_breached"]
    assert f"| {eb['implied_share_2020_top_third']:.1%} |" in doc and f"| {eb['implied_share_2020_cohort']:.1%} |" in doc
    for x in rep["exit_effect"]:
        assert f"{x['exposure_years']:.1f} ({x['breaches']})" in doc
