"""The stored severity record: the quote's severity fit with its bootstrap goodness of fit and AIC table.

The severity fit of the shipped incident amounts, its parametric-bootstrap goodness of fit (200 refitted
samples) and the AIC ranking of the families are properties of the shipped data, not of a quote: they are
computed once at model build (``python -m underwriting.models_build``, :mod:`underwriting.lifecycle.severity_build`)
and published as the signed registry model ``severity_fit`` (plain JSON, ``model.json``; not ``severity``: a
quote's ``versions["severity"]`` already names the fit itself, ``family@data-sha``, and every ``versions`` key
that names a registry kind is read as a registry version by reproduction). A quote loads it
(signature and hashes checked by the registry) and uses it only when it is the record *of the fit in hand*
(:meth:`SeverityRecord.matches`): the same amounts (SHA-256 of their float64 bytes), threshold, family,
parameters and AIC, to the last bit, and the same bootstrap and selection settings. Anything else is
recomputed.

Importing this module registers the ``severity_fit`` model kind with the registry.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from underwriting.registry.kinds import register_kind

__all__ = ["NAME", "SeverityRecord", "amounts_sha256", "load_severity_record"]

#: The registry name (and kind) of the stored record.
NAME = "severity_fit"
#: Keys of one row of the AIC table.
SELECTION_KEYS = ("family", "aic", "delta_aic", "akaike_weight")
_GOF_KEYS = ("ad_statistic", "ks_statistic", "ad_pvalue", "ks_pvalue", "n_boot", "seed")


def amounts_sha256(amounts: Any) -> str:
    """SHA-256 (hex) of the amounts as little-endian float64 bytes, in their order (USD)."""
    import numpy as np

    return hashlib.sha256(np.ascontiguousarray(amounts, dtype="<f8").tobytes()).hexdigest()


@dataclass(frozen=True)
class SeverityRecord:
    """One severity fit with its goodness of fit, as stored in the registry.

    Attributes
    ----------
    family : str
        Fitted family (``lognormal``).
    threshold : float
        Reporting threshold of the left-truncated fit (USD).
    n : int
        Number of amounts fitted.
    amounts_sha256 : str
        :func:`amounts_sha256` of the amounts fitted.
    parameters : dict of str to float
        Fitted parameters (USD scale: ``mu`` and ``sigma`` of log-USD for the lognormal).
    aic : float
        Akaike information criterion of the fit.
    gof : dict
        The bootstrap goodness of fit: ``ad_statistic``, ``ks_statistic``, ``ad_pvalue``, ``ks_pvalue``,
        ``n_boot`` (samples refitted) and ``seed``.
    n_boot_requested : int
        Bootstrap samples drawn.
    selection_families : tuple of str
        Families ranked by AIC.
    selection : tuple of dict
        The AIC table (``family``, ``aic``, ``delta_aic``, ``akaike_weight``), best first.
    """

    family: str
    threshold: float
    n: int
    amounts_sha256: str
    parameters: dict[str, float]
    aic: float
    gof: dict[str, Any]
    n_boot_requested: int
    selection_families: tuple[str, ...]
    selection: tuple[dict[str, Any], ...]

    @classmethod
    def from_fit(cls, fit: Any, boot: Any, rows: list[dict[str, Any]], *, n_boot: int,
                 families: tuple[str, ...]) -> SeverityRecord:
        """The record of ``fit`` (a :class:`~underwriting.losses.severity.SeverityFit`) with its bootstrap
        result ``boot`` (:class:`~underwriting.losses.severity.GofBootstrap`) and AIC table ``rows``."""
        return cls(family=str(fit.family), threshold=float(fit.threshold), n=int(fit.n),
                   amounts_sha256=amounts_sha256(fit._amounts),
                   parameters={k: float(v) for k, v in fit.params.items()}, aic=float(fit.aic),
                   gof={k: (int(getattr(boot, k)) if k in ("n_boot", "seed") else float(getattr(boot, k)))
                        for k in _GOF_KEYS},
                   n_boot_requested=int(n_boot), selection_families=tuple(families),
                   selection=tuple({k: (str(r[k]) if k == "family" else float(r[k])) for k in SELECTION_KEYS}
                                   for r in rows))

    def matches(self, fit: Any, *, n_boot: int, seed: int, families: tuple[str, ...]) -> bool:
        """Whether this is the record of ``fit`` computed with these settings (exact comparison)."""
        try:
            params = {k: float(v) for k, v in fit.params.items()}
            return (self.family == fit.family and self.threshold == float(fit.threshold) and self.n == int(fit.n)
                    and self.parameters == params and self.aic == float(fit.aic)
                    and self.n_boot_requested == int(n_boot) and int(self.gof["seed"]) == int(seed)
                    and self.selection_families == tuple(families)
                    and self.amounts_sha256 == amounts_sha256(fit._amounts))
        except (AttributeError, TypeError, ValueError):
            return False

    def gof_bootstrap(self) -> Any:
        """The stored bootstrap result as a :class:`~underwriting.losses.severity.GofBootstrap`."""
        from underwriting.losses.severity.selection import GofBootstrap

        return GofBootstrap(*(self.gof[k] for k in _GOF_KEYS))

    def selection_rows(self) -> list[dict[str, Any]]:
        """The AIC table as fresh dicts (callers may change them)."""
        return [dict(r) for r in self.selection]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (floats written with ``repr``, so they read back to the same bits)."""
        return {"format": "severity-record", "format_version": 1, "family": self.family,
                "threshold": self.threshold, "n": self.n, "amounts_sha256": self.amounts_sha256,
                "parameters": dict(self.parameters), "aic": self.aic, "gof": dict(self.gof),
                "n_boot_requested": self.n_boot_requested, "selection_families": list(self.selection_families),
                "selection": [dict(r) for r in self.selection]}

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> SeverityRecord:
        """Read :meth:`to_dict`'s form; a malformed document is a :class:`ModelIntegrityError`."""
        from underwriting.errors import ModelIntegrityError

        try:
            if doc.get("format") != "severity-record" or doc.get("format_version") != 1:
                raise ValueError("unknown format")
            rec = cls(family=str(doc["family"]), threshold=float(doc["threshold"]), n=int(doc["n"]),
                      amounts_sha256=str(doc["amounts_sha256"]),
                      parameters={str(k): float(v) for k, v in doc["parameters"].items()}, aic=float(doc["aic"]),
                      gof={k: (int(doc["gof"][k]) if k in ("n_boot", "seed") else float(doc["gof"][k]))
                           for k in _GOF_KEYS},
                      n_boot_requested=int(doc["n_boot_requested"]),
                      selection_families=tuple(str(f) for f in doc["selection_families"]),
                      selection=tuple({k: (str(r[k]) if k == "family" else float(r[k])) for k in SELECTION_KEYS}
                                      for r in doc["selection"]))
            floats = [rec.threshold, rec.aic, *rec.parameters.values(),
                      *(rec.gof[k] for k in _GOF_KEYS if k not in ("n_boot", "seed"))]
            if not all(math.isfinite(v) for v in floats) or rec.n <= 0:
                raise ValueError("non-finite or empty")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelIntegrityError(f"severity record: malformed model.json ({exc}): refused") from None
        return rec


def load_severity_record(folder: str | Path) -> SeverityRecord:
    """Registry loader: read ``model.json`` of a verified version folder (plain JSON, no code)."""
    return SeverityRecord.from_dict(json.loads((Path(folder) / "model.json").read_text(encoding="utf-8")))


register_kind(NAME, load_severity_record,
              "severity fit of the shipped incident amounts with its bootstrap goodness of fit (model.json)")
