"""Piecewise-exponential proportional-hazards model fitted as a Poisson GLM (Newton–Raphson, numpy).

Rows are ``(start, stop]`` periods with covariates fixed within the period (an exchange-period
panel, counting-process rows, or plain ``(0, duration]`` rows) and an event count. Each row is
split at the breakpoints (episode splitting); in interval ``k`` the hazard is
``exp(a_k + (x - c)·beta)``, so the events of a piece are Poisson with mean
``exp(a_k + (x - c)·beta) * exposure``: a Poisson regression with offset ``log(exposure)``. The
log-likelihood is concave; Newton's method with step halving converges in a handful of
iterations. The Hessian's block structure (diagonal in the interval effects) keeps each
iteration at O(n p^2) with no dense one-hot design.

Standard errors come from the inverse observed information (the covariance of the interval
log-rates and of the coefficients jointly), which the frequency hand-off uses.
"""

from __future__ import annotations

import numpy as np

from underwriting.errors import InputError


def split_episodes(start: np.ndarray, stop: np.ndarray, events: np.ndarray, edges: np.ndarray):
    """Split ``(start, stop]`` rows at the interval edges.

    Returns ``(row, interval, exposure, events)`` for the pieces; a row's events go to the piece
    that contains its ``stop``. Pieces are sorted by interval (stable).
    """
    k0 = np.searchsorted(edges, start, side="right") - 1
    k1 = np.searchsorted(edges, stop, side="left") - 1
    k0 = np.maximum(k0, 0)
    k1 = np.maximum(k1, k0)
    npieces = k1 - k0 + 1
    if np.all(npieces == 1):
        row = np.arange(start.shape[0])
        interval = k0
        expo = stop - start
        ev = events.astype(np.float64)
    else:
        row = np.repeat(np.arange(start.shape[0]), npieces)
        first = np.repeat(np.cumsum(npieces) - npieces, npieces)
        interval = np.repeat(k0, npieces) + (np.arange(row.shape[0]) - first)
        lo = edges[interval]
        hi = np.append(edges[1:], np.inf)[interval]
        expo = np.minimum(stop[row], hi) - np.maximum(start[row], lo)
        ev = np.where(interval == k1[row], events[row], 0).astype(np.float64)
    order = np.argsort(interval, kind="stable")
    return row[order], interval[order], expo[order], ev[order]


def fit_pwe(Z: np.ndarray, start: np.ndarray, stop: np.ndarray, events: np.ndarray, edges: np.ndarray,
            penalizer: float = 0.0, max_iter: int = 50, tol: float = 1e-10):
    """Fit on standardised covariates ``Z`` (n, p). Returns ``(a, gamma, cov, loglik, n_iter)``.

    ``cov`` is the inverse (penalised) information of ``(a, gamma)``.
    """
    K = edges.shape[0]
    p = Z.shape[1]
    row, interval, expo, ev = split_episodes(start, stop, events, edges)
    keep = expo > 0
    if not np.all(keep):
        if np.any(ev[~keep] > 0):
            raise InputError("an event falls in a period of zero length", field="y")
        row, interval, expo, ev = row[keep], interval[keep], expo[keep], ev[keep]
    D = np.bincount(interval, weights=ev, minlength=K)
    E = np.bincount(interval, weights=expo, minlength=K)
    empty = np.flatnonzero(D == 0)
    if empty.size:
        k = int(empty[0])
        hi = edges[k + 1] if k + 1 < K else np.inf
        raise InputError(f"no breaches in the baseline interval [{edges[k]:g}, {hi:g}); choose fewer or "
                         "different breakpoints (the rate of an interval without events is not estimable)",
                         field="breakpoints")
    identity_rows = row.shape[0] == Z.shape[0] and np.array_equal(row, np.arange(Z.shape[0]))
    Zp = Z if identity_rows else Z[row]
    log_e = np.log(expo)
    bounds = np.searchsorted(interval, np.arange(K))  # pieces are sorted by interval

    a = np.log(D / E)
    g = np.zeros(p)

    def loglik(a_, g_):
        eta = a_[interval] + (Zp @ g_ if p else 0.0) + log_e
        return float(ev @ eta - np.exp(eta).sum() - 0.5 * penalizer * g_ @ g_)

    ll = loglik(a, g)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007
        mu = np.exp(a[interval] + (Zp @ g if p else 0.0) + log_e)
        Mk = np.bincount(interval, weights=mu, minlength=K)
        grad_a = D - Mk
        resid = ev - mu
        grad_g = Zp.T @ resid - penalizer * g if p else np.zeros(0)
        Zmu = Zp * mu[:, None] if p else np.zeros((Zp.shape[0], 0))
        H_ag = np.add.reduceat(Zmu, bounds, axis=0) if p else np.zeros((K, 0))
        H_gg = Zmu.T @ Zp + penalizer * np.eye(p)
        H = np.empty((K + p, K + p))
        H[:K, :K] = np.diag(Mk)
        H[:K, K:] = H_ag
        H[K:, :K] = H_ag.T
        H[K:, K:] = H_gg
        grad = np.concatenate([grad_a, grad_g])
        try:
            step = np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            raise InputError("the information matrix is singular: collinear or constant features, or "
                             "separation; drop features or set a penalizer", field="X") from None
        t = 1.0
        while True:
            a_new, g_new = a + t * step[:K], g + t * step[K:]
            ll_new = loglik(a_new, g_new)
            if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                break
            t *= 0.5
            if t < 1e-10:
                break
        a, g = a_new, g_new
        converged = abs(ll_new - ll) <= tol * max(1.0, abs(ll)) and np.max(np.abs(t * step)) < 1e-7
        ll = ll_new
        if converged:
            break
    else:  # pragma: no cover - pathological data
        raise InputError(f"piecewise-exponential fit did not converge in {max_iter} iterations; "
                         "set a penalizer or remove near-separating features", field="X")
    # information at the optimum
    mu = np.exp(a[interval] + (Zp @ g if p else 0.0) + log_e)
    Mk = np.bincount(interval, weights=mu, minlength=K)
    Zmu = Zp * mu[:, None] if p else np.zeros((Zp.shape[0], 0))
    H_ag = np.add.reduceat(Zmu, bounds, axis=0) if p else np.zeros((K, 0))
    H = np.empty((K + p, K + p))
    H[:K, :K] = np.diag(Mk)
    H[:K, K:] = H_ag
    H[K:, :K] = H_ag.T
    H[K:, K:] = Zmu.T @ Zp + penalizer * np.eye(p)
    cov = np.linalg.inv(H)
    cov = 0.5 * (cov + cov.T)
    return a, g, cov, ll, n_iter
