"""Inspect and check the curated datasets: key figures (describe) and schema checks (validate).

Examples::

    underwriting datasets describe
    underwriting datasets describe --json
    underwriting datasets validate --incidents my_incidents.csv --exchanges my_exchanges.csv
    underwriting datasets export-cohorts mydata/ [--format csv|parquet]
"""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``describe`` and ``validate`` under ``underwriting datasets``."""
    sub = parser.add_subparsers(dest="datasets_command", metavar="ACTION")
    d = sub.add_parser("describe", help="print the real data's key figures",
                       description="Incidents and dollars per year, shares by vector, custody tier and "
                       "reimbursement, Kaplan-Meier time to first breach, hacked share and lifetimes.")
    v = sub.add_parser("validate", help="check data files against the schema (line and column of the first problem)")
    for p in (d, v):
        p.add_argument("--incidents", metavar="PATH", help="incident table (CSV or Parquet); the shipped one by default")
        p.add_argument("--exchanges", metavar="PATH", help="exchange roster (CSV or Parquet); the shipped one by default")
        p.add_argument("--json", action="store_true", help="print JSON instead of text")
    d.add_argument("--cutoff", default="2025-11-30", help="data cut-off date (default: 2025-11-30)")
    v.add_argument("--fx", metavar="PATH", help="FX rate table; the shipped one by default")
    e = sub.add_parser("export-cohorts", help="write the real cohort data in the user layout (to add your own rows)",
                       description="Writes cohorts, exchanges (roster), incidents and exchange_aliases tables to DIR: "
                       "the layout `underwriting train --name frequency --data DIR` reads (docs/lifecycle.md).")
    e.add_argument("dir", metavar="DIR", help="folder to write (created if needed)")
    e.add_argument("--format", choices=["csv", "parquet"], default="csv", help="file format (default csv)")
    e.add_argument("--overwrite", action="store_true", help="replace tables already in DIR")


def run(args: argparse.Namespace) -> int:
    """Run the chosen action; ``describe`` when none is given."""
    action = getattr(args, "datasets_command", None) or "describe"
    from underwriting.datasets import loaders

    as_json = getattr(args, "json", False)
    inc_path = getattr(args, "incidents", None)
    ex_path = getattr(args, "exchanges", None)
    if action == "export-cohorts":
        from underwriting.lifecycle.cohort_data import export_cohorts, load_cohort_data

        paths = export_cohorts(args.dir, args.format, overwrite=args.overwrite)
        data = load_cohort_data(args.dir)
        panel = data.panel()
        for p in paths:
            print(f"wrote {p}")
        print(f"{int(panel['exchange_id'].nunique())} exchanges, {float(panel['exposure_years'].sum()):,.1f} "
              f"exchange-years, {int(panel['breaches'].sum())} breaches to {data.end.date()} (read back and checked)")
        return 0
    if action == "validate":
        ex = loaders.load_exchanges(ex_path)
        inc = loaders.load_incidents(inc_path, exchanges=ex)
        fx = loaders.load_fx_rates(getattr(args, "fx", None))
        report = {"ok": True, "exchanges": len(ex), "incidents": len(inc), "fx_rates": len(fx)}
        print(json.dumps(report) if as_json else
              f"ok: {len(ex)} exchanges, {len(inc)} incidents, {len(fx)} FX rates")
        return 0
    import datetime as dt

    from underwriting.datasets.summary import describe, format_describe
    from underwriting.errors import InputError

    try:
        cutoff = dt.date.fromisoformat(getattr(args, "cutoff", "2025-11-30"))
    except ValueError:
        raise InputError(f"{args.cutoff!r} is not an ISO date", source="--cutoff") from None
    if not dt.date(1970, 1, 1) <= cutoff <= dt.date.today():
        raise InputError(f"{args.cutoff!r} must lie between 1970-01-01 and today (data are not censored "
                         "in the future)", source="--cutoff")
    ex = loaders.load_exchanges(ex_path)
    inc = loaders.load_incidents(inc_path, exchanges=ex)
    d = describe(inc, ex, cutoff=cutoff)
    print(json.dumps(d, indent=2, allow_nan=False) if as_json else format_describe(d))
    return 0
