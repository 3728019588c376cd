"""Quote a submission: risk score, breach frequency over the term, insured loss, premium, reserve credit."""

from __future__ import annotations

import argparse

from underwriting.cli._common import seed_arg


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission", help="submission file (.json or .toml)")
    p.add_argument("--terms", help="policy terms file (.toml or .json); default: ground-up cover of the "
                   "customer assets for one year from the day after as_of")
    p.add_argument("--regime", help="reserve regime id (jp-fsa-2026, eu-mica-art67, basel2-ama, hk-sfc-vatp) "
                   "or a regime TOML file; default: chosen from the exchange's jurisdiction")
    p.add_argument("--seed", type=seed_arg, default=0, help="random seed (default 0)")
    p.add_argument("--fx", action="append", default=[], metavar="CUR=RATE",
                   help="conversion rate in units per USD, overriding the bundled yearly table (repeatable)")
    p.add_argument("--frequency-model", choices=["frequency", "baseline", "survival"], default="frequency",
                   help="breach frequency of the loss model: the one risk model, base (real cohorts) x experience x "
                   "posture schedule (default); the documented roster baseline; or the synthetic landmark "
                   "survival model (comparison only). Score, band, reasons and P(breach) always come from the "
                   "one risk model")
    p.add_argument("--schedule", metavar="FILE", help="posture schedule table (TOML, the layout of the shipped "
                   "underwriting/frequency/schedule.toml); default: the shipped table (assumptions)")
    p.add_argument("--registry", metavar="DIR", help="model registry folder (default: $UNDERWRITING_REGISTRY or models/)")
    p.add_argument("--principle", default=None,
                   help="premium principle, e.g. wang:0.25, cost_of_capital:0.10, expected_value:0.3 (default: "
                   "the package's one default, underwriting.pricing.premium.DEFAULT_PRINCIPLE)")
    p.add_argument("--portfolio", metavar="BOOK",
                   help="price the risk load as this exchange's capital share of BOOK (folder or CSV/JSON list)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--out", help="also write the quote JSON to this file (atomically)")


def run(args: argparse.Namespace) -> int:
    from underwriting.cli._common import check_output_file, parse_fx, write_output
    from underwriting.domain.policy import load_policy
    from underwriting.domain.report import format_quote
    from underwriting.domain.submission import load_submission
    from underwriting.pricing.premium import DEFAULT_PRINCIPLE, parse_principle
    from underwriting.quoting import PricingBasis, make_quote

    principle = args.principle if args.principle is not None else DEFAULT_PRINCIPLE
    parse_principle(principle)  # a bad principle is an input error before any work
    check_output_file(args.out, "--out", args)
    sub = load_submission(args.submission)
    terms = load_policy(args.terms) if args.terms else None
    basis = PricingBasis(principle=principle)
    schedule = None
    if args.schedule:
        from underwriting.frequency.schedule import load_schedule

        schedule = load_schedule(args.schedule)
    registry = None
    if args.registry:
        from underwriting.registry import Registry

        registry = Registry(args.registry)
    if args.portfolio:
        if registry is not None:
            from underwriting.errors import InputError

            raise InputError("a portfolio quote uses the default registry; drop --registry or set "
                             "UNDERWRITING_REGISTRY", source="--registry")
        from underwriting.portfolio.capital import portfolio_quote

        quote = portfolio_quote(sub, terms, args.portfolio, regime=args.regime, seed=args.seed,
                                fx_rates=parse_fx(args.fx), frequency_model=args.frequency_model, basis=basis, schedule=schedule)
    else:
        quote = make_quote(sub, terms, regime=args.regime, seed=args.seed, fx_rates=parse_fx(args.fx),
                           frequency_model=args.frequency_model, basis=basis, registry=registry, schedule=schedule)
    text = quote.to_json()
    if args.out:
        write_output(args.out, text, "--out", args)
    print(text if args.json else format_quote(quote), end="" if args.json else "\n")
    return 0
