"""Compare insurance with holding the reserve in cash, and find the cheapest compliant mix.

Costs every mix of up to --max-layers candidate policies (from --quotes, or a deductible × limit
grid priced by the pricing engine) against the regime's requirement over --horizon-years: carry
cost of the residual cash (funding cost − reserve yield), premiums, expected recoveries, insurer
default (PD by rating × LGD), basis risk, as an NPV. Assumptions are shown with their status.
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
    g = parser.add_argument_group("cost assumptions (defaults: underwriting/reserve/cost_assumptions.toml)")
    for name in ("funding-cost", "reserve-yield", "discount-rate", "lgd", "expected-loss-ratio", "basis-risk-load"):
        g.add_argument(f"--{name}", type=float, default=None, metavar="X")
    p = parser.add_argument_group("pricing a grid instead of --quotes (through underwriting.pricing)")
    p.add_argument("--template", metavar="POLICY.toml", help="policy terms shared by the grid's candidates")
    p.add_argument("--frequency", type=float, metavar="LAMBDA", help="Poisson expected losses per year")
    p.add_argument("--severity-median", type=float, metavar="AMOUNT", help="lognormal severity median (policy currency)")
    p.add_argument("--severity-sigma", type=float, metavar="SIGMA", help="lognormal severity sigma")
    p.add_argument("--deductibles", metavar="A,B,...", help="grid deductibles (policy currency)")
    p.add_argument("--limits", metavar="X,Y,...", help="grid limits (policy currency)")
    p.add_argument("--principle", default="expected_value:0.3", help="premium principle for the grid")


def _floats(text: str | None, flag: str) -> list[float]:
    if not text:
        raise InputError("required with --template (comma-separated amounts)", field=flag)
    try:
        vals = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise InputError(f"expected comma-separated numbers, got {text!r}", field=flag) from None
    if not vals or any(not (v >= 0 and v < float("inf")) for v in vals):
        raise InputError("amounts must be non-negative finite numbers", field=flag)
    return vals


def run(args: argparse.Namespace) -> int:
    import math
    from pathlib import Path

    from underwriting.cli._common import check_output_dir
    from underwriting.cli.reserve import fx_table, parse_date, parse_params
    from underwriting.domain.submission import load_submission
    from underwriting.fileio import canonical_json
    from underwriting.reserve import load_regime
    from underwriting.reserve.compare import (
        CostAssumptions,
        grid_candidates,
        layer_pricer,
        load_quotes,
        optimise,
        plot_costs,
        plot_waterfall,
    )

    check_output_dir(args.plot, "--plot")
    sub = load_submission(args.submission)
    regime = load_regime(args.regime)
    overrides = parse_params(args.param)
    if overrides:
        regime = regime.with_overrides(overrides)
    ca = CostAssumptions.default(**{k.replace("-", "_"): getattr(args, k.replace("-", "_")) for k in (
        "funding-cost", "reserve-yield", "discount-rate", "lgd", "expected-loss-ratio", "basis-risk-load")})
    if args.quotes:
        cands = load_quotes(args.quotes, expected_loss_ratio=ca.expected_loss_ratio)
    elif args.template:
        from underwriting.domain.policy import load_policy

        for flag, v in (("--frequency", args.frequency), ("--severity-median", args.severity_median),
                        ("--severity-sigma", args.severity_sigma)):
            if v is None or not (v > 0 and math.isfinite(v)):
                raise InputError("required with --template: a positive number", field=flag)
        try:
            from underwriting.losses.frequency import Poisson
            from underwriting.losses.severity import Lognormal
            price, loss = layer_pricer(Poisson(args.frequency), Lognormal(math.log(args.severity_median),
                                                                          args.severity_sigma),
                                       principle=args.principle)
        except ImportError as exc:
            raise InputError(f"the pricing engine is not available ({exc}); give --quotes FILE",
                             field="--quotes") from None
        cands = grid_candidates(load_policy(args.template), _floats(args.deductibles, "--deductibles"),
                                _floats(args.limits, "--limits"), price, loss_fn=loss)
    else:
        raise InputError("give candidate programmes: --quotes FILE, or --template POLICY.toml with a priced grid "
                         "(--frequency, --severity-median, --severity-sigma, --deductibles, --limits)",
                         field="--quotes")
    comp = optimise(sub, regime, cands, fx_table(args.fx), horizon_years=args.horizon_years, assumptions=ca,
                    max_layers=args.max_layers, as_of=parse_date(args.as_of))
    plots = []
    if args.plot:
        d = Path(args.plot)
        plots = [str(plot_costs(comp, d / "cost_by_programme.png")),
                 str(plot_waterfall(comp.best_assessment, d / "waterfall.png"))]
    if args.json:
        out = comp.to_dict()
        out["plots"] = plots
        sys.stdout.write(canonical_json(out))
    else:
        sys.stdout.write(comp.to_table())
        for p in plots:
            sys.stdout.write(f"saved {p}\n")
    return 0
