"""``TimeToBreachModel``: a scikit-learn estimator for the time to an exchange's next breach.

Time axis and recurrent breaches
--------------------------------
Model time is **years since the exchange's launch** (its age). An exchange is at risk from
launch (or from when it enters the data: left truncation) and *stays at risk after a breach*.
Recurrent breaches are written as **counting-process rows** ``(start, stop, event)``: one row per
gap between breaches (``start`` = launch, entry into the data or the previous breach; ``stop`` =
the next breach or censoring), or one row per panel period with covariates as of the period's
start (time-varying covariates). Pass them as a three-column target (see
:mod:`underwriting.survival._target`). Rows with ``start > 0`` enter the risk set at ``start``:

* ``coxph``: lifelines' ``entry_col`` (Andersen–Gill partial likelihood); the Breslow baseline is
  recomputed here with the correct late-entry risk sets (lifelines' own baseline ignores entry
  times);
* AFT families: lifelines' ``entry_col`` (the likelihood conditions on survival to entry);
* ``piecewise_exponential``: exposure from ``start`` to ``stop`` (Poisson GLM, :mod:`._pwe`); event
  counts above one per row are allowed.

Predictions are for a covariate row held fixed over the predicted window (the information an
underwriter has at inception). With panel rows, the piecewise-exponential model is the
time-varying-covariate model: it estimates how the hazard moves with covariates measured at the
start of each period, and still has a full baseline hazard, so it predicts the cumulative
hazard of any window (``CoxTimeVaryingFitter`` estimates the coefficients but has no baseline
survival to predict from).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.base import BaseEstimator

from underwriting.errors import InputError
from underwriting.survival._hazard import (
    AFT_FAMILIES,
    EXTRAPOLATION,
    FAMILIES,
    HazardState,
    check_follow_up,
    cumulative_hazard,
    strata_index,
)
from underwriting.survival._target import SurvivalTarget, parse_target

_AFT_CLASSES = {
    "weibull_aft": ("WeibullAFTFitter", "lambda_", "rho_"),
    "lognormal_aft": ("LogNormalAFTFitter", "mu_", "sigma_"),
    "loglogistic_aft": ("LogLogisticAFTFitter", "alpha_", "beta_"),
}
_RESERVED = ("__uw_T", "__uw_E", "__uw_entry")
#: Training concordance is computed on at most this many rows (a seeded random subset beyond).
_CONCORDANCE_MAX_ROWS = 20_000


class TimeToBreachModel(BaseEstimator):
    """Time-to-breach model over lifelines (and a native piecewise-exponential GLM).

    Parameters
    ----------
    family : {"coxph", "weibull_aft", "lognormal_aft", "loglogistic_aft", "piecewise_exponential"}
        ``coxph`` uses Efron ties and a Breslow baseline.
    penalizer : float
        L2 penalty on the coefficients (lifelines' ``penalizer`` for lifelines families; for
        ``piecewise_exponential`` ``0.5 * penalizer * ||beta * sd(x)||^2`` on standardised features).
    strata : sequence of str, optional
        Columns of ``X`` that define separate Cox baselines (``coxph`` only); not covariates.
    breakpoints : sequence of float, optional
        Interior breakpoints of the piecewise-exponential baseline (model time units). ``None``:
        ``n_intervals`` intervals at quantiles of the event times.
    n_intervals : int
        Number of baseline intervals when ``breakpoints`` is None.
    horizon : float
        Horizon of :meth:`score` (concordance of the risk at this horizon), model time units.
    extrapolation : {"raise", "tail"}
        Beyond the training follow-up: refuse (default) or use the documented parametric tail.
    tail_window : float, optional
        Cox tail only: the tail hazard is the average baseline hazard over the last
        ``tail_window`` of follow-up (default a quarter of the follow-up).

    Attributes
    ----------
    state_ : HazardState
        The fitted numbers; every prediction comes from it.
    feature_names_in_, n_features_in_ : as in scikit-learn.
    coef_ : pandas.Series
        Coefficients of the features (log hazard ratios for ``coxph``/``piecewise_exponential``;
        log time ratios for AFT families).
    standard_errors_ : pandas.Series
    concordance_ : float
        Harrell's concordance on the training data, ranking by the cumulative hazard at
        ``horizon`` (or at the training follow-up if shorter); above 20,000 rows on a seeded
        random subset of 20,000 rows (call :meth:`score` for the full-data figure).
    lifelines_model_ : lifelines fitter or None
        The fitted lifelines object (``None`` after :func:`~underwriting.survival.load` or for
        ``piecewise_exponential``). Kept for diagnostics; never used to predict.
    n_events_, follow_up_ : training counts (events; maximum stop time).
    """

    def __init__(self, family: str = "coxph", penalizer: float = 0.0, strata: Sequence[str] | None = None,
                 breakpoints: Sequence[float] | None = None, n_intervals: int = 6, horizon: float = 1.0,
                 extrapolation: str = "raise", tail_window: float | None = None):
        self.family = family
        self.penalizer = penalizer
        self.strata = strata
        self.breakpoints = breakpoints
        self.n_intervals = n_intervals
        self.horizon = horizon
        self.extrapolation = extrapolation
        self.tail_window = tail_window

    # ----- input handling ---------------------------------------------------------------------
    def _check_params(self) -> None:
        if self.family not in FAMILIES:
            raise InputError(f"unknown family {self.family!r}; choose one of {', '.join(FAMILIES)}",
                             field="family")
        if self.extrapolation not in EXTRAPOLATION:
            raise InputError(f"extrapolation must be one of {EXTRAPOLATION}, got {self.extrapolation!r}",
                             field="extrapolation")
        if not (np.isfinite(self.penalizer) and self.penalizer >= 0):
            raise InputError(f"penalizer must be >= 0, got {self.penalizer!r}", field="penalizer")
        if self.strata and self.family != "coxph":
            raise InputError("strata are supported by family='coxph' only", field="strata")
        if not (np.isfinite(self.horizon) and self.horizon > 0):
            raise InputError(f"horizon must be positive, got {self.horizon!r}", field="horizon")

    @staticmethod
    def _as_frame(X, names=None):
        import pandas as pd

        if isinstance(X, pd.DataFrame):
            return X
        if isinstance(X, pd.Series):
            return X.to_frame().T
        if hasattr(X, "toarray") and hasattr(X, "nnz"):
            raise InputError("sparse input is not supported: pass a dense DataFrame or array", field="X")
        arr = np.asarray(X)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2:
            raise InputError(f"X must be 2-D, got shape {arr.shape}", field="X")
        cols = list(names) if names is not None and len(names) == arr.shape[1] else [f"x{i}" for i in range(arr.shape[1])]
        return pd.DataFrame(arr, columns=cols)

    def _design(self, X, *, fitting: bool):
        """Return (covariate float array, strata float array or None, frame)."""
        if fitting:
            df = self._as_frame(X)
            names = [str(c) for c in df.columns]
            if len(set(names)) != len(names):
                raise InputError("X has duplicate column names", field="X")
            if any(n in _RESERVED for n in names):
                raise InputError(f"column names {_RESERVED} are reserved", field="X")
            strata = list(self.strata or [])
            missing = [s for s in strata if s not in names]
            if missing:
                raise InputError(f"strata column(s) {missing} not in X", field="strata")
            feats = [n for n in names if n not in strata]
        else:
            st = self.state_
            df = self._as_frame(X, names=list(st.feature_names) + list(st.strata_columns))
            feats, strata = list(st.feature_names), list(st.strata_columns)
            cols = {str(c) for c in df.columns}
            missing = [c for c in feats + strata if c not in cols]
            if missing:
                raise InputError(f"X lacks column(s) the model was fitted on: {missing}", field="X")
        df.columns = [str(c) for c in df.columns]
        try:
            A = df[feats].to_numpy(dtype=np.float64) if feats else np.zeros((len(df), 0))
            S = df[strata].to_numpy(dtype=np.float64) if strata else None
        except (TypeError, ValueError) as exc:
            raise InputError(f"X must be numeric (encode categories first): {exc}", field="X") from None
        if not np.all(np.isfinite(A)) or (S is not None and not np.all(np.isfinite(S))):
            bad = [c for c in feats + strata if not np.all(np.isfinite(df[c].to_numpy(dtype=float)))]
            raise InputError(f"X has NaN or inf: missing or non-finite values in {bad}", field="X")
        return A, S, df, feats, strata

    # ----- fitting ----------------------------------------------------------------------------
    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : DataFrame or 2-D array (n, p)
            Numeric features (and the ``strata`` columns).
        y : structured array, DataFrame, 2-D array or tuple
            ``(duration, event)`` or ``(start, stop, event)``; see :mod:`._target`.
        """
        import pandas as pd

        self._check_params()
        A, S, df, feats, strata = self._design(X, fitting=True)
        tgt = parse_target(y, allow_counts=self.family == "piecewise_exponential", n_rows=A.shape[0])
        if tgt.event.sum() == 0:
            raise InputError("no events in the training data: nothing to fit", field="y")
        if self.family == "coxph":
            state, lm = self._fit_cox(A, S, df, feats, strata, tgt)
        elif self.family in AFT_FAMILIES:
            state, lm = self._fit_aft(A, df, feats, tgt)
        else:
            state, lm = self._fit_pwe(A, feats, tgt)
        self.state_ = state
        self.lifelines_model_ = lm
        self.feature_names_in_ = np.asarray(list(feats) + list(strata), dtype=object)
        self.n_features_in_ = len(self.feature_names_in_)
        self.n_events_ = int(tgt.event.sum())
        self.follow_up_ = float(tgt.time.max())
        se = np.sqrt(np.clip(np.diag(state.covariance), 0, None))
        idx = {n: i for i, n in enumerate(state.param_names)}
        self.coef_ = pd.Series(state.coef.copy(), index=feats, name="coef")
        self.standard_errors_ = pd.Series([se[idx[f"beta[{f}]"]] for f in feats], index=feats, name="se")
        h = min(self.horizon, float(np.min(state.max_follow_up)))
        self.concordance_ = self._concordance(A, S, tgt, h)
        return self

    def _fit_cox(self, A, S, df, feats, strata, tgt: SurvivalTarget):
        from lifelines import CoxPHFitter

        data, kw = _lifelines_frame(A, feats, tgt, {s: S[:, j] for j, s in enumerate(strata)})
        cph = CoxPHFitter(penalizer=self.penalizer, strata=strata or None)
        _lifelines_fit(cph, data, "__uw_T", "__uw_E", **kw)
        beta = cph.params_.reindex(feats).to_numpy(dtype=np.float64)
        cov = cph.variance_matrix_.reindex(index=feats, columns=feats).to_numpy(dtype=np.float64)
        center = A.mean(axis=0)
        # strata keys and per-stratum Breslow baselines (with late entry)
        if strata:
            keys = np.unique(S, axis=0)
            sidx = np.empty(A.shape[0], dtype=np.intp)
            for j, k in enumerate(keys):
                sidx[np.all(S == k, axis=1)] = j
        else:
            keys = np.zeros((1, 0))
            sidx = np.zeros(A.shape[0], dtype=np.intp)
        eta = (A - center) @ beta if feats else np.zeros(A.shape[0])
        w = np.exp(eta)
        times, cumhaz, fup, tails = [], [], [], []
        for j in range(keys.shape[0]):
            rows = sidx == j
            bt, bh = breslow(tgt.time[rows], tgt.event[rows], tgt.entry[rows], w[rows])
            tmax = float(tgt.time[rows].max())
            times.append(bt)
            cumhaz.append(bh)
            fup.append(tmax)
            tails.append(_tail_rate(bt, bh, tmax, self.tail_window))
        state = HazardState(
            family="coxph", feature_names=tuple(feats), center=center, theta=beta,
            param_names=tuple(f"beta[{f}]" for f in feats), covariance=cov, max_follow_up=np.asarray(fup),
            extrapolation=self.extrapolation, strata_columns=tuple(strata), strata_keys=keys,
            baseline_times=times, baseline_cumhaz=cumhaz, tail_rates=np.asarray(tails))
        return state, cph

    def _fit_aft(self, A, df, feats, tgt: SurvivalTarget):
        import lifelines

        cls_name, loc, anc = _AFT_CLASSES[self.family]
        data, kw = _lifelines_frame(A, feats, tgt)
        fitter = getattr(lifelines, cls_name)(penalizer=self.penalizer)
        _lifelines_fit(fitter, data, "__uw_T", "__uw_E", **kw)
        order = [(loc, "Intercept")] + [(loc, f) for f in feats] + [(anc, "Intercept")]
        theta = fitter.params_.reindex(order).to_numpy(dtype=np.float64)
        cov = fitter.variance_matrix_.reindex(index=order, columns=order).to_numpy(dtype=np.float64)
        names = ("intercept",) + tuple(f"beta[{f}]" for f in feats) + (f"log_{anc.rstrip('_')}",)
        state = HazardState(
            family=self.family, feature_names=tuple(feats), center=np.zeros(len(feats)), theta=theta,
            param_names=names, covariance=cov, max_follow_up=np.asarray([float(tgt.time.max())]),
            extrapolation=self.extrapolation)
        return state, fitter

    def _fit_pwe(self, A, feats, tgt: SurvivalTarget):
        from underwriting.survival._pwe import fit_pwe

        center = A.mean(axis=0)
        sd = A.std(axis=0)
        const = [f for f, s in zip(feats, sd, strict=True) if not s > 0]
        if const:
            raise InputError(f"constant feature(s) {const}: their effect is not estimable", field="X")
        Z = (A - center) / sd if feats else A
        edges = self._edges(tgt)
        a, g, cov_std, _ll, _it = fit_pwe(Z, tgt.entry, tgt.time, tgt.event, edges, penalizer=self.penalizer)
        beta = g / sd
        K = edges.shape[0]
        scale = np.concatenate([np.ones(K), 1.0 / sd])
        cov = cov_std * np.outer(scale, scale)
        names = tuple(f"log_rate[{edges[k]:g}]" for k in range(K)) + tuple(f"beta[{f}]" for f in feats)
        state = HazardState(
            family="piecewise_exponential", feature_names=tuple(feats), center=center,
            theta=np.concatenate([a, beta]), param_names=names, covariance=cov,
            max_follow_up=np.asarray([float(tgt.time.max())]), extrapolation=self.extrapolation,
            breakpoints=edges)
        self.n_iter_ = _it
        self.log_likelihood_ = _ll
        return state, None

    def _edges(self, tgt: SurvivalTarget) -> np.ndarray:
        if self.breakpoints is not None:
            bp = np.asarray(sorted(float(b) for b in self.breakpoints), dtype=np.float64)
            if np.any(bp <= 0) or np.any(~np.isfinite(bp)) or np.unique(bp).size != bp.size:
                raise InputError("breakpoints must be distinct, finite and > 0", field="breakpoints")
            return np.concatenate([[0.0], bp])
        k = int(self.n_intervals)
        if k < 1:
            raise InputError("n_intervals must be >= 1", field="n_intervals")
        et = np.repeat(tgt.time, tgt.event)
        qs = np.unique(np.quantile(et, np.arange(1, k) / k)) if k > 1 else np.zeros(0)
        qs = qs[qs > 0]
        return np.concatenate([[0.0], qs])

    # ----- prediction -------------------------------------------------------------------------
    def _prepare(self, X):
        if not hasattr(self, "state_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError("TimeToBreachModel is not fitted yet; call fit() or load()")
        A, S, *_ = self._design(X, fitting=False)
        sidx = strata_index(self.state_, S) if self.state_.strata_columns else np.zeros(A.shape[0], dtype=np.intp)
        return A, sidx

    def predict_cumulative_hazard_at(self, X, times) -> np.ndarray:
        """Λ(t | x) from time 0 for each row and each time: array (n_rows, n_times).

        ``times`` may be (m,) for all rows or (n_rows, m) per row.
        """
        A, sidx = self._prepare(X)
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if t.ndim == 2 and t.shape[0] != A.shape[0]:
            raise InputError(f"times has {t.shape[0]} rows but X has {A.shape[0]}", field="times")
        check_follow_up(self.state_, t if t.ndim == 2 else np.broadcast_to(t, (A.shape[0], t.shape[0])), sidx)
        return cumulative_hazard(self.state_, A, t, sidx)

    def predict_survival(self, X, times) -> np.ndarray:
        """S(t | x) = exp(-Λ(t | x)) from time 0: array (n_rows, n_times)."""
        return np.exp(-self.predict_cumulative_hazard_at(X, times))

    def predict_cumulative_hazard(self, X, start, end) -> np.ndarray:
        """Expected breaches in the window ``(start, end]``: Λ(end | x) − Λ(start | x), shape (n_rows,).

        This is the cumulative hazard of the window conditional on being at risk at ``start``;
        with recurrent breaches it is the expected number of breaches in the window (Poisson
        mean). ``start``/``end`` are scalars or per-row arrays (e.g. each exchange's age at
        inception and expiry), in model time units.
        """
        A, sidx = self._prepare(X)
        n = A.shape[0]
        s = np.broadcast_to(np.asarray(start, dtype=np.float64), (n,))
        e = np.broadcast_to(np.asarray(end, dtype=np.float64), (n,))
        if np.any(e < s):
            raise InputError("window end must not be before its start", field="end")
        t = np.stack([s, e], axis=1)
        check_follow_up(self.state_, t, sidx)
        H = cumulative_hazard(self.state_, A, t, sidx)
        return H[:, 1] - H[:, 0]

    def predict_risk(self, X, horizon: float | None = None, *, start=0.0) -> np.ndarray:
        """Probability of at least one breach in ``(start, start + horizon]``: 1 − e^{−Λ}.

        With ``start = 0`` this is 1 − S(horizon). ``horizon`` defaults to ``self.horizon``.
        """
        h = self.horizon if horizon is None else horizon
        if not np.all(np.asarray(h) >= 0):
            raise InputError("horizon must be >= 0", field="horizon")
        lam = self.predict_cumulative_hazard(X, start, np.asarray(start, dtype=float) + h)
        return -np.expm1(-lam)

    def predict(self, X) -> np.ndarray:
        """Risk at ``self.horizon`` (from time 0); the scikit-learn ``predict`` hook."""
        return self.predict_risk(X, self.horizon)

    # ----- scoring ----------------------------------------------------------------------------
    def _concordance(self, A, S, tgt: SurvivalTarget, horizon: float) -> float:
        from underwriting.survival.concordance import concordance_index

        if A.shape[0] > _CONCORDANCE_MAX_ROWS:  # O(n log n) in Python: subsample, seeded, documented
            keep = np.sort(np.random.default_rng(0).choice(A.shape[0], _CONCORDANCE_MAX_ROWS, replace=False))
            A, S, tgt = A[keep], (None if S is None else S[keep]), tgt.take(keep)
        sidx = strata_index(self.state_, S) if self.state_.strata_columns else np.zeros(A.shape[0], dtype=np.intp)
        check_follow_up(self.state_, np.full((A.shape[0], 1), horizon), sidx)
        lam = cumulative_hazard(self.state_, A, np.array([horizon]), sidx)[:, 0]
        return concordance_index(tgt.time, tgt.event > 0, lam)

    def score(self, X, y) -> float:
        """Harrell's concordance of the risk at ``self.horizon`` (higher risk, earlier breach).

        Parametric families are ranked by this risk, not by median survival (lifelines'
        default). The ranking uses the cumulative hazard at the horizon, a monotone transform of
        the risk that does not saturate at 1 in floating point.
        """
        A, sidx = self._prepare(X)
        tgt = parse_target(y, n_rows=A.shape[0])
        check_follow_up(self.state_, np.full((A.shape[0], 1), float(self.horizon)), sidx)
        lam = cumulative_hazard(self.state_, A, np.array([float(self.horizon)]), sidx)[:, 0]
        from underwriting.survival.concordance import concordance_index

        return concordance_index(tgt.time, tgt.event > 0, lam)

    # ----- summaries --------------------------------------------------------------------------
    def summary(self):
        """Coefficients with standard errors and 95% Wald intervals (DataFrame)."""
        import pandas as pd
        from scipy.stats import norm

        st = self.state_
        se = np.sqrt(np.clip(np.diag(st.covariance), 0, None))
        z = norm.ppf(0.975)
        return pd.DataFrame({"coef": st.theta, "se": se, "lower_95": st.theta - z * se,
                             "upper_95": st.theta + z * se}, index=list(st.param_names))


def breslow(time: np.ndarray, event: np.ndarray, entry: np.ndarray, w: np.ndarray):
    """Breslow baseline cumulative hazard with late entry.

    Risk set at an event time ``u``: rows with ``entry < u <= time``. Returns the distinct event
    times and Λ0 at them (a right-continuous step function, 0 before the first event).
    """
    ev = event > 0
    ut, inv = np.unique(time[ev], return_inverse=True)
    d = np.bincount(inv, weights=event[ev].astype(np.float64), minlength=ut.shape[0])
    o_t = np.argsort(time, kind="stable")
    cw_t = np.concatenate([[0.0], np.cumsum(w[o_t])])
    o_e = np.argsort(entry, kind="stable")
    cw_e = np.concatenate([[0.0], np.cumsum(w[o_e])])
    # sum of w with time < u, and with entry < u
    below_t = cw_t[np.searchsorted(time[o_t], ut, side="left")]
    below_e = cw_e[np.searchsorted(entry[o_e], ut, side="left")]
    risk = below_e - below_t
    return ut, np.cumsum(d / risk)


def _tail_rate(bt: np.ndarray, bh: np.ndarray, tmax: float, window: float | None) -> float:
    w = tmax / 4.0 if window is None else float(window)
    if not w > 0:
        raise InputError("tail_window must be positive", field="tail_window")
    lo = max(tmax - w, 0.0)

    def at(t):
        pos = np.searchsorted(bt, t, side="right") - 1
        return float(bh[pos]) if pos >= 0 else 0.0

    return (at(tmax) - at(lo)) / (tmax - lo)


def _lifelines_frame(A, feats, tgt: SurvivalTarget, extra: dict | None = None):
    """The frame lifelines fits on: features, then ``extra`` columns (strata), duration ``__uw_T``,
    event ``__uw_E`` and, with late entry, ``__uw_entry``; and the matching ``entry_col`` keyword."""
    import pandas as pd

    data = pd.DataFrame(A, columns=feats)
    for name, values in (extra or {}).items():
        data[name] = values
    data["__uw_T"] = tgt.time
    data["__uw_E"] = tgt.event
    kw = {}
    if tgt.has_entry:
        data["__uw_entry"] = tgt.entry
        kw["entry_col"] = "__uw_entry"
    return data, kw


def _lifelines_fit(fitter, data, duration_col, event_col, **kw):
    """Call lifelines' fit, turning its convergence failures into InputError."""
    import warnings

    try:
        from lifelines.exceptions import ConvergenceError
    except ImportError:  # pragma: no cover
        ConvergenceError = RuntimeError  # noqa: N806
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fitter.fit(data, duration_col=duration_col, event_col=event_col, **kw)
        except ConvergenceError as exc:
            raise InputError(f"{type(fitter).__name__} did not converge: {str(exc).splitlines()[0]} "
                             "(try a penalizer, or drop collinear/constant features)", field="X") from None
