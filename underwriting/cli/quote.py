"""Quote a submission: risk score, breach frequency over the term, insured loss, premium, reserve credit."""

from __future__ import annotations

import argparse
import os
import sys

from underwriting.cli._common import seed_arg
from underwriting.errors import InputError


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission", help="submission file (.json or .toml)")
    p.add_argument("--terms", help="policy terms file (.toml or .json): one layer, or a tower with [[layers]]; "
                   "default: ground-up cover of the customer assets for one year from the day after as_of")
    p.add_argument("--currency", metavar="CUR", help="quote in this currency (any with a known rate, e.g. EUR); "
                   "default: the submission's")
    p.add_argument("--regime", help="reserve regime id (jp-fsa-2026, eu-mica-art67, basel2-ama, hk-sfc-vatp) "
                   "or a regime TOML file; default: chosen from the exchange's jurisdiction")
    p.add_argument("--seed", type=seed_arg, default=None, help="random seed (default 0)")
    p.add_argument("--fx", action="append", default=[], metavar="CUR=RATE",
                   help="conversion rate in units per USD, overriding the bundled yearly table (repeatable)")
    from underwriting.quote.options import DEFAULT_FREQUENCY_MODEL, FREQUENCY_MODELS

    p.add_argument("--frequency-model", choices=FREQUENCY_MODELS, default=DEFAULT_FREQUENCY_MODEL,
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
    p.add_argument("--report", metavar="FILE.html|FILE.pdf", help="also write the quote letter: a self-contained "
                   "HTML page with its figures, or (name ending .pdf) the same page printed to A4 PDF by headless "
                   "Chromium (never over an input)")
    p.add_argument("--pricing-basis", metavar="FILE", help="loads and letter terms (TOML/JSON, the layout of "
                   "datasets/examples/pricing_basis_default.toml): expense, commission, tax (fractions of premium), "
                   "validity_days, subjectivities, signatory; default: expense 10%%, commission 10%%, tax 0%%")
    p.add_argument("--lang", metavar="ja|en", help="language of the table and the letter (default: "
                   "$UNDERWRITING_LANG, then the locale, then en); --json is always in English keys")


#: The option each field of a QuoteRequest comes from on this command line (errors name the option).
_FLAGS = {"options.seed": "--seed", "options.fx": "--fx", "options.frequency_model": "--frequency-model",
          "options.principle": "--principle", "options.currency": "--currency",
          "options.pricing_basis": "--pricing-basis", "options.schedule": "--schedule", "options.lang": "--lang",
          "regime": "--regime", "terms": "--terms"}


def run(args: argparse.Namespace) -> int:
    from underwriting.cli._common import (
        check_output_file,
        imports_frozen,
        parse_fx,
        schedule_and_registry,
        write_output,
    )

    with imports_frozen():  # the quote's whole module graph, the reserve's too (it imports it on first use)
        import underwriting.reserve.jurisdictions  # noqa: F401
        from underwriting.domain.policy import load_terms
        from underwriting.domain.report import format_quote
        from underwriting.domain.submission import load_submission
        from underwriting.i18n import resolve_lang
        from underwriting.quote.make import make_quote

    check_output_file(args.out, "--out", args)
    check_output_file(args.report, "--report", args)
    lang = resolve_lang(args.lang)
    pdf = bool(args.report) and args.report.lower().endswith(".pdf")
    if pdf:  # a PDF needs Chromium: refuse before any work
        from underwriting.quote.pdf import require_chromium

        require_chromium("--report")
    letter = None
    if args.pricing_basis:
        from underwriting.domain.pricing_basis import load_pricing_basis

        letter = load_pricing_basis(args.pricing_basis)
    if args.report and args.out and os.path.realpath(args.report) == os.path.realpath(args.out):
        raise InputError("is the same file as --out", source="--report")
    fx = parse_fx(args.fx)
    sub = load_submission(args.submission)
    terms = load_terms(args.terms) if args.terms else None
    schedule, registry = schedule_and_registry(args)
    request = build_request(sub, terms, regime=args.regime, seed=args.seed, fx_rates=fx,
                            frequency_model=args.frequency_model, principle=args.principle, currency=args.currency,
                            pricing_basis=letter, schedule=schedule, lang=lang)
    if args.portfolio:
        if registry is not None:
            raise InputError("a portfolio quote uses the default registry; drop --registry or set "
                             "UNDERWRITING_REGISTRY", source="--registry")
        from underwriting.portfolio.capital import portfolio_quote

        quote = portfolio_quote(request, args.portfolio)
    else:
        quote = make_quote(request, registry=registry)
    text = quote.to_json()
    for w in quote.warnings:  # a change of aggregate method is also said on stderr (issue #30)
        if "so the aggregate loss was computed by" in w:
            print(f"warning: {w}", file=sys.stderr)
    if args.out:
        write_output(args.out, text, "--out", args)
    if args.report:
        from underwriting.domain.pricing_basis import PricingBasisFile
        from underwriting.i18n import use_lang
        from underwriting.quote.document import build_quote_figures, render_quote_html

        d = quote.to_dict()
        with use_lang(lang):
            figs = build_quote_figures(d)
        page = render_quote_html(d, figures=figs, lang=lang, slip=terms.model_dump(mode="json") if terms else None,
                                 letter=(letter or PricingBasisFile()).model_dump(mode="json"))
        if pdf:
            from underwriting.cli._common import write_output_bytes
            from underwriting.quote.pdf import html_to_pdf

            write_output_bytes(args.report, html_to_pdf(page), "--report", args)
        else:
            write_output(args.report, page, "--report", args)
    if args.json:
        print(text, end="")
    else:
        from underwriting.i18n import use_lang

        with use_lang(lang):
            print(format_quote(quote))
    return 0


def build_request(sub, terms, **options):
    """The command line's :class:`~underwriting.quote.request.QuoteRequest` (checked there); a bad option is
    reported as the option that gave it (e.g. ``--principle``), exit 2."""
    from underwriting.quote.request import QuoteRequest

    try:
        return QuoteRequest.build(sub, terms, **options)
    except InputError as exc:
        top = ".".join((exc.field or "").split(".")[:2])
        flag = _FLAGS.get(top) or _FLAGS.get((exc.field or "").split(".")[0])
        if flag is None:
            raise
        raise InputError(exc.message, source=flag) from None
