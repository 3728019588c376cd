"""Validation metrics for time-to-breach models, computed with numpy (no scikit-survival needed).

Discrimination is scored on the **risk at a horizon** (or its monotone transform, the cumulative
hazard), never on lifelines' default for parametric models (median survival, often infinite).

* :func:`concordance_index`: Harrell's C.
* :func:`concordance_index_ipcw`: Uno's C, truncated at ``tau``, weighted by the inverse
  probability of censoring (Kaplan–Meier of the censoring times in the *training* data).
* :func:`cumulative_dynamic_auc`: time-dependent AUC, cumulative cases / dynamic controls (Uno
  2007; Hung & Chiang 2010), and its mean weighted by the Kaplan–Meier event-time density.
* :func:`brier_score`, :func:`integrated_brier_score`: IPCW Brier score (Graf et al. 1999).
* :func:`calibration_at_horizon`: ICI, E50, E90 (Austin, Harrell & van Klaveren 2020: observed risk
  from a Cox model on a restricted cubic spline of cloglog(predicted risk)) and a PNG plot.
* :func:`cross_validate`: seeded k-fold cross-validation in parallel (joblib), without touching
  numpy's global random state.

IPCW metrics need the censoring survival G(t) > 0: with administrative censoring at a data
cut-off G drops to 0 at the end of follow-up, so horizons must lie strictly inside follow-up;
the functions raise a ``ValueError`` that says so instead of returning a biased number.
Inputs with entry times (counting-process rows) are scored on ``(stop, event)`` only.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np

from underwriting.errors import InputError
from underwriting.fileio import atomic_write_bytes
from underwriting.survival._target import parse_target, survival_target
from underwriting.survival.concordance import _arr, concordance_index  # noqa: F401 (re-exported)
from underwriting.survival.estimator import TimeToBreachModel


# ----- censoring distribution ------------------------------------------------------------------
@dataclass(frozen=True)
class _StepFunction:
    x: np.ndarray
    y: np.ndarray  # value on [x_k, x_{k+1})

    def __call__(self, t, *, left: bool = False) -> np.ndarray:
        """Value at ``t`` (right-continuous) or its left limit at ``t`` (``left=True``)."""
        side = "left" if left else "right"
        pos = np.searchsorted(self.x, np.asarray(t, dtype=float), side=side) - 1
        return np.where(pos >= 0, self.y[np.maximum(pos, 0)], 1.0)


def kaplan_meier(time, event) -> _StepFunction:
    """Kaplan–Meier survival estimate as a right-continuous step function."""
    t, e = _arr(time, event)
    ut = np.unique(t)
    idx = np.searchsorted(ut, t)
    d = np.bincount(idx, weights=e.astype(float), minlength=ut.shape[0])
    n_at = np.bincount(idx, minlength=ut.shape[0])
    at_risk = n_at[::-1].cumsum()[::-1].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.cumprod(np.where(at_risk > 0, 1.0 - d / at_risk, 1.0))
    return _StepFunction(ut, s)


def censoring_survival(time, event) -> _StepFunction:
    """G(t) = P(C > t): Kaplan–Meier of the censoring times.

    At tied times events are taken to precede censorings (the censoring risk set at ``t``
    excludes the events at ``t``), the convention of scikit-survival's
    ``CensoringDistributionEstimator``; weights use G at the observed time (right-continuous).
    """
    t, e = _arr(time, event)
    ut = np.unique(t)
    idx = np.searchsorted(ut, t)
    d = np.bincount(idx, weights=e.astype(float), minlength=ut.shape[0])
    n_at = np.bincount(idx, minlength=ut.shape[0]).astype(float)
    at_risk = n_at[::-1].cumsum()[::-1] - d
    cens = n_at - d
    ratio = np.divide(cens, at_risk, out=np.zeros_like(cens), where=cens != 0)
    return _StepFunction(ut, np.cumprod(1.0 - ratio))


def _check_inside(G: _StepFunction, t_points: np.ndarray, what: str) -> None:
    g = G(t_points)
    if np.any(g <= 0):
        bad = float(np.asarray(t_points)[np.argmax(g <= 0)])
        raise ValueError(f"{what}: censoring survival G({bad:g}) is 0 (time at or beyond the end of "
                         "follow-up, e.g. administrative censoring at the data cut-off); evaluate at "
                         "horizons strictly inside follow-up")


# ----- discrimination ----------------------------------------------------------------------------
def concordance_index_ipcw(train_time, train_event, time, event, risk, tau: float) -> float:
    """Uno's C truncated at ``tau``: IPCW concordance of the risk among pairs with T_i < tau.

    Pair (i, j) is comparable if i has an event before ``tau`` and T_j > T_i, or T_j = T_i with j
    censored; weight 1/G(T_i)^2; risk ties count one half (exact equality).

    ``risk`` is a 1-D score (higher = earlier breach), e.g. the risk at the horizon ``tau``.
    """
    t, e, r = _arr(time, event, risk)
    G = censoring_survival(train_time, train_event)
    _check_inside(G, np.array([tau]), "concordance_index_ipcw")
    cases = np.flatnonzero(e & (t < tau))
    if cases.size == 0:
        raise ValueError(f"no events before tau={tau:g}: Uno's C is undefined")
    g = G(t[cases])
    if np.any(g <= 0):
        raise ValueError("concordance_index_ipcw: G = 0 at an event time; evaluate inside follow-up")
    w = 1.0 / (g * g)
    num = den = 0.0
    for lo in range(0, cases.size, 512):
        c = cases[lo:lo + 512]
        # comparable: later times, and censored rows at the same time (Harrell's convention)
        comp = (t[None, :] > t[c, None]) | ((t[None, :] == t[c, None]) & ~e[None, :])
        conc = (r[c, None] > r[None, :]) + 0.5 * (r[c, None] == r[None, :])
        ww = w[lo:lo + 512]
        num += float(ww @ (comp * conc).sum(axis=1))
        den += float(ww @ comp.sum(axis=1))
    if den == 0:
        raise ValueError("no comparable pairs")
    return num / den


def cumulative_dynamic_auc(train_time, train_event, time, event, risk, times):
    """Cumulative/dynamic AUC at each of ``times`` and its KM-weighted mean.

    Cases at t: T_i <= t with an event (weight 1/G(T_i)); controls: T_j > t.
    ``risk`` is (n,) or (n, len(times)) (e.g. 1 − S(t | x) per time).

    Returns
    -------
    (auc, mean_auc) : (ndarray, float)
    """
    t, e = _arr(time, event)
    tt = np.atleast_1d(np.asarray(times, dtype=float))
    r = np.asarray(risk, dtype=float)
    if r.ndim == 1:
        r = np.repeat(r[:, None], tt.shape[0], axis=1)
    if r.shape != (t.shape[0], tt.shape[0]):
        raise InputError(f"risk has shape {r.shape}, expected ({t.shape[0]}, {tt.shape[0]})")
    G = censoring_survival(train_time, train_event)
    _check_inside(G, tt, "cumulative_dynamic_auc")
    auc = np.empty(tt.shape[0])
    for k, tk in enumerate(tt):
        cases = e & (t <= tk)
        controls = t > tk
        if not cases.any() or not controls.any():
            raise ValueError(f"cumulative_dynamic_auc: no cases or no controls at t={tk:g}")
        w = 1.0 / G(t[cases])
        rc = np.sort(r[controls, k])
        lo = np.searchsorted(rc, r[cases, k], side="left")
        hi = np.searchsorted(rc, r[cases, k], side="right")
        score = lo + 0.5 * (hi - lo)
        auc[k] = float(w @ score) / (float(w.sum()) * rc.shape[0])
    if tt.shape[0] == 1:
        return auc, float(auc[0])
    km = kaplan_meier(t, e)
    s = km(tt)
    d = -np.diff(np.concatenate([[1.0], s]))
    mean = float(d @ auc / d.sum()) if d.sum() > 0 else float(np.mean(auc))
    return auc, mean


# ----- Brier -------------------------------------------------------------------------------------
def brier_score(train_time, train_event, time, event, survival, times) -> np.ndarray:
    """IPCW Brier score at each of ``times``; ``survival`` is S(t | x), shape (n, len(times))."""
    t, e = _arr(time, event)
    tt = np.atleast_1d(np.asarray(times, dtype=float))
    S = np.asarray(survival, dtype=float)
    if S.ndim == 1:
        S = S[:, None]
    if S.shape != (t.shape[0], tt.shape[0]):
        raise InputError(f"survival has shape {S.shape}, expected ({t.shape[0]}, {tt.shape[0]})")
    G = censoring_survival(train_time, train_event)
    _check_inside(G, tt, "brier_score")
    g_event = G(t)
    out = np.empty(tt.shape[0])
    for k, tk in enumerate(tt):
        died = e & (t <= tk)
        alive = t > tk
        if np.any(g_event[died] <= 0):
            raise ValueError("brier_score: an event time lies where G = 0; evaluate inside follow-up")
        term = np.zeros(t.shape[0])
        term[died] = S[died, k] ** 2 / g_event[died]
        term[alive] = (1.0 - S[alive, k]) ** 2 / G(np.array([tk]))[0]
        out[k] = term.mean()
    return out


def integrated_brier_score(train_time, train_event, time, event, survival, times) -> float:
    """Trapezoidal integral of the IPCW Brier score over ``times``, divided by its range."""
    tt = np.atleast_1d(np.asarray(times, dtype=float))
    if tt.shape[0] < 2:
        raise InputError("integrated_brier_score needs at least two times")
    b = brier_score(train_time, train_event, time, event, survival, tt)
    return float(np.sum(0.5 * (b[1:] + b[:-1]) * np.diff(tt)) / (tt[-1] - tt[0]))


# ----- calibration -------------------------------------------------------------------------------
@dataclass(frozen=True)
class HorizonCalibration:
    """Calibration of predicted risk at ``horizon``.

    ``ici`` = mean |predicted − observed|, ``e50``/``e90`` its median / 90th percentile; ``observed``
    is the smoothed observed risk for each row; ``groups`` holds decile points (mean predicted,
    Kaplan–Meier observed risk); ``plot`` is the PNG path if one was written.
    """

    horizon: float
    ici: float
    e50: float
    e90: float
    observed: np.ndarray
    groups: list[tuple[float, float]]
    plot: str | None


def _rcs(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Restricted cubic spline basis (Harrell), linear beyond the outer knots."""
    k = knots.shape[0]
    cols = [x]
    tk, tk1 = knots[-1], knots[-2]
    scale = (knots[-1] - knots[0]) ** 2
    for j in range(k - 2):
        tj = knots[j]
        b = (np.maximum(x - tj, 0) ** 3 - np.maximum(x - tk1, 0) ** 3 * (tk - tj) / (tk - tk1)
             + np.maximum(x - tk, 0) ** 3 * (tk1 - tj) / (tk - tk1))
        cols.append(b / scale)
    return np.column_stack(cols)


def calibration_at_horizon(time, event, risk, horizon: float, *, plot_path: str | os.PathLike | None = None,
                           n_knots: int = 3, n_groups: int = 10, title: str | None = None) -> HorizonCalibration:
    """ICI/E50/E90 of predicted risk ``risk`` = P(breach by ``horizon``), optional PNG plot.

    The observed risk is a smooth function of the prediction: a Cox model of the outcome on a
    restricted cubic spline of cloglog(risk) (``n_knots`` knots at quantiles), evaluated at
    ``horizon``. The PNG is drawn with matplotlib's Agg canvas (no display, no global backend
    change) and written atomically.
    """
    import pandas as pd

    t, e, p = _arr(time, event, risk)
    if np.any((p <= 0) | (p >= 1)):
        p = np.clip(p, 1e-12, 1 - 1e-12)
    if not horizon < t.max():
        raise ValueError(f"horizon {horizon:g} must be inside follow-up (max time {t.max():g})")
    x = np.log(-np.log1p(-p))
    qs = {3: [0.1, 0.5, 0.9], 4: [0.05, 0.35, 0.65, 0.95], 5: [0.05, 0.275, 0.5, 0.725, 0.95]}[n_knots]
    knots = np.unique(np.quantile(x, qs))
    basis = _rcs(x, knots) if knots.shape[0] >= 3 else x[:, None]
    Xs = pd.DataFrame(basis, columns=[f"s{j}" for j in range(basis.shape[1])])
    m = TimeToBreachModel(family="coxph", horizon=horizon).fit(Xs, survival_target(t, e))
    observed = m.predict_risk(Xs, horizon)
    diff = np.abs(p - observed)
    # decile groups with Kaplan–Meier observed risk
    groups = []
    order = np.argsort(p, kind="stable")
    for g in np.array_split(order, min(n_groups, max(1, t.shape[0] // 20))):
        km = kaplan_meier(t[g], e[g])
        groups.append((float(p[g].mean()), float(1.0 - km(np.array([horizon]))[0])))
    path = None
    if plot_path is not None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(5, 5), dpi=100)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        lim = float(max(p.max(), observed.max(), max(o for _, o in groups)) * 1.05)
        ax.plot([0, lim], [0, lim], color="grey", lw=1, ls="--", label="perfect")
        o = np.argsort(p)
        ax.plot(p[o], observed[o], color="C0", lw=2, label="smoothed observed")
        ax.scatter([g[0] for g in groups], [g[1] for g in groups], color="C1", zorder=3,
                   label="groups (Kaplan–Meier)")
        ax.set_xlabel(f"predicted risk at {horizon:g}")
        ax.set_ylabel(f"observed risk at {horizon:g}")
        ax.set_title(title or f"Calibration at {horizon:g} (ICI {diff.mean():.4f})")
        ax.legend(loc="upper left")
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        atomic_write_bytes(plot_path, buf.getvalue())
        path = str(plot_path)
    return HorizonCalibration(horizon=float(horizon), ici=float(diff.mean()), e50=float(np.median(diff)),
                       e90=float(np.quantile(diff, 0.9)), observed=observed, groups=groups, plot=path)


# ----- cross-validation --------------------------------------------------------------------------
def _fold(estimator, X, y, train, test, horizon, times, k):
    from sklearn.base import clone

    def rows(obj, idx):
        return obj.iloc[idx] if hasattr(obj, "iloc") else obj[idx]

    tgt = parse_target(y)
    m = clone(estimator).fit(rows(X, train), tgt.take(train))
    tr, te = tgt.take(train), tgt.take(test)
    Xte = rows(X, test)
    lam_h = m.predict_cumulative_hazard(Xte, 0.0, horizon)
    risk_h = -np.expm1(-lam_h)
    te_event = te.event > 0
    tr_event = tr.event > 0
    out = {"fold": k, "n_train": int(len(train)), "n_test": int(len(test)), "events_test": int(te_event.sum()),
           "harrell_c": concordance_index(te.time, te_event, lam_h)}
    out["uno_c"] = concordance_index_ipcw(tr.time, tr_event, te.time, te_event, lam_h, horizon)
    out["auc"] = float(cumulative_dynamic_auc(tr.time, tr_event, te.time, te_event, risk_h, [horizon])[1])
    surv_h = np.exp(-lam_h)[:, None]
    out["brier"] = float(brier_score(tr.time, tr_event, te.time, te_event, surv_h, [horizon])[0])
    if times is not None:
        S = m.predict_survival(Xte, times)
        out["ibs"] = integrated_brier_score(tr.time, tr_event, te.time, te_event, S, times)
    return out


def cross_validate(estimator, X, y, *, horizon: float, times=None, n_splits: int = 5, seed: int = 0,
                   n_jobs: int = 1):
    """Seeded k-fold cross-validation of a :class:`TimeToBreachModel`, folds in parallel.

    Parameters
    ----------
    estimator : TimeToBreachModel (unfitted; cloned per fold)
    X, y : features and target (any form of :mod:`._target`)
    horizon : float
        Horizon for Harrell's and Uno's C, AUC and Brier (strictly inside every fold's follow-up).
    times : array-like, optional
        Grid for the integrated Brier score.
    n_splits, seed : the folds come from ``KFold(shuffle=True, random_state=seed)``, which uses its
        own generator: numpy's global random state is neither read nor changed.
    n_jobs : joblib workers (``-1``: all cores). Results do not depend on ``n_jobs``.

    Returns
    -------
    pandas.DataFrame
        One row per fold: harrell_c, uno_c, auc, brier (at ``horizon``) and ibs (if ``times``).
    """
    import pandas as pd
    from joblib import Parallel, delayed
    from sklearn.model_selection import KFold

    n = len(parse_target(y))
    folds = list(KFold(n_splits=n_splits, shuffle=True, random_state=int(seed)).split(np.arange(n)))
    res = Parallel(n_jobs=n_jobs)(
        delayed(_fold)(estimator, X, y, tr, te, float(horizon), times, k) for k, (tr, te) in enumerate(folds))
    return pd.DataFrame(res)
