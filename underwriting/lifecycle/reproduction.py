"""Reproduce a past quote from its recorded inputs with the model versions recorded in it.

A quote records ``inputs`` (submission, terms, regime, seed, FX rates, frequency model, pricing
basis) and ``versions`` (``"risk_scorer": "0.2.0@<sha256[:12]>"``, ...). :func:`reproduce` loads
exactly those registry versions (pinned with :func:`underwriting.registry.pinned`, not the current
defaults), checks each one's content hash against the recorded prefix, recomputes the quote and
lists every key whose value differs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import underwriting.lifecycle.loaders  # noqa: F401  the model kinds register on import
from underwriting.errors import InputError, ModelIntegrityError
from underwriting.registry import KINDS, Registry, pinned, split_recorded


@dataclass(frozen=True)
class Reproduction:
    """Outcome of :func:`reproduce`: ``identical`` and the differing keys ``[(path, recorded, recomputed)]``."""

    identical: bool
    differences: list[tuple[str, Any, Any]] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    quote: Any = None

    def report(self, limit: int = 40) -> str:
        used = ", ".join(f"{k} {v}" for k, v in sorted(self.versions.items())) or "no registry models"
        if self.identical:
            return f"identical: the quote was recomputed bit for bit (models: {used})"
        lines = [f"DIFFERENT: {len(self.differences)} key(s) differ (models: {used})"]
        for path, old, new in self.differences[:limit]:
            lines.append(f"  {path}: recorded {_show(old)} -> recomputed {_show(new)}")
        if len(self.differences) > limit:
            lines.append(f"  ... and {len(self.differences) - limit} more")
        return "\n".join(lines)


def _show(v: Any) -> str:
    s = json.dumps(v, sort_keys=True, default=str)
    return s if len(s) <= 80 else s[:77] + "..."


def diff(old: Any, new: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Leaf-level differences between two JSON values (``a.b[2].c`` paths)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for k in sorted(set(old) | set(new), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append((p, "(absent)", new[k]))
            elif k not in new:
                out.append((p, old[k], "(absent)"))
            else:
                out.extend(diff(old[k], new[k], p))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            p = f"{path}[{i}]"
            if i >= len(old):
                out.append((p, "(absent)", new[i]))
            elif i >= len(new):
                out.append((p, old[i], "(absent)"))
            else:
                out.extend(diff(old[i], new[i], p))
        return out
    return [] if (old == new and type(old) is type(new)) or (
        isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(old, bool)
        and old == new) else [(path, old, new)]


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
        # the risk scorer records its scorer.json's SHA-256, other kinds their manifest's (see quoting)
        have = ((getattr(model, "artifact_", None) or {}).get("sha256")
                or (getattr(model, "registry_", None) or {}).get("manifest_sha256"))
        if sha and have and not str(have).startswith(sha):
            raise ModelIntegrityError(f"{name} {v} in {reg.root} is not the model that made the quote "
                                      f"(content SHA-256 {str(have)[:12]}, the quote recorded {sha})")
        out[name] = (v, sha)
    return out


def reproduce(quote: str | os.PathLike[str] | dict, *, registry=None) -> Reproduction:
    """Recompute a quote (a file or its dict) with its recorded inputs and model versions."""
    from underwriting.domain.policy import PolicyTerms
    from underwriting.domain.submission import Submission
    from underwriting.domain.validation import validate_model
    from underwriting.fileio import canonical_json, read_document
    from underwriting.lifecycle.evaluation import _registry_env
    from underwriting.quoting import PricingBasis, make_quote

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
    terms = (validate_model(PolicyTerms, inp["terms"], source=f"{src or 'quote'}: inputs.terms")
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
    with _registry_env(reg), pinned({n: v for n, (v, _) in models.items()}):
        q = make_quote(sub, terms, **kw)
    new = json.loads(canonical_json(q.to_dict()))
    old = json.loads(canonical_json(doc))
    d = diff(old, new)
    return Reproduction(identical=not d, differences=d, versions={n: v for n, (v, _) in models.items()}, quote=q)
