"""The breach-frequency result every frequency method returns (the one risk model, baseline, survival).

A quote needs the Poisson mean Λ of the number of breaches in the policy window and the variance of
Λ from parameter uncertainty (the gamma mixing variance, which makes the claim count negative
binomial with mean Λ and variance Λ + ``variance_of_lambda``). :class:`FrequencyEstimate` carries
both with the window and the method that produced them; the quote's ``frequency`` block is its
:meth:`FrequencyEstimate.quote_block`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class FrequencyEstimate:
    """Breach frequency over one policy window.

    Attributes
    ----------
    expected_breaches : float
        Λ̂, the Poisson mean of the number of breaches in the window (point estimate).
    variance_of_lambda : float
        Variance of Λ from parameter uncertainty (breaches²): the gamma mixing variance.
    p_at_least_one : float
        1 − e^{−Λ̂} (Poisson, point estimate).
    start_years, end_years : float
        The window on the method's time axis, in years.
    method : str
        How the variance was obtained (survival: delta method or parametric draws) or, for the
        baseline, ``"baseline"``.
    term_years : float, optional
        Length of the policy term in years (default ``end_years - start_years``).
    annual_rate : float, optional
        Breaches per year over the term.
    p_breach_1y : float, optional
        Probability of at least one breach within one year.
    multiplier : float, optional
        Product of the posture multipliers (baseline only).
    factors : tuple of dict
        The posture multipliers applied, each with its reason (baseline only).
    assumptions : tuple of str
        What the method rests on, in words (shown with the quote).
    assumption_messages : tuple of Message
        The same, each as a template and arguments (:mod:`underwriting.domain.message`; its text is the
        assumption's), so the quote renders them in another language.
    detail : dict, optional
        The one risk model's blocks (base rate with covariates, experience, schedule, intervals,
        reasons, model versions), plain JSON (``frequency`` method only).
    """

    expected_breaches: float
    variance_of_lambda: float
    p_at_least_one: float
    start_years: float
    end_years: float
    method: str
    term_years: float | None = None
    annual_rate: float | None = None
    p_breach_1y: float | None = None
    multiplier: float | None = None
    factors: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    assumptions: tuple[str, ...] = field(default_factory=tuple)
    assumption_messages: tuple[Any, ...] = field(default_factory=tuple)
    detail: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.term_years is None:
            object.__setattr__(self, "term_years", self.end_years - self.start_years)

    @property
    def count_variance(self) -> float:
        """Variance of the breach count under gamma mixing: Λ̂ + variance_of_lambda."""
        return self.expected_breaches + self.variance_of_lambda

    @property
    def gamma_shape(self) -> float:
        """Shape r = Λ̂² / variance_of_lambda of the gamma mixing law (inf: pure Poisson)."""
        return math.inf if self.variance_of_lambda <= 0 else self.expected_breaches ** 2 / self.variance_of_lambda

    @property
    def p_at_least_one_mixed(self) -> float:
        """P(N >= 1) under the negative binomial: 1 − (1 + v/Λ̂)^(−r)."""
        lam, v = self.expected_breaches, self.variance_of_lambda
        if v <= 0 or lam <= 0:
            return self.p_at_least_one
        r = lam * lam / v
        return -math.expm1(-r * math.log1p(v / lam))

    def count_distribution(self):
        """The breach-count law: scipy ``nbinom(r, r / (r + Λ̂))``, or ``poisson(Λ̂)`` if v = 0."""
        from scipy import stats

        if self.variance_of_lambda <= 0:
            return stats.poisson(self.expected_breaches)
        r = self.gamma_shape
        return stats.nbinom(r, r / (r + self.expected_breaches))

    def to_dict(self) -> dict[str, Any]:
        """Every field as a plain dict (factors and assumptions as lists)."""
        d = asdict(self)
        d["factors"] = [dict(f) for f in self.factors]
        d["assumptions"] = list(self.assumptions)
        return d
