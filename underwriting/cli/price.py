"""Price an insurance layer from a frequency and a severity (FFT, Panjer or Monte Carlo).

Example: underwriting price --frequency poisson:0.3 --severity lognormal:mu=11.512925465,sigma=2
--deductible 1e6 --limit 9e6 --principle cost_of_capital:0.10 --json

--limit is the width of cover above --deductible ("9e6 xs 1e6" pays min((X - 1e6)+, 9e6)).
Amounts are in currency units and accept k/M/bn suffixes (2.5M). The frequency is the
expected number of events over the policy term.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from typing import Any

from underwriting.cli._common import LazyHelp
from underwriting.errors import InputError

_SUFFIX = {"k": 1e3, "m": 1e6, "mm": 1e6, "bn": 1e9, "b": 1e9}

#: library field name -> command-line option (for error messages)
_FIELD_TO_OPTION = {
    "deductible": "--deductible", "limit": "--limit", "agg_deductible": "--agg-deductible",
    "agg_limit": "--agg-limit", "share": "--share", "reinstatements": "--reinstatements",
    "reinstatement_premium": "--reinstatement-premium", "term_years": "--term", "level": "--level",
    "principle": "--principle", "method": "--method", "n_buckets": "--buckets", "n_sims": "--sims",
    "expense": "--expense", "commission": "--commission", "tax": "--tax",
    "minimum_premium": "--minimum-premium", "cap": "--cap", "frequency": "--frequency",
    "severity": "--severity", "lam": "--frequency", "mean": "--frequency", "var_lambda": "--frequency",
    "beta": "--frequency", "r": "--frequency", "mu": "--severity", "sigma": "--severity",
    "alpha": "--severity", "theta": "--severity", "shape": "--severity", "scale": "--severity",
    "threshold": "--severity", "xi": "--severity", "tail_prob": "--severity",
}


def _severity_help() -> str:
    from underwriting.losses.severity.registry import severity_help

    return severity_help()


def _principle_help() -> str:
    from underwriting.pricing.premium import DEFAULT_PRINCIPLE
    from underwriting.pricing.principles import principle_help

    return f"{principle_help()} (default: the package default, {DEFAULT_PRINCIPLE})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``price`` options."""
    g = parser.add_argument_group("loss model")
    g.add_argument("--frequency", required=True, metavar="SPEC",
                   help="count over the term: poisson:LAMBDA, negbin:mean=M,var_lambda=V, geometric:beta=B")
    g.add_argument("--severity", required=True, metavar="SPEC",
                   help=LazyHelp("FAMILY:PARAM=VALUE,...", _severity_help))
    g.add_argument("--cap", metavar="AMOUNT", help="exposure cap: assets in the custody tier hit (loss = min(X, cap))")
    t = parser.add_argument_group("policy terms")
    t.add_argument("--deductible", default="0", metavar="AMOUNT", help="per-occurrence deductible (default 0)")
    t.add_argument("--limit", default="inf", metavar="AMOUNT", help="per-occurrence limit above the deductible (default unlimited)")
    t.add_argument("--agg-deductible", default="0", metavar="AMOUNT", help="aggregate deductible over the term")
    t.add_argument("--agg-limit", default=None, metavar="AMOUNT", help="aggregate limit over the term")
    t.add_argument("--share", default="1", metavar="FRACTION", help="insurer's share, in (0, 1] (default 1)")
    t.add_argument("--reinstatements", default="0", metavar="N", help="number of reinstatements (default 0)")
    t.add_argument("--reinstatement-premium", default="1", metavar="FRACTION",
                   help="premium per reinstatement as a fraction of the upfront premium (default 1)")
    t.add_argument("--reinstatement-basis", default="pro-rata", metavar="{pro-rata,in-full}",
                   help="reinstatement premium pro rata to the amount reinstated (default) or charged in full "
                        "as soon as the reinstated limit is used")
    t.add_argument("--term", default="1", metavar="YEARS", help="policy term in years (default 1)")
    t.add_argument("--high-layer", action="store_true",
                   help="allow a deductible at or above the limit (an excess layer such as 5e6 xs 1e7)")
    p = parser.add_argument_group("pricing")
    p.add_argument("--level", default="0.995", metavar="P", help="VaR/TVaR level in (0, 1) (default 0.995)")
    p.add_argument("--principle", default=None, metavar="NAME[:PARAM]",
                   help=LazyHelp("NAME[:PARAM]", _principle_help))
    p.add_argument("--expense", default="0", metavar="FRACTION", help="expense load (fraction of premium)")
    p.add_argument("--commission", default="0", metavar="FRACTION", help="commission (fraction of premium)")
    p.add_argument("--tax", default="0", metavar="FRACTION", help="premium tax rate, added on top")
    p.add_argument("--minimum-premium", default="0", metavar="AMOUNT", help="minimum upfront premium")
    e = parser.add_argument_group("engine")
    e.add_argument("--method", default="fft", metavar="{fft,mc,panjer}", help="aggregate method (default fft)")
    e.add_argument("--seed", default=None, metavar="N", help="Monte Carlo seed (default 0 for --method mc)")
    e.add_argument("--sims", default="200000", metavar="N", help="Monte Carlo terms simulated (default 200000)")
    e.add_argument("--buckets", default=None, metavar="N", help="grid length (default 65536 FFT, 16384 Panjer)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def _amount(text: str | None, option: str, *, allow_inf: bool = False) -> float:
    if text is None:
        return math.inf
    s = str(text).strip().lower().replace(",", "").replace("_", "")
    if s in ("inf", "unlimited", "none") and allow_inf:
        return math.inf
    m = re.fullmatch(r"([-+]?[0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)(k|mm|m|bn|b)?", s)
    if not m:
        raise InputError(f"expected an amount such as 1e6 or 2.5M, got {text!r}", source=option)
    v = float(m.group(1)) * _SUFFIX.get(m.group(2) or "", 1.0)
    if not math.isfinite(v):
        raise InputError(f"must be finite, got {text!r}", source=option)
    return v


def _number(text: str, option: str) -> float:
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise InputError(f"expected a number, got {text!r}", source=option) from None
    if not math.isfinite(v):
        raise InputError(f"must be finite, got {text!r}", source=option)
    return v


def _integer(text: str, option: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise InputError(f"expected a whole number, got {text!r}", source=option) from None


def _basis(text: str) -> bool:
    """``--reinstatement-basis``: True for pro rata to amount, False for charged in full."""
    s = str(text).strip().lower().replace("_", "-")
    if s in ("pro-rata", "pro-rata-amount"):
        return True
    if s in ("in-full", "full"):
        return False
    raise InputError(f"expected pro-rata or in-full, got {text!r}", source="--reinstatement-basis")


def parse_spec(spec: str, option: str, positional: dict[str, str]) -> tuple[str, dict[str, float]]:
    """``"lognormal:mu=11.5,sigma=2"`` -> ``("lognormal", {"mu": 11.5, "sigma": 2.0})``.

    ``positional`` maps a family to the parameter name of a bare value (``poisson:0.3``).
    """
    if not isinstance(spec, str) or not spec.strip():
        raise InputError("empty specification", source=option)
    name, sep, rest = spec.strip().partition(":")
    name = name.strip().lower()
    if not name or not re.fullmatch(r"[a-z_0-9]+", name):
        raise InputError(f"malformed specification {spec!r}; expected family:param=value,...", source=option)
    params: dict[str, float] = {}
    if sep and not rest.strip():
        raise InputError(f"missing parameters after ':' in {spec!r}", source=option)
    if rest.strip():
        for item in rest.split(","):
            key, eq, val = item.partition("=")
            key = key.strip().lower()
            if not eq:
                if name in positional and not params and len(rest.split(",")) == 1:
                    key, val = positional[name], item
                else:
                    raise InputError(f"malformed parameter {item.strip()!r} in {spec!r}; expected name=value",
                                     source=option)
            if not key or key in params:
                raise InputError(f"empty or repeated parameter name in {spec!r}", source=option)
            params[key] = _amount(val, option)
    return name, params


def _with_source(exc: InputError) -> InputError:
    if exc.field in ("severity", "frequency", "principle"):
        exc.source, exc.field = exc.source or _FIELD_TO_OPTION[exc.field], None
    if exc.source is None:
        field = (exc.field or "").split(".")[0]
        exc.source = _FIELD_TO_OPTION.get(field)
    return exc


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "unlimited"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        return f"{v:.6g}"
    return str(v)


def run(args: argparse.Namespace) -> int:
    """Build the model and the layer, price it, print the result."""
    try:
        return _run(args)
    except InputError as exc:
        raise _with_source(exc) from None


def _run(args: argparse.Namespace) -> int:
    from underwriting.fileio import canonical_json
    from underwriting.losses.aggregate import MAX_BUCKETS, MAX_SIMS
    from underwriting.losses.counts import make_frequency
    from underwriting.losses.severity import cap_at_exposure, make_severity
    from underwriting.pricing.layers import Layer
    from underwriting.pricing.premium import Loadings, parse_principle, price_layer

    fam, fpar = parse_spec(args.frequency, "--frequency", {"poisson": "lam", "geometric": "beta"})
    try:
        freq = make_frequency(fam, **fpar)
    except InputError as exc:
        exc.source = "--frequency"
        raise
    sfam, spar = parse_spec(args.severity, "--severity", {})
    try:
        sev = make_severity(sfam, **spar)
    except InputError as exc:
        exc.source = "--severity"
        raise
    if args.cap is not None:
        cap = _amount(args.cap, "--cap")
        if not cap >= 1.0:  # also refuses 5e-324, whose grid bucket (cap / 256) underflows to 0
            raise InputError(f"must be at least 1 currency unit, got {args.cap!r}", source="--cap")
        sev = cap_at_exposure(sev, cap)

    ded = _amount(args.deductible, "--deductible")
    lim = _amount(args.limit, "--limit", allow_inf=True)
    if ded < 0:
        raise InputError(f"must be >= 0, got {args.deductible!r}", source="--deductible")
    if lim <= 0:
        raise InputError(f"must be > 0, got {args.limit!r}", source="--limit")
    if ded >= lim and not args.high_layer:
        raise InputError(
            f"deductible {ded:,.0f} is not below the limit {lim:,.0f}; --limit is the width of cover "
            f"above the deductible (9e6 xs 1e6 is --deductible 1e6 --limit 9e6). For a genuine excess "
            f"layer attaching at or above its width add --high-layer", source="--deductible")
    share = _number(args.share, "--share")
    if not (0 < share <= 1):
        raise InputError(f"insurer's share must be in (0, 1], got {args.share!r}", source="--share")
    level = _number(args.level, "--level")
    if not (0 < level < 1):
        raise InputError(f"must be strictly between 0 and 1, got {args.level!r}", source="--level")
    method = str(args.method).strip().lower()
    if method not in ("fft", "mc", "panjer"):
        raise InputError(f"unknown method {args.method!r}; choose fft, mc or panjer", source="--method")
    agg_limit = None if args.agg_limit is None else _amount(args.agg_limit, "--agg-limit", allow_inf=True)
    layer = Layer(deductible=ded, limit=lim, agg_deductible=_amount(args.agg_deductible, "--agg-deductible"),
                  agg_limit=agg_limit, share=share, reinstatements=_integer(args.reinstatements, "--reinstatements"),
                  reinstatement_premium=_number(args.reinstatement_premium, "--reinstatement-premium"),
                  pro_rata_amount=_basis(args.reinstatement_basis),
                  term_years=_number(args.term, "--term"))
    loadings = Loadings(expense=_number(args.expense, "--expense"), commission=_number(args.commission, "--commission"),
                        tax=_number(args.tax, "--tax"),
                        minimum_premium=_amount(args.minimum_premium, "--minimum-premium"))
    from underwriting.pricing.premium import DEFAULT_PRINCIPLE

    principle = parse_principle(DEFAULT_PRINCIPLE if args.principle is None else args.principle)
    engine: dict[str, Any] = {}
    if args.buckets is not None:
        engine["n_buckets"] = _integer(args.buckets, "--buckets")
    elif method == "panjer":
        engine["n_buckets"] = 2**14
    if engine.get("n_buckets", 0) > MAX_BUCKETS or engine.get("n_buckets", 64) < 64:
        raise InputError(f"at most {MAX_BUCKETS:,} (2^{MAX_BUCKETS.bit_length() - 1}) and at least 64, got {args.buckets!r}",
                         source="--buckets")
    seed = None if args.seed is None else _integer(args.seed, "--seed")
    if seed is not None and not 0 <= seed < 2**32:
        raise InputError(f"must be a whole number from 0 to {2**32 - 1}, got {args.seed!r}", source="--seed")
    if method == "mc":
        engine["n_sims"] = _integer(args.sims, "--sims")
        if not 100 <= engine["n_sims"] <= MAX_SIMS:
            raise InputError(f"at most {MAX_SIMS:,} and at least 100, got {args.sims!r}", source="--sims")
        engine["random_state"] = 0 if seed is None else seed

    res = price_layer(freq, sev, layer, principle=principle, level=level, loadings=loadings, method=method, **engine)
    out = res.to_dict()
    switched = None
    if res.method != method:  # issue #30: never switch method silently (Panjer on a very high limit went MC)
        steps = "; ".join(res.distribution.diagnostics.get("escalation", ()))
        switched = (f"--method {method} failed its moment check, so the aggregate was computed by {res.method} "
                    f"instead: {steps}")
        out["warnings"] = [switched]
        print(f"warning: {switched}", file=sys.stderr)
    out["frequency"] = {"family": freq.family, **freq.params}
    from underwriting.losses.severity.exposure import severity_echo

    out["severity"] = severity_echo(sev)
    if args.json:
        sys.stdout.write(canonical_json(out))
        return 0
    rows = [
        ("layer", layer.label), ("method", res.method), ("expected loss", res.expected_loss),
        ("standard deviation", res.std), (f"VaR {level:g}", res.var), (f"TVaR {level:g}", res.tvar),
        ("principle", res.principle), ("technical premium", res.technical_premium),
        ("premium (upfront)", res.premium),
        ("expected reinstatement premium", res.expected_reinstatement_premium),
        ("rate on line", res.rate_on_line), ("loss ratio", res.loss_ratio),
        ("P(attach)", res.prob_attach), ("P(exhaust)", res.prob_exhaust),
        ("moment check", res.moment_check),
    ]
    if res.method == "mc":
        rows.append(("std error of expected loss", res.se_mean))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {_fmt(v)}")
    if not res.moment_check:
        print(f"warning: {res.moment_detail.note}", file=sys.stderr)
    return 0
