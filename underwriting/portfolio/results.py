"""Figures of a simulated book: AAL, EP curves, TVaR, vendor accumulation, co-TVaR allocation.

Definitions (``Y`` simulated years, ``S_y`` the insurer's book loss in year ``y``, USD):

* **AAL** = mean of ``S_y``; standard error ``sd(S_y) / sqrt(Y)``.
* **AEP** at return period ``T``: ``VaR_p(S)`` with ``p = 1 - 1/T``, the ``k``-th largest ``S_y``,
  ``k = max(1, round(Y / T))``. **OEP**: the same on each year's largest *event* loss, where an
  event is one breach of one exchange, or one vendor compromise across all the clients it hits;
  event losses are per-occurrence terms x share, capped at the aggregate limit (the aggregate
  deductible and the order of events within the year are not applied).
* **TVaR_p** = mean of the ``k = max(1, round((1 - p) Y))`` largest ``S_y`` (ties broken by year).
* **Co-TVaR allocation** of exchange ``i``: ``E[L_i | year among those k]`` = mean of ``L_iy`` over
  the same ``k`` years, so the allocations add up to ``TVaR_p`` exactly (Euler allocation of TVaR).
  Capital ``= co-TVaR_i - AAL_i`` adds up to ``TVaR_p - AAL``.
* **By vendor**: ``E[S_y | vendor compromised at least once in y]`` against the AAL, and the insured
  loss of the vendor's own events per compromise year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from underwriting.losses.aggregate import DEFAULT_RETURN_PERIODS, PERILS
from underwriting.portfolio.book import Book

__all__ = ["PortfolioResult", "TVAR_LEVELS"]

TVAR_LEVELS = (0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999)


def _k(level: float, years: int) -> int:
    return max(1, int(round((1.0 - level) * years)))


def _f(v: float) -> float | None:
    v = float(v)
    return v if math.isfinite(v) else None


@dataclass(frozen=True, eq=False)
class PortfolioResult:
    """Outcome of :func:`~underwriting.portfolio.simulate.simulate_book` (amounts in USD)."""

    book: Book = field(repr=False)
    totals: np.ndarray = field(repr=False)
    max_event: np.ndarray = field(repr=False)
    ex_sum: np.ndarray = field(repr=False)
    ex_sumsq: np.ndarray = field(repr=False)
    ex_years_hit: np.ndarray = field(repr=False)
    peril_sum: np.ndarray = field(repr=False)
    v_events: np.ndarray = field(repr=False)
    v_years: np.ndarray = field(repr=False)
    v_cond_sum: np.ndarray = field(repr=False)
    v_direct: np.ndarray = field(repr=False)
    tail_years: np.ndarray = field(repr=False)
    tail_totals: np.ndarray = field(repr=False)
    tail_cells: tuple[np.ndarray, np.ndarray, np.ndarray] = field(repr=False)
    levels: tuple[float, ...] = ()
    run: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_merger(cls, book: Book, m: Any, levels: tuple[float, ...], run: dict[str, Any]) -> PortfolioResult:
        return cls(book, m.totals, m.max_event, m.ex_sum, m.ex_sumsq, m.ex_years_hit, m.peril_sum, m.v_events,
                   m.v_years, m.v_cond_sum, m.v_direct, m.tail_years, m.tail_totals, m.cells, levels, run)

    # ----- headline -----------------------------------------------------------------------
    @property
    def years(self) -> int:
        return int(self.totals.size)

    @property
    def aal(self) -> float:
        """Average annual loss of the book (USD)."""
        return float(self.totals.mean())

    @property
    def aal_se(self) -> float:
        """Monte Carlo standard error of the AAL."""
        return float(self.totals.std(ddof=1) / math.sqrt(self.years))

    def _sorted_desc(self) -> np.ndarray:
        return np.sort(self.totals)[::-1]

    def var(self, level: float) -> float:
        """``VaR_level`` of the annual book loss (the k-th largest year)."""
        return float(self._sorted_desc()[_k(level, self.years) - 1])

    def tvar(self, level: float) -> float:
        """``TVaR_level`` of the annual book loss: mean of the ``k`` worst years."""
        k = _k(level, self.years)
        return float(self._sorted_desc()[:k].mean())

    def ep_curves(self, return_periods=DEFAULT_RETURN_PERIODS) -> list[dict[str, Any]]:
        """OEP and AEP at the return periods that the number of years supports."""
        a = self._sorted_desc()
        o = np.sort(self.max_event)[::-1]
        rows = []
        for rp in return_periods:
            if rp > self.years:
                continue
            k = max(1, int(round(self.years / rp)))
            rows.append({"return_period": float(rp), "probability": 1.0 / rp, "aep": float(a[k - 1]),
                         "oep": float(o[k - 1])})
        return rows

    def convergence(self) -> list[dict[str, Any]]:
        """AAL, its standard error and TVaR_0.99 on the first n simulated years."""
        ns = [n for n in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
              for n in [n * 100] if n < self.years]
        ns = [n for n in ns if n >= 100] + [self.years]
        cs = np.cumsum(self.totals)
        cs2 = np.cumsum(self.totals * self.totals)
        rows = []
        for n in ns:
            mean = cs[n - 1] / n
            var = max(cs2[n - 1] / n - mean * mean, 0.0) * n / (n - 1)
            rows.append({"years": int(n), "aal": float(mean), "aal_se": float(math.sqrt(var / n)),
                         "rel_se": float(math.sqrt(var / n) / mean) if mean > 0 else None,
                         "tvar_0.99": float(np.sort(self.totals[:n])[::-1][:_k(0.99, n)].mean())})
        return rows

    # ----- exchanges ----------------------------------------------------------------------
    @property
    def exchange_aal(self) -> np.ndarray:
        return self.ex_sum / self.years

    @property
    def exchange_aal_se(self) -> np.ndarray:
        Y = self.years
        m = self.ex_sum / Y
        var = np.maximum(self.ex_sumsq / Y - m * m, 0.0) * Y / (Y - 1)
        return np.sqrt(var / Y)

    def co_tvar(self, level: float) -> np.ndarray:
        """Per-exchange ``E[L_i | S among the k worst years]``; adds up to :meth:`tvar`."""
        k = _k(level, self.years)
        if k > self.tail_years.size:
            raise ValueError(f"level {level} needs the {k} worst years but only {self.tail_years.size} were kept; "
                             f"pass levels=({level}, ...) to simulate_book")
        top = self.tail_years[:k]
        cy, ce, cl = self.tail_cells
        sel = np.isin(cy, top)
        order = np.lexsort((ce[sel], cy[sel]))
        return np.bincount(ce[sel][order], weights=cl[sel][order], minlength=self.book.n) / k

    def tvar_from_tail(self, level: float) -> float:
        """TVaR from the stored tail years (same value as :meth:`tvar`)."""
        k = _k(level, self.years)
        return float(self.tail_totals[:k].mean())

    def allocation(self, level: float | None = None) -> list[dict[str, Any]]:
        """Euler (co-TVaR) allocation of ``TVaR_level`` to the exchanges, with capital = co-TVaR - AAL."""
        level = self.levels[-1] if level is None else level
        co = self.co_tvar(level)
        aal, se = self.exchange_aal, self.exchange_aal_se
        tv = self.tvar_from_tail(level)
        rows = []
        for i in range(self.book.n):
            rows.append({"exchange_id": self.book.ids[i], "name": self.book.names[i], "aal": float(aal[i]),
                         "aal_se": float(se[i]), "co_tvar": float(co[i]), "capital": float(co[i] - aal[i]),
                         "share_of_tvar": float(co[i] / tv) if tv > 0 else 0.0,
                         "p_loss_year": float(self.ex_years_hit[i] / self.years)})
        return rows

    # ----- vendors and perils -------------------------------------------------------------
    def by_vendor(self, top: int | None = None) -> list[dict[str, Any]]:
        """Book loss in years a vendor is compromised, sorted by the uplift over the AAL."""
        b = self.book
        rows = []
        aal = self.aal
        for k, name in enumerate(b.vendor_names):
            ny = int(self.v_years[k])
            cond = self.v_cond_sum[k] / ny if ny else None
            rows.append({"vendor": name, "clients": int(b.n_clients[k]), "annual_rate": float(b.vendor_rate[k]),
                         "compromises": int(self.v_events[k]), "years_compromised": ny,
                         "book_loss_if_compromised": _f(cond) if cond is not None else None,
                         "uplift_over_aal": _f(cond - aal) if cond is not None else None,
                         "direct_loss_if_compromised": _f(self.v_direct[k] / ny) if ny else None,
                         "note": None if ny >= 30 else f"only {ny} compromise years simulated: imprecise"})
        rows.sort(key=lambda r: (-(r["uplift_over_aal"] if r["uplift_over_aal"] is not None else -math.inf),
                                 r["vendor"]))
        return rows[:top] if top else rows

    def by_peril(self) -> dict[str, float]:
        """Average annual insured loss by peril (per-occurrence terms x share, before aggregate terms)."""
        return {p: float(self.peril_sum[j] / self.years) for j, p in enumerate(PERILS)}

    # ----- output -------------------------------------------------------------------------
    def to_dict(self, *, top_vendors: int | None = 50, scenarios: dict[str, Any] | None = None) -> dict[str, Any]:
        """JSON-ready summary: ``aal``, ``aal_se``, ``oep``, ``aep``, ``tvar``, ``by_vendor``,
        ``allocation``, ``convergence``, ``scenarios`` and the run."""
        ep = self.ep_curves()
        out = {
            "currency": "USD", "book": self.book.summary(), "years": self.years,
            "aal": self.aal, "aal_se": self.aal_se,
            "oep": [{"return_period": r["return_period"], "loss": r["oep"]} for r in ep],
            "aep": [{"return_period": r["return_period"], "loss": r["aep"]} for r in ep],
            "tvar": {f"{p:g}": {"var": self.var(p), "tvar": self.tvar(p), "years_in_tail": _k(p, self.years)}
                     for p in TVAR_LEVELS if _k(p, self.years) >= 1},
            "by_peril": self.by_peril(),
            "by_vendor": self.by_vendor(top_vendors),
            "allocation": {f"{p:g}": self.allocation(p) for p in self.levels},
            "convergence": self.convergence(),
            "run": dict(self.run),
            "definitions": {
                "aal": "mean annual insured loss of the book over the simulated years (USD)",
                "oep": "largest single event per year; a vendor compromise is one event over all its clients; "
                       "per-occurrence terms x share, capped at each aggregate limit",
                "aep": "annual insured book loss after every policy's per-occurrence and aggregate terms",
                "tvar": "mean of the round((1 - p) * years) worst years",
                "allocation": "co-TVaR (Euler) allocation: mean exchange loss over the TVaR years; adds up to TVaR",
            },
        }
        if scenarios is not None:
            out["scenarios"] = scenarios
        return out
