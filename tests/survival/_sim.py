"""Small simulations with known truth for the survival tests (no dependence on datasets/)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from underwriting.survival import survival_target

BETA = np.array([0.7, -0.5, 0.3])


def weibull_ph(n: int, seed: int, *, beta=BETA, lam: float = 0.15, rho: float = 1.5, c_max: float = 8.0,
               admin: float = 6.0):
    """Weibull proportional hazards: Λ(t | x) = lam * t**rho * exp(x·beta).

    Random uniform censoring on (0, c_max) and administrative censoring at ``admin``.
    Returns (X, y, truth) where truth(X, t) gives Λ.
    """
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, len(beta))), columns=[f"x{j}" for j in range(len(beta))])
    eta = X.to_numpy() @ beta
    t_event = (-np.log(rng.uniform(size=n)) / (lam * np.exp(eta))) ** (1 / rho)
    c = np.minimum(rng.uniform(0, c_max, size=n), admin)
    time = np.minimum(t_event, c)
    event = (t_event <= c).astype(int)

    def truth(Xn, t):
        return lam * np.power(np.asarray(t, float), rho) * np.exp(np.asarray(Xn, float) @ beta)

    return X, survival_target(time, event), truth


def panel(n_exchanges: int, n_periods: int, seed: int, *, beta=(-0.6, 0.5), rates=(0.30, 0.15, 0.08),
          edges=(0.0, 1.0, 3.0), dt: float = 1 / 12):
    """Exchange-month panel with recurrent breaches and time-varying covariates.

    ``posture`` is a random walk that moves each period; ``recent`` = 1 if the exchange was
    breached in the previous 12 periods (so an incident raises the hazard). Exchanges enter at
    random ages (left truncation). Events per period ~ Poisson(∫ rate(age) d(age) * exp(x·beta)) (exact).
    """
    rng = np.random.default_rng(seed)
    beta = np.asarray(beta, float)
    edges_a = np.asarray(edges, float)
    rates_a = np.asarray(rates, float)
    entry_age = rng.uniform(0, 2.0, size=n_exchanges)
    posture = rng.normal(size=n_exchanges)
    last_breach = np.full(n_exchanges, -np.inf)
    rows = []
    for k in range(n_periods):
        start = entry_age + k * dt
        stop = start + dt
        recent = (k - last_breach <= 12).astype(float)
        x = np.column_stack([posture, recent])
        upper = np.append(edges_a[1:], np.inf)
        overlap = np.clip(np.minimum(stop[:, None], upper) - np.maximum(start[:, None], edges_a), 0, None)
        mu = (overlap @ rates_a) * np.exp(x @ beta)
        n_ev = rng.poisson(mu)
        rows.append(pd.DataFrame({"exchange": np.arange(n_exchanges), "start": start, "stop": stop,
                                  "n_events": n_ev, "posture": posture.copy(), "recent": recent}))
        last_breach = np.where(n_ev > 0, k, last_breach)
        posture = posture + rng.normal(scale=0.15, size=n_exchanges)
    df = pd.concat(rows, ignore_index=True)
    return df, beta, rates_a, edges_a
