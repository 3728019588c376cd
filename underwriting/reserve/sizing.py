"""Risk-based sizing input: the exchange's annual ground-up customer loss as a distribution.

The reserve layer sits below the quote, so it does not build the loss model itself: it takes the
perils (counts and severities in USD, e.g. ``underwriting.quote.losses.build_loss_model(...).perils`` for
ground-up, all-tier terms) and compounds them without any policy terms. The result answers
``value_at_risk(q)`` in the submission currency, which is what
:func:`underwriting.reserve.assessment.assess` needs for a regime's ``[risk_sizing]`` scenario.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from underwriting.errors import InputError


@dataclass(frozen=True)
class AnnualLoss:
    """Annual ground-up customer loss over all custody tiers, in the submission currency.

    Attributes
    ----------
    result : AggregateResult
        The compound distribution in USD (no deductible, no limit).
    units_per_usd : float
        Submission-currency units per USD.
    description : str
        One line on where the loss model came from (for the audit trail).
    """

    result: Any
    units_per_usd: float
    description: str = ""

    def value_at_risk(self, q: float) -> float:
        """The ``q`` quantile of annual loss, in the submission currency."""
        return float(self.result.value_at_risk(q)) * self.units_per_usd

    def tail_value_at_risk(self, q: float) -> float:
        """Mean annual loss beyond the ``q`` quantile (TVaR), in the submission currency."""
        return float(self.result.tvar(q)) * self.units_per_usd

    @property
    def p_any_loss(self) -> float:
        """Probability of any loss in the year, P(S > 0)."""
        return float(self.result.sf(0.0))

    @property
    def mean(self) -> float:
        """Expected annual loss, in the submission currency."""
        return float(self.result.mean) * self.units_per_usd


def annual_ground_up_loss(perils: Sequence[Any], units_per_usd: float, *, method: str = "fft",
                          n_buckets: int = 2**16, description: str = "") -> AnnualLoss:
    """Compound the perils ground up (no deductible, limit or share) into an :class:`AnnualLoss`.

    Parameters
    ----------
    perils : sequence of underwriting.losses.aggregate.Peril
        Counts over one year and severities in USD, for every custody tier and cause.
    units_per_usd : float
        Rate to the submission currency (units per USD).
    method : {"fft", "panjer", "mc"}
        Aggregate method (``"fft"`` by default; ``"panjer"`` is the second method the tests compare).
    n_buckets : int
        Grid length of the discretised distribution.

    Raises
    ------
    InputError
        No peril, or a non-positive rate.
    """
    from underwriting.losses.aggregate import compound

    if not perils:
        raise InputError("the loss model has no peril: nothing to size the reserve from", field="risk_sizing")
    if not units_per_usd > 0:
        raise InputError(f"rate must be positive (got {units_per_usd!r})", field="fx")
    res = compound(list(perils), method=method, n_buckets=n_buckets)
    return AnnualLoss(res, float(units_per_usd), description)
