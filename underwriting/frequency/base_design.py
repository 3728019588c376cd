"""Covariates and design matrix of the base frequency model, and its Poisson GLM fitter.

The covariate spec (jurisdiction groups, security centring, trend origin, design terms) and the
Newton-Raphson Poisson regression with log link and ``log(exposure)`` offset used by
:class:`underwriting.frequency.base_model.BaseFrequencyModel` (whose module docstring describes
the model).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from underwriting.errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: EU/EEA member states (ISO alpha-2).
EU_EEA: frozenset[str] = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO".split())
#: Countries whose regimes license or register crypto exchanges with supervision (the reference group).
LICENSED: frozenset[str] = frozenset({"JP", "US", "GB", "SG", "HK", "KR", "CA", "AU", "CH"}) | EU_EEA
SECURITY_CENTRE = 5.0
SECURITY_SCALE = 2.0
TREND_ORIGIN = 2022.0
#: Design columns, in order (``trend`` is appended when the fitted model keeps it).
BASE_TERMS: tuple[str, ...] = ("intercept", "volume_pct", "offshore", "jurisdiction_unknown", "security",
                               "grade_missing")
#: Covariate groups a model may use, and their design terms.
COVARIATE_TERMS: dict[str, tuple[str, ...]] = {
    "volume": ("volume_pct",), "jurisdiction": ("offshore", "jurisdiction_unknown"),
    "grade": ("security", "grade_missing"),
    # offshore without the "no country in CryptoCompare" level: a blank country counts as offshore
    "offshore": ("offshore",),
}
#: Terms that describe a data source (an aggregator's blank field), not the exchange: a model that
#: carries one of them cannot price a submission free of data-source artefacts (issue #24).
DATA_SOURCE_TERMS: tuple[str, ...] = ("jurisdiction_unknown", "security", "grade_missing")
#: Raw covariate columns a caller passes to :meth:`BaseFrequencyModel.predict`.
RAW_COLUMNS: tuple[str, ...] = ("volume_24h_usd", "age_years", "country", "security_points", "year")


# --------------------------------------------------------------------------- covariates


def jurisdiction_group(country: Any) -> str:
    """``"licensed"``, ``"offshore"`` or ``"unknown"`` for an ISO alpha-2 code (blank/None: unknown)."""
    if country is None or (isinstance(country, float) and math.isnan(country)) or not str(country).strip():
        return "unknown"
    return "licensed" if str(country).strip().upper() in LICENSED else "offshore"


def _percentile(values: np.ndarray, reference_sorted: np.ndarray) -> np.ndarray:
    """Mid-rank percentile of ``log1p(values)`` in a sorted reference of ``log1p`` volumes."""
    x = np.log1p(np.asarray(values, dtype=float))
    lo = np.searchsorted(reference_sorted, x, side="left")
    hi = np.searchsorted(reference_sorted, x, side="right")
    return (lo + hi) / (2.0 * len(reference_sorted))


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


class RawCovariates:
    """Raw covariate columns (:data:`RAW_COLUMNS`) as numpy arrays of equal length, without a DataFrame.

    The frame-free form :meth:`BaseFrequencyModel.predict` works on internally (it converts a
    DataFrame to it); the quote builds it directly from a submission to skip the frame, with the same
    numbers. Numeric columns are float arrays (NaN = unknown), ``country`` an object array.
    Read-only by convention: :meth:`take` and :meth:`with_column` return new instances.

    Parameters
    ----------
    columns : mapping of str to array-like
        Column name to values, one per row.
    n_rows : int
        Number of rows (every column has this length).
    """

    __slots__ = ("_cols", "_n")

    def __init__(self, columns: Mapping[str, Any], n_rows: int):
        cols = {}
        for k, v in columns.items():
            a = np.asarray(v, dtype=object if k == "country" else float)
            if a.shape != (n_rows,):
                raise ValueError(f"column {k!r} has shape {a.shape}, expected ({n_rows},)")
            cols[k] = a
        self._cols = cols
        self._n = int(n_rows)

    @classmethod
    def from_records(cls, rows: Sequence[Mapping[str, Any]]) -> RawCovariates:
        """One row per mapping (the keys of the first row are the columns)."""
        names = list(rows[0]) if rows else []
        return cls({k: [r.get(k) for r in rows] for k in names}, len(rows))

    def __len__(self) -> int:
        return self._n

    def __contains__(self, name: object) -> bool:
        return name in self._cols

    def __getitem__(self, name: str) -> np.ndarray:
        return self._cols[name]

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return list(self._cols)

    def take(self, mask: np.ndarray) -> RawCovariates:
        """The rows where ``mask`` (boolean, one per row) is true."""
        return RawCovariates({k: v[mask] for k, v in self._cols.items()}, int(np.count_nonzero(mask)))

    def with_column(self, name: str, values: Any) -> RawCovariates:
        """A copy with column ``name`` set to ``values`` (a scalar is broadcast to every row)."""
        cols = dict(self._cols)
        cols[name] = np.full(self._n, values, dtype=object if name == "country" else float) if np.ndim(values) == 0 \
            else values
        return RawCovariates(cols, self._n)

    def to_frame(self) -> pd.DataFrame:
        """The same rows as a pandas DataFrame (for base models that take frames only)."""
        import pandas as pd

        return pd.DataFrame(dict(self._cols))


def _float_column(raw: Any, name: str) -> np.ndarray:
    col = raw[name]
    return col.to_numpy(dtype=float) if hasattr(col, "to_numpy") else np.asarray(col, dtype=float)


def _list_column(raw: Any, name: str) -> list[Any]:
    return raw[name].tolist()


def design(raw: pd.DataFrame | RawCovariates, reference_sorted: np.ndarray, *, trend: bool, trend_cap: float | None = None,
           volume_pct: np.ndarray | None = None, unknown_as_offshore: bool = False) -> np.ndarray:
    """Design matrix (rows x terms) from raw covariates; volume must be present (see ``predict``).

    Parameters
    ----------
    raw : DataFrame or RawCovariates
        Columns of :data:`RAW_COLUMNS` (``year`` only used with ``trend``; ``volume_24h_usd`` is
        ignored when ``volume_pct`` is given).
    reference_sorted : ndarray
        Sorted ``log1p`` reference volumes (USD per day).
    trend : bool
    trend_cap : float, optional
        Largest calendar time used by the trend term (the data end).
    volume_pct : ndarray, optional
        Percentiles already computed (within-snapshot ranks at fit time).
    unknown_as_offshore : bool
        A blank country takes ``offshore = 1`` (and ``jurisdiction_unknown = 0``): the rule of a model
        without the ``jurisdiction_unknown`` term, where an unknown jurisdiction must never price
        below a known offshore one.
    """
    n = len(raw)
    vp = _percentile(_float_column(raw, "volume_24h_usd"), reference_sorted) if volume_pct is None \
        else np.asarray(volume_pct, dtype=float)
    groups = [jurisdiction_group(c) for c in _list_column(raw, "country")]
    unknown = np.array([g == "unknown" for g in groups], dtype=float)
    offshore = np.array([g == "offshore" for g in groups], dtype=float)
    if unknown_as_offshore:
        offshore, unknown = np.maximum(offshore, unknown), np.zeros(n)
    sec = _float_column(raw, "security_points")
    grade_missing = np.isnan(sec).astype(float)
    sec_c = np.where(np.isnan(sec), 0.0, (sec - SECURITY_CENTRE) / SECURITY_SCALE)
    cols = [np.ones(n), vp, offshore, unknown, sec_c, grade_missing]
    if trend:
        yr = _float_column(raw, "year")
        if trend_cap is not None:
            yr = np.minimum(yr, trend_cap)
        cols.append(yr - TREND_ORIGIN)
    return np.column_stack(cols)



# --------------------------------------------------------------------------- Poisson GLM


def fit_poisson(X: np.ndarray, y: np.ndarray, exposure: np.ndarray, *, max_iter: int = 100,
                tol: float = 1e-10) -> tuple[np.ndarray, np.ndarray, float, int]:
    """Maximum-likelihood Poisson regression with log link and ``log(exposure)`` offset.

    Returns ``(beta, covariance, loglik, iterations)``; the covariance is the inverse observed
    information ``(X' diag(mu) X)^-1``. Raises :class:`InputError` when the design is singular
    (a covariate constant in the data) or Newton does not converge.
    """
    off = np.log(exposure)
    beta = np.zeros(X.shape[1])
    beta[0] = math.log(max(y.sum(), 0.5) / exposure.sum())
    ll_old = -np.inf
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        eta = X @ beta + off
        mu = np.exp(eta)
        info = X.T @ (X * mu[:, None])
        score = X.T @ (y - mu)
        try:
            step = np.linalg.solve(info, score)
        except np.linalg.LinAlgError:
            raise InputError("the cohort design is singular (a covariate does not vary in the data)",
                             field="X") from None
        # step halving keeps the log-likelihood increasing
        t = 1.0
        while True:
            nb = beta + t * step
            ll = float(np.sum(y * (X @ nb + off) - np.exp(X @ nb + off)))
            if ll >= ll_old - 1e-12 or t < 1e-8:
                break
            t /= 2
        beta = nb
        if abs(ll - ll_old) < tol and np.max(np.abs(t * step)) < 1e-8:
            break
        ll_old = ll
    else:
        raise InputError(f"Poisson fit did not converge in {max_iter} iterations", field="X")
    mu = np.exp(X @ beta + off)
    info = X.T @ (X * mu[:, None])
    if np.linalg.cond(info) > 1e12:
        raise InputError("the cohort design is singular (a covariate does not vary in the data)", field="X")
    cov = np.linalg.inv(info)
    const = float(np.sum([math.lgamma(k + 1) for k in y]))
    return beta, cov, float(np.sum(y * (X @ beta + off) - mu)) - const, it

