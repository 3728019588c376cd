"""The Japanese operator cohort: schema of the shipped table, and follow-up counts recomputed here."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from underwriting.datasets.jp_cohort import JP_SCHEMA, jp_followup, load_jp_exchanges
from underwriting.datasets.loaders import DatasetError

DATASETS = Path(__file__).resolve().parents[2] / "datasets"
CSV = DATASETS / "jp_exchanges.csv"
START, END = dt.date(2018, 1, 1), dt.date(2025, 11, 30)


def _rows() -> list[dict[str, str]]:
    with CSV.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_schema_of_the_shipped_table():
    rows = _rows()
    assert list(rows[0]) == [c.name for c in JP_SCHEMA]
    ids = [r["operator_id"] for r in rows]
    assert len(ids) == len(set(ids))
    for r in rows:
        for c in ("entry_source_url", "last_seen_source_url"):
            assert r[c].startswith(("http://", "https://")), (r["operator_id"], c)
        entry = dt.date.fromisoformat(r["entry_date"])
        assert dt.date.fromisoformat(r["last_seen_date"]) >= entry
        if r["exit_date"]:
            assert r["exit_source_url"].startswith("http") and r["exit_kind"], r["operator_id"]
            parts = [int(x) for x in r["exit_date"].split("-")]
            assert dt.date(*(parts + [1] * (3 - len(parts)))) >= entry.replace(day=1), r["operator_id"]
        if r["entry_kind"] == "deemed":
            assert r["entry_date"] == "2017-04-01", r["operator_id"]
    frame = load_jp_exchanges()
    assert len(frame) == len(rows)


def _naive_followup() -> tuple[float, int, int]:
    """Second computation, from the CSV text and incidents.csv only: (exposure years, breaches, operators)."""
    inc = list(csv.DictReader((DATASETS / "incidents.csv").open(encoding="utf-8", newline="")))
    years, breaches, n = 0.0, 0, 0
    for r in _rows():
        a = max(dt.date.fromisoformat(r["entry_date"]), START)
        if r["exit_date"]:
            y, m, *d = (int(x) for x in r["exit_date"].split("-"))
            if d:
                own = dt.date(y, m, d[0])
            else:  # month precision: last day of the month
                own = dt.date(y + m // 12, m % 12 + 1, 1) - dt.timedelta(days=1)
        else:
            own = dt.date.fromisoformat(r["last_seen_date"])
        b = min(own, END)
        if b <= a:
            continue
        n += 1
        years += (b - a).days / 365.25
        breaches += sum(1 for i in inc if i["exchange_id"] == r["exchange_id"]
                        and i["event_type"] in ("hack", "insider")
                        and a < dt.date.fromisoformat(i["incident_date"]) <= b)
    return years, breaches, n


def test_followup_counts_match_a_second_computation():
    f = jp_followup()
    years, breaches, n = _naive_followup()
    assert len(f) == n
    assert f["exposure_years"].sum() == pytest.approx(years, rel=1e-12)
    assert int(f["breaches"].sum()) == breaches
    assert (f["start"] >= pd.Timestamp(START)).all() and (f["stop"] <= pd.Timestamp(END)).all()


def test_unknown_exit_is_censored_at_last_seen(tmp_path):
    rows = _rows()
    xt = next(r for r in rows if r["operator_id"] == "xtheta")
    assert not xt["exit_date"]
    f = jp_followup().set_index("operator_id")
    assert f.loc["xtheta", "end_reason"] == "last_seen"
    assert f.loc["xtheta", "stop"] == pd.Timestamp(xt["last_seen_date"])


def test_bad_rows_are_refused_with_line_and_column(tmp_path):
    rows = _rows()
    bad = dict(rows[0], exit_date="2016-01-01", exit_date_precision="day", exit_kind="merger",
               exit_source_url="https://example.org/x")
    p = tmp_path / "jp.csv"
    with p.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerow(bad)
    with pytest.raises(DatasetError, match=r"line 2.*exit_date"):
        load_jp_exchanges(p)


#: Operators keyed to the roster on purpose (the same business); every other exchange_id must not be a roster id,
#: so that a Japanese subsidiary never inherits a global exchange's breaches.
ROSTER_MATCHES = {"bit-station", "bitbank", "bitflyer", "bitpoint", "coincheck", "dmm-bitcoin", "gmo-coin", "liquid",
                  "zaif"}


def test_roster_keys_are_the_reviewed_ones():
    roster = {r["exchange_id"] for r in csv.DictReader((DATASETS / "exchanges.csv").open(encoding="utf-8", newline=""))}
    on_roster = {r["exchange_id"] for r in _rows()} & roster
    assert on_roster == ROSTER_MATCHES


def test_the_issue_breaches_are_counted():
    f = jp_followup()
    got = {(o, d.date().isoformat()) for o, ds in zip(f["operator_id"], f["breach_dates"], strict=True) for d in ds}
    assert got == {("coincheck", "2018-01-26"), ("bit-station", "2018-03-08"), ("tech-bureau", "2018-09-14"),
                   ("bitpoint-japan", "2019-07-12"), ("quoine", "2021-08-18"), ("dmm-bitcoin", "2024-05-31")}
    # Bit Station's insider theft is dated by the FSA order that disclosed it (2018-03-08), inside its follow-up
    bs = f.set_index("operator_id").loc["bit-station"]
    assert bs["start"] < pd.Timestamp("2018-03-08") <= bs["stop"] and bs["breaches"] == 1


def test_month_exit_ends_on_the_last_day_and_dateless_exit_is_censored():
    f = jp_followup().set_index("operator_id")
    assert f.loc["tech-bureau", "stop"] == pd.Timestamp("2018-11-30")
    assert f.loc["tokyo-gateway", "end_reason"] == "last_seen"      # withdrawal known, date not
    assert f.loc["tokyo-gateway", "stop"] == pd.Timestamp("2018-03-08")


def test_overlapping_rows_of_one_exchange_are_refused():
    ops = load_jp_exchanges()
    dup = ops[ops["operator_id"] == "coincheck"].assign(operator_id="coincheck-copy")
    with pytest.raises(DatasetError, match="overlap"):
        jp_followup(operators=pd.concat([ops, dup], ignore_index=True))


def test_window_must_be_positive():
    with pytest.raises(DatasetError, match="not after"):
        jp_followup(start="2025-12-01", end="2025-11-30")


def test_exchange_only_drops_the_non_exchanges():
    f, g = jp_followup(), jp_followup(exchange_only=True)
    dropped = set(f["operator_id"]) - set(g["operator_id"])
    assert dropped == set(f.loc[f["offers_exchange"].astype(str) == "no", "operator_id"]) == {"crypto-garage"}
    assert g["exposure_years"].sum() < f["exposure_years"].sum()


def test_bit_stations_insider_theft_is_the_sixth_breach():
    """The shipped table holds Bit Station's insider theft (FSA order of 2018-03-08): the cohort has the issue's
    six breaches, and without that one row it would have the five it had before the row was added."""
    from underwriting.datasets.loaders import load_incidents

    inc = load_incidents()
    row = inc[inc["incident_id"] == "2018-03-08-bit-station"]
    assert len(row) == 1 and row["event_type"].item() == "insider" and row["exchange_id"].item() == "bit-station"
    assert pd.isna(row["amount_usd"].item())           # no amount stated: the severity fit does not see it
    f = jp_followup()
    assert int(f["breaches"].sum()) == 6 and int((f["breaches"] > 0).sum()) == 6
    assert round(float(f["breaches"].sum() / f["exposure_years"].sum()), 4) == 0.0306
    g = jp_followup(incidents=inc.drop(row.index))
    assert int(g["breaches"].sum()) == 5
