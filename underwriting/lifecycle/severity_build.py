"""Compute the quote's severity record (fit, bootstrap goodness of fit, AIC table) and publish it in the registry.

``python -m underwriting.models_build --only severity_fit`` (part of ``make models``) fits the quote's severity to
the shipped incident amounts exactly as the quote does (:func:`underwriting.quote.calibration.loss_calibration`),
runs the parametric bootstrap and the AIC ranking of :func:`underwriting.quote.defence.compute_gof`, and
publishes the result as ``models/severity_fit/<VERSION>/model.json``
(:class:`~underwriting.losses.severity.record.SeverityRecord`) with a signed manifest and a model card.
The quote then loads and checks it instead of recomputing (issue #29: the first quote in a process).
No randomness beyond the bootstrap's fixed seed: a rebuild gives the same bytes on the same libraries.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from underwriting.losses.severity.record import NAME, SeverityRecord

#: The published version. Published versions are never rewritten: new data or settings get a new number.
VERSION = "0.1.1"
#: 0.1.0 stays for reproducing old quotes; 0.1.1 is the same fit (same amounts, ``model.json`` equal) built on today's
#: ``incidents.csv``, which gained Bit Station's insider theft of 2018-03-08 (a row without an amount): the manifest
#: records the file's hash, so the data change needs a new version rather than a re-signed 0.1.0.
PROMOTION_NOTE = ("severity fit of the shipped incident amounts with its bootstrap goodness of fit and AIC table, "
                  "computed at build instead of in the first quote of each process (issue #29); rebuilt on "
                  "incidents.csv with Bit Station's row (no amount: the fit and its record are unchanged)")


def _files_sha256() -> dict[str, str]:
    from underwriting.resources import dataset_path

    return {f: hashlib.sha256(dataset_path(f).read_bytes()).hexdigest() for f in ("incidents.csv",)}


def compute() -> SeverityRecord:
    """The record of the quote's severity fit on the shipped data (about 1.5 s: 200 refits and 4 families)."""
    from underwriting.quote.calibration import loss_calibration
    from underwriting.quote.defence import GOF_BOOTSTRAP, SELECTION_FAMILIES, compute_gof

    fit = loss_calibration().severity_fit
    boot, rows = compute_gof(fit)
    return SeverityRecord.from_fit(fit, boot, rows, n_boot=GOF_BOOTSTRAP, families=SELECTION_FAMILIES)


def _card(rec: SeverityRecord) -> str:
    g = rec.gof
    params = ", ".join(f"{k} = {v:.6g}" for k, v in rec.parameters.items())
    table = "\n".join(f"| {r['family']} | {r['aic']:.2f} | {r['delta_aic']:.2f} | {r['akaike_weight']:.3f} |"
                      for r in rec.selection)
    return f"""# Model card: severity_fit {VERSION}

**What it is.** The quote's single-loss severity (ground up, USD) fitted by left-truncated maximum likelihood
to the breach amounts of the shipped public incident table at or above the reporting threshold, with its
parametric-bootstrap goodness of fit and the AIC ranking of the candidate families. These are properties of
the shipped data, so they are computed once here; the quote refits the (cheap) maximum likelihood itself and
uses this record only when it is the record of that very fit (same amounts by SHA-256, threshold, family,
parameters and AIC, to the last bit; same bootstrap and selection settings), else it recomputes.

**Data (REAL).** `incidents.csv` breaches, {rec.n} amounts ≥ USD {rec.threshold:,.0f}; amounts SHA-256
`{rec.amounts_sha256[:16]}…`.

**Fit.** {rec.family}: {params}; AIC {rec.aic:.2f}.

**Goodness of fit.** Anderson-Darling A² = {g['ad_statistic']:.4f} (bootstrap p = {g['ad_pvalue']:.3f}),
Kolmogorov-Smirnov D = {g['ks_statistic']:.4f} (bootstrap p = {g['ks_pvalue']:.3f}); {g['n_boot']} of
{rec.n_boot_requested} parametric-bootstrap samples refitted, seed {g['seed']}.

**Families by AIC.**

| family | AIC | ΔAIC | Akaike weight |
|---|---:|---:|---:|
{table}

**Limitations.** Public incident amounts are reported in USD at the time of the loss, with gaps; the quote's
family is lognormal by decision and need not rank first (the table says so openly). Rebuild (new version) when
the incident table changes: the quote will otherwise recompute on every first quote of a process.
"""


def build(root: str | Path | None = None, *, promote: bool = True) -> SeverityRecord:
    """Compute and publish ``severity`` :data:`VERSION` into the registry ``root`` (default ``models/``)."""
    from underwriting.registry import Registry

    if root is None:
        root = Path(__file__).resolve().parents[2] / "models"
    reg = Registry(root)
    rec = compute()
    with reg.stage(NAME, VERSION, replace=True) as st:
        (st.dir / "model.json").write_text(json.dumps(rec.to_dict(), indent=1, sort_keys=True) + "\n",
                                           encoding="utf-8")
        (st.dir / "MODEL_CARD.md").write_text(_card(rec), encoding="utf-8")
        st.manifest.update({
            "seed": int(rec.gof["seed"]),
            "config": {"n_boot": rec.n_boot_requested, "families": list(rec.selection_families)},
            "data": {"description": "REAL: breach amounts of the shipped public incident table at or above the "
                                    "reporting threshold",
                     "rows": rec.n, "amounts_sha256": rec.amounts_sha256, "files_sha256": _files_sha256(),
                     "parts": {"real": ["every amount"], "synthetic": []}},
            "metrics": {"summary": {"aic": rec.aic, "ad_pvalue": rec.gof["ad_pvalue"],
                                    "ks_pvalue": rec.gof["ks_pvalue"]}},
        })
    if promote and reg.default(NAME) != VERSION:
        reg.promote(NAME, VERSION, note=PROMOTION_NOTE)
    return rec


def summary(rec: SeverityRecord) -> str:
    """One line for ``make models``."""
    return (f"severity_fit {VERSION}: {rec.family} {rec.parameters}, AD p {rec.gof['ad_pvalue']:.3f}, "
            f"KS p {rec.gof['ks_pvalue']:.3f} ({rec.gof['n_boot']} refits)")

