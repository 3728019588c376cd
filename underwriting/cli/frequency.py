"""frequency: the real-data base breach frequency (cohort backtest and factor table).

``frequency cohort FILE.csv --start DATE --end DATE [--json]`` gives, for each exchange of a
roster, the expected number of breaches in [max(start, as_of), end] from the base model fitted
on the 2019/2020 exchange cohorts, and the total with a 90% interval (parameter uncertainty).
FILE has the columns ``name, country`` (ISO 3166-1 alpha-2; blank = unknown),
``year_established`` (may be blank), ``volume_24h_usd`` (may be blank = unknown size: the rate
is averaged over the cohort's sizes, never taken as zero) and ``as_of`` (the roster's date).
``frequency explain SUBMISSION [--schedule FILE]`` prints the full factor table of a submission, base ×
experience × schedule, computed by the code the quote uses (``underwriting.quote.frequency.frequency_score``).
"""

from __future__ import annotations

import argparse
import json
import sys

from underwriting.errors import InputError

COHORT_COLUMNS = ("name", "country", "year_established", "volume_24h_usd", "as_of")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="frequency_command", metavar="ACTION", parser_class=type(parser))
    c = sub.add_parser("cohort", help="expected breaches of a roster of exchanges over a window",
                       description=__doc__)
    c.add_argument("file", help="CSV with columns name, country, year_established, volume_24h_usd, as_of")
    c.add_argument("--start", required=True, help="window start (YYYY-MM-DD)")
    c.add_argument("--end", required=True, help="window end (YYYY-MM-DD; the window runs up to the start of that day)")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    e = sub.add_parser("explain", help="the factor table of a submission: base x experience x schedule")
    e.add_argument("submission", help="submission file (.json or .toml)")
    e.add_argument("--schedule", metavar="FILE", help="posture schedule table (TOML; default: the shipped one)")
    e.add_argument("--json", action="store_true", help="print the result as JSON")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``frequency`` on a sub-command table (``subparsers.add_parser``)."""
    p = subparsers.add_parser("frequency", help=__doc__.splitlines()[0], description=__doc__)
    add_arguments(p)
    p.set_defaults(_module=sys.modules[__name__])
    return p


def _date(text: str, option: str):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{text!r} is not an ISO date (YYYY-MM-DD)", source=option) from None


def read_cohort_file(path: str):
    """Parse and check a roster CSV; errors name the file, line and column (exit 2)."""
    import csv
    import datetime as dt
    import io
    import math
    import re

    import pandas as pd

    from underwriting.fileio import read_text

    try:
        text = read_text(path, max_bytes=50 * 1024 * 1024)
    except FileNotFoundError:
        raise InputError("no such file", source=path) from None
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", source=path) from None
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except (StopIteration, csv.Error):
        raise InputError("empty file or unreadable CSV header", source=path, field="line 1") from None
    missing = [c for c in COHORT_COLUMNS if c not in header]
    if missing:
        raise InputError(f"required column is missing from the header (columns: {', '.join(COHORT_COLUMNS)})",
                         source=path, field=f"line 1, column {missing[0]!r}")
    idx = {c: header.index(c) for c in COHORT_COLUMNS}
    rows = []
    line = 1
    today = dt.date.today()
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"cannot parse CSV ({exc})", source=path, field=f"line {reader.line_num}") from None
        line = reader.line_num
        if not rec or all(not x.strip() for x in rec):
            continue
        if len(rec) != len(header):
            raise InputError(f"row has {len(rec)} fields but the header has {len(header)}", source=path, field=f"line {line}")

        def bad(col: str, msg: str, line: int = line) -> InputError:
            return InputError(msg, source=path, field=f"line {line}, column {col!r}")
        cell = {c: rec[idx[c]].strip() for c in COHORT_COLUMNS}
        if not cell["name"]:
            raise bad("name", "required value is blank")
        country = cell["country"].upper() or None
        if country is not None and not re.fullmatch(r"[A-Z]{2}", country):
            raise bad("country", f"{cell['country']!r} is not an ISO 3166-1 alpha-2 code (e.g. JP; blank = unknown)")
        if not cell["as_of"]:
            raise bad("as_of", "required value is blank")
        try:
            as_of = dt.date.fromisoformat(cell["as_of"])
        except ValueError:
            raise bad("as_of", f"{cell['as_of']!r} is not an ISO date (YYYY-MM-DD)") from None
        if as_of > today:
            raise bad("as_of", f"{as_of} is in the future")
        year = math.nan
        if cell["year_established"]:
            try:
                year = int(cell["year_established"])
            except ValueError:
                raise bad("year_established", f"{cell['year_established']!r} is not a year (blank = unknown)") from None
            if not 1990 <= year <= as_of.year:
                raise bad("year_established", f"year {year} is outside 1990-{as_of.year} (the row's as_of year)")
        vol = math.nan
        if cell["volume_24h_usd"]:
            try:
                vol = float(cell["volume_24h_usd"].replace(",", "").replace("_", ""))
            except ValueError:
                raise bad("volume_24h_usd", f"{cell['volume_24h_usd']!r} is not a number (blank = unknown)") from None
            if not math.isfinite(vol) or vol < 0:
                raise bad("volume_24h_usd", f"{cell['volume_24h_usd']!r} must be a finite non-negative number")
        rows.append({"name": cell["name"], "country": country, "year_established": year, "volume_24h_usd": vol,
                     "as_of": as_of})
    if not rows:
        raise InputError("no data rows", source=path, field="line 2")
    frame = pd.DataFrame(rows)
    frame["security_points"] = math.nan
    return frame


def load_model():
    """The shipped base frequency model (registry kind ``frequency``)."""
    from underwriting.frequency.base_build import register
    from underwriting.registry import Registry

    register()
    return Registry().load("frequency")


def cohort(path: str, start, end, model=None) -> dict:
    """Expected breaches per roster row and in total (the JSON of ``frequency cohort``)."""
    import math

    import pandas as pd

    from underwriting.frequency.base_model import jurisdiction_group

    if end <= start:
        raise InputError(f"must be after --start ({start})", source="--end")
    model = load_model() if model is None else model
    X = read_cohort_file(path)
    X["start"] = pd.to_datetime(X["as_of"])
    X["age_years"] = [math.nan if math.isnan(y) else max(0.0, s.year - y) for y, s in zip(
        X["year_established"], [max(pd.Timestamp(start), t) for t in X["start"]], strict=True)]
    res = model.expected_breaches(X, start, end, level=0.9)
    ints = model.predict_interval(X, 0.9, year=None)
    out_rows = []
    for i, r in X.iterrows():
        e = res["rows"].loc[i]
        w0 = max(pd.Timestamp(start), r["start"]).date()
        out_rows.append({
            "name": r["name"], "country": r["country"], "jurisdiction_group": jurisdiction_group(r["country"]),
            "volume_24h_usd": None if math.isnan(r["volume_24h_usd"]) else float(r["volume_24h_usd"]),
            "volume_known": not math.isnan(r["volume_24h_usd"]),
            "year_established": None if math.isnan(r["year_established"]) else int(r["year_established"]),
            "as_of": r["as_of"].isoformat(), "window": [w0.isoformat() if w0 < end else end.isoformat(), end.isoformat()],
            "years": float(e["years"]), "expected_breaches": float(e["expected_breaches"]),
            "annual_rate": float(ints.loc[i, "annual_rate"]),
            "annual_rate_interval": [float(ints.loc[i, "lo"]), float(ints.loc[i, "hi"])],
            "p_at_least_one": float(1 - math.exp(-e["expected_breaches"])),
        })
    reg = getattr(model, "registry_", {}) or {}
    return {"rows": out_rows, "expected_total": res["expected_total"],
            "interval": [float(x) for x in res["interval"]], "level": 0.9,
            "interval_basis": "parameter uncertainty of the base model (delta method on the log total)",
            "start": start.isoformat(), "end": end.isoformat(),
            "model": {"name": reg.get("name", "frequency"), "version": reg.get("version"),
                      "trend_kept": bool(model.trend_test_["kept"])}}


def explain(path: str, model=None, schedule: str | None = None) -> dict:
    """Factor table of a submission: the base model's terms (log-rate contributions) and, for the
    shipped model, the one risk model's table (base × experience × schedule) as the quote computes it."""
    import math

    from underwriting.domain.submission import load_submission
    from underwriting.frequency.base_model import design, jurisdiction_group
    from underwriting.frequency.base_panel import covariates_from_submission

    model = load_model() if model is None else model
    sub = load_submission(path)
    X = covariates_from_submission(sub)
    trend = "trend" in model.terms_
    raw = X.fillna({"volume_24h_usd": 0.0})
    D = design(raw, model.reference_log_volume_, trend=True, trend_cap=model.data_end_,
               unknown_as_offshore=model.unknown_as_offshore)[0, model._columns(trend)]
    values = dict(zip(model.terms_, D, strict=True))
    eff = model.effects_
    rate = model.predict_interval(X, 0.9)
    factors = [{"term": t, "value": float(values[t]), "coef": float(eff.loc[t, "coef"]),
                "log_rate": float(values[t] * eff.loc[t, "coef"]),
                "factor": float(math.exp(values[t] * eff.loc[t, "coef"])),
                "rate_ratio_interval": [float(eff.loc[t, "lo"]), float(eff.loc[t, "hi"])]} for t in model.terms_]
    full = None
    if model is None or getattr(model, "experience_prior_", None):
        from underwriting.quote.frequency import frequency_score

        block, fe = frequency_score(sub, schedule=schedule)
        det = fe.detail or {}
        table = [{"block": "base", "factor": "base_rate", "answer": "", "multiplier": det["base"]["annual_rate"],
                  "log_contribution": math.log(det["base"]["annual_rate"]), "reason": "base model (real cohorts)"}]
        table += [dict(r) for r in fe.factors]
        full = {"base_rate": det["base"]["annual_rate"], "base_interval": det["base"]["interval"],
                "experience": det["experience"], "schedule_factor": det["schedule"]["factor"],
                "schedule_raw_factor": det["schedule"]["raw_factor"], "schedule_cap": det["schedule"]["cap"],
                "table": table, "annual_rate": fe.annual_rate, "annual_rate_interval": det["annual_rate_interval"],
                "p_breach_1y": block.p_breach, "p_breach_interval": det["p_breach_interval"], "band": block.band,
                "risk_score": block.risk_score, "reasons": [r.model_dump() for r in block.reasons],
                "model": block.model, "survival": det.get("survival")}
    return {"exchange": sub.exchange.name, "as_of": sub.as_of.isoformat(), "risk_model": full,
            "covariates": {"volume_24h_usd": float(X["volume_24h_usd"].iloc[0]), "country": X["country"].iloc[0],
                           "jurisdiction_group": jurisdiction_group(X["country"].iloc[0]),
                           "age_years": float(X["age_years"].iloc[0]), "security_points": None},
            "factors": factors, "annual_rate": float(rate["annual_rate"].iloc[0]),
            "annual_rate_interval": [float(rate["lo"].iloc[0]), float(rate["hi"].iloc[0])], "level": 0.9,
            "note": f"base model only ({', '.join(t for t in model.terms_ if t != 'intercept')}); the experience and schedule factors multiply it; "
                    "age is reported but not fitted (see docs/frequency_validation.md)"}


def run(args: argparse.Namespace) -> int:
    import math

    if getattr(args, "frequency_command", None) is None:
        raise InputError("choose an action: cohort or explain", source="frequency")
    if args.frequency_command == "cohort":
        start, end = _date(args.start, "--start"), _date(args.end, "--end")
        d = cohort(args.file, start, end)
        if args.json:
            json.dump(d, sys.stdout, indent=2, ensure_ascii=False)
            sys.stdout.write("\n")
            return 0
        print(f"Expected breaches {d['start']} to {d['end']} (base model {d['model']['version']}):")
        print(f"  {'name':<28} {'country':<7} {'annual rate':>11} {'years':>6} {'expected':>9}")
        for r in d["rows"]:
            print(f"  {r['name'][:28]:<28} {r['country'] or '-':<7} {r['annual_rate']:>11.4f} {r['years']:>6.2f} "
                  f"{r['expected_breaches']:>9.4f}")
        lo, hi = d["interval"]
        print(f"  total expected {d['expected_total']:.3f} (90% interval {lo:.3f}-{hi:.3f}, parameter uncertainty)")
        return 0
    d = explain(args.submission, schedule=args.schedule)
    if args.json:
        json.dump(d, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    print(f"{d['exchange']} (as of {d['as_of']}): base annual breach rate {d['annual_rate']:.4f} "
          f"(90% {d['annual_rate_interval'][0]:.4f}-{d['annual_rate_interval'][1]:.4f})")
    print(f"  {'term':<22} {'value':>8} {'coef':>8} {'factor':>8}")
    for f in d["factors"]:
        print(f"  {f['term']:<22} {f['value']:>8.3f} {f['coef']:>+8.3f} {f['factor']:>8.3f}")
    print(f"  {d['note']}")
    full = d["risk_model"]
    if full:
        ex = full["experience"]
        print(f"Risk model (as in the quote): annual rate {full['annual_rate']:.5f} "
              f"(90% {full['annual_rate_interval'][0]:.5f}-{full['annual_rate_interval'][1]:.5f}), "
              f"P(breach within 1 year) {full['p_breach_1y']:.2%}, band {full['band']}")
        iv = " to ".join("infinity" if x is None else f"{x:.3g}" for x in ex.get("prior_strength_interval") or [])
        print(f"  experience: prior rate {ex['prior_rate']:.5f}, alpha {ex['prior_strength']:.3g} (90% profile interval "
              f"{iv or 'n/a'}, bounds {'-'.join(f'{b:g}' for b in ex.get('prior_strength_bounds') or [])}), exposure "
              f"{ex['exposure_years']:.2f} y, {ex['breaches']} breach(es) weighing {ex.get('weighted_breaches', 0):.2f} "
              f"(weights {', '.join(f'{w:.2f}' for w in ex.get('breach_weights') or []) or 'none'}), credibility "
              f"{ex['credibility']:.4f}, posterior {ex['posterior_rate']:.5f}")
        print(f"  {'block':<10} {'factor':<44} {'x':>9} {'log':>8}  answer")
        for r in full["table"]:
            print(f"  {r['block']:<10} {r['factor'][:44]:<44} {r['multiplier']:>9.4g} {r['log_contribution']:>+8.3f}  "
                  f"{r['answer']}")
        print(f"  {'total':<10} {'annual_rate':<44} {full['annual_rate']:>9.4g} "
              f"{math.log(full['annual_rate']):>+8.3f}")
        sv = full.get("survival")
        if sv:
            med = sv["median_years_to_breach"]
            print("  survival (no breach) over one year: " + ", ".join(
                f"S({t:g}y) = {p:.4f}" for t, p in zip(sv["times_years"], sv["survival"], strict=True))
                + f"; median time to breach {'infinite (rate 0)' if med is None else f'{med:,.1f} years'}")
    return 0
