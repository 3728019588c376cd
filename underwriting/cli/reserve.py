"""Assess how much of a statutory reserve the given policies may replace under a regime.

Prints the requirement, each policy test (pass/fail/haircut with reason and legal source), the
tower credit, the regime's cap and the residual cash reserve. ``--json`` prints the same for
systems. Bundled regimes: jp-fsa-2026 (provisional), eu-mica-art67, basel2-ama, hk-sfc-vatp,
ae-vara (requirement only); or give a path to your own regime TOML file. Without ``--regime`` the
exchange's jurisdiction picks the regime, or the command says plainly that none applies.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from underwriting.errors import InputError


def add_common(parser: argparse.ArgumentParser) -> None:
    """Arguments shared by ``reserve`` and ``compare-reserve``."""
    parser.add_argument("submission", help="submission file (.json or .toml)")
    parser.add_argument("--regime", default=None,
                        help="bundled regime id (jp-fsa-2026, eu-mica-art67, basel2-ama, hk-sfc-vatp, ae-vara) "
                             "or path to a regime .toml file (default: from the exchange's jurisdiction)")
    parser.add_argument("--fx", action="append", default=[], metavar="CUR=RATE",
                        help="conversion rate, units of CUR per USD (e.g. JPY=150); overrides the bundled table")
    parser.add_argument("--param", action="append", default=[], metavar="PATH=VALUE",
                        help="override a regime parameter, e.g. credit.cap_share=0.2 or "
                             "requirement.gross_income=1.2e9 or rules.basel.initial_term.min_days=300")
    parser.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                        help="assessment date (default: the submission's as_of)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--lang", metavar="ja|en", help="language of the table (default: $UNDERWRITING_LANG, "
                        "then the locale, then en); --json is always in English keys")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common(parser)
    parser.add_argument("--policy", action="append", default=[], metavar="POLICY.toml",
                        help="policy terms file; repeat for a tower of layers")
    parser.add_argument("--no-risk-sizing", action="store_true",
                        help="skip the risk-based sizing scenario (it builds the quote's loss model)")
    from underwriting.quote.options import DEFAULT_FREQUENCY_MODEL, FREQUENCY_MODELS

    parser.add_argument("--frequency-model", default=DEFAULT_FREQUENCY_MODEL, choices=FREQUENCY_MODELS,
                        help="frequency of the loss model behind the risk-based sizing (default: the quote's one risk model)")


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["credit.cap_share=0.2"]`` → ``{"credit.cap_share": 0.2}`` (numbers, booleans, JSON, else text)."""
    out: dict[str, Any] = {}
    for item in items:
        path, sep, raw = item.partition("=")
        if not sep or not path.strip():
            raise InputError(f"expected PATH=VALUE, got {item!r}", field="--param")
        raw = raw.strip()
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        if isinstance(value, float) and value != value:  # NaN
            raise InputError("value must be finite", field=f"--param {path}")
        out[path.strip()] = value
    return out


def parse_date(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"expected a date YYYY-MM-DD, got {text!r}", field="--as-of") from None


def fx_table(items: list[str]):  # -> FxTable
    """The bundled FX table (if present) with the user's ``--fx`` rates on top."""
    from underwriting.cli._common import parse_fx
    from underwriting.domain.currency import FxTable

    user = parse_fx(items)
    try:
        base = FxTable.bundled()
    except (FileNotFoundError, OSError, InputError):
        base = FxTable()
    return base.with_user_rates(user) if user else base


def resolve_regime(sub: Any, regime: str | None) -> tuple[str | None, str | None]:
    """``(regime, note)``: the given regime, else the jurisdiction's default, else a plain note."""
    from underwriting.reserve.jurisdictions import default_regime, regime_note

    if regime:
        return regime, None
    j = sub.exchange.jurisdiction
    return default_regime(j), regime_note(j)


def run(args: argparse.Namespace) -> int:
    from underwriting.domain.policy import load_terms
    from underwriting.domain.submission import load_submission
    from underwriting.fileio import canonical_json
    from underwriting.i18n import resolve_lang
    from underwriting.quote.reserve import assess_reserve

    lang = resolve_lang(args.lang)
    sub = load_submission(args.submission)
    # a tower file ([[layers]]) contributes each of its layers as a policy
    pols = [lay for p in args.policy for lay in (lambda t: getattr(t, "layers", None) or [t])(load_terms(p))]
    overrides = parse_params(args.param)
    as_of = parse_date(args.as_of)
    regime, note = resolve_regime(sub, args.regime)
    if regime is None:
        if args.json:
            sys.stdout.write(canonical_json({"regime": None, "jurisdiction": sub.exchange.jurisdiction, "note": note}))
        else:
            sys.stdout.write(f"{note}\n")
        return 0
    fx = fx_table(args.fx)
    result = assess_reserve(sub, pols, regime, fx, as_of=as_of, overrides=overrides,
                            risk_sizing=not args.no_risk_sizing, frequency_model=args.frequency_model)
    if args.json:
        sys.stdout.write(canonical_json(result.to_dict()))
    elif lang == "en":
        sys.stdout.write(result.to_table())
    else:
        from underwriting.i18n import use_lang
        from underwriting.reserve_report import reserve_table

        with use_lang(lang):
            sys.stdout.write(reserve_table(result.to_dict()))
    return 0
