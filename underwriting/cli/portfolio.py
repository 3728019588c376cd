"""Simulate an insurer's book of exchanges: AAL, OEP/AEP, TVaR, vendor accumulation, capital allocation."""

from __future__ import annotations

import argparse

from underwriting.cli._common import n_jobs_arg, seed_arg


def _pos_int(s: str) -> int:
    try:
        v = int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {s!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {v}")
    return v


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("book", help="book folder (submissions + book.toml/book.csv) or a .csv/.toml/.json listing "
                   "submission and policy paths")
    p.add_argument("--years", type=_pos_int, default=20_000, help="simulated years (policy terms), default 20000")
    p.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")
    p.add_argument("--block-years", type=_pos_int, default=1000,
                   help="years per seeded block (fixes the random streams; default 1000)")
    p.add_argument("--backend", choices=["loky", "dask"], default="loky",
                   help="local processes (joblib loky) or a Dask cluster; results are identical")
    p.add_argument("--scheduler", metavar="ADDR", help="Dask scheduler address (tcp://host:8786); with "
                   "--backend dask and no address an in-process LocalCluster of --n-jobs workers is used")
    p.add_argument("--n-jobs", type=n_jobs_arg, default=1, help="local worker processes (-1: all cores), default 1")
    p.add_argument("--market-variance", type=float, help="variance of the common market factor (overrides the book)")
    p.add_argument("--vendor-loss-prob", type=float,
                   help="loss probability of the most exposed client of a compromised vendor (overrides the book)")
    p.add_argument("--level", type=float, default=0.995, help="TVaR level of the capital allocation (default 0.995)")
    p.add_argument("--cost-of-capital", type=float, default=0.10, help="capital load rate (default 0.10)")
    p.add_argument("--fx", action="append", default=[], metavar="CUR=RATE",
                   help="conversion rate in units per USD, overriding the bundled table (repeatable)")
    from underwriting.quote.options import DEFAULT_FREQUENCY_MODEL, FREQUENCY_MODELS

    p.add_argument("--frequency-model", default=DEFAULT_FREQUENCY_MODEL, choices=FREQUENCY_MODELS,
                   help="loss-model frequency: the quote's one risk model (default), the baseline, or the synthetic survival model")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--out", help="also write the JSON to this file (atomically)")
    p.add_argument("--plot", metavar="DIR", help="write EP-curve, convergence, vendor and allocation charts (PNG)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _money(v: float | None) -> str:
    if v is None:
        return "-"
    for div, suf in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= div:
            return f"{v / div:,.2f}{suf}"
    return f"{v:,.0f}"


def format_result(d: dict) -> str:
    """Plain-text report of the JSON summary."""
    lines = [f"Book: {d['book']['label']}: {d['book']['exchanges']} exchanges, {d['book']['vendors']} vendors "
             f"({d['book']['shared_vendors']} shared); {d['years']:,} simulated years, USD",
             f"AAL {_money(d['aal'])} (standard error {_money(d['aal_se'])})", "",
             "Return period   OEP            AEP"]
    for o, a in zip(d["oep"], d["aep"], strict=True):
        lines.append(f"{o['return_period']:>10,.0f}y   {_money(o['loss']):<14} {_money(a['loss'])}")
    lines += ["", "Level   VaR            TVaR"]
    for lvl, t in d["tvar"].items():
        lines.append(f"{lvl:<7} {_money(t['var']):<14} {_money(t['tvar'])}")
    lines += ["", "Vendor accumulation (book loss in a year the vendor is compromised)"]
    for v in d["by_vendor"][:10]:
        lines.append(f"  {v['vendor'][:40]:<40} clients {v['clients']:>5}  rate {v['annual_rate']:.4f}  "
                     f"book loss {_money(v['book_loss_if_compromised'])}  direct {_money(v['direct_loss_if_compromised'])}")
    lvl = max(d["allocation"])
    lines += ["", f"Capital allocation (co-TVaR at {lvl}; capital = co-TVaR - AAL)"]
    rows = sorted(d["allocation"][lvl], key=lambda r: -r["co_tvar"])
    for r in rows[:15]:
        lines.append(f"  {r['exchange_id'][:30]:<30} AAL {_money(r['aal']):<10} co-TVaR {_money(r['co_tvar']):<10} "
                     f"capital {_money(r['capital']):<10} load {_money(r.get('capital_load'))}")
    if len(rows) > 15:
        lines.append(f"  ... {len(rows) - 15} more (see --json)")
    lines += ["", "Convergence", "  years      AAL          SE         TVaR0.99"]
    for c in d["convergence"]:
        lines.append(f"  {c['years']:>8,}  {_money(c['aal']):<12} {_money(c['aal_se']):<10} {_money(c['tvar_0.99'])}")
    r = d["run"]
    lines.append(f"\n{r['backend']} n_jobs={r['n_jobs']}: {r['seconds']:.2f} s, "
                 f"{r['exchange_years_per_second']:,.0f} exchange-years/s")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    import math
    import sys

    from underwriting.cli._common import check_output_dir, check_output_file, parse_fx, write_output
    from underwriting.errors import InputError
    from underwriting.fileio import canonical_json
    from underwriting.portfolio import capital_loads, default_scenarios, load_book, simulate_book

    if not (0 < args.level < 1):
        raise InputError(f"must be in (0, 1), got {args.level}", field="--level")
    if not (0 <= args.cost_of_capital < 1):
        raise InputError(f"must be in [0, 1), got {args.cost_of_capital}", field="--cost-of-capital")
    if args.years < 100:
        raise InputError("at least 100 years", field="--years")
    from underwriting.portfolio.io import check_simulation_limits

    check_simulation_limits(args.years, args.block_years)
    if args.scheduler and args.backend != "dask":
        raise InputError("--scheduler needs --backend dask", field="--scheduler")
    from underwriting.portfolio.io import read_book_entries

    book_inputs = [e[c] for e in read_book_entries(args.book)[0] for c in ("submission", "policy")]
    check_output_file(args.out, "--out", args, book_inputs)
    check_output_dir(args.plot, "--plot")
    dep = {}
    if args.market_variance is not None:
        dep["market_variance"] = args.market_variance
    if args.vendor_loss_prob is not None:
        dep["vendor_loss_prob"] = args.vendor_loss_prob
    try:
        book = load_book(args.book, dependence=dep, fx_rates=parse_fx(args.fx), frequency_model=args.frequency_model)
    except InputError as exc:  # a bad override is the option's fault, not the book file's
        option = {"dependence.market_variance": "--market-variance",
                  "dependence.vendor_loss_prob": "--vendor-loss-prob"}.get(exc.field or "")
        if option and exc.field.split(".")[-1] in dep:
            raise InputError(exc.message, source=option) from None
        raise
    check_simulation_limits(args.years, args.block_years, book.n)
    levels = sorted({0.99, float(args.level)})
    res = simulate_book(book, args.years, args.seed, block_years=args.block_years, n_jobs=args.n_jobs,
                        backend=args.backend, scheduler=args.scheduler, levels=levels,
                        progress=False if args.quiet else None)
    d = res.to_dict(scenarios=default_scenarios(book))
    loads = {c.exchange_id: c for c in capital_loads(res, rate=args.cost_of_capital, level=args.level)}
    for lvl, rows in d["allocation"].items():
        if math.isclose(float(lvl), args.level):
            for r in rows:
                c = loads[r["exchange_id"]]
                r.update(capital_load=c.capital_load, capital_load_quote_currency=c.capital_load_quote_currency,
                         currency=c.currency)
    d["capital"] = {"level": args.level, "cost_of_capital": args.cost_of_capital,
                    "book_capital": res.tvar_from_tail(args.level) - res.aal}
    text = canonical_json(d)
    if args.out:
        write_output(args.out, text, "--out", args, book_inputs)
    if args.plot:
        from underwriting.portfolio.plots import write_plots

        written = write_plots(res, args.plot, level=args.level)
        print(f"wrote {len(written)} charts to {args.plot}", file=sys.stderr)
    print(text if args.json else format_result(d), end="" if args.json else "\n")
    return 0
