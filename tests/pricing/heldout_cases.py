"""The held-out style pricing cases (shared by the suite and the script that made its references)."""

from __future__ import annotations

import math

INF = math.inf

#: name -> (frequency spec, severity spec, terms); specs as for ``make_frequency``/``make_severity``.
CASES: dict[str, tuple[tuple, tuple, dict]] = {
    "ln_sigma2_unlimited_rare": (("poisson", {"lam": 0.02}), ("lognormal", {"mu": math.log(1e5), "sigma": 2.0}), {}),
    "lomax3_unlimited_frequent": (("poisson", {"lam": 20.0}), ("lomax", {"alpha": 3.0, "theta": 2e5}), {}),
    "lomax1p1_100m_xs_0": (("poisson", {"lam": 0.02}), ("lomax", {"alpha": 1.1, "theta": 1e6}), {"limit": 1e8}),
    "weibull0p4_unlimited": (("poisson", {"lam": 0.1}), ("weibull", {"shape": 0.4, "scale": 2e5}), {}),
    "ln_9m_xs_1m": (("poisson", {"lam": 0.3}), ("lognormal", {"mu": math.log(1e5), "sigma": 2.0}),
                    {"deductible": 1e6, "limit": 9e6}),
    "negbin_ln_50m": (("negbin", {"mean": 0.5, "var_lambda": 0.5}), ("lognormal", {"mu": 12.0, "sigma": 1.5}),
                      {"limit": 5e7}),
    "negbin_lomax_20m_xs_1m": (("negbin", {"mean": 5.0, "var_lambda": 10.0}), ("lomax", {"alpha": 2.5, "theta": 1e6}),
                               {"deductible": 1e6, "limit": 2e7}),
    "geometric_exponential_unlimited": (("geometric", {"beta": 0.4}), ("gamma", {"shape": 1.0, "scale": 1e6}), {}),
    "gamma_10m_agg_limit": (("poisson", {"lam": 2.0}), ("gamma", {"shape": 0.5, "scale": 2e6}),
                            {"limit": 1e7, "agg_limit": 3e7}),
    "ln_10m_agg_deductible": (("poisson", {"lam": 1.0}), ("lognormal", {"mu": 13.0, "sigma": 1.2}),
                              {"limit": 1e7, "agg_deductible": 5e6}),
    "ln_25m_xs_5m_share": (("poisson", {"lam": 0.5}), ("lognormal", {"mu": 13.0, "sigma": 1.5}),
                           {"deductible": 5e6, "limit": 2.5e7, "share": 0.3}),
    "lomax_thin_high_10m_xs_500m": (("poisson", {"lam": 0.05}), ("lomax", {"alpha": 1.5, "theta": 5e6}),
                                    {"deductible": 5e8, "limit": 1e7}),
    "weibull_thin_high_5m_xs_100m": (("poisson", {"lam": 0.2}), ("weibull", {"shape": 0.5, "scale": 1e6}),
                                     {"deductible": 1e8, "limit": 5e6}),
    "gamma2_unlimited": (("poisson", {"lam": 3.0}), ("gamma", {"shape": 2.0, "scale": 5e5}), {}),
    "negbin_gamma_agg_limit_share": (("negbin", {"mean": 1.0, "var_lambda": 2.0}), ("gamma", {"shape": 0.3, "scale": 1e7}),
                                     {"deductible": 1e6, "limit": 5e7, "agg_limit": 1e8, "share": 0.5}),
    "ln_sigma2p5_unlimited": (("poisson", {"lam": 0.1}), ("lognormal", {"mu": 14.0, "sigma": 2.5}), {}),
}

#: VaR/TVaR levels checked.
LEVELS = (0.99, 0.995)


def build(name: str):
    """``(Peril, compound keyword terms)`` of a case."""
    from underwriting.losses.aggregate import Peril
    from underwriting.losses.counts import make_frequency
    from underwriting.losses.severity import make_severity

    (ff, fp), (sf, sp), terms = CASES[name]
    return Peril("all", make_frequency(ff, **fp), make_severity(sf, **sp)), dict(terms)
