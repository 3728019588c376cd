"""Validation of breach-probability scores: discrimination, accuracy and calibration, with intervals.

* ROC AUC (discrimination), Brier score (accuracy of the probabilities);
* calibration curve (mean predicted vs observed rate per bin, equal-count bins by default) and the
  expected calibration error ``ECE = Σ_b (n_b / n) |ȳ_b − p̄_b|``;
* percentile bootstrap intervals, seeded; with ``groups`` (e.g. exchange ids of panel rows) whole
  groups are resampled, which respects the correlation of an exchange's years;
* an oracle comparison: the same metrics for probabilities that know the true hazard, and the
  paired bootstrap interval of ``AUC(scorer) − AUC(oracle)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from underwriting.errors import InputError


def _check(y, p) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if y.ndim != 1 or y.shape != p.shape:
        raise InputError(f"labels {y.shape} and probabilities {p.shape} must be 1-D of equal length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("labels must be 0 or 1", field="y")
    if not (np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()):
        raise InputError("probabilities must lie in [0, 1]", field="p")
    return y, p


def roc_auc(y, p) -> float:
    """Area under the ROC curve (ties count one half); NaN when only one class is present."""
    from scipy.stats import rankdata

    y, p = _check(y, p)
    n1 = y.sum()
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = rankdata(p)
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def brier_score(y, p) -> float:
    """Mean squared difference between probability and outcome."""
    y, p = _check(y, p)
    return float(np.mean((p - y) ** 2))


def _bins(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    if strategy == "quantile":
        order = np.argsort(p, kind="stable")
        b = np.empty(len(p), dtype=int)
        b[order] = np.minimum(np.arange(len(p)) * n_bins // max(len(p), 1), n_bins - 1)
        return b
    if strategy == "uniform":
        return np.minimum((p * n_bins).astype(int), n_bins - 1)
    raise InputError(f"must be 'quantile' or 'uniform', got {strategy!r}", field="strategy")


def calibration_curve(y, p, n_bins: int = 10, strategy: str = "quantile") -> pd.DataFrame:
    """Per bin: ``n``, mean predicted ``p_mean``, observed rate ``y_rate``, bounds ``p_min``/``p_max``.

    ``strategy="quantile"`` makes equal-count bins (ties broken by order), ``"uniform"`` equal-width.
    Empty bins are dropped.
    """
    y, p = _check(y, p)
    b = _bins(p, n_bins, strategy)
    df = pd.DataFrame({"bin": b, "p": p, "y": y})
    g = df.groupby("bin")
    return pd.DataFrame({"n": g.size(), "p_mean": g["p"].mean(), "y_rate": g["y"].mean(),
                         "p_min": g["p"].min(), "p_max": g["p"].max()}).reset_index()


def expected_calibration_error(y, p, n_bins: int = 10, strategy: str = "quantile") -> float:
    """``Σ_b (n_b / n) |ȳ_b − p̄_b|`` over the bins of :func:`calibration_curve`."""
    c = calibration_curve(y, p, n_bins, strategy)
    return float((c["n"] * (c["y_rate"] - c["p_mean"]).abs()).sum() / c["n"].sum())


@dataclass(frozen=True)
class Interval:
    """A point estimate with a bootstrap percentile interval."""

    estimate: float
    low: float
    high: float
    level: float = 0.95

    def __str__(self) -> str:
        return f"{self.estimate:.4f} [{self.low:.4f}, {self.high:.4f}]"

    def to_dict(self) -> dict:
        return {"estimate": self.estimate, "low": self.low, "high": self.high, "level": self.level}


def _resamples(n: int, groups, n_boot: int, seed: int):
    rng = np.random.default_rng(seed)
    if groups is None:
        for _ in range(n_boot):
            yield rng.integers(0, n, n)
        return
    codes, uniq = pd.factorize(pd.Series(np.asarray(groups)))
    members = pd.Series(np.arange(n)).groupby(codes).apply(np.asarray).to_list()
    for _ in range(n_boot):
        pick = rng.integers(0, len(uniq), len(uniq))
        yield np.concatenate([members[g] for g in pick])


def bootstrap(metric: Callable[..., float], *arrays, groups=None, n_boot: int = 1000, seed: int = 0,
              level: float = 0.95) -> Interval:
    """Percentile bootstrap interval of ``metric(*arrays)``, resampling rows (or whole ``groups``).

    Resamples where the metric is undefined (NaN, e.g. one class only) are skipped.
    """
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    est = float(metric(*arrays))
    vals = []
    for idx in _resamples(n, groups, n_boot, seed):
        v = metric(*(a[idx] for a in arrays))
        if np.isfinite(v):
            vals.append(v)
    if not vals:
        return Interval(est, float("nan"), float("nan"), level)
    lo, hi = np.quantile(vals, [(1 - level) / 2, (1 + level) / 2])
    return Interval(est, float(lo), float(hi), level)


@dataclass(frozen=True)
class ValidationReport:
    """Metrics of a score (and optionally of the oracle) with bootstrap intervals."""

    n: int
    events: int
    auc: Interval
    brier: Interval
    ece: Interval
    calibration: pd.DataFrame = field(repr=False)
    oracle_auc: Interval | None = None
    oracle_brier: Interval | None = None
    oracle_ece: Interval | None = None
    auc_gap: Interval | None = None  # AUC(score) − AUC(oracle), paired bootstrap

    def to_dict(self) -> dict:
        out = {"n": self.n, "events": self.events, "auc": self.auc.to_dict(), "brier": self.brier.to_dict(),
               "ece": self.ece.to_dict(), "calibration": self.calibration.to_dict(orient="list")}
        for name in ("oracle_auc", "oracle_brier", "oracle_ece", "auc_gap"):
            v = getattr(self, name)
            if v is not None:
                out[name] = v.to_dict()
        return out

    def table(self) -> str:
        """Markdown table of the metrics, score next to oracle."""
        lines = ["| metric | scorer | oracle |", "| --- | --- | --- |"]
        for label, a, b in (("ROC AUC", self.auc, self.oracle_auc), ("Brier", self.brier, self.oracle_brier),
                            ("ECE", self.ece, self.oracle_ece)):
            lines.append(f"| {label} | {a} | {b if b is not None else '—'} |")
        if self.auc_gap is not None:
            lines.append(f"| AUC − oracle AUC | {self.auc_gap} | |")
        return "\n".join(lines)


def validate_scores(y, p, *, oracle=None, groups=None, n_bins: int = 10, strategy: str = "quantile",
                    n_boot: int = 500, seed: int = 0, level: float = 0.95) -> ValidationReport:
    """AUC, Brier and ECE of ``p`` against ``y`` (and of ``oracle`` when given), with intervals.

    The same bootstrap resamples (same ``seed``) are used for the score and the oracle, so the
    interval of their AUC difference is paired.
    """
    y, p = _check(y, p)

    def ece(yy, pp):
        return expected_calibration_error(yy, pp, n_bins, strategy)

    kw = {"groups": groups, "n_boot": n_boot, "seed": seed, "level": level}
    rep = {"auc": bootstrap(roc_auc, y, p, **kw), "brier": bootstrap(brier_score, y, p, **kw),
           "ece": bootstrap(ece, y, p, **kw)}
    if oracle is not None:
        _, o = _check(y, oracle)
        rep["oracle_auc"] = bootstrap(roc_auc, y, o, **kw)
        rep["oracle_brier"] = bootstrap(brier_score, y, o, **kw)
        rep["oracle_ece"] = bootstrap(ece, y, o, **kw)
        rep["auc_gap"] = bootstrap(lambda yy, pp, oo: roc_auc(yy, pp) - roc_auc(yy, oo), y, p, o, **kw)
    return ValidationReport(n=len(y), events=int(y.sum()), calibration=calibration_curve(y, p, n_bins, strategy),
                            **rep)
