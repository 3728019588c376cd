"""How many digits of a canonical quote are real? The quote recomputed on finer FFT grids.

Run from the repository root (30-40 s on 2 cores; ``make bench`` runs it too, see ``run_all.STUDIES``)::

    PYTHONPATH=. nice -n 19 python benchmarks/grid_convergence.py [--grids 16,18,20] [--main-only]

The aggregate engine (``underwriting.losses.aggregate.compound``) prices on a grid of ``n_buckets``
buckets, 2^16 by default; the bucket width ``h`` is the automatic range divided by ``n_buckets / 2``
(one half is zero padding), so each factor 4 in ``n_buckets`` makes ``h`` four times narrower. The quote
does not expose ``n_buckets``: this script (and only this script) replaces the name ``compound`` in the two
modules that call it on the quote path (``underwriting.pricing.layers``: the layer and both premium-range
ends; ``underwriting.losses.aggregate``, whence ``underwriting.reserve.sizing`` imports it: the reserve's
ground-up loss) with a wrapper that forces ``n_buckets``, and restores it afterwards. The engine's defaults
are not changed. A guard on the engine's grid function checks that every grid actually computed had the
forced size (or the engine's own escalation, 4x), so a call that bypassed the wrapper would stop the study
instead of being reported as converged.

For each quote it takes the unrounded quote (the one ``make_quote`` canonicalises) and its canonical form.

1. The three sample exchanges with ``datasets/examples/policy_jp_primary.toml`` (the golden cases
   ``<exchange>__policy_jp_primary__frequency``): each money figure at every grid, the difference of the
   2^16 value from the 2^20 value (absolute and relative), whether the two round to the same canonical value,
   and the observed convergence (the ratio of successive differences; with a ratio r > 1 the 2^20 value's own
   remaining error is estimated as (v18 - v20) / (r - 1), Richardson's extrapolation).
2. The engine's own moment check of every compound call (mean and variance relative error against the
   closed forms), per grid.
3. Unless ``--main-only``: all 28 golden quotes (``tests/golden/make_quotes.py``), the 2^16 quote checked
   against its golden file, and its canonical values compared with the 2^20 quote's
   (``underwriting.domain.canonical.compare``).

The Markdown goes to ``benchmarks/results/grid_convergence.md`` (written atomically) and to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import json
import math
import os
import platform
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
EXAMPLES = ROOT / "datasets" / "examples"
MAIN_SUBMISSIONS = ("jp_small_exchange", "global_large_exchange", "hk_exchange_with_incident")
MAIN_POLICY = "policy_jp_primary"
#: The money figures of the detailed table: key paths into the quote's JSON dict.
FIGURES = ("premium", "expected_loss", "std", "premium_range[0]", "premium_range[1]", "tvar_995",
           "layers[0].expected_loss", "layers[0].premium", "reserve.risk_sizing.amount",
           "reserve.risk_sizing.tvar")
_ROLE: contextvars.ContextVar[str] = contextvars.ContextVar("grid_convergence_role", default="layer")


def _get(doc, path: str):
    """The value at ``a.b[2].c`` in a JSON dict, or None when a step is missing."""
    cur = doc
    for part in path.split("."):
        name, _, idx = part.partition("[")
        if not isinstance(cur, dict) or cur.get(name) is None:
            return None
        cur = cur[name]
        if idx:
            i = int(idx.rstrip("]"))
            if not isinstance(cur, list) or i >= len(cur):
                return None
            cur = cur[i]
    return cur


class GridPatch:
    """Force ``n_buckets`` on every ``compound`` call of the quote path, recording each call's check."""

    def __init__(self) -> None:
        self.n = 2**16
        self.calls: list[dict] = []
        self.grid_sizes: list[int] = []

    @contextlib.contextmanager
    def installed(self):
        import underwriting.losses.aggregate as agg
        import underwriting.losses.aggregate.engines as eng
        import underwriting.pricing.layers as pl
        import underwriting.quote.layers as ql

        original, original_grid, original_range = eng.compound, eng._compound_grid, ql.premium_range
        patch = self

        def compound(*args, **kw):
            kw["n_buckets"] = patch.n
            caller = sys._getframe(1).f_globals.get("__name__", "")
            role = "reserve ground-up" if caller == "underwriting.reserve.sizing" else _ROLE.get()
            res = original(*args, **kw)
            mc = res.moment_check
            two = res.diagnostics.get("two_scale", {}) or {}
            patch.calls.append({
                "role": role, "method": res.method, "grid": res.diagnostics.get("n_buckets"),
                "bucket": float(res.bucket) if res.bucket is not None else math.nan,
                "coarse_bucket": res.diagnostics.get("coarse_bucket"), "two_scale": bool(two.get("used")),
                "levels": len(two.get("levels", ())), "mean_rel_err": mc.mean_rel_err,
                "var_rel_err": mc.var_rel_err, "ok": bool(mc),
                "escalation": list(res.diagnostics.get("escalation", ())), "mean": float(res.mean)})
            return res

        def compound_grid(perils, terms, method, n, *args, **kw):
            patch.grid_sizes.append(int(n))
            return original_grid(perils, terms, method, n, *args, **kw)

        def premium_range(*args, **kw):
            token = _ROLE.set("premium range")
            try:
                return original_range(*args, **kw)
            finally:
                _ROLE.reset(token)

        pl.compound = agg.compound = compound
        eng._compound_grid = compound_grid
        ql.premium_range = premium_range
        try:
            yield self
        finally:
            pl.compound = agg.compound = original
            eng._compound_grid = original_grid
            ql.premium_range = original_range


def _quote(patch: GridPatch, n: int, sub_path: Path, terms, model: str, case: str = "") -> dict:
    """One quote on a grid of ``n`` buckets, every value cache emptied first: raw and canonical dicts."""
    import underwriting
    from underwriting.domain.canonical import canonicalise
    from underwriting.domain.quote import Quote
    from underwriting.domain.submission import load_submission
    from underwriting.quote.make import make_quote

    underwriting.clear_caches(static=False)
    patch.n, patch.calls, patch.grid_sizes = n, [], []
    raw: list = []
    original = Quote.canonical

    def capture(self):
        raw.append(self)
        return original(self)

    Quote.canonical = capture
    try:
        t0 = time.perf_counter()
        q = make_quote(load_submission(str(sub_path)), terms, seed=0, frequency_model=model)
        seconds = time.perf_counter() - t0
    finally:
        Quote.canonical = original
    wrong = sorted({g for g in patch.grid_sizes if g not in (n, 4 * n)})
    if not patch.calls or wrong:
        raise RuntimeError(f"grid {n}: {len(patch.calls)} compound calls seen, grids computed {wrong} "
                           "outside the forced size: a quote path bypassed the patch")
    raw_doc = raw[-1].to_dict()
    canon = json.loads(q.to_json())
    if canonicalise(raw_doc) != canon:
        raise RuntimeError("the captured unrounded quote is not the one make_quote canonicalised")
    underwriting.clear_caches(static=False)  # 2^20 grids are large: keep the process small
    return {"raw": raw_doc, "canonical": canon, "json": q.to_json(), "calls": patch.calls,
            "seconds": seconds, "case": case}


def _digits(rel: float) -> str:
    return "all" if rel == 0 else f"{-math.log10(rel):.1f}"


def _printed_digits(v: float, unit: float) -> int:
    """Significant digits the canonical form prints for ``v`` with last place ``unit``."""
    if v == 0:
        return 0
    return max(math.floor(math.log10(abs(v))) - round(math.log10(unit)) + 1, 0)


def _fmt(v: float, unit: float) -> str:
    dec = max(-round(math.log10(unit)), 0) + 2
    return f"{v:,.{dec}f}"


def _figure_rows(name: str, runs: dict[int, dict], grids: list[int]) -> tuple[list[str], list[dict]]:
    from underwriting.domain.canonical import canonical_unit

    lo, ref = grids[0], grids[-1]
    cur = runs[lo]["raw"]["currency"]
    out, facts = [], []
    for path in FIGURES:
        vals = {n: _get(runs[n]["raw"], path) for n in grids}
        if any(v is None for v in vals.values()):
            continue
        if path.startswith("layers[0].") and len(runs[lo]["raw"]["layers"]) == 1:
            # the one layer's figures are the quote's: show them once, unless they differ
            if vals[lo] == _get(runs[lo]["raw"], path.split(".", 1)[1]):
                continue
        unit = canonical_unit(path, vals[ref], cur)
        d = vals[lo] - vals[ref]
        rel = abs(d) / abs(vals[ref]) if vals[ref] else (0.0 if d == 0 else math.inf)
        same = _get(runs[lo]["canonical"], path) == _get(runs[ref]["canonical"], path)
        conv, resid = "", ""
        if len(grids) >= 3:
            d1, d2 = vals[grids[-3]] - vals[grids[-2]], vals[grids[-2]] - vals[grids[-1]]
            if d2 != 0 and d1 != 0:
                r = d1 / d2
                conv = f"{r:.1f}"
                resid = f"{abs(d2 / (r - 1)):.3g}" if r > 1.5 else "not monotone"
            elif d1 == 0 and d2 == 0:
                conv, resid = "exact", "0"
        facts.append({"case": name, "figure": path, "rel": rel, "abs": abs(d), "unit": unit, "same": same,
                      "units_off": abs(d) / unit, "currency": cur})
        out.append(f"| {path} | " + " | ".join(_fmt(vals[n], unit) for n in grids)
                   + f" | {d:+,.4g} | {rel:.2e} | {abs(d) / unit:,.1f} | {'yes' if same else '**no**'} | "
                   f"{_printed_digits(vals[ref], unit)} | {_digits(rel)} | {conv} | {resid} |")
    return out, facts


def _check_rows(name: str, runs: dict[int, dict], grids: list[int]) -> list[str]:
    rows = []
    for n in grids:
        for c in runs[n]["calls"]:
            esc = "; ".join(c["escalation"]) if c["escalation"] else ""
            rows.append(f"| {name} | 2^{int(math.log2(n))} | {c['role']} | {c['method']} | {c['grid']:,} | "
                        f"{c['coarse_bucket']:,.1f} | {c['bucket']:,.1f} | "
                        f"{'yes (' + str(c['levels']) + ')' if c['two_scale'] else 'no'} | "
                        f"{c['mean_rel_err']:.2e} | {c['var_rel_err']:.2e} | {'ok' if c['ok'] else 'FAIL'} |"
                        + (f" {esc}" if esc else ""))
    return rows


def _golden_rows(cases, patch: GridPatch, grids: list[int], done: dict) -> tuple[list[str], list[dict], dict]:
    from tests.golden.make_quotes import OUT
    from underwriting.domain.canonical import compare

    lo, ref = grids[0], grids[-1]
    rows, facts, keys = [], [], {}
    for name, sub, terms, model in cases:
        runs = done.get(name) or {n: _quote(patch, n, sub, terms, model, name) for n in grids}
        _collect_keys(runs, grids, keys)
        recorded = (OUT / f"{name}.json").read_text(encoding="utf-8")
        if runs[lo]["json"] == recorded:
            golden = "identical"
        else:
            golden = compare(json.loads(recorded), runs[lo]["canonical"]).status
        c = compare(runs[lo]["canonical"], runs[ref]["canonical"])
        n_num = sum(1 for _ in _numbers(runs[lo]["canonical"]))
        beyond = [d for d in c.differences if not d[3]]
        big = max(c.differences, key=lambda d: _rel(d[1], d[2]), default=None)
        worst_units = max(c.differences, key=lambda d: _units(d, runs[lo]["canonical"]["currency"]),
                          default=None)
        facts.append({"case": name, "differ": len(c.differences), "beyond": len(beyond), "numbers": n_num,
                      "largest": big and (big[0], _rel(big[1], big[2]))})
        rows.append(
            f"| {name} | {golden} | {n_num} | {len(c.differences)} | {len(beyond)} | "
            + (f"{big[0]}: {big[1]} vs {big[2]} ({_rel(big[1], big[2]):.1e})" if big else "")
            + " | "
            + (f"{worst_units[0]}: {_units(worst_units, runs[lo]['canonical']['currency']):,.0f}"
               if worst_units else "") + " |")
    return rows, facts, keys


def _collect_keys(runs: dict[int, dict], grids: list[int], keys: dict[str, dict]) -> None:
    """Per key pattern (``ep_points[].aep``): the unrounded coarse-vs-finest differences of one quote."""
    from underwriting.domain.canonical import canonical_unit

    lo, ref = grids[0], grids[-1]
    cur = runs[lo]["raw"]["currency"]
    for path in _numbers(runs[lo]["raw"], floats_only=True):
        a, b = _get(runs[lo]["raw"], path), _get(runs[ref]["raw"], path)
        if not isinstance(b, float):
            continue
        prev = _get(runs[grids[-2]]["raw"], path) if len(grids) >= 3 else None
        k = keys.setdefault(re.sub(r"\[\d+\]", "[]", path), {"n": 0, "differ": 0, "beyond": 0, "rel": 0.0,
                                                              "units": 0.0, "ref_rel": 0.0, "where": ""})
        unit = canonical_unit(path, max(abs(a), abs(b)), cur)
        same = _get(runs[lo]["canonical"], path) == _get(runs[ref]["canonical"], path)
        rel = _rel(a, b)
        k["n"] += 1
        k["differ"] += not same
        k["beyond"] += abs(a - b) > unit * (1 + 1e-9) and not same
        k["units"] = max(k["units"], abs(a - b) / unit)
        if rel > k["rel"]:
            k["rel"], k["where"] = rel, f"{runs[lo]['case']}: {a:,.6g} vs {b:,.6g}"
        if isinstance(prev, float):
            k["ref_rel"] = max(k["ref_rel"], _rel(prev, b))


def _numbers(doc, path="", floats_only=False):
    from underwriting.domain.canonical import KEPT_KEYS

    if isinstance(doc, dict):
        for k, v in doc.items():
            if k not in KEPT_KEYS:
                yield from _numbers(v, f"{path}.{k}" if path else k, floats_only)
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _numbers(v, f"{path}[{i}]", floats_only)
    elif isinstance(doc, float) or (not floats_only and isinstance(doc, int) and not isinstance(doc, bool)):
        yield path


def _rel(a, b) -> float:
    try:
        return abs(a - b) / max(abs(a), abs(b))
    except (TypeError, ZeroDivisionError):
        return 0.0


def _units(d, currency: str) -> float:
    from underwriting.domain.canonical import canonical_unit

    path, a, b, _ = d
    if not (isinstance(a, int | float) and isinstance(b, int | float)):
        return 0.0
    return abs(a - b) / canonical_unit(path, max(abs(a), abs(b)), currency)


def _machine() -> str:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    import numpy as np

    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}, "
            f"{platform.system()} {platform.release()}")


def main(argv: list[str] | None = None) -> str:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--grids", default="16,18,20", help="log2 of the grid sizes, shipped first (default 16,18,20)")
    ap.add_argument("--main-only", action="store_true", help="only the three sample exchanges' detailed tables")
    ap.add_argument("--out", default=str(RESULTS / "grid_convergence.md"))
    args = ap.parse_args(argv)
    grids = [2 ** int(g) for g in args.grids.split(",")]
    if len(grids) < 2 or grids != sorted(set(grids)) or grids[0] < 64:
        ap.error("--grids: at least two increasing powers of two, the shipped 16 first")

    sys.path.insert(0, str(ROOT))
    from tests.golden.make_quotes import cases
    from underwriting.fileio import atomic_write_text

    load_start, t_start = os.getloadavg()[0], time.perf_counter()
    patch = GridPatch()
    all_cases = list(cases())
    main_names = [f"{s}__{MAIN_POLICY}__frequency" for s in MAIN_SUBMISSIONS]
    by_name = {c[0]: c for c in all_cases}
    done: dict[str, dict[int, dict]] = {}
    fig_lines, check_lines, figure_facts, times = [], [], [], {n: [] for n in grids}
    cols = (["figure"] + [f"2^{int(math.log2(n))}" + (" (shipped)" if i == 0 else "") for i, n in enumerate(grids)]
            + [f"2^{int(math.log2(grids[0]))} − 2^{int(math.log2(grids[-1]))}", "relative", "canonical units off",
               "same canonical value", "digits printed", "digits real (−log10 rel)", "convergence ratio",
               "est. error of the finest"])
    head = "| " + " | ".join(cols) + " |"
    with patch.installed():
        for name in main_names:
            _, sub, terms, model = by_name[name]
            runs = {n: _quote(patch, n, sub, terms, model, name) for n in grids}
            done[name] = runs
            for n in grids:
                times[n].append(runs[n]["seconds"])
            rows, facts = _figure_rows(name, runs, grids)
            figure_facts += facts
            fig_lines += [f"### {name} ({runs[grids[0]]['raw']['currency']})", "", head,
                          "|---" + "|---:" * (len(cols) - 1) + "|", *rows, ""]
            check_lines += _check_rows(name, runs, grids)
        golden_lines, golden_facts, keys = ([], [], {}) if args.main_only else _golden_rows(
            all_cases, patch, grids, done)

    worst = max(figure_facts, key=lambda f: f["rel"])
    n_diff = sum(1 for f in figure_facts if not f["same"])
    lo_s, ref_s = f"2^{int(math.log2(grids[0]))}", f"2^{int(math.log2(grids[-1]))}"
    lines = [
        "# Grid convergence: how many digits of a canonical quote are real", "",
        f"`PYTHONPATH=. nice -n 19 python benchmarks/grid_convergence.py --grids {args.grids}"
        + (" --main-only" if args.main_only else "") + "` "
        f"(seed 0; each quote with every value cache emptied first). Machine: {_machine()}; 1-minute load "
        f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; {time.perf_counter() - t_start:.0f} s "
        "in all. Median seconds per quote: "
        + ", ".join(f"2^{int(math.log2(n))}: {sorted(times[n])[len(times[n]) // 2]:.2f}" for n in grids) + ".", "",
        "The quote path's `compound` calls are forced to each grid size by this script only (the engine's "
        "default stays 2^16). `relative` is |v(2^16) − v(finest)| / |v(finest)|; `canonical units off` is that "
        "difference in units of the canonical last place (1 yen, 1 cent); `digits real` is −log10 of the "
        "relative difference (the number of leading significant digits the grid settles); `convergence ratio` "
        "is (v(2^16) − v(2^18)) / (v(2^18) − v(2^20)) (4 for an error ∝ h, 16 for ∝ h²), and with a ratio "
        "r > 1.5 the finest grid's own remaining error is estimated as |v(2^18) − v(2^20)| / (r − 1).", "",
        f"## Money figures: the three sample exchanges with `{MAIN_POLICY}.toml`", "",
        f"{len(figure_facts) - n_diff} of {len(figure_facts)} figures round to the same canonical value at "
        f"{lo_s} and {ref_s}; {n_diff} do not. Largest relative difference: {worst['rel']:.2e} "
        f"({worst['case']}, {worst['figure']}: {worst['units_off']:,.0f} canonical units).", "",
        *fig_lines,
        "## The engine's moment check per compound call and grid", "",
        "Relative errors of the grid's mean and variance against the closed forms of the model the grid "
        "represents (the engine's own check: mean within 1e-6, 1e-5 for a two-scale grid, variance 1e-3). "
        "`bucket` is the finest bucket used (the two-scale body's when it is used), `coarse bucket` the single "
        "grid's; both in USD.", "",
        "| case | grid | call | method | buckets | coarse bucket | bucket | two-scale (levels) | mean_rel_err "
        "| var_rel_err | check |", "|---|---|---|---|---:|---:|---:|---|---:|---:|---|",
        *check_lines, "",
    ]
    if golden_lines:
        tot = sum(f["numbers"] for f in golden_facts)
        dif = sum(f["differ"] for f in golden_facts)
        bey = sum(f["beyond"] for f in golden_facts)
        lines += [
            f"## All {len(golden_facts)} golden quotes: canonical {lo_s} against canonical {ref_s}", "",
            f"`golden` says whether the {lo_s} quote here reproduces `tests/golden/quotes/<case>.json` (the "
            "patch at the shipped size must change nothing). Then every numeric canonical value outside the "
            f"recorded inputs, FX and versions is compared with the {ref_s} quote's: {dif} of {tot} values "
            f"differ, {bey} of them by more than one unit in the last canonical place.", "",
            "| case | golden | numbers | differ | beyond one unit | largest relative difference | "
            "most canonical units off |", "|---|---|---:|---:|---:|---|---|",
            *golden_lines, "",
            f"### By key, over the {len(golden_facts)} golden quotes", "",
            f"Unrounded values, {lo_s} against {ref_s}, grouped by key (list positions merged); only keys with a "
            f"value whose canonical form differs are listed ({sum(1 for k in keys.values() if not k['differ'])} "
            f"keys never differ). `finest grid's own movement` is the largest relative difference between "
            f"2^{int(math.log2(grids[-2]))} and {ref_s}: a bound on how far {ref_s} itself is from "
            "convergence when the error at least halves with each factor 4 in the grid (an error ∝ h or faster).", "",
            "| key | values | differ canonically | beyond one unit | largest relative difference (where) | "
            "most canonical units off (any case) | finest grid's own movement |", "|---|---:|---:|---:|---|---:|---:|",
            *[f"| {k} | {v['n']} | {v['differ']} | {v['beyond']} | {v['rel']:.1e} ({v['where']}) | "
              f"{v['units']:,.1f} | {v['ref_rel']:.1e} |"
              for k, v in sorted(keys.items(), key=lambda kv: -kv[1]["rel"]) if v["differ"]], ""]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(Path(args.out), text)
    return text


if __name__ == "__main__":
    print(main())
