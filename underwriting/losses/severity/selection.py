"""Model selection of severity families by AIC."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from underwriting.errors import InputError
from underwriting.losses.severity.base import ArrayLike
from underwriting.losses.severity.fitting import SeverityFit, fit_severity
from underwriting.losses.severity.gof import ad_ks_statistics
from underwriting.losses.severity.registry import family_names


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
                    families: Sequence[str] | None = None,
                    **kwargs: Any) -> SeveritySelection:
    """Fit each family (left-truncated MLE) and rank by AIC; families that fail are skipped.

    ``families`` defaults to every registered family marked for selection
    (:func:`~underwriting.losses.severity.registry.family_names`: lognormal, Lomax, Weibull, gamma, spliced).
    """
    if families is None:
        families = family_names(selection=True)
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



@dataclass(frozen=True)
class GofBootstrap:
    """Parametric-bootstrap goodness of fit of one fitted family (seeded, reproducible).

    Attributes
    ----------
    ad_statistic, ks_statistic : float
        Observed Anderson-Darling :math:`A^2` and KS :math:`D` (threshold handled).
    ad_pvalue, ks_pvalue : float
        :math:`(1 + \\#\\{T_b \\ge T\\})/(1 + B)` over ``n_boot`` samples drawn from the fit
        above the threshold and refitted, so the estimation of the parameters is accounted for.
    n_boot : int
        Bootstrap samples that refitted successfully.
    seed : int
    """

    ad_statistic: float
    ks_statistic: float
    ad_pvalue: float
    ks_pvalue: float
    n_boot: int
    seed: int


def gof_bootstrap(fit: SeverityFit, n_boot: int = 200, random_state: int = 0) -> GofBootstrap:
    """Parametric-bootstrap p-values of the A² and KS statistics of ``fit``.

    Parameters
    ----------
    fit : SeverityFit
        A fit from :func:`~underwriting.losses.severity.fitting.fit_severity` (it keeps its amounts).
    n_boot : int
        Number of bootstrap samples (each one a refit).
    random_state : int
        Seed of the numpy Generator.
    """
    if int(n_boot) < 10:
        raise InputError("need at least 10 bootstrap samples", field="n_boot")
    rng = np.random.default_rng(int(random_state))
    sev, t, n = fit.severity, fit.threshold, fit.n
    ad0, ks0 = ad_ks_statistics(sev, fit._amounts, t)
    s_t = float(sev.sf(t)) if t > 0 else 1.0
    ads, kss = [], []
    for _ in range(int(n_boot)):
        # inverse transform above the threshold
        v = rng.random(n)
        sample = np.asarray(sev.ppf(1.0 - v * s_t), dtype=float)
        sample = np.maximum(sample, t)
        if not np.all(np.isfinite(sample)) or np.any(sample <= 0):
            continue
        try:
            refit = fit_severity(sample, t, fit.family, splice_at=fit._splice_at, _gof=False,
                                 _start=fit._z, _cov=False)
        except InputError:
            continue
        a, k = ad_ks_statistics(refit.severity, sample, t)
        ads.append(a)
        kss.append(k)
    b = len(ads)
    if b == 0:
        raise InputError("no bootstrap sample could be refitted", field="n_boot")
    return GofBootstrap(ad0, ks0, (1 + sum(a >= ad0 for a in ads)) / (1 + b),
                        (1 + sum(k >= ks0 for k in kss)) / (1 + b), b, int(random_state))
