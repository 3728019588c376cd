"""A SYNTHETIC book of exchanges for benchmarks, notebooks and tests (no real exchange in it).

Everything about the *exchanges* is invented (documented draws below); the *loss model* is the
project's: the ground-up severity fitted to the public incident record, its split into perils and
custody tiers (:func:`underwriting.quote.calibration.record_calibration`), and the roster base breach rate.

Draws (seeded, ``numpy.random.default_rng(seed)``):

* customer assets: ``ln(total) ~ Normal(ln 300M USD, 1.5)``, clipped to [1M, 50bn]; hot + warm share
  ``~ Beta(2, 18)`` (mean 10%), the rest cold;
* breach intensity: base rate x posture multiplier ``exp(Normal(-0.125, 0.5))`` (mean 1), split
  into perils by the record's vector mix; parameter uncertainty ``var_lambda = 0.02 * mean**2``
  (negative binomial, as the survival model gives);
* vendors: a pool of ``n_vendors`` (default ``max(10, n // 10)``) with Zipf popularity
  (weight ``1 / rank**1.1``); each exchange uses 1 + Binomial(2, 0.4) distinct vendors;
* policy: deductible 0.5% of total assets, per-occurrence limit 10% of total assets (>= 1M),
  aggregate limit twice the limit, share 100% (60%), 50% (25%) or 25% (15%), cold-wallet theft
  excluded for 20% of exchanges; social engineering sub-limited at 10% of the limit.
"""

from __future__ import annotations

import numpy as np

from underwriting.portfolio.book import Book, Dependence, Insured

__all__ = ["synthetic_book"]


def synthetic_book(n_exchanges: int = 200, seed: int = 0, *, n_vendors: int | None = None,
                   dependence: Dependence | None = None, rate_multiplier: float = 1.0) -> Book:
    """Build a synthetic book of ``n_exchanges`` exchanges (see the module docstring)."""
    from underwriting.errors import InputError
    from underwriting.losses.aggregate import Peril
    from underwriting.losses.counts import NegativeBinomial
    from underwriting.losses.severity import exposure_severity
    from underwriting.pricing.layers import Layer
    from underwriting.quote.calibration import record_calibration

    if not (isinstance(n_exchanges, int | np.integer) and n_exchanges >= 1):
        raise InputError("must be a positive integer", field="n_exchanges")
    rng = np.random.default_rng(seed)
    cal = record_calibration()
    ground = cal.severity_fit.severity
    base_rate = float(cal.base_rate.rate) * float(rate_multiplier)
    n = int(n_exchanges)
    nv = int(n_vendors or max(10, n // 10))
    total = np.clip(np.exp(rng.normal(np.log(3e8), 1.5, n)), 1e6, 5e10)
    hot = total * rng.beta(2, 18, n)
    cold = total - hot
    mult = np.exp(rng.normal(-0.125, 0.5, n))
    pop = 1.0 / np.arange(1, nv + 1) ** 1.1
    pop /= pop.sum()
    n_v = 1 + rng.binomial(2, 0.4, n)
    shares = rng.choice([1.0, 0.5, 0.25], size=n, p=[0.6, 0.25, 0.15])
    no_cold = rng.random(n) < 0.2
    insureds = []
    for i in range(n):
        lam = base_rate * mult[i]
        tier = {"hot_wallet_theft": exposure_severity(ground, hot[i]),
                "cold_wallet_theft": exposure_severity(ground, cold[i])}
        mixed = exposure_severity(ground, [hot[i], cold[i]], [cal.hot_share, 1 - cal.hot_share])
        perils = []
        for p, s in cal.peril_shares.items():
            if s <= 0 or (p == "cold_wallet_theft" and no_cold[i]):
                continue
            m = lam * s
            perils.append(Peril(p, NegativeBinomial(m, 0.02 * m * m), tier.get(p, mixed)))
        limit = max(0.10 * total[i], 1e6)
        layer = Layer(deductible=0.005 * total[i], limit=limit, agg_limit=2 * limit, share=float(shares[i]),
                      sublimits={"social_engineering": 0.1 * limit})
        vend = rng.choice(nv, size=min(int(n_v[i]), nv), replace=False, p=pop)
        insureds.append(Insured(exchange_id=f"syn-{i + 1:05d}", perils=tuple(perils), layer=layer,
                                vendors=tuple(f"vendor-{k + 1:03d}" for k in sorted(vend)),
                                name=f"Synthetic exchange {i + 1}", policy_id=f"syn-policy-{i + 1:05d}"))
    return Book.from_insureds(insureds, dependence, label=f"synthetic book of {n} exchanges (seed {seed})")
