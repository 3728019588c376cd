"""Regenerate the shipped models (``make models``): ``python -m underwriting.models_build [DIR]``.

Every shipped model is produced by the lifecycle pipeline (:func:`underwriting.lifecycle.training.train`)
from the shipped data, with fixed seeds, and published into the registry (``models/`` by default)
replacing the version of the same number; each is then made the default unless it already is.
Rebuilding gives files with the same SHA-256 (``manifest.json`` differs only in its ``build``
block: timestamp, git revision); ``--check`` rebuilds into a temporary folder and compares.

Shipped models (:data:`SHIPPED`):

Published versions are never rebuilt in place: when the shipped data change, the version is bumped
(``risk_scorer`` and ``survival`` 0.1.0 were built before the cohort exchanges joined the roster, 0.1.1 before
Bit Station's insider theft of 2018-03-08 joined ``incidents.csv``, which moves the synthetic book's calibration;
0.1.2 is the same pipeline on today's tables, and the older versions stay in the registry for reproducing old
quotes). Build with ``--only`` the models whose data changed: a plain build re-stages every shipped version.

* ``risk_scorer 0.1.2`` — the calibrated scorer on the calibrated synthetic book
  (4,000 exchanges, 10 years, seed 20261121), validated on the independent book (seed + 1);
* ``survival 0.1.2`` — the landmark piecewise-exponential time-to-breach model of
  :mod:`underwriting.survival.landmarks` (same book), kept as a comparison (``--frequency-model survival``);
  unpenalised like 0.1.1: on the rebuilt book the fit converges (condition number of its covariance ~9e8,
  as 0.1.1's ~1e9) with numpy's AVX-512, AVX2 and baseline code paths and OpenBLAS's SkylakeX, Haswell,
  Sandybridge and Prescott kernels, all equal within the rebuild check's tolerances, so no ridge is set;
* ``frequency 0.2.1`` — the quote's base breach frequency on REAL exchange cohorts (recorded population, no
  data-source terms; 0.1.0 and 0.2.0 stay for reproducing old quotes) with the bounded cross-validated
  experience prior strength α (:mod:`underwriting.frequency.base_build`, no randomness), made the default
  through the promotion gate's check (its verdict and numbers in the signed history note);
* ``severity_fit 0.1.0`` — the quote's severity fit of the shipped incident amounts with its bootstrap goodness of
  fit and AIC table (:mod:`underwriting.lifecycle.severity_build`; seed 0), so the first quote of a process
  loads it instead of recomputing. Not rebuilt for Bit Station (a row without an amount): the amounts it fits
  (``amounts_sha256``), its ``model.json`` and card are unchanged, but its manifest records the whole
  ``incidents.csv`` hash of its build, so ``--check`` reports that one provenance field and a plain build would
  re-sign 0.1.0 in place; build with ``--only`` until a version with new amounts is published.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

#: name -> (version, configuration) of every shipped model.
SHIPPED: dict[str, tuple[str, dict[str, Any]]] = {
    "risk_scorer": ("0.1.2", {
        "seed": 20261121,
        "data": {"horizon_years": 1.0, "synthetic": {"n_exchanges": 4000, "years": 10, "seed": 20261121}},
        "model": {"C": 0.05, "calibration": "platt", "cv": 5},
        "validation": {"method": "independent_book", "n_boot": 500},
    }),
    "survival": ("0.1.2", {
        "seed": 20261121,
        "data": {"synthetic": {"n_exchanges": 4000, "years": 10, "seed": 20261121}},
        "survival": {"horizon": 3.0, "breakpoints": [0.5, 1.0, 2.0]},
    }),
}


def build(root: str | Path | None = None, *, names: list[str] | None = None,
          configs: dict[str, tuple[str, dict]] | None = None, promote: bool = True) -> dict[str, Any]:
    """Build the shipped models into the registry ``root`` (default: ``models/`` of the checkout).

    ``configs`` overrides :data:`SHIPPED` (tests build small versions). Returns ``{name: TrainResult}``.
    """
    from underwriting.lifecycle.training import train
    from underwriting.registry import Registry

    reg = Registry(root if root is not None else _checkout_models())
    todo = configs if configs is not None else SHIPPED
    out: dict[str, Any] = {}
    if configs is None and (not names or "frequency" in names):
        from underwriting.frequency.base_build import VERSION
        from underwriting.frequency.base_build import build as build_frequency

        rep = build_frequency(reg.root, promote=False)
        gate = _promote_frequency(reg, VERSION) if promote else ""
        out["frequency"] = _Built(f"frequency {VERSION}: base model on real cohorts, "
                                  f"alpha {rep['experience_prior']['alpha']:.3f}, O/E out of time "
                                  f"{rep['out_of_time']['oe']:.2f}{gate}")
    if configs is None and (not names or "severity_fit" in names):
        from underwriting.lifecycle import severity_build

        rec = severity_build.build(reg.root, promote=promote)
        out["severity_fit"] = _Built(severity_build.summary(rec))
    for name, (version, cfg) in todo.items():
        if names and name not in names:
            continue
        res = train(None, cfg, registry=reg, name=name, version=version, replace=True)
        if promote and reg.default(name) != version:
            reg.promote(name, version, note="make models")
        out[name] = res
    return out


def _promote_frequency(reg: Any, version: str) -> str:
    """Make ``version`` of ``frequency`` the default unless it is, with the promotion gate's verdict and numbers
    (:func:`underwriting.lifecycle.gate.gate_check`: premium impact on the reference book, out-of-time
    calibration and segments) in the signed history entry's note.

    The build promotes the version it publishes even when the gate would refuse it (an intended change, e.g.
    frequency 0.2.0 over 0.1.0, issue #24); the note then says so, with the refusal reasons. Returns the text
    added to the build's summary line ("" when the version already is the default).
    """
    from underwriting.errors import ModelIntegrityError
    from underwriting.frequency.base_build import PROMOTION_NOTE
    from underwriting.lifecycle.gate import gate_check, gate_summary

    try:
        current = reg.default("frequency")
    except ModelIntegrityError:
        current = None
    if current == version:
        return ""
    check = gate_check(reg, version)
    numbers = gate_summary(check)
    if check["passed"]:
        verdict = f"gate passed: {numbers}"
    else:
        verdict = (f"the promotion gate would refuse it ({'; '.join(check['reasons'])}); promoted by the build as "
                   f"intended: {numbers}")
    reg.promote("frequency", version, note=f"{PROMOTION_NOTE} | {verdict}")
    return f"; {current} -> {version}, {'gate passed' if check['passed'] else 'GATE WOULD REFUSE (promoted by the build)'}"


class _Built:
    """Summary line of a model built outside the lifecycle trainer."""

    def __init__(self, text: str):
        self.text = text

    def summary(self) -> str:
        return self.text


def _checkout_models() -> Path:
    return Path(__file__).resolve().parent.parent / "models"


def hashed_files(root: str | Path) -> dict[str, str]:
    """``{"<name>/<version>/<file>": sha256}`` of every file a manifest lists, plus the SHA-256 of each
    manifest without its non-reproducible ``build`` block."""
    import hashlib

    from underwriting.fileio import canonical_json
    from underwriting.registry import Registry, reproducible_view

    reg = Registry(root)
    out = {}
    for n in reg.names():
        for v in reg.versions(n):
            doc = reg.verify(n, v)
            for rel, meta in doc["files"].items():
                out[f"{n}/{v}/{rel}"] = meta["sha256"]
            view = reproducible_view(doc)
            out[f"{n}/{v}/manifest.json (without build)"] = hashlib.sha256(canonical_json(view).encode()).hexdigest()
    return out


def main(argv: list[str] | None = None) -> int:
    import tempfile

    ap = argparse.ArgumentParser(prog="python -m underwriting.models_build", description=__doc__.splitlines()[0])
    ap.add_argument("root", nargs="?", help="registry folder (default: models/ of the checkout)")
    ap.add_argument("--only", action="append", choices=sorted([*SHIPPED, "frequency", "severity_fit"]),
                    help="build only this model (repeatable)")
    ap.add_argument("--check", action="store_true", help="rebuild into a temporary folder and compare every file as data (floats within their tolerance)")
    args = ap.parse_args(argv)
    root = Path(args.root) if args.root else _checkout_models()
    if args.check:
        from underwriting.lifecycle.rebuild_check import (
            ILL_CONDITIONED,
            REL_TOL,
            compare_registries,
        )

        with tempfile.TemporaryDirectory() as tmp:
            build(tmp, names=args.only)
            files, bad = compare_registries(root, tmp, names=args.only)
        for m in bad:
            print(f"DIFFERS: {m}")
        print(f"{len(files)} files compared as data: {len(files) - len({m.file for m in bad})} equal "
              f"(floats within {REL_TOL:g} relative; {len(ILL_CONDITIONED)} ill-conditioned number pattern(s) with "
              "their own tolerance, see underwriting/lifecycle/rebuild_check.py)")
        return 1 if bad else 0
    for res in build(root, names=args.only).values():
        print(res.summary())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
