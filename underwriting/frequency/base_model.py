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

import functools
import hashlib
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from underwriting.caches import register_cache
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.errors import InputError
from underwriting.frequency.base_design import (  # noqa: F401 - re-exported
    BASE_TERMS,
    COVARIATE_TERMS,
    EU_EEA,
    LICENSED,
    RAW_COLUMNS,
    SECURITY_CENTRE,
    SECURITY_SCALE,
    TREND_ORIGIN,
    RawCovariates,
    _is_missing,
    _percentile,
    design,
    fit_poisson,
    jurisdiction_group,
)
from underwriting.frequency.base_panel import (  # noqa: F401 - re-exported
    _decimal_year,
    cohort_panel,
    covariates_from_submission,
    submission_covariates,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

MODEL_FORMAT = "underwriting.frequency.base_model/1"


def _index(X: Any) -> Any:
    """``X.index`` of a DataFrame; ``None`` (a default range index) for :class:`RawCovariates`."""
    return None if isinstance(X, RawCovariates) else X.index


@register_cache
@functools.lru_cache(maxsize=64)
def norm_quantile(p: float) -> float:
    """``scipy.stats.norm.ppf(p)``, cached per ``p`` (the same value: a quote asks for the same
    level's quantile every time, and each ppf call costs about 0.1 ms)."""
    from scipy import stats

    return stats.norm.ppf(p)


# --------------------------------------------------------------------------- the estimator


class BaseFrequencyModel:
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

    def __repr__(self) -> str:
        return (f"BaseFrequencyModel(trend={self.trend!r}, trend_alpha={self.trend_alpha!r}, "
                f"level={self.level!r}, covariates={self.covariates!r})")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Constructor arguments (scikit-learn convention)."""
        return {"trend": self.trend, "trend_alpha": self.trend_alpha, "level": self.level,
                "covariates": self.covariates}

    def set_params(self, **params: Any) -> BaseFrequencyModel:
        """Set constructor arguments (scikit-learn convention); refit afterwards."""
        for k, v in params.items():
            if k not in self.get_params():
                raise InputError(f"unknown parameter {k!r}", field=k)
            setattr(self, k, v)
        return self

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

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise InputError("this BaseFrequencyModel is not fitted yet: call fit() or load_base_model()", field="model")

    # ---------------------------------------------------------------- prediction
    def _raw(self, X: pd.DataFrame | RawCovariates, year: float | None) -> RawCovariates:
        """Numeric covariate columns of ``X`` (a DataFrame, or :class:`RawCovariates` already built),
        with ``year`` filled in; no frame is built."""
        import pandas as pd

        if isinstance(X, RawCovariates):
            def num(c: str) -> np.ndarray:
                return np.asarray(X[c], dtype=float)

            def country() -> np.ndarray:
                return X["country"]
        elif isinstance(X, pd.DataFrame):
            def num(c: str) -> np.ndarray:
                return pd.to_numeric(X[c], errors="raise").astype(float).to_numpy()

            def country() -> np.ndarray:
                out = np.empty(len(X), dtype=object)
                out[:] = X["country"].tolist()
                return out
        else:
            raise InputError("X must be a pandas DataFrame", field="X")
        n = len(X)
        cols: dict[str, Any] = {c: num(c) if c in X else np.full(n, np.nan)
                                for c in ("volume_24h_usd", "age_years", "security_points")}
        cols["country"] = country() if "country" in X else np.full(n, None, dtype=object)
        if year is not None:
            cols["year"] = np.full(n, float(year))
        elif "year" in X:
            cols["year"] = num("year")
        else:
            cols["year"] = np.full(n, self.data_end_)
        if np.any(cols["volume_24h_usd"] < 0):
            raise InputError("volume_24h_usd must be non-negative (blank = unknown)", field="volume_24h_usd")
        return RawCovariates(cols, n)

    def _log_rate_parts(self, X: pd.DataFrame, year: float | None) -> tuple[np.ndarray, np.ndarray]:
        """Rates and their gradients w.r.t. ``coef_`` (rows x terms), averaging missing volumes."""
        raw = self._raw(X, year)
        trend = "trend" in self.terms_
        beta = self.coef_.to_numpy()
        vol = raw["volume_24h_usd"]
        known = ~np.isnan(vol)
        rate = np.empty(len(raw))
        grad = np.empty((len(raw), len(beta)))
        if known.any():
            D = design(raw.take(known), self.reference_log_volume_, trend=True, trend_cap=self.data_end_,
                       unknown_as_offshore=self.unknown_as_offshore)[:, self._columns(trend)]
            r = np.exp(D @ beta)
            rate[known] = r
            grad[known] = D * r[:, None]
        if (~known).any():
            # unknown size: average the rate over the reference list's volume percentiles
            ref_pct = (np.arange(len(self.reference_log_volume_)) + 0.5) / len(self.reference_log_volume_)
            sub = raw.take(~known)
            D = design(sub.with_column("volume_24h_usd", 0.0), self.reference_log_volume_, trend=True,
                       trend_cap=self.data_end_, volume_pct=np.zeros(len(sub)),
                       unknown_as_offshore=self.unknown_as_offshore)[:, self._columns(trend)]
            base = np.exp(D @ beta)
            if "volume_pct" in self.terms_:
                iv = self.terms_.index("volume_pct")
                w = np.exp(beta[iv] * ref_pct)
                m0, m1 = w.mean(), (w * ref_pct).mean()
            else:
                iv, m0, m1 = None, 1.0, 0.0
            rate[~known] = base * m0
            g = D * (base * m0)[:, None]
            if iv is not None:
                g[:, iv] = base * m1
            grad[~known] = g
        return rate, grad

    def predict(self, X: pd.DataFrame, *, year: float | None = None) -> pd.Series:
        """Annual breach rate (expected breaches per year) per row of ``X``.

        Parameters
        ----------
        X : DataFrame or RawCovariates
            Columns ``volume_24h_usd`` (USD per day; NaN = unknown), ``age_years`` (NaN = unknown),
            ``country`` (ISO alpha-2; blank = unknown), ``security_points`` (CryptoCompare
            Security points; NaN = ungraded), optionally ``year`` (decimal calendar year).
        year : float, optional
            Calendar year for every row (overrides ``X['year']``; default: the data end).
            Years beyond :attr:`data_end_` use the trend's value at the data end.

        Returns
        -------
        pandas.Series
            ``annual_rate``, breaches per exchange-year, indexed like ``X``.
        """
        import pandas as pd

        self._check_fitted()
        rate, _ = self._log_rate_parts(X, year)
        return pd.Series(rate, index=_index(X), name="annual_rate")

    def annual_rate(self, X: pd.DataFrame, *, year: float | None = None) -> pd.Series:
        """Annual breach rate per row (alias of :meth:`predict`, the factor the schedule multiplies)."""
        return self.predict(X, year=year)

    def predict_interval(self, X: pd.DataFrame, level: float | None = None, *, year: float | None = None) -> pd.DataFrame:
        """Rate with a parameter-uncertainty interval (delta method on the log rate).

        Returns
        -------
        pandas.DataFrame
            ``annual_rate``, ``lo``, ``hi`` per row (breaches per year), coverage ``level``.
        """
        import pandas as pd

        self._check_fitted()
        level = self.level if level is None else level
        if not 0 < level < 1:
            raise InputError("level must be between 0 and 1", field="level")
        rate, grad = self._log_rate_parts(X, year)
        lo, hi = self._interval(rate, grad, level)
        return pd.DataFrame({"annual_rate": rate, "lo": lo, "hi": hi}, index=_index(X))

    def _interval(self, rate: np.ndarray, grad: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
        """``(lo, hi)`` of the delta-method interval on the log rate, from :meth:`_log_rate_parts`."""
        V = self.cov_.to_numpy()
        se_log = np.sqrt(np.einsum("ij,jk,ik->i", grad, V, grad)) / rate
        z = norm_quantile(0.5 + level / 2)
        return rate * np.exp(-z * se_log), rate * np.exp(z * se_log)

    def _rate_and_interval(self, X: pd.DataFrame | RawCovariates,
                           level: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(annual_rate, lo, hi)`` arrays at the data end: the numbers of :meth:`annual_rate` and
        :meth:`predict_interval` (same operations, same order), computed in one pass with no frames.
        ``X`` may be :class:`RawCovariates`. Internal fast path of
        :meth:`underwriting.frequency.model.BreachFrequency.explain`; a subclass that overrides a
        public prediction method is asked through that method instead."""
        cls = type(self)
        if (cls.annual_rate is not BaseFrequencyModel.annual_rate or cls.predict is not BaseFrequencyModel.predict
                or cls.predict_interval is not BaseFrequencyModel.predict_interval):
            Xf = X.to_frame() if isinstance(X, RawCovariates) else X
            iv = self.predict_interval(Xf, level)
            return self.annual_rate(Xf).to_numpy(float), iv["lo"].to_numpy(float), iv["hi"].to_numpy(float)
        self._check_fitted()
        rate, grad = self._log_rate_parts(X, None)
        level = self.level if level is None else level
        if not 0 < level < 1:
            raise InputError("level must be between 0 and 1", field="level")
        lo, hi = self._interval(rate, grad, level)
        return rate, lo, hi

    def expected_breaches(self, X: pd.DataFrame, start: Any, end: Any, level: float | None = None) -> dict[str, Any]:
        """Expected breaches of each row between two dates, and a delta-method interval on the total.

        Parameters
        ----------
        X : DataFrame
            As for :meth:`predict`, plus optional ``start`` per row (a later start, e.g. the
            row's as-of date; the window is [max(start, row start), end]).
        start, end : date-like
            Window. The rate is integrated month by month (the trend moves with calendar time).

        Returns
        -------
        dict
            ``rows`` (DataFrame: ``years``, ``annual_rate`` at the window midpoint,
            ``expected_breaches``), ``expected_total``, ``interval`` ``[lo, hi]`` at ``level``.
        """
        import pandas as pd
        from scipy import stats

        self._check_fitted()
        level = self.level if level is None else level
        s0, e0 = pd.Timestamp(start), pd.Timestamp(end)
        if e0 <= s0:
            raise InputError(f"end {e0.date()} must be after start {s0.date()}", field="end")
        row_start = pd.to_datetime(X["start"]) if "start" in X else pd.Series(s0, index=X.index)
        row_start = row_start.where(row_start > s0, s0)
        edges = pd.date_range(s0.normalize(), e0, freq="MS").union(pd.DatetimeIndex([s0, e0]))
        edges = edges[(edges >= s0) & (edges <= e0)]
        n, k = len(X), len(self.coef_)
        exp_b = np.zeros(n)
        grad = np.zeros((n, k))
        rs = row_start.to_numpy(dtype="datetime64[ns]")
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            lo = np.maximum(rs, np.datetime64(a))
            dur = np.clip((np.datetime64(b) - lo) / np.timedelta64(1, "D"), 0, None) / DAYS_PER_YEAR
            if not dur.any():
                continue
            mid = a + (b - a) / 2
            yr = mid.year + (mid.dayofyear - 0.5) / (366 if mid.is_leap_year else 365)
            r, g = self._log_rate_parts(X, yr)
            exp_b += r * dur
            grad += g * dur[:, None]
        years = np.clip((np.datetime64(e0) - rs) / np.timedelta64(1, "D"), 0, None) / DAYS_PER_YEAR
        total = float(exp_b.sum())
        gt = grad.sum(axis=0)
        V = self.cov_.to_numpy()
        z = stats.norm.ppf(0.5 + level / 2)
        se_log = math.sqrt(float(gt @ V @ gt)) / total if total > 0 else 0.0
        rows = pd.DataFrame({"years": years, "annual_rate": np.where(years > 0, exp_b / np.where(years > 0, years, 1), 0.0),
                             "expected_breaches": exp_b}, index=X.index)
        return {"rows": rows, "expected_total": total,
                "interval": [total * math.exp(-z * se_log), total * math.exp(z * se_log)], "level": level}

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
