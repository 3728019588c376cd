"""Cohort table and alias table: typed loading, line/column errors, and the card's figures recomputed."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from underwriting.datasets.cohorts import (
    COHORT_SCHEMA,
    SNAPSHOTS,
    cohort_followup,
    load_aliases,
    load_cohorts,
)
from underwriting.datasets.loaders import DatasetError, load_exchanges

DATASETS = Path(__file__).resolve().parents[2] / "datasets"


@pytest.fixture(scope="module")
def cohorts():
    return load_cohorts()


def test_shipped_cohorts_load_typed(cohorts):
    assert list(cohorts.columns) == [c.name for c in COHORT_SCHEMA]
    assert str(cohorts["snapshot_date"].dtype) == "datetime64[ns]"
    assert cohorts["volume_24h_usd"].dtype == "float64"
    assert (cohorts["volume_24h_usd"] >= 0).all()
    assert set(cohorts["snapshot"].astype(str)) == set(SNAPSHOTS)
    # CryptoCompare USD volume is its BTC volume times one BTC price
    cc = cohorts[cohorts["snapshot"] == "cryptocompare"]
    ratio = cc["volume_24h_usd"] / cc["volume_24h_btc"]
    assert ratio[cc["volume_24h_btc"] > 1].round(0).eq(18190).all()
    assert (cohorts["source_url"].str.contains("/blob/[0-9a-f]{40}/", regex=True)).all()


def test_every_cohort_id_is_keyed_by_an_alias_and_reviewed_matches_have_reasons(cohorts):
    al = load_aliases()
    assert set(cohorts["exchange_id"]) <= set(al["exchange_id"])
    rev = al[al["match"].isin(["reviewed", "kept_apart"])]
    assert len(rev) >= 40 and rev["reason"].str.len().gt(10).all()
    roster = set(load_exchanges()["exchange_id"])
    on_roster = al[al["match"].isin(["roster_name", "reviewed"]) & (al["source"] != "later_list")]
    assert set(on_roster["exchange_id"]) - {"bitbay"} <= roster
    assert not (al["source"] == "later_list").any()  # later lists' aliases: later_list_aliases.csv
    assert dict(zip(al["alias"], al["exchange_id"], strict=False))["Huobi Global"] == "htx"


def test_card_figures_are_recomputed_from_the_files(cohorts):
    card = (DATASETS / "cohorts.md").read_text(encoding="utf-8")
    for snap, label in (("coinpaprika", "CoinPaprika 2019-09-07"), ("cryptocompare", "CryptoCompare 2020-12-10")):
        f = cohort_followup(snap, exits=False)  # the card's table is follow-up without exit evidence
        ever = int((f["breaches"] > 0).sum())
        row = (f"| {label} | {len(f)} | {f['exposure_years'].sum():,.1f} | {int(f['breaches'].sum())} | "
               f"{ever} ({100 * ever / len(f):.1f}%) | {f['breaches'].sum() / f['exposure_years'].sum():.4f} |")
        assert row in card, row
    al = load_aliases()
    assert f"One row per (alias, source), {int((al['source'] != 'later_list').sum())} rows" in card
    n_cp = int((cohorts["snapshot"] == "coinpaprika").sum())
    assert f"| coinpaprika | 2019-09-07 | {n_cp} (one per exchange)" in card


def test_followup_counts_recurrent_breaches_inside_the_window():
    f = cohort_followup("coinpaprika", exits=False).set_index("exchange_id")
    assert f.loc["upbit", "breaches"] == 2  # 2019-11-27 and 2025-11-26, both after 2019-09-07
    assert f.loc["btcturk", "breaches"] == 2
    assert f.loc["livecoin", "stop"] == pd.Timestamp("2021-01-31")  # month-precision closure, end of month
    assert (f["stop"] <= pd.Timestamp("2025-11-30")).all() and (f["exposure_years"] > 0).all()
    early = cohort_followup("coinpaprika", end="2020-12-31", exits=False)
    assert early["breaches"].sum() < f["breaches"].sum()


def test_cohort_exchanges_missing_breaches_were_added():
    inc = pd.read_csv(DATASETS / "incidents.csv")
    for iid in ("2020-12-23-altilly", "2020-12-24-livecoin", "2022-08-02-zb"):
        row = inc[inc["incident_id"] == iid]
        assert len(row) == 1 and row["source_url"].str.startswith("http").all()


HEADER = ",".join(c.name for c in COHORT_SCHEMA)
GOOD = ("coinpaprika,2019-09-07,x,X,x,JP,100,,yes,yes,,,,,,,https://github.com/a/b/blob/"
        + "0" * 40 + "/f.json")


@pytest.mark.parametrize(("row", "column", "line"), [
    (GOOD.replace(",JP,", ",Japan,"), "country", 3),
    (GOOD.replace(",100,", ",-5,"), "volume_24h_usd", 3),
    (GOOD.replace("2019-09-07", "2019-09-08"), "snapshot_date", 3),
    (GOOD.replace(",yes,yes,", ",maybe,yes,"), "centralized", 3),
    (GOOD.replace(",yes,yes,,,", ",yes,yes,,7.5,"), "grade_points", 3),
])
def test_bad_cells_name_line_and_column(tmp_path, row, column, line):
    p = tmp_path / "c.csv"
    p.write_text(f"{HEADER}\n{GOOD.replace(',x,X,x,', ',y,Y,y,')}\n{row}\n", encoding="utf-8")
    with pytest.raises(DatasetError) as exc:
        load_cohorts(p)
    assert exc.value.line == line and exc.value.column == column
    assert str(p) in str(exc.value)


def test_duplicate_exchange_in_a_snapshot_is_an_error(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(f"{HEADER}\n{GOOD}\n{GOOD}\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="duplicate") as exc:
        load_cohorts(p)
    assert exc.value.line == 3


def test_alias_without_reason_is_an_error(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("alias,source,exchange_id,match,reason\nHuobi,coinpaprika,htx,reviewed,\n", encoding="utf-8")
    with pytest.raises(DatasetError) as exc:
        load_aliases(p)
    assert (exc.value.line, exc.value.column) == (2, "reason")


def test_the_build_script_is_not_part_of_the_package():
    pkg = Path(__file__).resolve().parents[2] / "underwriting"
    text = "\n".join(p.read_text(encoding="utf-8") for p in pkg.rglob("*.py"))
    assert "build_cohorts" not in text and not re.search(r"/work/shared|\.\./shared", text)


def test_card_matching_counts_are_recomputed():
    card = (DATASETS / "cohorts.md").read_text(encoding="utf-8")
    al = load_aliases()
    al = al[al["source"].astype(str) != "later_list"]  # later-list aliases: cohort_exits.md
    n = al["match"].astype(str).value_counts()
    assert f"{n['roster_name']} matched the roster by name" in card
    assert f"{n['reviewed']} reviewed matches" in card and f"{n['kept_apart']} listings deliberately kept apart" in card
    assert f"{n['coinpaprika_name']} CryptoCompare names matched a CoinPaprika listing; {n['new_id']} new ids" in card
    roster = set(load_exchanges()["exchange_id"])
    cp, cc = cohort_followup("coinpaprika", exits=False), cohort_followup("cryptocompare", exits=False)
    assert (f"Cohort exchanges on the roster: {cp['exchange_id'].isin(roster).sum()} of {len(cp)} (CoinPaprika), "
            f"{cc['exchange_id'].isin(roster).sum()} of {len(cc)} (CryptoCompare)") in card
