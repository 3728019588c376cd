"""Compare insurance with holding the reserve in cash, and find the cheapest compliant mix.

Costs every mix of up to --max-layers candidate policies (from --quotes, or a deductible × limit
grid priced by the pricing engine with the exchange's own quote loss model) against the regime's
requirement over --horizon-years: carry cost of the residual cash (funding cost − reserve yield),
premiums as charged, expected recoveries, insurer default (PD by rating × LGD), basis risk, as an
NPV. Programmes insuring the same losses twice are left out unless --allow-overlap. Amounts accept
k/M/bn suffixes. Assumptions are shown with their status.
"""

from __future__ import annotations

import argparse
import sys

from underwriting.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from underwriting.cli.reserve import add_common

    add_common(parser)
    parser.add_argument("--horizon-years", type=int, required=True, metavar="N", help="horizon in whole years")
    parser.add_argument("--quotes", metavar="FILE", help="candidate policies with premiums (.toml/.json)")
    parser.add_argument("--plot", metavar="DIR", help="save cost_by_programme.png and waterfall.png here")
    parser.add_argument("--max-layers", type=int, default=3, help="most policies in one programme (default 3)")
    parser.add_argument("--allow-overlap", action="store_true",
                        help="also cost programmes whose policies insure the same losses twice (double insurance)")
    g = parser.add_argument_group("cost assumptions (defaults: underwriting/reserve/cost_assumptions.toml)")
    for name in ("funding-cost", "reserve-yield", "discount-rate", "lgd", "expected-loss-ratio", "basis-risk-load"):
        g.add_argument(f"--{name}", default=None, metavar="X",
                       help="a share per year: 0.07 or 7%% (a value above 1 must carry %%)")
    p = parser.add_argument_group(
        "pricing a grid instead of --quotes (through underwriting.pricing; by default with the exchange's own "
        "quote loss model: its frequency and exposure-capped severities)")
    p.add_argument("--template", metavar="POLICY.toml", help="policy terms shared by the grid's candidates")
    p.add_argument("--frequency", metavar="LAMBDA", help="override: Poisson expected losses per year")
    p.add_argument("--severity-median", metavar="AMOUNT",
                   help="override: lognormal severity median, policy currency (k/M/bn suffixes: 10M)")
    p.add_argument("--severity-sigma", metavar="SIGMA", help="override: lognormal severity sigma")
    from underwriting.quote.options import DEFAULT_FREQUENCY_MODEL, FREQUENCY_MODELS

    p.add_argument("--frequency-model", default=DEFAULT_FREQUENCY_MODEL, choices=FREQUENCY_MODELS,
                   help="frequency of the exchange's quote (default: the one risk model)")
    p.add_argument("--deductibles", metavar="A,B,...", help="grid deductibles, policy currency (k/M/bn: 0,10M,50M)")
    p.add_argument("--limits", metavar="X,Y,...", help="grid limits, policy currency (k/M/bn: 100M,1bn)")
    p.add_argument("--principle", default=None,
                   help="premium principle for the grid (default: the quote's, wang:0.25, with its expense and "
                        "commission loads: the premium charged)")


_SUFFIX = {"": 1.0, "k": 1e3, "m": 1e6, "mm": 1e6, "b": 1e9, "bn": 1e9}


def parse_amount(text: str, flag: str) -> float:
    """``"10M"`` → 1e7: a non-negative finite amount with an optional k/M/mm/bn suffix (case-insensitive)."""
    import math
    import re

    s = str(text).strip().lower().replace(",", "").replace("_", "")
    m = re.fullmatch(r"([0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)(k|mm|m|bn|b)?", s)
    if not m:
        raise InputError(f"expected an amount such as 2.5e7 or 25M (suffixes k, M, bn), got {text!r}", field=flag)
    v = float(m.group(1)) * _SUFFIX[m.group(2) or ""]
    if not math.isfinite(v):
        raise InputError(f"must be finite, got {text!r}", field=flag)
    return v


def _positive(text: str | None, flag: str, *, amount: bool = False) -> float:
    import math

    if text is None:
        raise InputError("required", field=flag)
    if amount:
        v = parse_amount(text, flag)
    else:
        try:
            v = float(text)
        except ValueError:
            raise InputError(f"expected a number, got {text!r}", field=flag) from None
    if not (v > 0 and math.isfinite(v)):
        raise InputError(f"must be a positive number (got {text!r})", field=flag)
    return v


def parse_share(text: str | None, flag: str) -> float | None:
    """``"0.07"`` or ``"7%"`` → 0.07. A bare number above 1 is refused (``7`` would mean 700%)."""
    import math

    if text is None:
        return None
    s = str(text).strip()
    pct = s.endswith("%")
    try:
        v = float(s[:-1].strip() if pct else s)
    except ValueError:
        raise InputError(f"expected a share such as 0.07 or 7%, got {text!r}", field=flag) from None
    if not math.isfinite(v):
        raise InputError(f"must be finite, got {text!r}", field=flag)
    if pct:
        return v / 100.0
    if abs(v) > 1.0:
        raise InputError(f"{text} would mean {v:.0%}: write a share (e.g. {v / 100:g}) or a percentage with % "
                         f"(e.g. {text}%)", field=flag)
    return v


def _amounts(text: str | None, flag: str) -> list[float]:
    if not text:
        raise InputError("required with --template (comma-separated amounts, k/M/bn suffixes allowed)", field=flag)
    vals = [parse_amount(x, flag) for x in text.split(",") if x.strip()]
    if not vals:
        raise InputError("give at least one amount", field=flag)
    return vals


def run(args: argparse.Namespace) -> int:
    import math
    from pathlib import Path

    from underwriting.cli._common import check_output_dir
    from underwriting.cli.reserve import fx_table, parse_date, parse_params, resolve_regime
    from underwriting.domain.submission import load_submission
    from underwriting.fileio import canonical_json
    from underwriting.reserve import load_regime
    from underwriting.reserve.candidates import layer_pricer
    from underwriting.reserve.compare import (
        CostAssumptions,
        grid_candidates,
        load_quotes,
        optimise,
        plot_costs,
        plot_waterfall,
    )

    check_output_dir(args.plot, "--plot")
    from underwriting.i18n import resolve_lang, use_lang

    lang = resolve_lang(args.lang)
    sub = load_submission(args.submission)
    regime_id, note = resolve_regime(sub, args.regime)
    if regime_id is None:
        raise InputError(f"{note}; nothing to compare against", field="--regime")
    regime = load_regime(regime_id)
    overrides = parse_params(args.param)
    if overrides:
        regime = regime.with_overrides(overrides)
    names = ("funding-cost", "reserve-yield", "discount-rate", "lgd", "expected-loss-ratio", "basis-risk-load")
    try:
        ca = CostAssumptions.default(**{k.replace("-", "_"): parse_share(getattr(args, k.replace("-", "_")), f"--{k}")
                                        for k in names})
    except InputError as exc:
        if exc.field and not exc.field.startswith("--"):
            raise InputError(exc.message, field="--" + exc.field.replace("_", "-")) from None
        raise
    fx = fx_table(args.fx)
    pricing_note = ""
    if args.quotes:
        cands = load_quotes(args.quotes, expected_loss_ratio=ca.expected_loss_ratio)
        from underwriting.reserve.compare import check_programme_count

        check_programme_count(len(cands), args.max_layers, field="--quotes")
    elif args.template:
        from underwriting.domain.policy import load_policy

        template = load_policy(args.template)
        deds, lims = _amounts(args.deductibles, "--deductibles"), _amounts(args.limits, "--limits")
        from underwriting.reserve.compare import check_programme_count

        # before a single cell is priced: a 12 x 12 grid used to run out of memory
        check_programme_count(len(deds) * len(lims), args.max_layers, field="--deductibles/--limits")
        given = [f for f, v in (("--frequency", args.frequency), ("--severity-median", args.severity_median),
                                ("--severity-sigma", args.severity_sigma)) if v is not None]
        if given and len(given) < 3:
            missing = [f for f in ("--frequency", "--severity-median", "--severity-sigma") if f not in given]
            raise InputError(f"give all three of --frequency, --severity-median, --severity-sigma, or none (to use "
                             f"the exchange's own quote); missing {', '.join(missing)}", field=missing[0])
        if given:
            from underwriting.losses.counts import Poisson
            from underwriting.losses.severity import Lognormal
            from underwriting.pricing.premium import Loadings
            from underwriting.quote.request import PricingBasis

            basis = PricingBasis(principle=args.principle or "")
            principle = basis.principle
            loads = Loadings(expense=basis.expense, commission=basis.commission, tax=basis.tax)
            lam = _positive(args.frequency, "--frequency")
            med = _positive(args.severity_median, "--severity-median", amount=True)
            sig = _positive(args.severity_sigma, "--severity-sigma")
            price, loss = layer_pricer(Poisson(lam), Lognormal(math.log(med), sig), principle=principle,
                                       loadings=loads, level=basis.level)
            pricing_note = (f"grid priced with the user's Poisson({lam:g}) x lognormal(median {med:,.0f}, sigma "
                            f"{sig:g}); {principle} with expense {basis.expense:.0%} and commission "
                            f"{basis.commission:.0%}: premiums as charged")
            cands = grid_candidates(template, deds, lims, price, loss_fn=loss)
        else:
            from underwriting.quote.reserve import grid_from_quote_model

            cands, pricing_note = grid_from_quote_model(sub, template, deds, lims, fx,
                                                        frequency_model=args.frequency_model, principle=args.principle)
    else:
        raise InputError("give candidate programmes: --quotes FILE, or --template POLICY.toml with --deductibles and "
                         "--limits (priced with the exchange's own quote loss model)", field="--quotes")
    comp = optimise(sub, regime, cands, fx, horizon_years=args.horizon_years, assumptions=ca,
                    max_layers=args.max_layers, as_of=parse_date(args.as_of), allow_overlap=args.allow_overlap,
                    pricing_note=pricing_note)
    plots = []
    if args.plot:
        d = Path(args.plot)
        with use_lang(lang):
            plots = [str(plot_costs(comp, d / "cost_by_programme.png")),
                     str(plot_waterfall(comp.best_assessment, d / "waterfall.png", comp))]
    if args.json:
        out = comp.to_dict()
        out["plots"] = plots
        sys.stdout.write(canonical_json(out))
    elif lang == "en":
        sys.stdout.write(comp.to_table())
    else:
        from underwriting.reserve_report import compare_table

        with use_lang(lang):
            sys.stdout.write(compare_table(comp.to_dict()))
        for p in plots:
            sys.stdout.write(f"saved {p}\n")
    return 0
