"""The calibrated risk scorer: P(at least one breach within the horizon) from exchange features.

Model
    L2-penalised logistic regression on standardised features, fitted with L-BFGS-B so that each
    coefficient keeps the sign its feature's documented direction allows (``-1``: coefficient ≤ 0,
    ``+1``: ≥ 0, ``0``: free). Other things equal, a better control never raises the score.
Calibration
    fitted on out-of-fold linear scores (stratified, optionally grouped by exchange, seeded
    folds): Platt (``a + b·z`` through the logistic, ``b ≥ 0``) or isotonic (a monotone
    step map), so calibration never reorders exchanges. The final linear model is refitted on all
    rows and passed through that map.
Bands and score
    ``band`` from documented thresholds on the probability; ``risk_score`` is a 0–100 scale linear
    in log-odds between :data:`SCORE_P_LOW` (0) and :data:`SCORE_P_HIGH` (100).
Reason codes
    on the linear scale, feature *j* adds ``β_j (x_j − μ_j) / σ_j`` relative to the reference
    exchange (the training mean ``μ``); the largest in absolute value are the reasons, with their
    sign, and the probability change from moving that feature alone to the reference.

Everything the predictions need is plain numbers (:meth:`RiskScorer.to_dict`), so a saved model
reproduces predictions bit for bit (see :mod:`underwriting.scoring.artifact`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from underwriting.errors import InputError

#: Default band thresholds on P(breach within the horizon): A below the first, E from the last.
DEFAULT_BAND_THRESHOLDS: tuple[float, ...] = (0.02, 0.04, 0.08, 0.16)
BAND_LABELS: tuple[str, ...] = ("A", "B", "C", "D", "E")
#: Probabilities mapped to risk scores 0 and 100 (linear in log-odds in between, clipped).
SCORE_P_LOW = 0.001
SCORE_P_HIGH = 0.5


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def risk_score(p) -> np.ndarray:
    """0–100 score, linear in log-odds: ``SCORE_P_LOW`` → 0, ``SCORE_P_HIGH`` → 100 (clipped)."""
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    lo, hi = _logit(SCORE_P_LOW), _logit(SCORE_P_HIGH)
    return np.clip(100.0 * (np.log(p / (1 - p)) - lo) / (hi - lo), 0.0, 100.0)


def assign_bands(p, thresholds=DEFAULT_BAND_THRESHOLDS) -> np.ndarray:
    """Band letter of each probability: ``A`` below ``thresholds[0]``, … , last band from the last."""
    idx = np.searchsorted(np.asarray(thresholds, dtype=float), np.asarray(p, dtype=float), side="right")
    return np.asarray(BAND_LABELS, dtype=object)[idx]


@dataclass(frozen=True)
class Reason:
    """One reason code: a factor (a questionnaire item or an exposure/history/vendor factor) that
    moves this exchange's risk away from the reference exchange.

    ``contribution`` is the sum of its features' log-odds contributions; ``features`` lists each
    member as ``(name, value, reference, contribution)``.
    """

    factor: str
    contribution: float  # on the log-odds scale, relative to the reference exchange
    p_effect: float  # p(this exchange) − p(same exchange with this factor at the reference)
    features: tuple[tuple[str, float, float, float], ...]

    @property
    def direction(self) -> str:
        return "raises" if self.contribution > 0 else "lowers"

    def to_dict(self) -> dict:
        return {"factor": self.factor, "direction": self.direction, "log_odds": self.contribution,
                "p_effect": self.p_effect,
                "features": [{"feature": f, "value": v, "reference": r, "log_odds": c}
                             for f, v, r, c in self.features]}


def _fit_logistic(Z: np.ndarray, y: np.ndarray, alpha: float, bounds, x0=None) -> tuple[float, np.ndarray]:
    """Minimise mean log-loss + ``alpha/2 ·‖β‖²`` (intercept free) under box ``bounds`` on β."""
    n, k = Z.shape
    s = 2.0 * y - 1.0
    Z = np.ascontiguousarray(Z)
    ZT = np.ascontiguousarray(Z.T)  # row-major copy: the gradient product is then fast

    def f(w):
        z = w[0] + Z @ w[1:]
        loss = -np.mean(log_expit(s * z))
        g = -s * expit(-s * z) / n
        grad = np.concatenate(([g.sum()], ZT @ g + alpha * w[1:]))
        return loss + 0.5 * alpha * float(w[1:] @ w[1:]), grad

    if x0 is None:
        ybar = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
        x0 = np.concatenate(([math.log(ybar / (1 - ybar))], np.zeros(k)))
    res = minimize(f, x0, jac=True, method="L-BFGS-B", bounds=[(None, None), *bounds],
                   options={"maxiter": 5000, "ftol": 1e-11, "gtol": 1e-7})
    return float(res.x[0]), np.asarray(res.x[1:], dtype=float)


class RiskScorer(ClassifierMixin, BaseEstimator):
    """Calibrated P(breach within ``horizon_years``) with monotone directions and reason codes.

    Parameters
    ----------
    features : list of str, optional
        Feature columns to use (default: every column of the training frame, in sorted order).
    directions : "documented", dict or None, default="documented"
        Sign constraints: ``"documented"`` takes :func:`underwriting.features.feature_directions`
        (features it does not list are free); a dict ``{feature: -1|0|+1}``; ``None`` for none.
    C : float, default=1.0
        Inverse L2 penalty strength (scikit-learn convention, on standardised features).
    calibration : {"platt", "isotonic", "none"}, default="platt"
    cv : int, default=5
        Folds for the out-of-fold scores the calibration map is fitted on.
    horizon_years : float, default=1.0
        Horizon of the label the scorer is trained on (recorded, reported with every score).
    band_thresholds : tuple of float
        Increasing probability thresholds between bands A–E.
    random_state : int, default=0
        Seed of the fold split (the only randomness).

    Attributes
    ----------
    features_ : list of str
    mean_, scale_ : ndarray
        Standardisation (the reference exchange is ``mean_``).
    intercept_ : float
    coef_ : ndarray
        Coefficients on standardised features.
    calibration_ : dict
        ``{"kind": "platt", "a": .., "b": ..}``, ``{"kind": "isotonic", "x": [..], "y": [..]}`` or
        ``{"kind": "none"}``.
    """

    def __init__(self, features=None, directions="documented", C: float = 1.0, calibration: str = "platt",
                 cv: int = 5, horizon_years: float = 1.0, band_thresholds=DEFAULT_BAND_THRESHOLDS,
                 random_state: int = 0):
        self.features = features
        self.directions = directions
        self.C = C
        self.calibration = calibration
        self.cv = cv
        self.horizon_years = horizon_years
        self.band_thresholds = band_thresholds
        self.random_state = random_state

    # ------------------------------------------------------------------ fitting
    def _directions(self, features: list[str]) -> np.ndarray:
        if self.directions is None:
            d = {}
        elif isinstance(self.directions, str):
            if self.directions != "documented":
                raise InputError(f"must be 'documented', a dict or None, got {self.directions!r}",
                                 field="directions")
            from underwriting.features import feature_directions

            d = feature_directions()
        else:
            d = dict(self.directions)
        out = np.array([int(d.get(f, 0)) for f in features])
        if not np.isin(out, (-1, 0, 1)).all():
            raise InputError("directions must be -1, 0 or +1", field="directions")
        return out

    @staticmethod
    def _groups(features: list[str]) -> list[str]:
        from underwriting.features import feature_group

        return [feature_group(f) for f in features]

    def _matrix(self, X, features: list[str]) -> np.ndarray:
        if not isinstance(X, pd.DataFrame):
            raise InputError(f"RiskScorer needs a DataFrame of named features, got {type(X).__name__}", field="X")
        missing = [f for f in features if f not in X.columns]
        if missing:
            raise InputError(f"feature column(s) missing: {missing}", field=missing[0])
        M = X[features].to_numpy(dtype=float)
        if not np.isfinite(M).all():
            j = int(np.flatnonzero(~np.isfinite(M).all(axis=0))[0])
            raise InputError("feature values must be finite", field=features[j])
        return M

    def fit(self, X: pd.DataFrame, y, groups=None):
        """Fit on a feature frame and binary labels (1 = breach within the horizon).

        ``groups`` (e.g. exchange ids of panel rows) keeps each group in one fold.
        """
        from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

        for name, v in (("C", self.C), ("horizon_years", self.horizon_years)):
            if not (isinstance(v, int | float) and np.isfinite(v) and v > 0):
                raise InputError(f"must be a positive number, got {v!r}", field=name)
        if self.calibration not in ("platt", "isotonic", "none"):
            raise InputError(f"must be 'platt', 'isotonic' or 'none', got {self.calibration!r}",
                             field="calibration")
        th = np.asarray(self.band_thresholds, dtype=float)
        if th.shape != (len(BAND_LABELS) - 1,) or not (np.diff(th) > 0).all() or th[0] <= 0 or th[-1] >= 1:
            raise InputError(f"need {len(BAND_LABELS) - 1} increasing probabilities in (0, 1)",
                             field="band_thresholds")
        if not isinstance(X, pd.DataFrame):
            raise InputError(f"RiskScorer needs a DataFrame of named features, got {type(X).__name__}", field="X")
        features = list(self.features) if self.features is not None else sorted(map(str, X.columns))
        M = self._matrix(X, features)
        y = np.asarray(y)
        if y.shape != (len(M),):
            raise InputError(f"labels have shape {y.shape}, expected ({len(M)},)", field="y")
        if not np.isin(y, (0, 1)).all():
            raise InputError("labels must be 0 or 1", field="y")
        y = y.astype(float)
        if y.min() == y.max():
            raise InputError("labels have a single class; need breaches and non-breaches", field="y")
        dirs = self._directions(features)
        bounds = [(None, 0.0) if d < 0 else (0.0, None) if d > 0 else (None, None) for d in dirs]
        mean = M.mean(axis=0)
        scale = M.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        Z = (M - mean) / scale
        alpha = 1.0 / (self.C * len(y))

        # out-of-fold linear scores for the calibration map
        if self.calibration != "none":
            if groups is None:
                split = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state).split(Z, y)
            else:
                split = StratifiedGroupKFold(self.cv, shuffle=True, random_state=self.random_state).split(
                    Z, y, np.asarray(groups))
            oof = np.empty(len(y))
            for tr, te in split:
                m_tr, s_tr = Z[tr].mean(axis=0), Z[tr].std(axis=0)
                s_tr = np.where(s_tr > 0, s_tr, 1.0)
                b0, b = _fit_logistic((Z[tr] - m_tr) / s_tr, y[tr], 1.0 / (self.C * len(tr)), bounds)
                oof[te] = b0 + ((Z[te] - m_tr) / s_tr) @ b
            cal = _fit_calibration(self.calibration, oof, y)
        else:
            cal = {"kind": "none"}

        b0, b = _fit_logistic(Z, y, alpha, bounds)
        self.features_ = features
        self.directions_ = dirs
        self.groups_ = self._groups(features)
        self.mean_ = mean
        self.scale_ = scale
        self.intercept_ = b0
        self.coef_ = b
        self.calibration_ = cal
        self.classes_ = np.array([0, 1])
        self.n_features_in_ = len(features)
        self.feature_names_in_ = np.asarray(features, dtype=object)
        self.n_train_ = int(len(y))
        self.base_rate_ = float(y.mean())
        return self

    # -------------------------------------------------------------- prediction
    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Linear score (log-odds before calibration) of each row."""
        check_is_fitted(self, "coef_")
        Z = (self._matrix(X, self.features_) - self.mean_) / self.scale_
        return self.intercept_ + Z @ self.coef_

    def _calibrate(self, z: np.ndarray) -> np.ndarray:
        return apply_calibration(self.calibration_, z)

    def p_breach(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated P(at least one breach within ``horizon_years``) of each row."""
        return self._calibrate(self.decision_function(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.p_breach(X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return (self.p_breach(X) >= 0.5).astype(int)

    def bands(self, X: pd.DataFrame) -> np.ndarray:
        """Band letter of each row (see ``band_thresholds``)."""
        return assign_bands(self.p_breach(X), self.band_thresholds)

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-feature log-odds contributions ``β_j (x_j − μ_j)/σ_j`` (rows of ``X`` × features).

        ``intercept_ + contributions.sum(axis=1)`` equals :meth:`decision_function`.
        """
        check_is_fitted(self, "coef_")
        Z = (self._matrix(X, self.features_) - self.mean_) / self.scale_
        return pd.DataFrame(Z * self.coef_, index=X.index, columns=self.features_)

    def reasons(self, X: pd.DataFrame, n: int = 5) -> list[list[Reason]]:
        """The ``n`` factors that move each row's risk most (by |summed log-odds contribution|).

        Features are grouped by ``groups_`` (their questionnaire item or factor); factors whose
        contribution is zero are left out.
        """
        C = self.contributions(X).to_numpy()
        M = self._matrix(X, self.features_)
        z = self.intercept_ + C.sum(axis=1)
        p = self._calibrate(z)
        names = list(dict.fromkeys(self.groups_))
        members = [[j for j, g in enumerate(self.groups_) if g == name] for name in names]
        G = np.column_stack([C[:, idx].sum(axis=1) for idx in members]) if names else np.zeros((len(C), 0))
        out = []
        for i in range(len(C)):
            row = []
            for k in np.argsort(-np.abs(G[i]), kind="stable")[:n]:
                if G[i, k] == 0.0:
                    break
                p_ref = float(self._calibrate(np.array([z[i] - G[i, k]]))[0])
                feats = tuple((self.features_[j], float(M[i, j]), float(self.mean_[j]), float(C[i, j]))
                              for j in members[k])
                row.append(Reason(names[k], float(G[i, k]), float(p[i]) - p_ref, feats))
            out.append(row)
        return out

    # -------------------------------------------------------------- plain data
    def to_dict(self) -> dict:
        """Every number the predictions need, as JSON-ready plain data."""
        check_is_fitted(self, "coef_")
        return {
            "features": list(self.features_),
            "directions": [int(d) for d in self.directions_],
            "groups": list(self.groups_),
            "mean": [float(v) for v in self.mean_],
            "scale": [float(v) for v in self.scale_],
            "intercept": float(self.intercept_),
            "coef": [float(v) for v in self.coef_],
            "calibration": _plain(self.calibration_),
            "horizon_years": float(self.horizon_years),
            "band_labels": list(BAND_LABELS),
            "band_thresholds": [float(t) for t in self.band_thresholds],
            "score_scale": {"p_low": SCORE_P_LOW, "p_high": SCORE_P_HIGH},
            "params": {"C": float(self.C), "calibration": self.calibration, "cv": int(self.cv),
                       "random_state": self.random_state},
            "n_train": self.n_train_,
            "base_rate": self.base_rate_,
        }

    @classmethod
    def from_dict(cls, d: dict) -> RiskScorer:
        """Rebuild a fitted scorer from :meth:`to_dict` output (no refitting)."""
        p = d["params"]
        s = cls(features=list(d["features"]), directions=dict(zip(d["features"], d["directions"], strict=True)),
                C=p["C"], calibration=p["calibration"], cv=p["cv"], horizon_years=d["horizon_years"],
                band_thresholds=tuple(d["band_thresholds"]), random_state=p["random_state"])
        k = len(d["features"])
        arrays = {name: np.asarray(d[name], dtype=float) for name in ("mean", "scale", "coef")}
        for name, a in arrays.items():
            if a.shape != (k,) or not np.isfinite(a).all():
                raise ValueError(f"{name} must hold {k} finite numbers")
        s.features_ = list(d["features"])
        s.directions_ = np.asarray(d["directions"], dtype=int)
        s.groups_ = [str(g) for g in d["groups"]]
        if len(s.groups_) != k or len(s.directions_) != k:
            raise ValueError(f"groups and directions must hold {k} entries")
        s.mean_, s.scale_, s.coef_ = arrays["mean"], arrays["scale"], arrays["coef"]
        s.intercept_ = float(d["intercept"])
        cal = dict(d["calibration"])
        if cal.get("kind") == "isotonic":
            cal["x"] = np.asarray(cal["x"], dtype=float)
            cal["y"] = np.asarray(cal["y"], dtype=float)
        elif cal.get("kind") not in ("platt", "none"):
            raise ValueError(f"unknown calibration kind {cal.get('kind')!r}")
        s.calibration_ = cal
        s.classes_ = np.array([0, 1])
        s.n_features_in_ = k
        s.feature_names_in_ = np.asarray(s.features_, dtype=object)
        s.n_train_ = int(d["n_train"])
        s.base_rate_ = float(d["base_rate"])
        return s


def _plain(cal: dict) -> dict:
    return {k: ([float(x) for x in v] if isinstance(v, np.ndarray) else v) for k, v in cal.items()}


def _fit_calibration(kind: str, z: np.ndarray, y: np.ndarray) -> dict:
    """Fit the calibration map on out-of-fold linear scores ``z``."""
    if kind == "platt":
        a, b = _fit_logistic(z[:, None], y, 0.0, [(0.0, None)], x0=np.array([0.0, 1.0]))
        return {"kind": "platt", "a": a, "b": float(b[0])}
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0, increasing=True).fit(z, y)
    return {"kind": "isotonic", "x": np.asarray(iso.X_thresholds_, dtype=float),
            "y": np.asarray(iso.y_thresholds_, dtype=float)}


def apply_calibration(cal: dict, z: np.ndarray) -> np.ndarray:
    """Map linear scores to probabilities with a calibration map from :meth:`RiskScorer.to_dict`."""
    z = np.asarray(z, dtype=float)
    if cal["kind"] == "platt":
        return expit(cal["a"] + cal["b"] * z)
    if cal["kind"] == "isotonic":
        return np.interp(z, cal["x"], cal["y"])
    return expit(z)
