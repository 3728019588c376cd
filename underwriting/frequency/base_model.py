"""Real-data base breach frequency: a Poisson regression on exchange cohorts (piecewise exponential).

The base model is fitted on the exchanges alive on two dated aggregator lists (CoinPaprika
2019-09-07, CryptoCompare 2020-12-10; :mod:`underwriting.datasets.cohorts`), followed to
closure or to the data cut-off with every breach counted (recurrent events). Follow-up is cut
into calendar pieces (calendar years, and the second snapshot date where covariates are
refreshed); within a piece the breach hazard is constant, so breach counts are Poisson with the
piece's exposure as offset: a piecewise-exponential proportional-hazards model fitted as a
Poisson GLM with log link::

    log E[breaches] = log(exposure_years) + x' beta

Covariates (the *covariate spec*, stored with the fitted model)

``volume_pct``
    Size: percentile of ``log1p(volume_24h_usd)`` within the reference list (0 = smallest,
    1 = largest). Reported volumes include wash trading, which inflates some small venues by
    orders of magnitude; a rank keeps only the ordering, so no single inflated figure can drive
    the fit. A missing volume is never zero: its rate is averaged over the reference list's
    volume distribution (the expected rate of an exchange of unknown size).
``age`` (not fitted)
    Launch dates exist only for exchanges on the project's roster, and that roster was assembled
    outward from incidents: whether an exchange's age is known depends on whether it was hacked
    (24 of the cohorts' 27 breaches fall in the 15% of exposure with a known launch date). No
    age term can be estimated from these data without that bias, so the base model carries none
    (``docs/frequency_validation.md`` gives the numbers); ``age_years`` is accepted and reported
    but does not enter the rate.
``offshore``, ``jurisdiction_unknown``
    Jurisdiction group (:func:`jurisdiction_group`): licensed regimes (:data:`LICENSED`: JP, US,
    GB, SG, HK, KR, CA, AU, CH and the EU/EEA) are the reference; other known countries are
    ``offshore``; a blank country is ``jurisdiction_unknown``. At fit time the country is
    CryptoCompare's (an aggregator field, independent of breaches), never the roster's.
``security``, ``grade_missing``
    CryptoCompare Security points (0-10 scale in its benchmark), centred at
    :data:`SECURITY_CENTRE` and divided by :data:`SECURITY_SCALE`; ``grade_missing`` = 1 when the
    exchange has no CryptoCompare grade at the piece start (always before 2020-12-10, and for a
    submission).
``trend``
    Calendar time (years from :data:`TREND_ORIGIN`) at the piece midpoint, when the fitted model
    keeps a trend (``trend="auto"`` keeps it only when the likelihood-ratio test rejects a flat
    rate at ``trend_alpha``). Forecasts hold the trend at its value at the end of the data
    (:attr:`BaseFrequencyModel.data_end_`): never extrapolated beyond the data.

Estimation is Newton-Raphson on the Poisson log-likelihood; for the canonical log link the
observed and expected information coincide, ``I = X' diag(mu) X``, and the covariance of the
estimates is ``I^-1`` (Wald intervals for every effect). Prediction intervals use the delta
method on the log rate.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from underwriting.errors import InputError
from underwriting.frequency.base_design import (  # noqa: F401 - RAW_COLUMNS, RawCovariates, jurisdiction_group re-exported
    BASE_TERMS,
    COVARIATE_TERMS,
    LICENSED,
    RAW_COLUMNS,
    SECURITY_CENTRE,
    SECURITY_SCALE,
    TREND_ORIGIN,
    RawCovariates,
    design,
    fit_poisson,
    jurisdiction_group,
)
from underwriting.frequency.base_panel import submission_covariates  # noqa: F401 - re-exported (quote frequency)
from underwriting.frequency.base_predict import (  # noqa: F401 - norm_quantile re-exported
    BaseRatePrediction,
    FrequencyEstimator,
    norm_quantile,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MODEL_FORMAT = "underwriting.frequency.base_model/1"


# --------------------------------------------------------------------------- the estimator


class BaseFrequencyModel(BaseRatePrediction, FrequencyEstimator):
    """Annual breach rate of an exchange from size, jurisdiction, security grade and calendar time.

    Parameters
    ----------
    trend : {"auto", True, False}
        Calendar trend in the log rate. ``"auto"`` keeps it when the likelihood-ratio test of a
        flat rate has p < ``trend_alpha``.
    trend_alpha : float
        Level of that test.
    covariates : tuple of str
        Covariate groups of :data:`COVARIATE_TERMS` to fit (all by default; a reduced model for
        short follow-up, e.g. ``("volume",)``).
    level : float
        Default coverage of :meth:`predict_interval` and of ``effects_``.

    Attributes (after ``fit``)
    --------------------------
    terms_ : list of str
    coef_ : pandas.Series
        Log-rate coefficients by term.
    cov_ : pandas.DataFrame
        Covariance of ``coef_`` (inverse observed information).
    effects_ : pandas.DataFrame
        Per term: ``coef``, ``se``, ``rate_ratio`` (``exp(coef)``), ``lo``, ``hi`` (Wald,
        ``level``), ``z``, ``p``.
    trend_test_ : dict
        Likelihood-ratio test of the calendar trend: ``coef``, ``lr``, ``p``, ``kept``.
    reference_log_volume_ : ndarray
        Sorted ``log1p`` volumes (USD per day) of the reference list used to rank new volumes.
    data_end_ : float
        Calendar time (decimal year) of the end of the data; the trend is held there.
    loglik_, n_obs_, events_, exposure_years_, fingerprint_ : fit summaries.
    """

    def __init__(self, trend: str | bool = "auto", trend_alpha: float = 0.05, level: float = 0.9,
                 covariates: tuple[str, ...] = ("volume", "jurisdiction", "grade")):
        self.trend = trend
        self.trend_alpha = trend_alpha
        self.level = level
        self.covariates = covariates

    @property
    def unknown_as_offshore(self) -> bool:
        """True when the model has ``offshore`` but no ``jurisdiction_unknown`` term: a blank country is
        then priced as offshore (never below a known offshore country)."""
        terms = {t for g in self.covariates for t in COVARIATE_TERMS.get(g, ())}
        return "offshore" in terms and "jurisdiction_unknown" not in terms

    def _columns(self, trend: bool) -> list[int]:
        keep = {"intercept"} | {t for g in self.covariates for t in COVARIATE_TERMS[g]}
        idx = [i for i, t in enumerate(BASE_TERMS) if t in keep]
        return idx + ([len(BASE_TERMS)] if trend else [])

    # ---------------------------------------------------------------- fit
    def fit(self, X: pd.DataFrame, y: Any, *, reference_volume_usd: Any | None = None) -> BaseFrequencyModel:
        """Fit on piecewise rows.

        Parameters
        ----------
        X : DataFrame
            One row per exchange x piece with :data:`RAW_COLUMNS`, ``exposure_years`` (> 0) and
            optionally ``volume_pct`` (within-snapshot percentile; computed from
            ``reference_volume_usd`` otherwise). ``year`` is the piece midpoint (decimal year).
        y : array-like
            Breach counts per row (non-negative integers).
        reference_volume_usd : array-like, optional
            Daily USD volumes of the reference list that new volumes are ranked against
            (default: ``X['reference_volume_usd']`` is not used; the rows' own volumes).
        """
        import pandas as pd
        from scipy import stats

        if not isinstance(X, pd.DataFrame):
            raise InputError("X needs a pandas DataFrame of exchange x piece rows (covariate columns, "
                             "exposure_years, year)", field="X")
        if self.trend not in ("auto", True, False):
            raise InputError(f"trend must be 'auto', True or False, not {self.trend!r}", field="trend")
        if not 0 < self.level < 1:
            raise InputError("level must be between 0 and 1", field="level")
        yv = np.asarray(y, dtype=float)
        if yv.ndim != 1 or len(yv) != len(X) or np.any(yv < 0) or np.any(yv != np.round(yv)):
            raise InputError("y must be non-negative integer counts, one per row of X", field="y")
        expo = X["exposure_years"].to_numpy(dtype=float)
        if np.any(~np.isfinite(expo)) or np.any(expo <= 0):
            raise InputError("exposure_years must be positive", field="exposure_years")
        ref = np.asarray(X["volume_24h_usd"] if reference_volume_usd is None else reference_volume_usd, dtype=float)
        self.reference_log_volume_ = np.sort(np.log1p(ref[np.isfinite(ref)]))
        vp = X["volume_pct"].to_numpy(dtype=float) if "volume_pct" in X else None
        self.data_end_ = float(X["year_end"].max()) if "year_end" in X else float(X["year"].max())
        unknown = set(self.covariates) - set(COVARIATE_TERMS)
        if unknown or not isinstance(self.covariates, (tuple, list)):
            raise InputError(f"unknown covariate group(s) {sorted(unknown)}; choose from {', '.join(COVARIATE_TERMS)}",
                             field="covariates")
        full = design(X, self.reference_log_volume_, trend=True, volume_pct=vp,
                      unknown_as_offshore=self.unknown_as_offshore)
        X0 = full[:, self._columns(False)]
        b0, c0, ll0, _ = fit_poisson(X0, yv, expo)
        X1 = full[:, self._columns(True)]
        b1, c1, ll1, _ = fit_poisson(X1, yv, expo)
        lr = max(0.0, 2 * (ll1 - ll0))
        p = float(stats.chi2.sf(lr, 1))
        keep = bool(self.trend is True or (self.trend == "auto" and p < self.trend_alpha))
        self.trend_test_ = {"coef": float(b1[-1]), "se": float(math.sqrt(c1[-1, -1])), "lr": lr, "p": p,
                            "kept": keep, "alpha": self.trend_alpha}
        beta, cov, ll = (b1, c1, ll1) if keep else (b0, c0, ll0)
        self.terms_ = [(list(BASE_TERMS) + ["trend"])[i] for i in self._columns(keep)]
        self.coef_ = pd.Series(beta, index=self.terms_, name="coef")
        self.cov_ = pd.DataFrame(cov, index=self.terms_, columns=self.terms_)
        self.loglik_ = ll
        self.n_obs_ = len(X)
        self.events_ = int(yv.sum())
        self.exposure_years_ = float(expo.sum())
        Xd = X1 if keep else X0
        self.fitted_ = np.exp(Xd @ beta + np.log(expo))
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(Xd).tobytes())
        h.update(yv.tobytes())
        h.update(expo.tobytes())
        self.fingerprint_ = h.hexdigest()
        self._set_effects()
        return self

    def _set_effects(self) -> None:
        import pandas as pd
        from scipy import stats

        z = stats.norm.ppf(0.5 + self.level / 2)
        se = np.sqrt(np.diag(self.cov_.to_numpy()))
        b = self.coef_.to_numpy()
        zz = b / se
        self.effects_ = pd.DataFrame({
            "coef": b, "se": se, "rate_ratio": np.exp(b), "lo": np.exp(b - z * se), "hi": np.exp(b + z * se),
            "z": zz, "p": 2 * stats.norm.sf(np.abs(zz)),
        }, index=self.terms_)

    # ---------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (coefficients, covariance, covariate spec, fingerprint)."""
        self._check_fitted()
        return {
            "format": MODEL_FORMAT,
            "params": {"trend": self.trend, "trend_alpha": self.trend_alpha, "level": self.level,
                       "covariates": list(self.covariates)},
            "terms": self.terms_,
            "coef": [float(x) for x in self.coef_],
            "cov": [[float(x) for x in row] for row in self.cov_.to_numpy()],
            "spec": {
                "licensed": sorted(LICENSED),
                "security_centre": SECURITY_CENTRE, "security_scale": SECURITY_SCALE,
                "trend_origin": TREND_ORIGIN, "data_end": self.data_end_,
                "reference_log1p_volume_usd": [float(x) for x in self.reference_log_volume_],
            },
            "trend_test": self.trend_test_,
            "fit": {"loglik": self.loglik_, "n_obs": self.n_obs_, "events": self.events_,
                    "exposure_years": self.exposure_years_, "fingerprint_sha256": self.fingerprint_},
            **({"experience_prior": dict(self.experience_prior_)} if getattr(self, "experience_prior_", None) else {}),
        }

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> BaseFrequencyModel:
        """Rebuild a fitted model from :meth:`to_dict` output (checks format and spec constants)."""
        import pandas as pd

        if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
            raise InputError(f"not a base frequency model (format {doc.get('format') if isinstance(doc, dict) else None!r})",
                             field="format")
        spec = doc["spec"]
        if (sorted(LICENSED) != spec["licensed"] or spec["security_centre"] != SECURITY_CENTRE or spec["security_scale"] != SECURITY_SCALE
                or spec["trend_origin"] != TREND_ORIGIN):
            raise InputError("the stored covariate spec differs from this code's; refit the model", field="spec")
        params = dict(doc["params"])
        params["covariates"] = tuple(params.get("covariates", ()))
        m = cls(**params)
        m.terms_ = list(doc["terms"])
        m.coef_ = pd.Series(doc["coef"], index=m.terms_, name="coef")
        m.cov_ = pd.DataFrame(doc["cov"], index=m.terms_, columns=m.terms_)
        m.data_end_ = float(spec["data_end"])
        m.reference_log_volume_ = np.asarray(spec["reference_log1p_volume_usd"], dtype=float)
        m.trend_test_ = dict(doc["trend_test"])
        f = doc["fit"]
        m.loglik_, m.n_obs_, m.events_ = f["loglik"], f["n_obs"], f["events"]
        m.exposure_years_, m.fingerprint_ = f["exposure_years"], f["fingerprint_sha256"]
        if doc.get("experience_prior") is not None:
            m.experience_prior_ = dict(doc["experience_prior"])
        m._set_effects()
        return m


def load_base_model(folder: str | Path) -> BaseFrequencyModel:
    """Registry loader: read ``model.json`` of a version folder (plain JSON, no code)."""
    p = Path(folder) / "model.json"
    return BaseFrequencyModel.from_dict(json.loads(p.read_text(encoding="utf-8")))
