"""Severity (single-loss size) distributions, their fitting and the exposure cap (a package).

Every distribution is a small immutable object holding its parameters, with the scipy-like
methods ``cdf``, ``sf``, ``pdf``, ``ppf`` and ``rvs`` plus the actuarial ones the pricing
engine needs: ``lev(u)`` (limited expected value :math:`E[X \\wedge u]`), ``limited_moment``,
``moment``/``moments``, ``tvar(p)`` and ``layer_mean``/``layer_moment`` for a per-occurrence
layer "``limit`` xs ``deductible``". Amounts are in currency units (USD unless stated).

Families
--------
``lognormal``  :class:`Lognormal` (mu, sigma of log-amount)
``lomax``      :class:`Lomax` (Pareto II: alpha shape, theta scale)
``weibull``    :class:`Weibull` (shape, scale)
``gamma``      :class:`Gamma` (shape, scale; closed-form moments and LEV)
``spliced``    :class:`SplicedLognormalGPD` (lognormal body below ``threshold``,
               generalised Pareto tail above it with probability ``tail_prob``)

Derived severities: :class:`CappedSeverity` (``min(X, cap)``, the exposure cap) and
:class:`MixtureSeverity` (e.g. a mix of custody tiers).

Fitting: :func:`fit_severity` maximises the likelihood of amounts reported only above a
threshold (left truncation), returns a :class:`SeverityFit` with AIC/BIC, observed-information
covariance, KS/Anderson-Darling statistics, QQ data and an optional parametric bootstrap;
:func:`select_severity` ranks families by AIC.

Modules: :mod:`~underwriting.losses.severity.base` (the :class:`Severity` interface),
``registry`` (:func:`register_family`: a family is one registered class; ``docs/extending.md``),
``families`` (lognormal, Lomax, Weibull, gamma), ``spliced``, ``exposure`` (cap and tier
mixtures), ``catalogue`` (:func:`make_severity`), ``fitting`` (left-truncated MLE), ``gof``
(goodness of fit), ``selection`` (AIC) and ``estimator`` (:class:`SeverityEstimator`).
Everything is re-exported here, so ``from underwriting.losses.severity import Lognormal`` works.
"""

from underwriting.losses.severity.base import ArrayLike, FitSpec, Severity
from underwriting.losses.severity.catalogue import FAMILIES, MAX_LOSS, make_severity
from underwriting.losses.severity.estimator import SeverityEstimator
from underwriting.losses.severity.exposure import (
    CappedSeverity,
    MixtureSeverity,
    cap_at_exposure,
    exposure_pit,
    exposure_severity,
)
from underwriting.losses.severity.families import Gamma, Lognormal, Lomax, Weibull
from underwriting.losses.severity.fitting import BootstrapResult, SeverityFit, fit_severity
from underwriting.losses.severity.gof import GoodnessOfFit, ad_ks_statistics, goodness_of_fit
from underwriting.losses.severity.registry import (
    family_names,
    register_family,
    unregister_family,
)
from underwriting.losses.severity.selection import (
    GofBootstrap,
    SeveritySelection,
    gof_bootstrap,
    select_severity,
)
from underwriting.losses.severity.spliced import SplicedLognormalGPD

__all__ = [
    "ArrayLike",
    "Severity",
    "Lognormal",
    "Lomax",
    "Weibull",
    "Gamma",
    "SplicedLognormalGPD",
    "CappedSeverity",
    "MixtureSeverity",
    "FAMILIES",
    "FitSpec",
    "family_names",
    "register_family",
    "unregister_family",
    "MAX_LOSS",
    "make_severity",
    "cap_at_exposure",
    "exposure_severity",
    "exposure_pit",
    "fit_severity",
    "goodness_of_fit",
    "ad_ks_statistics",
    "gof_bootstrap",
    "GofBootstrap",
    "select_severity",
    "SeverityFit",
    "GoodnessOfFit",
    "BootstrapResult",
    "SeveritySelection",
    "SeverityEstimator",
]
