"""The data cards state what the shipped tables hold: their figures are recomputed here from the CSVs."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
BREACH = {"hack", "insider"}


def _year_table(card: str) -> dict[int, tuple[int, int, int]]:
    rows = re.findall(r"^\| (\d{4}) \| (\d+) \| (\d+) \| (\d+) \|$", card, flags=re.M)
    return {int(y): (int(a), int(b), int(c)) for y, a, b, c in rows}


def test_incident_card_coverage_by_year_matches_the_file():
    inc = pd.read_csv(DATASETS / "incidents.csv", parse_dates=["incident_date"])
    stated = _year_table((DATASETS / "incidents.md").read_text(encoding="utf-8"))
    assert stated, "incidents.md has no coverage-by-year table"
    years = inc["incident_date"].dt.year
    for year, (rows, breaches, with_amount) in stated.items():
        sel = inc[years == year]
        assert (len(sel), int(sel["event_type"].isin(BREACH).sum()), int(sel["amount_usd"].notna().sum())) \
            == (rows, breaches, with_amount), year
    assert sum(r for r, _, _ in stated.values()) == len(inc)


def test_exchange_card_headline_figures_match_the_files():
    ex = pd.read_csv(DATASETS / "exchanges.csv")
    inc = pd.read_csv(DATASETS / "incidents.csv")
    card = (DATASETS / "exchanges.md").read_text(encoding="utf-8")
    n = len(ex)
    hacked = inc.loc[inc["event_type"].isin(BREACH), "exchange_id"].nunique()
    closed = int(ex["closure_date"].notna().sum())
    assert f"Exchanges: **{n}**" in card
    assert f"**{hacked} ({100 * hacked / n:.1f}%)**" in card
    assert f"Closed: **{closed} ({100 * closed / n:.1f}%)**" in card
    assert f"Launch date known for {int(ex['launch_date'].notna().sum())} of {n} rows" in card


def test_jp_card_figures_are_the_loaders():
    from underwriting.datasets.jp_cohort import jp_followup

    card = (DATASETS / "jp_exchanges.md").read_text(encoding="utf-8")
    f = jp_followup()
    kind = f["entry_kind"].astype(str)
    n_reg, n_deemed = int((kind == "registered").sum()), int((kind == "deemed").sum())
    years, breaches = f["exposure_years"].sum(), int(f["breaches"].sum())
    assert f"Operators: **{len(f)}** ({n_reg} registered, {n_deemed} deemed)" in card
    assert (f"Exposure: **{years:.1f} exchange-years**; breaches: **{breaches}** at **{int((f['breaches'] > 0).sum())}** "
            f"operators; crude rate **{breaches / years:.4f} per exchange-year**") in card
    for col in ("end_reason", "entry_kind"):
        for key, g in f.groupby(f[col].astype(str)):
            assert f"| {key} | {len(g)} | {g['exposure_years'].sum():.1f} | {int(g['breaches'].sum())} |" in card, (col, key)
    ls = f[f["end_reason"] == "last_seen"]
    cut, june = pd.Timestamp("2025-11-30"), pd.Timestamp("2018-06-11")
    on_faith = ((cut - ls["start"]).dt.days / 365.25).sum() - ls["exposure_years"].sum()
    dm = ls[ls["entry_kind"].astype(str) == "deemed"]
    to_june = ((june - dm["start"]).dt.days / 365.25).sum() - dm["exposure_years"].sum()
    assert "**Nine exits are unknown**" in card and len(ls) == 9
    assert f"({ls['exposure_years'].sum():.1f} years in" in card
    assert f"at most **{to_june:.1f}** years" in card
    assert f"would have added **{on_faith:.0f}** exchange-years" in card
