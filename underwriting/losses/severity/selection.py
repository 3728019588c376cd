"""Model selection of severity families by AIC."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from underwriting.errors import InputError
from underwriting.losses.severity.base import ArrayLike
from underwriting.losses.severity.fitting import SeverityFit, fit_severity


@dataclass(frozen=True)
class SeveritySelection:
    """Fits of several families ranked by AIC (best first)."""

    fits: tuple[SeverityFit, ...]

    @property
    def best(self) -> SeverityFit:
        """The fit with the lowest AIC."""
        return self.fits[0]

    def table(self) -> list[dict[str, Any]]:
        """One plain-data row per family: AIC, BIC, delta-AIC, Akaike weight, KS, AD."""
        aics = np.array([f.aic for f in self.fits])
        d = aics - aics.min()
        w = np.exp(-d / 2)
        w /= w.sum()
        return [{**f.summary(), "delta_aic": float(di), "akaike_weight": float(wi)}
                for f, di, wi in zip(self.fits, d, w, strict=True)]


def select_severity(amounts: ArrayLike, threshold: float = 0.0,
                    families: Sequence[str] = ("lognormal", "lomax", "weibull", "gamma", "spliced"),
                    **kwargs: Any) -> SeveritySelection:
    """Fit each family (left-truncated MLE) and rank by AIC; families that fail are skipped."""
    fits = []
    errors = []
    for fam in families:
        try:
            fits.append(fit_severity(amounts, threshold, fam, **kwargs))
        except InputError as exc:
            if exc.field in ("amounts", "threshold"):
                raise
            errors.append(f"{fam}: {exc}")
    if not fits:
        raise InputError("no family could be fitted: " + "; ".join(errors), field="family")
    return SeveritySelection(tuple(sorted(fits, key=lambda f: f.aic)))

