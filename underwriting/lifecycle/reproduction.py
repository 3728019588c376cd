"""Reproduce a past quote from its recorded inputs with the model versions recorded in it.

A quote records ``inputs`` (submission, terms, regime, seed, FX rates, frequency model, pricing
basis) and ``versions`` (``"risk_scorer": "0.2.0@<sha256[:12]>"``, ...). :func:`reproduce` loads
exactly those registry versions (pinned with :func:`underwriting.registry.pinned`, not the current
defaults), checks each one's content hash against the recorded prefix, recomputes the quote and
compares the two on their canonical values (:mod:`underwriting.domain.canonical`): identical, equal
within the documented tolerance (a rounding tie flipped by another CPU), or different.

The texts' messages (``*_message``, ``*_messages``: :mod:`underwriting.domain.message`) are compared
when the recorded quote holds them as this version writes them. A quote saved before they existed, or
before they were typed parts, has none this version can read: those are not compared (the English
texts they format still are) and :attr:`Reproduction.messages_not_compared` counts them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import underwriting.lifecycle.loaders  # noqa: F401  the model kinds register on import
from underwriting.domain.canonical import compare
from underwriting.errors import InputError, ModelIntegrityError
from underwriting.registry import KINDS, Registry, pinned, split_recorded


@dataclass(frozen=True)
class Reproduction:
    """Outcome of :func:`reproduce`, compared on canonical values (:func:`underwriting.domain.canonical.compare`).

    Attributes
    ----------
    status : {"identical", "within", "different"}
        ``within``: every difference is at most one unit in its last canonical place (a rounding tie
        flipped by another CPU's floating-point noise); the quote is reproduced.
    differences : list of (path, recorded, recomputed, within_tolerance)
        Every differing key, and whether that difference is inside the tolerance.
    largest : (path, relative difference) or None
        The largest numeric difference.
    messages_not_compared : int
        Messages the recorded quote lacks or holds in an earlier form (not compared; its texts are).
    """

    status: str
    differences: list[tuple[str, Any, Any, bool]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    quote: Any = None
    largest: tuple[str, float] | None = None
    messages_not_compared: int = 0

    @property
    def identical(self) -> bool:
        """True when every canonical value is the same."""
        return self.status == "identical"

    @property
    def reproduced(self) -> bool:
        """True when identical or within the documented tolerance."""
        return self.status != "different"

    def report(self, limit: int = 40) -> str:
        used = ", ".join(f"{k} {v}" for k, v in sorted(self.versions.items())) or "no registry models"
        if self.messages_not_compared:
            used += (f"; {self.messages_not_compared} text message(s) saved in an earlier form or absent, "
                     "not compared (their English texts are)")
        if self.status == "identical":
            return f"identical: every canonical value recomputed the same (models: {used})"
        if self.status == "within":
            path, rel = self.largest or ("?", 0.0)
            return (f"equal within tolerance: {len(self.differences)} value(s) differ by one unit in their last "
                    f"canonical place, largest relative difference {rel:.3g} at {path} (models: {used}); this "
                    "machine's floating-point arithmetic differs from the one that made the quote "
                    "(docs/reproducibility.md)")
        shown = [d for d in self.differences if not d[3]]
        lines = [f"DIFFERENT: {len(shown)} key(s) differ beyond tolerance (models: {used})"]
        for path, old, new, _ in shown[:limit]:
            lines.append(f"  {path}: recorded {_show(old)} -> recomputed {_show(new)}")
        if len(shown) > limit:
            lines.append(f"  ... and {len(shown) - limit} more")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready outcome (``reproduce --json`` and the service's reproduce route)."""
        return {"status": self.status, "identical": self.identical, "reproduced": self.reproduced,
                "largest_relative_difference": None if self.largest is None else
                {"key": self.largest[0], "relative": self.largest[1]},
                "versions": self.versions, "messages_not_compared": self.messages_not_compared,
                "differences": [{"key": k, "recorded": a, "recomputed": b, "within_tolerance": ok}
                                for k, a, b, ok in self.differences]}


#: A reserve check's reason template and arguments as quotes saved before ``reason_message`` held them.
_EARLIER_CHECK_KEYS = ("reason_id", "reason_args")


def _earlier_messages_kept(recorded: Any, recomputed: Any) -> tuple[Any, int]:
    """``recomputed`` with every message that ``recorded`` lacks or holds in a form this version cannot read
    replaced by the recorded one (or removed), and how many were."""
    from underwriting.domain.message import known

    if isinstance(recorded, dict) and isinstance(recomputed, dict):
        out, n = {}, 0
        for k, v in recomputed.items():
            old = recorded.get(k)
            if k.endswith("_message"):
                if k in recorded and (old is None or known(old) is not None):
                    out[k] = v
                elif k in recorded or v is not None:
                    n += 1
                    if k in recorded:
                        out[k] = old
                continue
            if k.endswith("_messages") and isinstance(v, dict | list):
                items = list(old.values()) if isinstance(old, dict) else old if isinstance(old, list) else []
                if k in recorded and type(old) is type(v) and all(known(m) is not None for m in items):
                    out[k] = v
                else:
                    n += len(v)
                    if k in recorded:
                        out[k] = old
                continue
            out[k], m = _earlier_messages_kept(old, v) if k in recorded else (v, 0)
            n += m
        for k in _EARLIER_CHECK_KEYS:  # a reserve check's reason before it was one message
            if k in recorded and k not in recomputed:
                out[k] = recorded[k]
        return out, n
    if isinstance(recorded, list) and isinstance(recomputed, list):
        pairs = [_earlier_messages_kept(a, b) for a, b in zip(recorded, recomputed, strict=False)]
        return [p[0] for p in pairs] + recomputed[len(pairs):], sum(p[1] for p in pairs)
    return recomputed, 0


def _show(v: Any) -> str:
    s = json.dumps(v, sort_keys=True, default=str)
    return s if len(s) <= 80 else s[:77] + "..."


def recorded_models(versions: dict[str, str], reg: Registry) -> dict[str, tuple[str, str | None]]:
    """Registry models named in a quote's ``versions``: ``{name: (version, sha prefix)}``, checked
    to be in ``reg`` with the same content."""
    out = {}
    for name, rec in versions.items():
        if name not in KINDS:
            continue
        v, sha = split_recorded(rec)
        if v in ("", "?"):
            raise ModelIntegrityError(f"the quote records no usable version of {name} ({rec!r})")
        if not reg.has(name, v):
            raise ModelIntegrityError(f"{name} {v} (recorded in the quote) is not in the registry {reg.root} "
                                      f"(versions: {', '.join(reg.versions(name)) or 'none'})")
        model = reg.load(name, v)
        # the risk scorer records its scorer.json's SHA-256, other kinds their manifest's (see quote.frequency)
        have = ((getattr(model, "artifact_", None) or {}).get("sha256")
                or (getattr(model, "registry_", None) or {}).get("manifest_sha256"))
        if sha and have and not str(have).startswith(sha):
            raise ModelIntegrityError(f"{name} {v} in {reg.root} is not the model that made the quote "
                                      f"(content SHA-256 {str(have)[:12]}, the quote recorded {sha})")
        out[name] = (v, sha)
    return out


def reproduce(quote: str | os.PathLike[str] | dict, *, registry=None) -> Reproduction:
    """Recompute a quote (a file or its dict) with its recorded inputs and model versions."""
    from underwriting.domain.policy import PolicyTerms, Programme
    from underwriting.domain.submission import Submission
    from underwriting.domain.validation import validate_model
    from underwriting.fileio import canonical_json, read_document
    from underwriting.lifecycle.evaluation import _registry_env
    from underwriting.quote.make import make_quote
    from underwriting.quote.request import PricingBasis

    doc = quote if isinstance(quote, dict) else read_document(quote)
    src = None if isinstance(quote, dict) else str(quote)
    for k in ("inputs", "versions"):
        if not isinstance(doc.get(k), dict):
            raise InputError(f"not a quote: no '{k}' object (write quotes with `underwriting quote --out`)",
                             field=k, source=src)
    inp = doc["inputs"]
    missing = [k for k in ("submission", "seed") if k not in inp]
    if missing:
        raise InputError(f"the quote's inputs lack {missing}", field=f"inputs.{missing[0]}", source=src)
    reg = registry if isinstance(registry, Registry) else Registry(registry)
    models = recorded_models(doc["versions"], reg)
    sub = validate_model(Submission, inp["submission"], source=f"{src or 'quote'}: inputs.submission")
    tmodel = Programme if isinstance(inp.get("terms"), dict) and "layers" in inp["terms"] else PolicyTerms
    terms = (validate_model(tmodel, inp["terms"], source=f"{src or 'quote'}: inputs.terms")
             if inp.get("terms") is not None else None)
    try:
        basis = PricingBasis(**inp["basis"]) if inp.get("basis") else None
    except TypeError as exc:
        raise InputError(f"unknown pricing basis field ({exc})", field="inputs.basis", source=src) from None
    kw = {"regime": inp.get("regime"), "seed": inp["seed"], "fx_rates": inp.get("fx_rates") or None,
          "basis": basis}
    if "frequency_model" in inp:
        kw["frequency_model"] = inp["frequency_model"]
    if inp.get("schedule") is not None:
        kw["schedule"] = inp["schedule"]
    if "currency" in inp:
        kw["currency"] = inp["currency"]
    with _registry_env(reg), pinned({n: v for n, (v, _) in models.items()}):
        q = make_quote(sub, terms, **kw)
    recorded = json.loads(canonical_json(doc))
    recomputed, earlier = _earlier_messages_kept(recorded, json.loads(canonical_json(q.to_dict())))
    c = compare(recorded, recomputed)
    return Reproduction(status=c.status, differences=c.differences,
                        versions={n: v for n, (v, _) in models.items()}, quote=q, largest=c.largest,
                        messages_not_compared=earlier)
