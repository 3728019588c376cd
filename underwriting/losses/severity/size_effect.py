"""Does breach severity grow with exchange size? A likelihood-ratio test on the real losses.

The quote's severity is one left-truncated distribution for every exchange (capped by the
exchange's exposure, see ``exposure.py``). This module tests, on the bundled losses, whether a
lognormal whose log-scale location grows with the exchange's size,

    log X_i ~ Normal(a + b * s_i, sigma^2), observed only when X_i >= t,

fits better than the constant-location lognormal (b = 0). The decision rule is fixed in advance:
the size effect is supported only if the likelihood-ratio test rejects b = 0 at
:data:`DECISION_ALPHA` (chi-squared with one degree of freedom).

Size ``s_i`` is the base frequency model's covariate: the mid-rank percentile of
``log1p(volume_24h_usd)`` among the active centralised exchanges of a cohort snapshot
(``datasets/cohorts.csv``; 0 = smallest, 1 = largest), taken from the snapshot nearest in time to
the incident among those that list the exchange. ``covariate="log_volume"`` uses
``log1p(volume_24h_usd)`` (natural log of USD per day) instead.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, stats

from underwriting.datasets.cohorts import SNAPSHOTS, cohort_followup, load_cohorts
from underwriting.datasets.loaders import load_exchanges, load_incidents
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, REPORTING_THRESHOLD_USD
from underwriting.errors import InputError
from underwriting.losses.severity.fitting import _hessian, fit_severity

#: Significance level of the pre-stated decision rule: use the size effect only if p < 0.05.
DECISION_ALPHA = 0.05
#: Size covariates this module can use.
COVARIATES = ("volume_pct", "log_volume")


@dataclass(frozen=True)
class SizeEffectResult:
    """Likelihood-ratio test of a size effect in a left-truncated lognormal (immutable).

    Attributes
    ----------
    n : int
        Number of losses fitted.
    threshold : float
        Left-truncation point (USD).
    covariate : str
        Name of the size covariate.
    a, b, sigma : float
        Maximum-likelihood estimates of the model with size: mu = a + b * size (log USD),
        sigma (log USD).
    se_b : float
        Standard error of ``b`` from the observed information (numerical Hessian).
    b_interval : tuple of float
        Wald 95% interval ``b +- 1.959964 se_b``.
    mu0, sigma0 : float
        Estimates of the constant-location model (log USD).
    loglik0, loglik1 : float
        Maximised truncated log-likelihoods without and with size.
    lr : float
        Likelihood-ratio statistic ``2 (loglik1 - loglik0)``.
    p_value : float
        Upper tail of chi-squared(1) at ``lr``.
    alpha : float
        Level of the decision rule.
    """

    n: int
    threshold: float
    covariate: str
    a: float
    b: float
    sigma: float
    se_b: float
    b_interval: tuple[float, float]
    mu0: float
    sigma0: float
    loglik0: float
    loglik1: float
    lr: float
    p_value: float
    alpha: float = DECISION_ALPHA

    @property
    def supported(self) -> bool:
        """True when the pre-stated rule (p < alpha) says severity depends on size."""
        return self.p_value < self.alpha

    def summary(self) -> dict[str, Any]:
        """Plain-data summary (JSON-ready)."""
        return {"n": self.n, "threshold": self.threshold, "covariate": self.covariate, "a": self.a,
                "b": self.b, "sigma": self.sigma, "se_b": self.se_b, "b_interval": list(self.b_interval),
                "mu0": self.mu0, "sigma0": self.sigma0, "loglik0": self.loglik0, "loglik1": self.loglik1,
                "lr": self.lr, "p_value": self.p_value, "alpha": self.alpha, "supported": self.supported}


def truncated_lognormal_loglik(amounts: np.ndarray, mu: np.ndarray | float, sigma: float,
                               threshold: float) -> float:
    """Log-likelihood of lognormal amounts observed only at or above ``threshold``.

    Parameters
    ----------
    amounts : array of float
        Losses (USD), all ``>= threshold``.
    mu : float or array of float
        Log-scale location of each loss (log USD).
    sigma : float
        Log-scale spread (log USD), positive.
    threshold : float
        Left-truncation point (USD); 0 for none.

    Returns
    -------
    float
        ``sum log f(x_i; mu_i, sigma) - sum log S(t; mu_i, sigma)``.
    """
    lx = np.log(amounts)
    mu = np.broadcast_to(np.asarray(mu, dtype=float), lx.shape)
    ll = float(np.sum(stats.norm.logpdf(lx, mu, sigma) - lx))
    if threshold > 0:
        ll -= float(np.sum(stats.norm.logsf(math.log(threshold), mu, sigma)))
    return ll


def fit_size_effect(amounts: Any, size: Any, threshold: float = REPORTING_THRESHOLD_USD, *,
                    covariate: str = "size", alpha: float = DECISION_ALPHA) -> SizeEffectResult:
    """Fit mu = a + b * size against constant mu by left-truncated maximum likelihood.

    The constant-location fit is the project's :func:`~underwriting.losses.severity.fit_severity`
    (lognormal); the model with size maximises the same likelihood with Nelder-Mead polished by
    BFGS, started from the constant fit (b = 0) and from the untruncated least-squares line.

    Parameters
    ----------
    amounts : array of float
        Losses (USD), all ``>= threshold``.
    size : array of float
        Size covariate of each loss (same length; any finite scale).
    threshold : float
        Left-truncation point (USD), 100,000 by default (the quote's).
    covariate : str
        Name recorded in the result.
    alpha : float
        Level of the decision rule.

    Returns
    -------
    SizeEffectResult
    """
    x = np.asarray(amounts, dtype=float).reshape(-1)
    s = np.asarray(size, dtype=float).reshape(-1)
    if s.shape != x.shape:
        raise InputError(f"size has {s.size} values for {x.size} amounts", field="size")
    if not np.all(np.isfinite(s)):
        raise InputError("size values must be finite", field="size")
    if np.ptp(s) == 0:
        raise InputError("size does not vary: no size effect can be estimated", field="size")
    null = fit_severity(x, threshold, "lognormal")  # validates amounts and threshold
    t = null.threshold
    mu0, sigma0 = null.params["mu"], null.params["sigma"]
    centre, spread = float(np.mean(s)), float(np.std(s))
    sc = (s - centre) / spread  # standardised for the optimiser; mapped back below

    def nll(z: np.ndarray) -> float:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            v = -truncated_lognormal_loglik(x, z[0] + z[1] * sc, math.exp(z[2]), t)
        return v if math.isfinite(v) else math.inf

    ols = np.polyfit(sc, np.log(x), 1)
    resid = np.log(x) - np.polyval(ols, sc)
    starts = [np.array([mu0, 0.0, math.log(sigma0)]),
              np.array([ols[1], ols[0], math.log(max(float(np.std(resid)), 1e-3))])]
    best = None
    for z0 in starts:
        r = optimize.minimize(nll, z0, method="Nelder-Mead",
                              options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 20000, "maxfev": 40000})
        r2 = optimize.minimize(nll, r.x, method="BFGS", options={"gtol": 1e-9})
        z = r2.x if math.isfinite(r2.fun) and r2.fun <= r.fun else r.x
        if best is None or nll(z) < nll(best):
            best = z
    loglik1 = -nll(best)
    loglik0 = null.loglik
    lr = 2.0 * (loglik1 - loglik0)
    if lr < -1e-6 * max(1.0, abs(loglik0)):
        raise RuntimeError(f"the model with size fits worse than the constant model (LR {lr:.3g}): optimiser failure")
    lr = max(lr, 0.0)
    cov = np.linalg.inv(_hessian(nll, best))
    b = float(best[1] / spread)
    se_b = float(math.sqrt(cov[1, 1]) / spread) if cov[1, 1] > 0 else math.nan
    a = float(best[0] - best[1] * centre / spread)
    z975 = float(stats.norm.ppf(0.975))
    return SizeEffectResult(n=int(x.size), threshold=t, covariate=covariate, a=a, b=b,
                            sigma=float(math.exp(best[2])), se_b=se_b,
                            b_interval=(b - z975 * se_b, b + z975 * se_b), mu0=float(mu0), sigma0=float(sigma0),
                            loglik0=float(loglik0), loglik1=float(loglik1), lr=float(lr),
                            p_value=float(stats.chi2.sf(lr, 1)), alpha=float(alpha))


def matched_losses(threshold: float = REPORTING_THRESHOLD_USD, *, incidents: Any = None, cohorts: Any = None,
                   exchanges: Any = None) -> Any:
    """Breach losses at or above ``threshold`` joined to the exchange's size in a cohort snapshot.

    Parameters
    ----------
    threshold : float
        Smallest amount kept (USD).
    incidents, cohorts, exchanges : DataFrame, optional
        Loaded tables; the shipped ones if omitted.

    Returns
    -------
    pandas.DataFrame
        One row per loss whose exchange is in an active centralised cohort of some snapshot:
        ``incident_id``, ``exchange_id``, ``incident_date``, ``amount_usd``, ``snapshot`` (the one
        nearest in time to the incident), ``volume_24h_usd``, ``volume_pct`` (within-snapshot
        mid-rank percentile of ``log1p`` volume, as the base frequency model) and ``log_volume``
        (``log1p`` of USD per day). Losses at exchanges on no list are dropped.
    """
    import pandas as pd

    inc = load_incidents() if incidents is None else incidents
    coh = load_cohorts() if cohorts is None else cohorts
    ex = load_exchanges() if exchanges is None else exchanges
    sizes = []
    for snap in SNAPSHOTS:
        f = cohort_followup(snap, cohorts=coh, exchanges=ex, incidents=inc, exits=False)  # volumes only
        r = np.log1p(f["volume_24h_usd"].to_numpy(dtype=float))
        sizes.append(pd.DataFrame({
            "exchange_id": f["exchange_id"].astype(str).to_numpy(), "snapshot": snap,
            "snapshot_date": pd.Timestamp(SNAPSHOTS[snap]),
            "volume_24h_usd": f["volume_24h_usd"].to_numpy(dtype=float),
            "volume_pct": (pd.Series(r).rank(method="average").to_numpy() - 0.5) / len(r),
            "log_volume": r}))
    size = pd.concat(sizes, ignore_index=True)
    br = inc[inc["event_type"].astype(str).isin(BREACH_EVENT_TYPES) & (inc["amount_usd"] >= threshold)]
    br = br[["incident_id", "exchange_id", "incident_date", "amount_usd"]].astype({"exchange_id": str})
    m = br.merge(size, on="exchange_id", how="inner")
    m["gap_days"] = (m["incident_date"] - m["snapshot_date"]).abs().dt.days
    m = m.sort_values(["incident_id", "gap_days", "snapshot"]).drop_duplicates("incident_id", keep="first")
    cols = ["incident_id", "exchange_id", "incident_date", "amount_usd", "snapshot", "volume_24h_usd",
            "volume_pct", "log_volume"]
    return m.sort_values(["incident_date", "incident_id"])[cols].reset_index(drop=True)


def size_effect_on_incidents(covariate: str = "volume_pct", threshold: float = REPORTING_THRESHOLD_USD,
                             **tables: Any) -> tuple[SizeEffectResult, Any]:
    """The test on the bundled (or given) tables: returns the result and the matched losses.

    Parameters
    ----------
    covariate : {"volume_pct", "log_volume"}
        Size covariate (``volume_pct`` is the pre-stated primary analysis).
    threshold : float
        Left truncation and smallest amount kept (USD).
    **tables
        ``incidents``, ``cohorts``, ``exchanges`` DataFrames passed to :func:`matched_losses`.
    """
    if covariate not in COVARIATES:
        raise InputError(f"unknown size covariate {covariate!r}; choose from {', '.join(COVARIATES)}",
                         field="covariate")
    m = matched_losses(threshold, **tables)
    res = fit_size_effect(m["amount_usd"].to_numpy(), m[covariate].to_numpy(), threshold, covariate=covariate)
    return res, m


def format_row(res: SizeEffectResult) -> str:
    """The result as the markdown table row printed in ``docs/pricing.md``."""
    lo, hi = res.b_interval
    return (f"| {res.covariate} | {res.n} | {res.b:.3f} | {res.se_b:.3f} | [{lo:.3f}, {hi:.3f}] | "
            f"{res.loglik0:.2f} | {res.loglik1:.2f} | {res.lr:.3f} | {res.p_value:.3f} | "
            f"{'yes' if res.supported else 'no'} |")
