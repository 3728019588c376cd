"""Plain-data hazard models: the numbers a fitted model is made of, and every prediction from them.

A fitted :class:`~underwriting.survival.TimeToBreachModel` keeps its parameters in a
:class:`HazardState` (numpy float64 arrays and strings only). Every prediction goes through
:func:`cumulative_hazard` on that state, never through lifelines' fitted object, so a model saved as
JSON and loaded again predicts bit for bit the same numbers (JSON writes floats with ``repr``,
which round-trips float64 exactly) and loading needs neither lifelines nor a refit.

Cumulative hazard :math:`\\Lambda(t \\mid x)` per family (time ``t`` in model units, ``x`` the
feature row, :math:`\\eta = (x - c)\\cdot\\beta`):

``coxph``
    :math:`\\Lambda_{0,s}(t)\\, e^{\\eta}` with the Breslow baseline of stratum ``s`` as a step
    function of the training event times (computed here, with left truncation handled).
``piecewise_exponential``
    :math:`e^{\\eta} \\sum_k e^{a_k}\\, |[0,t] \\cap [c_k, c_{k+1})|` (constant baseline hazard
    :math:`e^{a_k}` between breakpoints).
``weibull_aft``
    :math:`(t / e^{\\mu})^{\\rho}`, :math:`\\mu = b_0 + x\\cdot\\beta`, :math:`\\rho = e^{\\log\\rho}`.
``lognormal_aft``
    :math:`-\\log \\Phi(-(\\log t - \\mu)/\\sigma)`.
``loglogistic_aft``
    :math:`\\log(1 + (t / e^{\\mu})^{\\beta})`.

Extrapolation beyond the training follow-up is explicit (:data:`EXTRAPOLATION`): ``"raise"``
refuses with an :class:`~underwriting.errors.InputError` that names the horizon and the follow-up;
``"tail"`` uses a documented parametric tail: the AFT family's own curve, the piecewise-exponential
model's last-interval rate, or for Cox a constant baseline hazard equal to the average Breslow
hazard over the last ``tail_window`` of follow-up (never the flat Breslow tail).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from underwriting.errors import InputError

FAMILIES = ("coxph", "weibull_aft", "lognormal_aft", "loglogistic_aft", "piecewise_exponential")
AFT_FAMILIES = ("weibull_aft", "lognormal_aft", "loglogistic_aft")
EXTRAPOLATION = ("raise", "tail")
#: Relative slack when comparing a horizon with the maximum follow-up (float noise only).
_FOLLOW_UP_RTOL = 1e-12


@dataclass
class HazardState:
    """Everything needed to predict, as plain numbers. See the module docstring for the formulas.

    Attributes
    ----------
    theta : ndarray
        The parameter vector whose covariance is ``covariance`` (order in ``param_names``):
        ``coxph``: ``beta``; ``piecewise_exponential``: ``log_rates`` then ``beta``;
        AFT: ``intercept``, ``beta``, ``log_ancillary``.
    """

    family: str
    feature_names: tuple[str, ...]
    center: np.ndarray
    theta: np.ndarray
    param_names: tuple[str, ...]
    covariance: np.ndarray
    max_follow_up: np.ndarray  # one value per stratum (a single value if unstratified)
    extrapolation: str = "raise"
    breakpoints: np.ndarray = field(default_factory=lambda: np.zeros(0))  # PWE: left edges, [0, c1, ...]
    strata_columns: tuple[str, ...] = ()
    strata_keys: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))  # (n_strata, n_strata_cols)
    baseline_times: list[np.ndarray] = field(default_factory=list)  # Cox: per stratum, event times
    baseline_cumhaz: list[np.ndarray] = field(default_factory=list)  # Cox: per stratum, Λ0 at those times
    tail_rates: np.ndarray = field(default_factory=lambda: np.zeros(0))  # Cox: per stratum, tail hazard

    def __post_init__(self) -> None:
        # C-contiguous float64 everywhere: the same numbers in the same memory layout give the same
        # BLAS summation order, hence bitwise-identical predictions before and after save/load.
        def c(a):
            return np.ascontiguousarray(np.asarray(a, dtype=np.float64))

        for name in ("center", "theta", "covariance", "max_follow_up", "breakpoints", "strata_keys",
                     "tail_rates"):
            setattr(self, name, c(getattr(self, name)))
        self.baseline_times = [c(a) for a in self.baseline_times]
        self.baseline_cumhaz = [c(a) for a in self.baseline_cumhaz]

    # ----- parameter views -------------------------------------------------------------------
    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def split_theta(self, theta: np.ndarray | None = None) -> dict[str, np.ndarray | float]:
        th = self.theta if theta is None else theta
        p = self.n_features
        if self.family == "coxph":
            return {"coef": th[:p]}
        if self.family == "piecewise_exponential":
            k = self.breakpoints.shape[0]
            return {"log_rates": th[:k], "coef": th[k:k + p]}
        return {"intercept": th[0], "coef": th[1:1 + p], "log_ancillary": th[1 + p]}

    @property
    def coef(self) -> np.ndarray:
        return self.split_theta()["coef"]

    # ----- JSON -------------------------------------------------------------------------------
    def to_json(self) -> dict:
        """Plain JSON-able dict (floats written with ``repr``: exact round trip)."""
        return {
            "family": self.family,
            "feature_names": list(self.feature_names),
            "center": _fl(self.center),
            "theta": _fl(self.theta),
            "param_names": list(self.param_names),
            "covariance": [_fl(r) for r in self.covariance],
            "max_follow_up": _fl(self.max_follow_up),
            "extrapolation": self.extrapolation,
            "breakpoints": _fl(self.breakpoints),
            "strata_columns": list(self.strata_columns),
            "strata_keys": [_fl(r) for r in self.strata_keys],
            "tail_rates": _fl(self.tail_rates),
        }

    @classmethod
    def from_json(cls, d: dict, baseline_times=None, baseline_cumhaz=None) -> HazardState:
        def arr(v):
            return np.asarray(v, dtype=np.float64)

        p = len(d["feature_names"])
        q = len(d["param_names"])
        cov = arr(d["covariance"]).reshape(q, q)
        keys = arr(d["strata_keys"]).reshape(len(d["strata_keys"]), len(d["strata_columns"]))
        return cls(
            family=d["family"], feature_names=tuple(d["feature_names"]), center=arr(d["center"]).reshape(p),
            theta=arr(d["theta"]), param_names=tuple(d["param_names"]), covariance=cov,
            max_follow_up=arr(d["max_follow_up"]), extrapolation=d["extrapolation"],
            breakpoints=arr(d["breakpoints"]), strata_columns=tuple(d["strata_columns"]), strata_keys=keys,
            baseline_times=[arr(t) for t in (baseline_times or [])],
            baseline_cumhaz=[arr(h) for h in (baseline_cumhaz or [])], tail_rates=arr(d["tail_rates"]),
        )


def _fl(a) -> list[float]:
    return [float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1)]


# ----- evaluation ----------------------------------------------------------------------------
def strata_index(state: HazardState, S: np.ndarray | None) -> np.ndarray:
    """Row → stratum index (0 if unstratified). ``S`` holds the strata columns' values."""
    if not state.strata_columns:
        n = 0 if S is None else S.shape[0]
        return np.zeros(n, dtype=np.intp)
    idx = np.full(S.shape[0], -1, dtype=np.intp)
    for j, key in enumerate(state.strata_keys):
        idx[np.all(S == key, axis=1)] = j
    if np.any(idx < 0):
        bad = S[np.argmax(idx < 0)]
        known = ", ".join(str(tuple(k)) for k in state.strata_keys)
        raise InputError(f"stratum {tuple(bad.tolist())} of {list(state.strata_columns)} was not in the "
                         f"training data (known: {known})", field="X")
    return idx


def check_follow_up(state: HazardState, times: np.ndarray, sidx: np.ndarray) -> None:
    """Raise if any time is negative, or beyond follow-up while ``extrapolation == 'raise'``."""
    t = np.asarray(times, dtype=float)
    if not np.all(np.isfinite(t)):
        raise InputError("prediction times must be finite", field="times")
    if np.any(t < 0):
        raise InputError(f"prediction times must be >= 0 (got {float(np.min(t)):g})", field="times")
    if state.extrapolation != "raise":
        return
    limit = state.max_follow_up[sidx] if state.max_follow_up.shape[0] > 1 else state.max_follow_up[0]
    if t.ndim == 2:
        tmax = t.max(axis=1) if t.shape[1] else np.zeros(t.shape[0])
    else:
        tmax = t
    over = tmax > limit * (1 + _FOLLOW_UP_RTOL)
    if np.any(over):
        i = int(np.argmax(over))
        lim = float(np.broadcast_to(limit, over.shape)[i])
        raise InputError(
            f"horizon {float(np.broadcast_to(tmax, over.shape)[i]):g} is beyond the training data's maximum "
            f"follow-up {lim:g} (model time units); the model will not extrapolate silently. Shorten the "
            "horizon, refit on longer follow-up, or fit with extrapolation='tail' for the documented "
            "parametric tail", field="horizon")


def linear_predictor(state: HazardState, X: np.ndarray, theta: np.ndarray | None = None) -> np.ndarray:
    parts = state.split_theta(theta)
    eta = (X - state.center) @ parts["coef"] if X.shape[1] else np.zeros(X.shape[0])
    if state.family in AFT_FAMILIES:
        eta = eta + parts["intercept"]
    return eta


def cumulative_hazard(state: HazardState, X: np.ndarray, times: np.ndarray, sidx: np.ndarray,
                      theta: np.ndarray | None = None) -> np.ndarray:
    """Λ(t | x) for each row of ``X`` (float array, columns = ``feature_names``) and times.

    ``times`` is (m,) (same times for every row) or (n, m) (row-specific). Returns (n, m).
    No follow-up check here: see :func:`check_follow_up`.
    """
    n = X.shape[0]
    t = np.asarray(times, dtype=np.float64)
    t2 = np.broadcast_to(t, (n, t.shape[-1])) if t.ndim == 1 else t
    eta = linear_predictor(state, X, theta)
    fam = state.family
    if fam == "coxph":
        base = np.empty_like(t2, dtype=np.float64)
        for s in range(len(state.baseline_times)):
            rows = sidx == s
            if not np.any(rows):
                continue
            bt, bh = state.baseline_times[s], state.baseline_cumhaz[s]
            ts = t2[rows]
            pos = np.searchsorted(bt, ts, side="right") - 1
            h0 = np.where(pos >= 0, bh[np.maximum(pos, 0)], 0.0)
            if state.extrapolation == "tail":
                tmax = state.max_follow_up[s]
                h_end = bh[-1] if bh.shape[0] else 0.0
                h0 = np.where(ts > tmax, h_end + state.tail_rates[s] * (ts - tmax), h0)
            base[rows] = h0
        return base * np.exp(eta)[:, None]
    if fam == "piecewise_exponential":
        parts = state.split_theta(theta)
        rates = np.exp(parts["log_rates"])
        edges = state.breakpoints
        base = np.zeros_like(t2, dtype=np.float64)
        k_last = edges.shape[0] - 1
        for k in range(edges.shape[0]):
            lo = edges[k]
            if k < k_last:
                width = edges[k + 1] - lo
                base += rates[k] * np.clip(t2 - lo, 0.0, width)
            else:
                base += rates[k] * np.maximum(t2 - lo, 0.0)
        return base * np.exp(eta)[:, None]
    parts = state.split_theta(theta)
    shape = np.exp(parts["log_ancillary"])
    with np.errstate(divide="ignore"):
        z = np.log(t2) - eta[:, None]
    if fam == "weibull_aft":
        return np.exp(shape * z)
    if fam == "lognormal_aft":
        from scipy.special import log_ndtr

        return -log_ndtr(-z / shape)
    if fam == "loglogistic_aft":
        return np.log1p(np.exp(shape * z))
    raise ValueError(f"unknown family {fam!r}")  # pragma: no cover
