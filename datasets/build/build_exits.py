"""Build ``datasets/cohort_exits.csv``: last-seen and exit dates for the cohort exchanges.

Usage::

    python datasets/build/build_exits.py KEY=FILE [KEY=FILE ...]

where each KEY is one of :data:`LISTS` and FILE the list file as stored at the cited commit
(for example ``git show COMMIT:PATH > FILE`` in a clone of the cited repository). The script
reads only the files named and ``datasets/{cohorts,exchange_aliases,later_list_aliases,exchanges}.csv``,
and
rewrites ``datasets/cohort_exits.csv``. The package never imports it.

Rules (``datasets/cohort_exits.md``):

* an exchange *active* on a list dated D was alive at D; ``last_seen_date`` is the latest such D
  (the cohort snapshots themselves count: an exchange is alive on its own snapshot date);
* ``closed``: the roster (``exchanges.csv``) gives a closure after the snapshot and on or before
  the data cut-off; follow-up ends at the closure (end of the month/year when only that is known);
* ``alive_at_cutoff``: last seen on or after the data cut-off (2025-11-30);
* ``omitted``: a later comprehensive list of an aggregator that listed it as active omits it or
  lists it as inactive (``omitted_on`` = the first such list): exit between the two dates;
* ``seen_latest``: seen after its snapshot, but no later list says either way;
* ``no_later_evidence``: on no later list at all (``last_seen_date`` = its snapshot date).

No list dated (committed) in 2023 is used: those are reserved for an independent validation.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import sys
from pathlib import Path

DATASETS = Path(__file__).resolve().parents[1]
CUTOFF = dt.date(2025, 11, 30)
SNAPSHOT_DATES = {"coinpaprika": dt.date(2019, 9, 7), "cryptocompare": dt.date(2020, 12, 10)}
SNAPSHOT_URLS = {
    "coinpaprika": "https://github.com/maikelmclauflin/coinpaprika-api-grpc/blob/"
                   "6c370b99fdb011dd3371c1eda20d5a6aa6fc3f12/data/exchanges.json",
    "cryptocompare": "https://github.com/ckinateder/pycoin/blob/a7103db04d27ee705253baafb7377f1a05e02429/"
                     "data/exchanges.json",
}

#: Later dated lists: key -> (aggregator, date, comprehensive, parser, url).
#: ``comprehensive``: the list is the aggregator's whole exchange list (active and inactive), so
#: an omission means something; a curated list only proves that what it names was alive.
LISTS: dict[str, tuple[str, dt.date, bool, str, str]] = {
    "cryptocompare-2021-12-14": (
        "cryptocompare", dt.date(2021, 12, 14), True, "cc_page_csv",
        "https://github.com/pawelkunicki/datazaur_web/blob/0583f179c315a851ae1d7573cab58a9569753f5f/exchanges.csv",
    ),
    "coingecko-2022-01-28": (
        "coingecko", dt.date(2022, 1, 28), True, "cg_list_json",
        "https://github.com/popcorndao/stablecoin-metrics/blob/9d94dcc8d71987d422588922c985379dbb634eea/"
        "data/coingecko/exchanges.json",
    ),
    "kittycapital-2026-02-25": (
        "other", dt.date(2026, 2, 25), False, "market_map_json",
        "https://github.com/kittycapital/crypto-premium-dashboard/blob/3749d8c388217678518ddf8667cc9f5768687769/"
        "data/exchange_map.json",
    ),
    # news sightings of the largest exchanges: no file, the source names the exchange
    "news-okx-2025-12-31": (
        "other", dt.date(2025, 12, 31), False, "news:OKX",
        "https://www.0daily.cn/en/post/5206578",
    ),
    "news-bitfinex-2026-01-10": (
        "other", dt.date(2026, 1, 10), False, "news:Bitfinex",
        "https://bitcoinnews.live/?p=26594",
    ),
    "news-gemini-2026-02-01": (  # events of February 2026: taken at the month's first day
        "other", dt.date(2026, 2, 1), False, "news:Gemini",
        "https://nextinweb3.com/?p=25380",
    ),
    "news-bitstamp-2026-04-23": (  # the exchange's own site, prerendered 2026-04-23 (timestamp in the URL)
        "other", dt.date(2026, 4, 23), False, "news:Bitstamp",
        "https://assets.bitstamp.net/msc/learn/crypto-trading/what-is-compound-interest/_payload.1776943800291.json",
    ),
    "bitsark-2026-05-22": (
        "other", dt.date(2026, 5, 22), False, "bitsark_json",
        "https://github.com/bitsARK-Labs/exchanges-api/blob/ca583ec666ae7f21fe346eeb87bba4128ea1066e/"
        "data/exchanges.json",
    ),
}


#: Parenthesised qualifiers that name a venue type or a former name of the same operator; any
#: other qualifier (a country: "Probit (Korea)") keeps the listing apart.
SAME_OPERATOR = {"futures", "derivatives", "perpetual", "spot", "bitmax", "v1", "v2", "v3", "mini",
                 "arbitrum one", "optimism"}


def fold(name: str) -> str:
    """Case, punctuation, same-operator qualifiers and the word "exchange" folded away."""
    s = re.sub(r"\((.*?)\)", lambda m: "" if m.group(1).strip().lower() in SAME_OPERATOR else m.group(1),
               name.lower())
    s = re.sub(r"\bexchange\b", "", s)
    return re.sub(r"[^a-z0-9]", "", s)


def parse_cc_page_csv(path: Path) -> list[tuple[str, bool]]:
    """CryptoCompare exchange page as scraped to CSV: ``,Name,Country,Grade,Volume (USD)``.

    ``Name`` is an HTML anchor; active = 24-hour volume above zero (the cohort's rule for
    CryptoCompare, whose list keeps dead venues at zero volume).
    """
    out = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            m = re.search(r">(.*?)</a>", row["Name"])
            name = (m.group(1) if m else row["Name"]).strip()
            vol = float((row["Volume (USD)"] or "0").replace(",", "") or 0)
            out.append((name, vol > 0))
    return out


def parse_bitsark_json(path: Path) -> list[tuple[str, bool]]:
    """A curated directory of exchanges serving Brazil, each with fees and an ``updated_at``."""
    return [(r["name"], True) for r in json.loads(path.read_text(encoding="utf-8"))]


#: The snapshot lists as evidence (same tuple shape as :data:`LISTS`).
ALL = dict(LISTS) | {
    f"{s}-{d}": (s, d, True, "", SNAPSHOT_URLS[s]) for s, d in SNAPSHOT_DATES.items()
}

def parse_cg_list_json(path: Path) -> list[tuple[str, bool]]:
    """CoinGecko ``/exchanges/list``: ``[{"id", "name"}]`` of the exchanges CoinGecko tracks.

    CoinGecko drops closed venues from this list (Livecoin, FCoin, Cobinhood, IDAX are absent in
    January 2022), so a listing is taken as active.
    """
    return [(r["name"], True) for r in json.loads(path.read_text(encoding="utf-8"))]


def parse_market_map_json(path: Path) -> list[tuple[str, bool]]:
    """A coin-to-market map generated from the exchanges' live market lists (``generated_at``)."""
    d = json.loads(path.read_text(encoding="utf-8"))
    return [(k, len(v) > 0) for k, v in d["exchanges"].items()]


PARSERS = {"cc_page_csv": parse_cc_page_csv, "bitsark_json": parse_bitsark_json,
           "cg_list_json": parse_cg_list_json, "market_map_json": parse_market_map_json}


def read_csv(name: str) -> list[dict[str, str]]:
    with (DATASETS / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def period_end(d: str, precision: str) -> dt.date:
    x = dt.date.fromisoformat(d if len(d) == 10 else (d + "-01" if len(d) == 7 else d + "-01-01"))
    if precision == "year":
        return dt.date(x.year, 12, 31)
    if precision == "month":
        nxt = dt.date(x.year + (x.month == 12), x.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    return x


def build(files: dict[str, Path]) -> list[dict[str, str]]:
    coh = [r for r in read_csv("cohorts.csv") if r["active"] == "yes" and r["centralized"] == "yes"]
    # the snapshot aliases, then the reviewed aliases of later lists (kept in their own file so that
    # exchange_aliases.csv, whose hash the shipped frequency model records, is unchanged)
    aliases = read_csv("exchange_aliases.csv") + read_csv("later_list_aliases.csv")
    roster = {r["exchange_id"]: r for r in read_csv("exchanges.csv")}
    # names -> exchange_id: an aggregator's own names serve its later lists; the reviewed
    # ``later_list`` aliases (renames, other lists' spellings) serve every later list
    # a folded name may key more than one cohort id (the same venue under two snapshot ids)
    keyed: dict[str, dict[str, set[str]]] = {"cryptocompare": {}, "coinpaprika": {}, "coingecko": {}, "other": {}}
    for a in aliases:
        if a["source"] in ("cryptocompare", "coinpaprika"):
            keyed[a["source"]].setdefault(fold(a["alias"]), set()).add(a["exchange_id"])
    # other aggregators and lists: the snapshot names of the cohort exchanges, folded (the rule
    # that matched the snapshots to the roster), then the reviewed later-list aliases
    for r in read_csv("cohorts.csv"):
        for tgt in ("coingecko", "other"):
            keyed[tgt].setdefault(fold(r["name"]), set()).add(r["exchange_id"])
    for a in aliases:
        if a["source"] == "later_list" and a["match"] == "reviewed":
            for tgt in keyed.values():
                tgt.setdefault(fold(a["alias"]), set()).add(a["exchange_id"])
    # evidence per exchange: list key -> active?
    seen: dict[str, dict[str, bool]] = {}
    for key, path in files.items():
        agg, _d, _comp, parser, _url = LISTS[key]
        entries = [(parser.split(":", 1)[1], True)] if parser.startswith("news:") else PARSERS[parser](path)
        for name, active in entries:
            for eid in keyed[agg].get(fold(name), ()):
                prev = seen.setdefault(eid, {}).get(key, False)
                seen[eid][key] = prev or active
    # the snapshot lists themselves (every listing, active or not) are comprehensive lists too
    for r in read_csv("cohorts.csv"):
        key = f"{r['snapshot']}-{SNAPSHOT_DATES[r['snapshot']]}"
        seen.setdefault(r["exchange_id"], {})[key] = r["active"] == "yes" and r["centralized"] == "yes"
    used = list(files) + [f"{s}-{d}" for s, d in SNAPSHOT_DATES.items()]
    ids: dict[str, set[str]] = {}
    for r in coh:
        ids.setdefault(r["exchange_id"], set()).add(r["snapshot"])
    out = []
    for eid in sorted(ids):
        snaps = ids[eid]
        first = min(SNAPSHOT_DATES[s] for s in snaps)
        # alive on its own snapshot dates
        ev = [(SNAPSHOT_DATES[s], SNAPSHOT_URLS[s]) for s in snaps]
        for key, active in seen.get(eid, {}).items():
            if active:
                ev.append((ALL[key][1], ALL[key][4]))
        last, last_url = max(ev)
        # omitted: a comprehensive list dated after last-seen, by an aggregator that lists the
        # exchange somewhere (active or not), omits it or lists it inactive
        aggs_known = {ALL[k][0] for k in seen.get(eid, {})}
        omitted = sorted(
            (ALL[k][1], ALL[k][4]) for k in used
            if ALL[k][2] and ALL[k][0] in aggs_known and ALL[k][1] > last
            and not seen.get(eid, {}).get(k, False)
        )
        ro = roster.get(eid)
        clo = period_end(ro["closure_date"], ro["closure_date_precision"]) if ro and ro["closure_date"] else None
        row = {"exchange_id": eid, "last_seen_date": last.isoformat(), "last_seen_url": last_url,
               "exit_date": "", "omitted_on": "", "exit_kind": "", "source_url": "", "note": ""}
        if clo is not None and first < clo <= CUTOFF:
            row.update(exit_kind="closed", exit_date=clo.isoformat(), source_url=ro["source_url"],
                       note=f"roster closure ({ro['closure_reason']}, {ro['closure_date_precision']} precision)")
            if last > clo:
                row["note"] += f"; but seen active on {last} (list after the closure: check)"
        elif last >= CUTOFF:
            row.update(exit_kind="alive_at_cutoff", source_url=last_url, note="active on a list dated after the cut-off")
        elif omitted:
            row.update(exit_kind="omitted", omitted_on=omitted[0][0].isoformat(), source_url=omitted[0][1],
                       note=f"absent or inactive on the {omitted[0][0]} list; exit between {last} and then")
        elif last > first:
            row.update(exit_kind="seen_latest", source_url=last_url, note="seen after its snapshot; no later list")
        else:
            row.update(exit_kind="no_later_evidence", source_url=last_url, note="on no later list")
        out.append(row)
    return out


def main(argv: list[str]) -> int:
    files = {}
    for a in argv:
        key, _, p = a.partition("=")
        if key not in LISTS or not p:
            print(f"unknown list {key!r}; known: {', '.join(LISTS)}", file=sys.stderr)
            return 2
        if LISTS[key][1].year == 2023:
            print(f"{key}: lists dated 2023 are reserved for validation", file=sys.stderr)
            return 2
        files[key] = Path(p)
    for key, spec in LISTS.items():  # news sightings need no file
        if spec[3].startswith("news:"):
            files.setdefault(key, Path("/dev/null"))
    rows = build(files)
    cols = ["exchange_id", "last_seen_date", "last_seen_url", "exit_date", "omitted_on", "exit_kind",
            "source_url", "note"]
    with (DATASETS / "cohort_exits.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
