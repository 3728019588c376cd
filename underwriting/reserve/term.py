"""Reserve credit through the term: a policy's credit decays as its residual term runs off.

A regime with a residual-term haircut (Basel's, and every regime borrowing it, e.g. ``jp-fsa-2026``)
gives a one-year policy full credit only while at least ``full_credit_days`` remain: the credit falls
through the policy year and comes back at renewal. The cash reserve must cover the gap every day.

**Renewal assumption** (stated with every comparison): each policy is renewed on the same terms and
at the same premium at its expiry, for the same term, so it is in force throughout the horizon; a
one-year policy renews every year on its inception date (e.g. every 1 October), a three-year
policy every three years. Instances before the first inception are the same cycle run backwards
(the cover is assumed in place at the start of the horizon).

The credit of a programme in horizon year ``j`` (``[start + j years, start + j + 1 years)``) is the
average of the assessed credit at the midpoints of ``samples_per_year`` equal parts of the year
(midpoint rule; the credit is piecewise linear in the date, so 24 points per year keep the error
small: ``tests/reserve/test_term.py`` checks it against the exact integral). The lowest sampled
credit gives the most cash the exchange must be able to put up (``peak_cash``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from underwriting.domain.policy import PolicyTerms

RENEWAL = ("each policy renewed on the same terms and premium at its expiry for the same term (a one-year "
           "policy every year on its inception date); credit averaged through each year")


@dataclass(frozen=True)
class CreditPath:
    """A programme's credit through the horizon (requirement currency, after the cap).

    Attributes
    ----------
    start : float
        Credit at the start of the horizon (the assessment date).
    by_year : tuple of float
        Time-averaged credit in each horizon year.
    low : float
        Lowest sampled credit over the horizon.
    renewal_dates : tuple of str
        Each policy's renewal rule, ``"policy_id: every MM-DD (N-year term)"``.
    """

    start: float
    by_year: tuple[float, ...]
    low: float
    renewal_dates: tuple[str, ...] = ()

    @property
    def average(self) -> float:
        """Average credit over the whole horizon."""
        return sum(self.by_year) / len(self.by_year) if self.by_year else self.start


@dataclass(frozen=True)
class RawPath:
    """Sampled credit before the regime cap: ``start`` and, per horizon year, the sampled values.

    :meth:`capped` applies a cap amount (``cap_share × requirement``) and averages, so the cap
    scenarios reuse one set of assessments.
    """

    start: float
    years: tuple[tuple[float, ...], ...]
    renewal_dates: tuple[str, ...] = ()

    def capped(self, cap_amount: float) -> CreditPath:
        """The credit path after the cap ``min(credit, cap_amount)``."""
        start = min(self.start, cap_amount)
        by_year = tuple(sum(min(v, cap_amount) for v in ys) / len(ys) for ys in self.years)
        low = min([start, *(min(v, cap_amount) for ys in self.years for v in ys)])
        return CreditPath(start, by_year, low, self.renewal_dates)


def _add_years(d: dt.date, n: int) -> dt.date:
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 February
        return d.replace(year=d.year + n, day=28)


def term_years(pol: PolicyTerms) -> int:
    """The policy's term in whole years (at least 1): the renewal cycle."""
    return max(1, round((pol.expiry - pol.inception).days / 365.25))


def instance_on(pol: PolicyTerms, day: dt.date) -> PolicyTerms:
    """The renewal of ``pol`` in force on ``day`` (same terms, dates moved by whole terms)."""
    n = term_years(pol)
    k = 0
    if day >= pol.inception:
        while _add_years(pol.expiry, k * n) <= day:
            k += 1
    else:
        while _add_years(pol.inception, k * n) > day:
            k -= 1
    if k == 0:
        return pol
    return pol.model_copy(update={"inception": _add_years(pol.inception, k * n),
                                  "expiry": _add_years(pol.expiry, k * n)})


def credit_path(policies: Sequence[PolicyTerms], credit_at: Callable[[Sequence[PolicyTerms], dt.date], float],
                start: dt.date, horizon_years: int, *, samples_per_year: int = 24,
                dependent: bool = True) -> RawPath:
    """Credit through ``horizon_years`` from ``start`` under the renewal assumption (module docstring).

    Parameters
    ----------
    policies : sequence of PolicyTerms
        The programme as quoted.
    credit_at : callable
        ``(policies in force, date) -> credit before the cap`` (the assessment at that date).
    start : date
        Start of the horizon (the assessment date).
    horizon_years : int
    samples_per_year : int
        Midpoint-rule points per year (≥ 1).
    dependent : bool
        ``False`` when the credit cannot change with the date (no residual-term rule): one assessment.
    """
    first = credit_at(list(policies), start)
    cycles = tuple(f"{p.policy_id}: every {p.inception:%m-%d} ({term_years(p)}-year term)" for p in policies)
    if not policies or not dependent:
        return RawPath(first, ((first,),) * horizon_years, cycles)
    cache: dict[tuple, float] = {}
    years = []
    for j in range(horizon_years):
        y0, y1 = _add_years(start, j), _add_years(start, j + 1)
        days = (y1 - y0).days
        vals = []
        for s in range(samples_per_year):
            day = y0 + dt.timedelta(days=int((s + 0.5) * days / samples_per_year))
            live = [instance_on(p, day) for p in policies]
            key = (tuple((p.expiry - day).days for p in live), tuple((day - p.inception).days for p in live))
            if key not in cache:
                cache[key] = credit_at(live, day)
            vals.append(cache[key])
        years.append(tuple(vals))
    return RawPath(first, tuple(years), cycles)
