"""Premium impact of a ``frequency`` version on a reference book, and the promotion gate.

The reference book is the bundled ``datasets/examples/*.json`` submissions under
``policy_jp_primary.toml`` plus any book the user names (a submission file, or a folder of them;
a ``policy.toml`` in that folder gives their terms, else the bundled primary policy). Each entry
is quoted through the real quote path (:func:`underwriting.quote.make.make_quote`) with the
``frequency`` version pinned (:func:`underwriting.registry.pinned`), once per version.

The gate (:func:`gate_check`) refuses a promotion when, moving from the current default to the
candidate, any premium changes by more than ``max_premium_change`` (default 50%) or the median
change exceeds ``max_median_change`` (15%), or the candidate's out-of-time calibration (O/E
interval recorded in its signed manifest at training) excludes 1. The thresholds live in the
registry, ``<registry>/gate.toml``::

    [frequency]
    max_premium_change = 0.5
    max_median_change = 0.15
    require_calibration = true
    require_segments = true

``require_segments``: the candidate's signed manifest must carry the out-of-time validation table
(``metrics.out_of_time.segments``: recorded population, each volume third, the largest exchanges of the
latest list, the Japanese cohort when shipped) and every row's O/E interval must contain 1; a version
without the table is refused (issue #24).

The thresholds used are written into the signed history entry of every gated promotion.
"""

from __future__ import annotations

import getpass
import math
import os
import socket
from pathlib import Path
from typing import Any

import numpy as np

from underwriting.errors import InputError

NAME = "frequency"
GATE_FILE = "gate.toml"
DEFAULT_GATE: dict[str, Any] = {"max_premium_change": 0.5, "max_median_change": 0.15, "require_calibration": True,
                                "require_segments": True}


def load_gate(reg: Any, name: str = NAME) -> dict[str, Any]:
    """Thresholds of ``name`` from ``<registry>/gate.toml`` (defaults where absent); bad keys refused."""
    from underwriting.fileio import read_document

    p = Path(reg.root) / GATE_FILE
    out = dict(DEFAULT_GATE)
    if p.is_file():
        doc = read_document(p)
        table = doc.get(name, {})
        if not isinstance(table, dict):
            raise InputError("must be a table", field=name, source=str(p))
        for k, v in table.items():
            if k not in DEFAULT_GATE:
                raise InputError(f"unknown key (known: {', '.join(DEFAULT_GATE)})", field=f"{name}.{k}", source=str(p))
            if k in ("require_calibration", "require_segments"):
                if not isinstance(v, bool):
                    raise InputError("must be true or false", field=f"{name}.{k}", source=str(p))
            elif isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < math.inf:
                raise InputError("must be a positive number (a fraction: 0.5 = 50%)", field=f"{name}.{k}", source=str(p))
            out[k] = v
        out["source"] = str(p)
    else:
        out["source"] = "defaults (no gate.toml in the registry)"
    return out


# --------------------------------------------------------------------------- reference book


def _submission_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".json", ".toml", ".yaml", ".yml")
                       and not p.stem.startswith("policy"))
        if not files:
            raise InputError("holds no submission files (.json, .toml, .yaml)", source=str(path))
        return files
    raise InputError("no such file or folder", source=str(path))


def reference_book(book: Any = None) -> list[tuple[str, Any, Any]]:
    """``(label, submission, terms)``: the bundled examples under the primary policy, plus ``book``
    (a path, or a list of paths, of submissions)."""
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission
    from underwriting.resources import example_path

    folder = example_path("policy_jp_primary.toml").parent
    terms = load_policy(str(folder / "policy_jp_primary.toml"))
    out = [(f"examples/{p.name}", load_submission(str(p)), terms) for p in sorted(folder.glob("*.json"))]
    books = [] if book is None else ([book] if isinstance(book, str | os.PathLike) else list(book))
    for b in books:
        bp = Path(b)
        pol = bp / "policy.toml" if bp.is_dir() else None
        t = load_policy(str(pol)) if pol is not None and pol.is_file() else terms
        for f in _submission_files(bp):
            out.append((f"{bp.name}/{f.name}" if bp.is_dir() else f.name, load_submission(str(f)), t))
    return out


def premium_impact(reg: Any, a: str, b: str, book: Any = None, *, seed: int = 0) -> dict[str, Any]:
    """Quote each reference entry with ``frequency`` pinned to ``a`` then ``b``.

    Returns ``rows`` (entry, currency, premium and P(breach) under A and B, relative change) and
    ``summary``: entries, median, p5, p95 of the relative premium change and the largest change
    (by absolute size, with its entry).
    """
    from underwriting.quote.make import make_quote
    from underwriting.registry import pinned

    entries = book if isinstance(book, list) and book and isinstance(book[0], tuple) else reference_book(book)
    rows = []
    for label, sub, terms in entries:
        q = {}
        for tag, v in (("A", a), ("B", b)):
            # UNDERWRITING_REGISTRY too: parts of the quote (its reserve block) load from the default root
            with _registry_env(reg), pinned({NAME: v}):
                q[tag] = make_quote(sub, terms, seed=seed, registry=reg)
        pa, pb = float(q["A"].premium), float(q["B"].premium)
        rows.append({"entry": label, "currency": q["A"].currency, "premium_A": pa, "premium_B": pb,
                     "p_breach_A": float(q["A"].p_breach_1y), "p_breach_B": float(q["B"].p_breach_1y),
                     "change": (pb / pa - 1.0) if pa > 0 else (0.0 if pb == 0 else math.inf)})
    ch = np.array([r["change"] for r in rows], dtype=float)
    big = int(np.argmax(np.abs(ch))) if len(ch) else None
    summary = {"entries": len(rows), "A": a, "B": b,
               "median_change": float(np.median(ch)) if len(ch) else 0.0,
               "p5_change": float(np.quantile(ch, 0.05)) if len(ch) else 0.0,
               "p95_change": float(np.quantile(ch, 0.95)) if len(ch) else 0.0,
               "largest_change": float(ch[big]) if big is not None else 0.0,
               "largest_entry": rows[big]["entry"] if big is not None else None}
    return {"rows": rows, "summary": summary}


class _registry_env:
    """Point ``UNDERWRITING_REGISTRY`` at ``reg`` for the quote path, restored afterwards."""

    def __init__(self, reg: Any):
        self.root = str(reg.root)

    def __enter__(self) -> None:
        from underwriting.registry import ENV_ROOT

        self.old = os.environ.get(ENV_ROOT)
        os.environ[ENV_ROOT] = self.root

    def __exit__(self, *exc: Any) -> None:
        from underwriting.registry import ENV_ROOT

        if self.old is None:
            os.environ.pop(ENV_ROOT, None)
        else:
            os.environ[ENV_ROOT] = self.old


# --------------------------------------------------------------------------- the gate


def gate_check(reg: Any, version: str, *, book: Any = None, seed: int = 0) -> dict[str, Any]:
    """Numbers and verdict of promoting ``version`` of ``frequency`` over the current default."""
    import underwriting.frequency  # noqa: F401  (registers the frequency kind)
    from underwriting.errors import ModelIntegrityError

    gate = load_gate(reg)
    reg.verify(NAME, version)
    current = None
    try:
        current = reg.default(NAME)
    except ModelIntegrityError:
        current = None
    reasons = []
    impact = None
    if current is not None and current != version:
        impact = premium_impact(reg, current, version, book, seed=seed)
        s = impact["summary"]
        if abs(s["largest_change"]) > gate["max_premium_change"]:
            reasons.append(f"premium of {s['largest_entry']} moves {s['largest_change']:+.1%} "
                           f"(limit ±{gate['max_premium_change']:.0%})")
        if abs(s["median_change"]) > gate["max_median_change"]:
            reasons.append(f"median premium moves {s['median_change']:+.1%} (limit ±{gate['max_median_change']:.0%})")
    man = reg.read_manifest(NAME, version)
    cal = ((man.get("metrics") or {}).get("out_of_time") or {}).get("calibration")
    if gate["require_calibration"]:
        if cal is None:
            summ = (man.get("metrics") or {}).get("summary") or {}
            note = f" (recorded O/E {summ['oe_out_of_time']:.2f}, no interval)" if "oe_out_of_time" in summ else ""
            cal = {"recorded": False, "note": "the version records no out-of-time calibration interval" + note}
        elif not cal["interval"][0] <= 1.0 <= cal["interval"][1]:
            reasons.append(f"out-of-time O/E {cal['oe']:.2f} with {cal['level']:.0%} interval "
                           f"{cal['interval'][0]:.2f}-{cal['interval'][1]:.2f} excludes 1")
    segments = ((man.get("metrics") or {}).get("out_of_time") or {}).get("segments")
    if gate["require_segments"]:
        if not segments:
            reasons.append("the version records no out-of-time segment table (metrics.out_of_time.segments)")
        else:
            for r in segments:
                lo, hi = r["interval"]
                if not lo <= 1.0 <= hi:
                    reasons.append(f"out-of-time O/E of {r['segment']} {r['oe']:.2f} with {r['level']:.0%} interval "
                                   f"{lo:.2f}-{hi:.2f} excludes 1")
    return {"name": NAME, "from": current, "to": version, "gate": gate, "premium_impact": impact,
            "calibration": cal, "segments": segments, "passed": not reasons, "reasons": reasons}


def gate_summary(check: dict[str, Any]) -> str:
    """One line of the numbers (premium changes, calibration, limits) for messages and the history."""
    parts = []
    imp = check.get("premium_impact")
    if imp:
        s = imp["summary"]
        parts.append(f"premium change {check['from']}->{check['to']} on {s['entries']} reference entries: "
                     f"median {s['median_change']:+.1%}, p5 {s['p5_change']:+.1%}, p95 {s['p95_change']:+.1%}, "
                     f"largest {s['largest_change']:+.1%} ({s['largest_entry']})")
    cal = check.get("calibration") or {}
    if "oe" in cal:
        parts.append(f"out-of-time O/E {cal['oe']:.2f} [{cal['interval'][0]:.2f}, {cal['interval'][1]:.2f}]")
    g = check["gate"]
    segs = check.get("segments") or []
    if segs:
        parts.append("segments " + ", ".join(f"{r['segment']} {r['oe']:.2f} [{r['interval'][0]:.2f}, {r['interval'][1]:.2f}]"
                                             for r in segs))
    parts.append(f"limits: any premium ±{g['max_premium_change']:.0%}, median ±{g['max_median_change']:.0%}"
                 f"{', calibration required' if g['require_calibration'] else ''}"
                 f"{', segments inside their bands required' if g.get('require_segments') else ''}")
    return "; ".join(parts)


def who() -> str:
    """``user@host`` of the person running the command."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def gate_promotion(reg: Any, version: str, *, note: str | None = None, accept_impact: bool = False,
                   book: Any = None, seed: int = 0) -> tuple[dict[str, Any], str]:
    """Run the gate of promoting frequency ``version``; return ``(gate check, history note)`` for
    ``reg.promote`` (the numbers in the note). Everything :func:`promote_frequency` does but the promotion:
    ``underwriting promote`` runs this before it takes the service database's ledger lock, so the gate's
    quotes never hold up the service's writers.

    Refused (:class:`InputError`, exit 2, the numbers in the message) when the gate fails and
    ``accept_impact`` is not set; ``accept_impact`` requires a ``note``. An accepted impact is
    recorded in the note (the note, the numbers, who accepted, with which key) and appended to the
    version's model card (the version is re-signed: same model files).
    """
    if accept_impact and not (note and note.strip()):
        raise InputError("--accept-impact needs --note \"why\" (recorded in the signed history)", field="--note")
    reg.signer()  # no signing key: stop before any work
    check = gate_check(reg, version, book=book, seed=seed)
    numbers = gate_summary(check)
    if not check["passed"] and not accept_impact:
        raise InputError("promotion refused by the gate: " + "; ".join(check["reasons"]) + f". Numbers: {numbers}. "
                         "Promote anyway with --accept-impact --note \"why\"", field="promote")
    text = note or ""
    if not check["passed"]:
        key_id = reg.signer().key_id
        by = who()
        text = (f"IMPACT ACCEPTED by {by} (key {key_id}): {note.strip()} | refused because: "
                f"{'; '.join(check['reasons'])} | {numbers}")
        _append_card(reg, version, by, key_id, note.strip(), check, numbers)
    else:
        text = (f"{text} | gate passed: {numbers}" if text else f"gate passed: {numbers}")
    return check, text


def promote_frequency(reg: Any, version: str, *, note: str | None = None, accept_impact: bool = False,
                      book: Any = None, seed: int = 0) -> dict[str, Any]:
    """Run the gate (:func:`gate_promotion`), then promote (signed history entry with the numbers).
    Returns ``{"entry": history entry, "gate": gate check}``."""
    check, text = gate_promotion(reg, version, note=note, accept_impact=accept_impact, book=book, seed=seed)
    entry = reg.promote(NAME, version, note=text)
    return {"entry": entry, "gate": check}


def _append_card(reg: Any, version: str, by: str, key_id: str, note: str, check: dict[str, Any], numbers: str) -> None:
    """Re-publish ``version`` with a promotion section added to MODEL_CARD.md (model files unchanged)."""
    import json
    import shutil

    src = reg.path(NAME, version)
    doc = reg.verify(NAME, version)
    files = [f for f in doc["files"]]
    card = (src / "MODEL_CARD.md").read_text(encoding="utf-8") if (src / "MODEL_CARD.md").is_file() else ""
    card += (f"\n## Promotion with accepted impact\n\nAccepted by {by} (signing key {key_id}) over default "
             f"{check['from']}. Note: {note}\n\nRefused by the gate because: {'; '.join(check['reasons'])}.\n\n"
             f"Numbers: {numbers}.\n")
    keep = {k: v for k, v in doc.items() if k not in ("files", "manifest_sha256", "format", "format_version",
                                                        "name", "version", "kind")}
    with reg.stage(NAME, version, replace=True) as st:
        for f in files:
            if f == "MODEL_CARD.md":
                continue
            shutil.copyfile(src / f, st.dir / f)
        (st.dir / "MODEL_CARD.md").write_text(card, encoding="utf-8")
        st.manifest.update(json.loads(json.dumps(keep)))
        st.manifest["promotion"] = {"accepted_by": by, "key_id": key_id, "note": note, "reasons": check["reasons"],
                                    "numbers": numbers}
