"""cohort_exits.csv: schema, sources, dates, the 2023 reservation, the follow-up it censors, and its card."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from underwriting.datasets.cohorts import (
    EXIT_KINDS,
    SNAPSHOTS,
    cohort_followup,
    exit_censor_dates,
    exit_exposure_table,
    load_cohort_exits,
    load_cohorts,
)
from underwriting.datasets.loaders import DatasetError, load_exchanges

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
CARD = DATASETS / "cohort_exits.md"
CUTOFF = pd.Timestamp("2025-11-30")


@pytest.fixture(scope="module")
def exits() -> pd.DataFrame:
    return load_cohort_exits()


def _card_lists() -> dict[str, tuple[pd.Timestamp, str]]:
    """The card's source table: list key -> (date, url)."""
    rows = re.findall(r"^\| ([a-z-]+-\d{4}-\d{2}-\d{2}) \| [^|]+ \| (\d{4}-\d{2}-\d{2}) \| .*\| (https://\S+) \|$",
                      CARD.read_text(encoding="utf-8"), flags=re.M)
    return {k: (pd.Timestamp(d), u) for k, d, u in rows}


def test_one_row_per_cohort_exchange_and_nothing_else(exits):
    coh = load_cohorts()
    at_risk = coh[(coh["active"] == "yes") & (coh["centralized"] == "yes")]
    assert set(exits["exchange_id"]) == set(at_risk["exchange_id"])
    assert exits["exchange_id"].is_unique and len(exits) == 401


def test_dates_parse_and_follow_the_rules(exits):
    assert exits["last_seen_date"].notna().all()
    assert set(exits["exit_kind"].astype(str)) <= set(EXIT_KINDS)
    first = load_cohorts().groupby("exchange_id")["snapshot_date"].min()
    assert (exits["last_seen_date"].to_numpy() >= first.loc[exits["exchange_id"]].to_numpy()).all()
    kind = exits["exit_kind"].astype(str)
    assert (exits.loc[kind == "alive_at_cutoff", "last_seen_date"] >= CUTOFF).all()
    assert (exits.loc[kind != "alive_at_cutoff", "last_seen_date"] < CUTOFF).all()
    om = exits[kind == "omitted"]
    assert (om["omitted_on"] > om["last_seen_date"]).all()
    nle = exits[kind == "no_later_evidence"]
    assert set(nle["last_seen_date"]) <= {pd.Timestamp(d) for d in SNAPSHOTS.values()}


def test_every_row_cites_a_source_and_no_list_is_dated_2023(exits):
    lists = _card_lists()
    assert len(lists) == 10 and all(d.year != 2023 for d, _ in lists.values())
    urls = {u for _, u in lists.values()}
    # every sighting comes from a list of the card, at the date the card gives it (or its snapshot date)
    by_url = {u: d for d, u in lists.values()}
    assert set(exits["last_seen_url"]) <= urls
    assert (exits["last_seen_date"] == exits["last_seen_url"].map(by_url)).all()
    assert (exits["last_seen_date"].dt.year != 2023).all() and (exits["omitted_on"].dt.year != 2023).all()
    kind = exits["exit_kind"].astype(str)
    roster_urls = set(load_exchanges()["source_url"])
    assert set(exits.loc[kind == "closed", "source_url"]) <= roster_urls
    assert set(exits.loc[kind != "closed", "source_url"]) <= urls
    assert exits["source_url"].str.match(r"https?://").all()


def test_closed_rows_are_the_roster_closures(exits):
    ex = load_exchanges().set_index("exchange_id")
    for _, r in exits[exits["exit_kind"].astype(str) == "closed"].iterrows():
        d, p = ex.loc[r["exchange_id"], "closure_date"], ex.loc[r["exchange_id"], "closure_date_precision"]
        end = d + pd.offsets.YearEnd(0) if p == "year" else d + pd.offsets.MonthEnd(0) if p == "month" else d
        assert r["exit_date"] == end, r["exchange_id"]
        assert r["last_seen_date"] <= r["exit_date"]


def test_later_list_aliases_are_reviewed_and_key_cohort_exchanges(exits):
    from underwriting.datasets.cohorts import load_aliases

    al = load_aliases(DATASETS / "later_list_aliases.csv")
    assert (al["source"] == "later_list").all() and al["reason"].str.len().gt(10).all()
    assert set(al["match"].astype(str)) <= {"reviewed", "kept_apart"}
    rev = al[al["match"] == "reviewed"]
    assert len(rev) >= 10 and set(rev["exchange_id"]) <= set(exits["exchange_id"])
    assert not (set(al.loc[al["match"] == "kept_apart", "exchange_id"]) & set(exits["exchange_id"]))


def test_reviewed_renames_reach_the_exchange(exits):
    x = exits.set_index("exchange_id")
    # AscendEX (formerly BitMax) is on CoinGecko's January 2022 list under its new name
    assert x.loc["ascendex", "last_seen_date"] == pd.Timestamp("2022-01-28")
    assert x.loc["binance", "exit_kind"] == "alive_at_cutoff"
    assert x.loc["livecoin", "exit_kind"] == "closed"


def test_loader_refuses_a_2023_list_and_inconsistent_rows(tmp_path, exits):
    src = (DATASETS / "cohort_exits.csv").read_text(encoding="utf-8").splitlines()
    header, body = src[0], src[1:]
    i = next(k for k, line in enumerate(body) if ",seen_latest," in line)
    bad = body[i].split(",")
    bad[1] = "2023-06-01"
    p = tmp_path / "x.csv"
    p.write_text("\n".join([header, ",".join(bad)]) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 2, column 'last_seen_date'.*2023"):
        load_cohort_exits(p)
    bad = body[i].split(",")
    bad[5] = "closed"
    p.write_text("\n".join([header, ",".join(bad)]) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 2, column 'exit_date'"):
        load_cohort_exits(p)
    bad = body[i].split(",")
    bad[5] = "alive_at_cutoff"
    p.write_text("\n".join([header, ",".join(bad)]) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"column 'exit_kind'"):
        load_cohort_exits(p)
    p.write_text("\n".join([header, body[i], body[i]]) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="line 3"):
        load_cohort_exits(p)


@pytest.mark.parametrize("snap", list(SNAPSHOTS))
def test_followup_ends_at_exit_or_last_seen_and_never_adds_exposure(snap, exits):
    before = cohort_followup(snap, exits=False).set_index("exchange_id")
    after = cohort_followup(snap).set_index("exchange_id")
    assert list(before.index) == list(after.index)  # same exchanges: volume ranks unchanged
    assert (after["exposure_years"] <= before["exposure_years"] + 1e-12).all()
    assert (after["exposure_years"] >= 0).all() and (after["breaches"] <= before["breaches"]).all()
    cens = exit_censor_dates(exits)
    for e, r in after.iterrows():
        c = cens.get(e)
        if pd.isna(c):  # alive at the cut-off: followed to the end (or its roster closure)
            assert r["stop"] == before.loc[e, "stop"], e
        else:
            assert r["stop"] == min(max(c, r["start"]), before.loc[e, "stop"]), e
        assert all(r["start"] < d <= r["stop"] for d in r["breach_dates"])
    lost = before["breaches"] - after["breaches"]
    assert (lost == after["breaches_after_stop"]).all()
    alive = after[after["exit_kind"] == "alive_at_cutoff"]
    assert len(alive) and (alive["stop"] == alive.index.map(before["stop"])).all()


def test_midpoint_rule_lies_between_last_seen_and_no_exits(exits):
    for snap in SNAPSHOTS:
        a = cohort_followup(snap)["exposure_years"].sum()
        m = cohort_followup(snap, omitted_rule="midpoint")["exposure_years"].sum()
        b = cohort_followup(snap, exits=False)["exposure_years"].sum()
        assert a <= m <= b
    om = exits[exits["exit_kind"] == "omitted"]
    mid = exit_censor_dates(exits, "midpoint").loc[om["exchange_id"]]
    assert (mid.to_numpy() >= om["last_seen_date"].to_numpy()).all()
    assert (mid.to_numpy() <= om["omitted_on"].to_numpy()).all()
    with pytest.raises(DatasetError, match="omitted_rule"):
        exit_censor_dates(exits, "latest")


def test_user_cohort_without_exit_rows_is_followed_to_the_end():
    coh = load_cohorts()
    f = cohort_followup("cryptocompare", cohort_exits=load_cohort_exits().iloc[:0])
    g = cohort_followup("cryptocompare", exits=False)
    assert (f["exit_kind"] == "not_in_exit_table").all()
    assert f["exposure_years"].sum() == pytest.approx(g["exposure_years"].sum())
    assert len(coh)


def test_card_counts_equal_the_code(exits):
    card = CARD.read_text(encoding="utf-8")
    n = exits["exit_kind"].astype(str).value_counts()
    fu = {s: cohort_followup(s)["exit_kind"].astype(str).value_counts() for s in SNAPSHOTS}
    for k in EXIT_KINDS:
        row = re.search(rf"^\| {k} \| [^|]+ \| (\d+) \| (\d+) \| (\d+) \|$", card, flags=re.M)
        assert row, k
        assert [int(x) for x in row.groups()] == [int(n.get(k, 0))] + [int(fu[s].get(k, 0)) for s in SNAPSHOTS], k
    assert f"({len(exits)} exchanges" in card or f"{len(exits)} exchanges" in card
    t = exit_exposure_table()
    for r in t.itertuples():
        line = (f"| {r.snapshot} | {r.third} | {r.exchanges} | {r.exposure_years_before:,.1f} | "
                f"{r.exposure_years_after:,.1f} | {r.removed_pct:.1f}% | {r.breaches_before} | {r.breaches_after} | "
                f"{r.breaches_after_stop} | {r.zero_exposure} |")
        assert line in card, line
    m = exit_exposure_table(omitted_rule="midpoint").set_index(["snapshot", "third"])
    assert (f"exposure after censoring is {m.loc[('coinpaprika', 'all'), 'exposure_years_after']:,.1f} years "
            f"(CoinPaprika) and {m.loc[('cryptocompare', 'all'), 'exposure_years_after']:,.1f} years") in card
    for s, label in (("coinpaprika", "CoinPaprika"), ("cryptocompare", "CryptoCompare")):
        f = cohort_followup(s)
        ids = ", ".join(sorted(f.loc[f["breaches_after_stop"] > 0, "exchange_id"]))
        assert f"**{ids}** ({label} cohort)" in card.replace("\n", " "), s


def test_model_panel_with_exits_adds_up_from_the_censored_followups():
    from underwriting.frequency.base_panel import cohort_panel

    panel = cohort_panel(exit_rule="last_seen")
    cp, cc = cohort_followup("coinpaprika"), cohort_followup("cryptocompare")
    cc_only = cc[~cc["exchange_id"].isin(cp["exchange_id"])]
    assert panel["breaches"].sum() == cp["breaches"].sum() + cc_only["breaches"].sum()
    days = (cp["stop"] - cp["start"]).dt.days.sum() + (cc_only["stop"] - cc_only["start"]).dt.days.sum()
    assert panel["exposure_years"].sum() == pytest.approx(days / 365.25, rel=1e-12)
    off = cohort_panel(exit_rule="none")  # roster closures only (frequency 0.1.0)
    assert off["exposure_years"].sum() > 2 * panel["exposure_years"].sum()
    # the model's rule (evidence) lies between the two
    ev = cohort_panel()
    assert panel["exposure_years"].sum() < ev["exposure_years"].sum() < off["exposure_years"].sum()
