"""Aggregate (compound) loss distributions: FFT, Panjer recursion and Monte Carlo.

The insurer's loss over the term is

.. math:: L = s \\cdot \\min\\big((S - D_a)_+,\\ L_a\\big), \\qquad
          S = \\sum_j \\sum_{i=1}^{N_j} \\min\\big((X_{ij} - d)_+,\\ l_j\\big)

for perils ``j`` with counts :math:`N_j` and severities :math:`X_{ij}`, a per-occurrence
deductible ``d`` and limit ``l_j`` (the policy limit, or the peril's sub-limit when lower),
an aggregate deductible :math:`D_a`, an aggregate limit :math:`L_a` and the insurer's share
``s``.

Three methods compute the distribution of ``S`` (and so of ``L``):

``fft``
    The per-occurrence layer payment is discretised on a grid of bucket size ``h`` by mass
    dispersal (each interval's probability is split between its two end points so the mean is
    kept exactly), transformed with a real FFT, the count's generating function applied, and
    transformed back. The bucket is chosen automatically from a Chernoff bound on the
    aggregate's upper quantile and is snapped so the occurrence limit is a grid point.
``panjer``
    The (a, b, 0) recursion on the same discretised severity: an independent cross-check.
``mc``
    Monte Carlo with a seeded numpy Generator, with standard errors.

After every build the computed mean and variance of ``S`` are compared with their analytic
values (:class:`MomentCheck`). :func:`compound_batch` prices many single-peril models in
one vectorised pass (a stacked 2-D FFT).

Modules: ``results`` (:class:`AggregateResult`, :class:`MomentCheck`, :class:`Peril`), ``terms``
(validation, analytic moments, the moment check), ``discretisation`` (severity on a grid, the
automatic bucket), ``engines`` (:func:`compound`) and ``batch`` (:func:`compound_batch`).
Everything public is re-exported here.
"""

from underwriting.losses.aggregate.batch import BatchResult, compound_batch
from underwriting.losses.aggregate.discretisation import TAIL_EPS, discretize_layer
from underwriting.losses.aggregate.engines import compound
from underwriting.losses.aggregate.results import (
    DEFAULT_RETURN_PERIODS,
    METHODS,
    PERILS,
    AggregateResult,
    MomentCheck,
    Peril,
    PricingRefused,
)
from underwriting.losses.aggregate.terms import (
    MAX_AUTO_BUCKETS,
    MAX_BUCKETS,
    MAX_FREQUENCY_MEAN,
    MAX_MC_DRAWS,
    MAX_SIMS,
    check_amount,
    check_limits,
)

__all__ = [
    "PERILS",
    "Peril",
    "PricingRefused",
    "MomentCheck",
    "AggregateResult",
    "BatchResult",
    "compound",
    "compound_batch",
    "discretize_layer",
    "check_amount",
    "check_limits",
    "MAX_AUTO_BUCKETS",
    "MAX_BUCKETS",
    "MAX_FREQUENCY_MEAN",
    "MAX_MC_DRAWS",
    "MAX_SIMS",
    "DEFAULT_RETURN_PERIODS",
    "METHODS",
    "TAIL_EPS",
]
