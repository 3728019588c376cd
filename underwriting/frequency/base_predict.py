"""Prediction of the real-data base breach rate: the methods :class:`~.base_model.BaseFrequencyModel`
inherits (rates, delta-method intervals, expected breaches over a window), and
:class:`FrequencyEstimator`, the scikit-learn conventions both frequency models share.

The fitted state they read is set by :meth:`~.base_model.BaseFrequencyModel.fit` or
:meth:`~.base_model.BaseFrequencyModel.from_dict`: ``terms_``, ``coef_``, ``cov_``,
``reference_log_volume_``, ``data_end_`` and the estimator's ``level``, ``covariates``,
``_columns`` and ``unknown_as_offshore``. The model and its assumptions are described in
:mod:`underwriting.frequency.base_model`.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from underwriting.caches import register_cache
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.errors import InputError
from underwriting.frequency.base_design import RawCovariates, design

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

def _index(X: Any) -> Any:
    """``X.index`` of a DataFrame; ``None`` (a default range index) for :class:`RawCovariates`."""
    return None if isinstance(X, RawCovariates) else X.index


@register_cache(static=True)
@functools.lru_cache(maxsize=64)
def norm_quantile(p: float) -> float:
    """``scipy.stats.norm.ppf(p)``, cached per ``p`` (the same value: a quote asks for the same
    level's quantile every time, and each ppf call costs about 0.1 ms)."""
    from scipy import stats

    return stats.norm.ppf(p)




class ModelNotFittedError(InputError, NotFittedError):
    """A frequency model used before ``fit``: scikit-learn's ``NotFittedError`` and the package's
    ``InputError`` (field ``model``) at once."""


class FrequencyEstimator(BaseEstimator):
    """scikit-learn's ``BaseEstimator`` (parameters read from the constructor, stored untouched, fitted
    attributes ending in ``_``), with an unknown parameter in :meth:`set_params` refused as an
    :class:`~underwriting.errors.InputError` naming it."""

    def set_params(self, **params: Any) -> FrequencyEstimator:
        """Set constructor arguments (nested ``base_model__level`` too); refit afterwards."""
        valid = self.get_params(deep=True)
        for k in params:
            if k not in valid:
                raise InputError(f"unknown parameter {k!r}; parameters are {sorted(self.get_params(deep=False))}",
                                 field=k)
        return super().set_params(**params)


class BaseRatePrediction:
    """Prediction methods of the base frequency model (a mixin; the model is
    :class:`~.base_model.BaseFrequencyModel`)."""

    def _check_fitted(self) -> None:
        if not hasattr(self, "coef_"):
            raise ModelNotFittedError("this BaseFrequencyModel is not fitted yet: call fit() or load_base_model()",
                                      field="model")

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
            raise InputError("X needs a pandas DataFrame (or RawCovariates) with the base model's covariate columns", field="X")
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
        if (cls.annual_rate is not BaseRatePrediction.annual_rate or cls.predict is not BaseRatePrediction.predict
                or cls.predict_interval is not BaseRatePrediction.predict_interval):
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

