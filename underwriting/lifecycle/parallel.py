"""Cross-validation and the penalty search, run through joblib: locally or on a Dask cluster.

Each task fits one :class:`~underwriting.scoring.model.RiskScorer` on one fold and returns its
held-out predictions; tasks are independent and deterministic (the fold split is seeded, the fit
has no other randomness), and results are collected in task order, so the outcome is the same on
any backend and any number of workers.

``backend="dask"`` needs ``dask[distributed]``; ``scheduler`` is the address of a running
scheduler (``tcp://host:8786``) or a ``distributed.Client``. Progress is shown with tqdm on a
terminal (quiet otherwise, or when tqdm is missing).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from underwriting.errors import InputError

BACKENDS = ("local", "dask")


def progress(iterable, *, total: int | None = None, desc: str = "", enabled: bool | None = None):
    """tqdm over ``iterable`` on a terminal; the iterable itself otherwise."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is optional
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, file=sys.stderr)


@contextlib.contextmanager
def backend(name: str = "local", scheduler: Any = None, n_jobs: int | None = None) -> Iterator[dict]:
    """Context in which :func:`run_tasks` runs on ``name`` (``local`` processes or ``dask``)."""
    import joblib

    if name not in BACKENDS:
        raise InputError(f"must be one of {', '.join(BACKENDS)}, got {name!r}", field="--backend")
    if n_jobs == 0:
        raise InputError("must not be 0 (a number of workers, or -1 for all cores)", field="--n-jobs")
    if name == "local":
        yield {"backend": "loky" if (n_jobs or 1) != 1 else "sequential", "n_jobs": n_jobs or 1}
        return
    try:
        from distributed import Client
    except ImportError:
        raise InputError("the dask backend needs dask[distributed]: pip install 'dask[distributed]'",
                         field="--backend") from None
    if scheduler is None:
        raise InputError("--backend dask needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)", field="--scheduler")
    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout="10s") if own else scheduler
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler {scheduler!r} ({exc})", field="--scheduler") from None
    try:
        with joblib.parallel_config(backend="dask", wait_for_workers_timeout=30):
            yield {"backend": "dask", "n_jobs": -1, "client": client}
    finally:
        if own:
            client.close()


def run_tasks(fn, tasks: Sequence[tuple], *, ctx: dict | None = None, desc: str = "") -> list:
    """``[fn(*t) for t in tasks]`` through joblib in the active :func:`backend` context, in order."""
    from joblib import Parallel, delayed

    ctx = ctx or {"backend": "sequential", "n_jobs": 1}
    if ctx["backend"] == "sequential":
        return [fn(*t) for t in progress(tasks, total=len(tasks), desc=desc)]
    kw = {} if ctx["backend"] == "dask" else {"backend": ctx["backend"]}
    par = Parallel(n_jobs=ctx["n_jobs"], return_as="generator", **kw)
    return list(progress(par(delayed(fn)(*t) for t in tasks), total=len(tasks), desc=desc))


def fold_indices(y, groups, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds keeping each group (exchange) in one fold; seeded."""
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(y)
    n_groups = len(np.unique(groups))
    k = int(min(n_splits, n_groups, max(2, int(y.sum()))))
    if k < 2 or y.sum() < 2:
        raise InputError(f"too little data for {n_splits}-fold cross-validation ({n_groups} exchanges, "
                         f"{int(y.sum())} events)", field="data")
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in cv.split(np.zeros(len(y)), y, groups)]


def _fit_fold(X, y, groups, train, test, params: dict) -> np.ndarray:
    from underwriting.scoring.model import RiskScorer

    m = RiskScorer(**params).fit(X.iloc[train], y[train], groups=groups[train])
    return m.p_breach(X.iloc[test])


def out_of_fold(X, y, groups, params: dict, *, n_splits: int = 5, seed: int = 0, ctx: dict | None = None,
                desc: str = "cross-validation") -> np.ndarray:
    """Out-of-fold P(breach) of a RiskScorer with ``params`` (folds grouped by exchange)."""
    folds = fold_indices(y, groups, n_splits, seed)
    preds = run_tasks(_fit_fold, [(X, y, groups, tr, te, params) for tr, te in folds], ctx=ctx, desc=desc)
    out = np.empty(len(y), dtype=float)
    for (_, te), p in zip(folds, preds, strict=True):
        out[te] = p
    return out


def search_C(X, y, groups, grid: Sequence[float], base_params: dict, *, n_splits: int = 5, seed: int = 0,
             ctx: dict | None = None) -> dict[str, Any]:
    """Grid search of the penalty ``C`` by grouped cross-validated AUC (ties: lower Brier, then smaller C).

    Uncalibrated fits (the Platt map is monotone, so it does not change the AUC) keep it fast.
    Returns ``{"best_C", "results": [{"C", "auc", "brier"}], "folds", "metric"}``.
    """
    from underwriting.scoring.validation import brier_score, roc_auc

    grid = [float(c) for c in grid]
    if not grid or any(not np.isfinite(c) or c <= 0 for c in grid):
        raise InputError("the C grid must hold positive numbers", field="search.C")
    folds = fold_indices(y, groups, n_splits, seed)
    tasks = [(X, y, groups, tr, te, {**base_params, "C": c, "calibration": "none"}) for c in grid for tr, te in folds]
    preds = run_tasks(_fit_fold, tasks, ctx=ctx, desc="C search")
    results = []
    for i, c in enumerate(grid):
        p = np.empty(len(y))
        for j, (_, te) in enumerate(folds):
            p[te] = preds[i * len(folds) + j]
        results.append({"C": c, "auc": roc_auc(y, p), "brier_uncalibrated": brier_score(y, p)})
    best = sorted(results, key=lambda r: (-r["auc"], r["brier_uncalibrated"], r["C"]))[0]
    return {"best_C": best["C"], "results": results, "folds": len(folds), "metric": "grouped CV ROC AUC",
            "seed": seed}
