"""A book of insured exchanges, compiled into flat arrays for the vectorised simulation.

A :class:`Book` is built from the same per-exchange loss model the quotes are priced with
(:func:`underwriting.quote.losses.build_loss_model`): every covered peril's frequency over the policy
term and its exposure-capped severity (USD), and the policy's :class:`~underwriting.pricing.layers.Layer`
(USD). It adds the dependence of the book:

* **Shared vendors.** The ``third_party_vendor`` peril of each exchange is *replaced* by explicit
  vendor-compromise events (no double counting). Vendor ``k`` is compromised ``Poisson(r_k)`` times a
  year; each compromise hits every client ``i`` of ``k`` independently with probability ``q_ik``, and a
  hit is one loss drawn from that client's own vendor-peril severity under its own policy terms.
* **Calibration of the vendor rates** (so that an independent book reproduces the single-exchange
  figures). Let ``m_i`` be the expected vendor-peril count of exchange ``i`` in its loss model and
  ``n_i`` its number of vendors; the pair ``(i, k)`` must carry ``a_ik = m_i / n_i`` expected losses a
  year. With the documented loss probability ``p`` (:attr:`Dependence.vendor_loss_prob`, the chance
  that the *most exposed* client of a compromised vendor suffers a loss), ``r_k = max_i a_ik / p`` and
  ``q_ik = a_ik / r_k <= p``. Then each exchange's vendor-path count is ``Poisson(sum_k r_k q_ik) =
  Poisson(m_i)``: the same mean as its loss model, whatever the sharing. (The loss model's small
  negative-binomial parameter uncertainty on that peril is not carried over: vendor-path counts are
  Poisson given the vendor structure.) A rate given in :attr:`Dependence.vendor_rates` overrides
  ``r_k``; it must be at least ``max_i a_ik``. An exchange that covers the vendor peril but lists no
  vendor gets a private, unnamed vendor (independent of the rest of the book).
* **Market factor.** Every own-breach count (hot, cold, insider, social engineering) of every
  exchange in year ``y`` is ``Poisson(Lambda_ij * G_y)`` with ``G_y ~ Gamma(mean 1, variance v)``
  common to the whole book (:attr:`Dependence.market_variance`); ``Lambda_ij`` is the exchange's own
  (possibly gamma-mixed) intensity, so each exchange keeps its expected count.

Amounts are USD; one simulated "year" is one policy term.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np

from underwriting.errors import InputError
from underwriting.losses.aggregate import PERILS

__all__ = ["Dependence", "Insured", "Book", "PERIL_INDEX", "VENDOR_PERIL", "DEFAULT_MARKET_VARIANCE",
           "DEFAULT_VENDOR_LOSS_PROB"]

PERIL_INDEX = {p: j for j, p in enumerate(PERILS)}
VENDOR_PERIL = "third_party_vendor"
_V = PERIL_INDEX[VENDOR_PERIL]

#: Variance of the market-wide gamma factor [assumption]. A rough method-of-moments reading of the
#: public record: hacks and insider thefts a year 2016-2025 have mean 7.9 and variance 13.7, so
#: ``(13.7 - 7.9) / 7.9**2 = 0.09`` (ignores the changing number of exchanges; a parameter).
DEFAULT_MARKET_VARIANCE = 0.10
#: Probability that the most exposed client of a compromised vendor suffers a loss [assumption]; the
#: synthetic generator's ``p_loss`` uses the same value. DMM Bitcoin's 2024 loss came through one
#: compromised vendor (Ginco) and no other client was reported hit.
DEFAULT_VENDOR_LOSS_PROB = 0.5


@dataclass(frozen=True)
class Dependence:
    """How the exchanges of a book move together (documented parameters, not hidden constants).

    Parameters
    ----------
    market_variance : float
        Variance of the common gamma factor (mean 1) multiplying every own-breach frequency in a
        year; 0 switches the market factor off.
    vendor_loss_prob : float
        ``p`` in (0, 1]: probability that the most exposed client of a compromised vendor has a
        loss (see the module docstring for the calibration of ``r_k`` and ``q_ik``).
    market_on_vendors : bool
        Also scale vendor-compromise rates by the market factor.
    vendor_rates : mapping of vendor name to float
        Explicit annual compromise rates overriding the calibration for named vendors.
    """

    market_variance: float = DEFAULT_MARKET_VARIANCE
    vendor_loss_prob: float = DEFAULT_VENDOR_LOSS_PROB
    market_on_vendors: bool = False
    vendor_rates: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        v = float(self.market_variance)
        if not (math.isfinite(v) and v >= 0):
            raise InputError(f"must be a finite number >= 0, got {self.market_variance!r}", field="market_variance")
        p = float(self.vendor_loss_prob)
        if not (0 < p <= 1):
            raise InputError(f"must be in (0, 1], got {self.vendor_loss_prob!r}", field="vendor_loss_prob")
        rates = {}
        for k, r in dict(self.vendor_rates).items():
            try:
                rf = float(r)
            except (TypeError, ValueError):
                rf = math.nan
            if not (math.isfinite(rf) and rf >= 0):
                raise InputError(f"must be a finite rate >= 0, got {r!r}", field=f"vendor_rates.{k}")
            rates[str(k)] = rf
        object.__setattr__(self, "market_variance", v)
        object.__setattr__(self, "vendor_loss_prob", p)
        object.__setattr__(self, "market_on_vendors", bool(self.market_on_vendors))
        object.__setattr__(self, "vendor_rates", rates)

    @classmethod
    def from_mapping(cls, d: Mapping[str, Any] | None, *, source: str | None = None) -> Dependence:
        """From a ``[dependence]`` table; unknown keys are an :class:`InputError`."""
        d = dict(d or {})
        allowed = {"market_variance", "vendor_loss_prob", "market_on_vendors", "vendor_rates"}
        unknown = sorted(set(d) - allowed)
        if unknown:
            raise InputError(f"unknown key(s) {unknown}; expected {sorted(allowed)}", field="dependence",
                             source=source)
        try:
            return cls(**d)
        except InputError as exc:
            exc.field = f"dependence.{exc.field}" if exc.field else "dependence"
            exc.source = exc.source or source
            raise
        except TypeError as exc:
            raise InputError(str(exc), field="dependence", source=source) from None

    def to_dict(self) -> dict[str, Any]:
        return {"market_variance": self.market_variance, "vendor_loss_prob": self.vendor_loss_prob,
                "market_on_vendors": self.market_on_vendors, "vendor_rates": dict(self.vendor_rates)}


@dataclass(frozen=True)
class Insured:
    """One exchange of a book with its policy: what :meth:`Book.from_insureds` compiles.

    Parameters
    ----------
    exchange_id : str
        Unique key in the book.
    perils : sequence of Peril
        Covered perils in USD (``LossModel.perils``), counts over the policy term.
    layer : Layer
        Policy terms in USD (``LossModel.layer``).
    vendors : sequence of str
        Third-party vendors with access to the custody path (names; matched case-insensitively).
    name, policy_id, currency : str
        For reports.
    quote_per_usd : float
        Units of ``currency`` per USD (to report an exchange's figures in its own currency).
    """

    exchange_id: str
    perils: tuple[Any, ...]
    layer: Any
    vendors: tuple[str, ...] = ()
    name: str = ""
    policy_id: str = ""
    currency: str = "USD"
    quote_per_usd: float = 1.0


def _components(sev: Any) -> list[tuple[Any, float, float]]:
    """``[(base severity, cap, weight)]`` of a severity: capped / mixture-of-capped / plain."""
    from underwriting.losses.severity import CappedSeverity, MixtureSeverity

    if isinstance(sev, CappedSeverity):
        return [(sev.base, float(sev.cap), 1.0)]
    if isinstance(sev, MixtureSeverity):
        out = []
        for c, w in zip(sev.components, sev.weights, strict=True):
            out.extend((b, cap, w * cw) for b, cap, cw in _components(c))
        return out
    return [(sev, math.inf, 1.0)]


def _base_key(sev: Any) -> tuple:
    return (type(sev).__name__, tuple(sorted((k, float(v)) for k, v in sev.params.items())))


@dataclass(frozen=True, eq=False)
class Book:
    """A compiled book (immutable arrays, USD). Build it with :meth:`from_insureds`,
    :func:`~underwriting.portfolio.io.load_book` or :func:`~underwriting.portfolio.synthetic.synthetic_book`.

    Array attributes (``n`` exchanges, ``P = len(PERILS)`` perils, ``K`` severity components):
    ``mean``/``var_lambda`` ``(n, P)`` own-breach counts over the term (vendor column 0),
    ``vendor_mean`` ``(n,)``, ``sev_base``/``sev_cap``/``sev_cum`` ``(n, P, K)``, ``deductible``,
    ``agg_deductible``, ``agg_limit``, ``share`` ``(n,)``, ``limit`` ``(n, P)`` (sub-limits applied),
    ``pair_ptr``/``pair_client``/``pair_rate``: vendor -> clients in CSR form with the per-pair rate
    ``a_ik``.
    """

    ids: tuple[str, ...]
    names: tuple[str, ...]
    policy_ids: tuple[str, ...]
    currencies: tuple[str, ...]
    quote_per_usd: np.ndarray
    mean: np.ndarray
    var_lambda: np.ndarray
    vendor_mean: np.ndarray
    covered: np.ndarray
    bases: tuple[Any, ...]
    sev_base: np.ndarray
    sev_cap: np.ndarray
    sev_cum: np.ndarray
    deductible: np.ndarray
    limit: np.ndarray
    agg_deductible: np.ndarray
    agg_limit: np.ndarray
    share: np.ndarray
    term_years: np.ndarray
    vendor_names: tuple[str, ...]
    pair_ptr: np.ndarray
    pair_client: np.ndarray
    pair_rate: np.ndarray
    dependence: Dependence = field(default_factory=Dependence)
    label: str = "book"

    # ----- construction ---------------------------------------------------------------------
    @classmethod
    def from_insureds(cls, insureds: Sequence[Insured], dependence: Dependence | None = None, *,
                      label: str = "book") -> Book:
        """Compile exchanges and their policies into a book."""
        ins = list(insureds)
        if not ins:
            raise InputError("the book has no exchanges", field="exchanges")
        ids = [i.exchange_id for i in ins]
        seen: set[str] = set()
        for r, x in enumerate(ids):
            if x in seen:
                raise InputError(f"exchange id {x!r} appears twice", field=f"exchanges[{r}].id")
            seen.add(x)
        n, P = len(ins), len(PERILS)
        comps: list[list[list[tuple[Any, float, float]]]] = [[[] for _ in range(P)] for _ in range(n)]
        mean = np.zeros((n, P))
        var = np.zeros((n, P))
        vmean = np.zeros(n)
        covered = np.zeros((n, P), dtype=bool)
        lim = np.zeros((n, P))
        bases: dict[tuple, int] = {}
        base_objs: list[Any] = []
        K = 1
        for i, x in enumerate(ins):
            lay = x.layer
            for j, p in enumerate(PERILS):
                lim[i, j] = lay.peril_limit(p)
            for peril in x.perils:
                if peril.name not in PERIL_INDEX:
                    raise InputError(f"unknown peril {peril.name!r}", field=f"exchanges[{i}].perils")
                j = PERIL_INDEX[peril.name]
                f = peril.frequency
                m = float(f.mean())
                vl = float(f.var()) - m
                covered[i, j] = True
                if j == _V:
                    vmean[i] = m
                else:
                    mean[i, j] = m
                    var[i, j] = max(vl, 0.0) if vl > 1e-12 * max(m, 1e-300) else 0.0
                cs = _components(peril.severity)
                comps[i][j] = cs
                K = max(K, len(cs))
                for b, _, _ in cs:
                    key = _base_key(b)
                    if key not in bases:
                        bases[key] = len(base_objs)
                        base_objs.append(b)
        sev_base = np.zeros((n, P, K), dtype=np.int32)
        sev_cap = np.full((n, P, K), np.inf)
        sev_cum = np.ones((n, P, K))
        for i in range(n):
            for j in range(P):
                cs = comps[i][j]
                if not cs:
                    continue
                w = np.array([c[2] for c in cs], dtype=float)
                cum = np.cumsum(w / w.sum())
                cum[-1] = 1.0
                for c, (b, cap, _) in enumerate(cs):
                    sev_base[i, j, c] = bases[_base_key(b)]
                    sev_cap[i, j, c] = cap
                    sev_cum[i, j, c] = cum[c]
        # vendors: casefolded key -> display name; CSR of covered clients
        vkey: dict[str, int] = {}
        vnames: list[str] = []
        pairs: list[tuple[int, int, float]] = []
        for i, x in enumerate(ins):
            names = list(dict.fromkeys(v.strip() for v in x.vendors if v and v.strip()))
            if not names and vmean[i] > 0:
                names = [f"(unnamed vendor of {x.exchange_id})"]
            for v in names:
                k = v.casefold()
                if k not in vkey:
                    vkey[k] = len(vnames)
                    vnames.append(v)
                if vmean[i] > 0:
                    pairs.append((vkey[k], i, vmean[i] / len(names)))
        pairs.sort()
        nv = len(vnames)
        ptr = np.zeros(nv + 1, dtype=np.int64)
        for k, _, _ in pairs:
            ptr[k + 1] += 1
        ptr = np.cumsum(ptr)
        return cls(
            ids=tuple(ids), names=tuple(x.name or x.exchange_id for x in ins),
            policy_ids=tuple(x.policy_id for x in ins), currencies=tuple(x.currency for x in ins),
            quote_per_usd=np.array([float(x.quote_per_usd) for x in ins]),
            mean=mean, var_lambda=var, vendor_mean=vmean, covered=covered, bases=tuple(base_objs),
            sev_base=sev_base, sev_cap=sev_cap, sev_cum=sev_cum,
            deductible=np.array([float(x.layer.deductible) for x in ins]), limit=lim,
            agg_deductible=np.array([float(x.layer.agg_deductible) for x in ins]),
            agg_limit=np.array([float(x.layer.agg_limit) for x in ins]),
            share=np.array([float(x.layer.share) for x in ins]),
            term_years=np.array([float(x.layer.term_years) for x in ins]),
            vendor_names=tuple(vnames), pair_ptr=ptr,
            pair_client=np.array([c for _, c, _ in pairs], dtype=np.int64),
            pair_rate=np.array([a for _, _, a in pairs], dtype=float),
            dependence=dependence or Dependence(), label=label)

    def __post_init__(self) -> None:
        known = {v.casefold() for v in self.vendor_names}
        for k in self.dependence.vendor_rates:
            if k.casefold() not in known:
                raise InputError(f"vendor {k!r} is not used by any exchange of the book",
                                 field=f"dependence.vendor_rates.{k}")
        _ = self.vendor_rate  # validate overrides now

    # ----- derived ----------------------------------------------------------------------------
    @property
    def n(self) -> int:
        """Number of exchanges."""
        return len(self.ids)

    @property
    def n_vendors(self) -> int:
        return len(self.vendor_names)

    @cached_property
    def n_clients(self) -> np.ndarray:
        """Covered clients of each vendor."""
        return np.diff(self.pair_ptr)

    @cached_property
    def _pair_vendor(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_vendors), self.n_clients)

    @cached_property
    def vendor_rate(self) -> np.ndarray:
        """Annual compromise rate ``r_k`` of each vendor (calibrated or overridden)."""
        nv = self.n_vendors
        amax = np.zeros(nv)
        if self.pair_rate.size:
            np.maximum.at(amax, self._pair_vendor, self.pair_rate)
        r = amax / self.dependence.vendor_loss_prob
        over = {k.casefold(): v for k, v in self.dependence.vendor_rates.items()}
        for k, name in enumerate(self.vendor_names):
            if name.casefold() in over:
                rk = over[name.casefold()]
                if rk < amax[k] * (1 - 1e-12):
                    raise InputError(f"rate {rk:g} a year is below {amax[k]:.6g}, the vendor-path loss frequency "
                                     f"one of its clients already has: a client would need a loss probability > 1",
                                     field=f"dependence.vendor_rates.{name}")
                r[k] = rk
        return r

    @cached_property
    def pair_q(self) -> np.ndarray:
        """Loss probability ``q_ik`` of each (vendor, client) pair given a compromise."""
        if not self.pair_rate.size:
            return np.zeros(0)
        r = self.vendor_rate[self._pair_vendor]
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.where(r > 0, self.pair_rate / np.where(r > 0, r, 1.0), 0.0)
        return np.minimum(q, 1.0)

    @cached_property
    def _own_cells(self) -> np.ndarray:
        return np.flatnonzero(self.mean.reshape(-1) > 0)

    def with_dependence(self, **changes: Any) -> Book:
        """The same exchanges under other dependence parameters (e.g. ``market_variance=0``)."""
        dep = replace(self.dependence, **changes)
        return replace(self, dependence=Dependence(**dep.__dict__))

    def with_independent_vendors(self) -> Book:
        """Every (vendor, client) pair becomes its own vendor with the *same* rate and loss
        probability: same means, no sharing (the comparison book for accumulation)."""
        r = self.vendor_rate[self._pair_vendor]
        q = self.pair_q
        m = self.pair_client.size
        names = tuple(f"{self.vendor_names[k]} / {self.ids[c]}" for k, c in zip(self._pair_vendor, self.pair_client,
                                                                                 strict=True))
        # a_ik = q * r reproduces the rates exactly with vendor_loss_prob = q (override per pair)
        dep = Dependence(self.dependence.market_variance, self.dependence.vendor_loss_prob,
                         self.dependence.market_on_vendors, {nm: float(rk) for nm, rk in zip(names, r, strict=True)})
        return replace(self, vendor_names=names, pair_ptr=np.arange(m + 1, dtype=np.int64),
                       pair_client=self.pair_client.copy(), pair_rate=q * r, dependence=dep,
                       label=f"{self.label} (vendors unshared)")

    def subset(self, idx: Sequence[int]) -> Book:
        """A book of some of the exchanges (vendor pairs of the others dropped)."""
        idx = np.asarray(idx, dtype=np.int64)
        pos = -np.ones(self.n, dtype=np.int64)
        pos[idx] = np.arange(idx.size)
        keep = pos[self.pair_client] >= 0
        pv = self._pair_vendor[keep]
        ptr = np.concatenate([[0], np.cumsum(np.bincount(pv, minlength=self.n_vendors))]).astype(np.int64)
        t = lambda s: tuple(s[i] for i in idx)  # noqa: E731
        return replace(self, ids=t(self.ids), names=t(self.names), policy_ids=t(self.policy_ids),
                       currencies=t(self.currencies), quote_per_usd=self.quote_per_usd[idx], mean=self.mean[idx],
                       var_lambda=self.var_lambda[idx], vendor_mean=self.vendor_mean[idx], covered=self.covered[idx],
                       sev_base=self.sev_base[idx], sev_cap=self.sev_cap[idx], sev_cum=self.sev_cum[idx],
                       deductible=self.deductible[idx], limit=self.limit[idx],
                       agg_deductible=self.agg_deductible[idx], agg_limit=self.agg_limit[idx],
                       share=self.share[idx], term_years=self.term_years[idx], pair_ptr=ptr,
                       pair_client=pos[self.pair_client[keep]], pair_rate=self.pair_rate[keep])

    def index(self, exchange: str | int) -> int:
        """Position of an exchange given its id, its name or its position."""
        if isinstance(exchange, int | np.integer):
            if not 0 <= exchange < self.n:
                raise InputError(f"no exchange at position {exchange}", field="exchange")
            return int(exchange)
        for seq in (self.ids, self.names):
            if exchange in seq:
                return seq.index(exchange)
        low = str(exchange).casefold()
        for seq in (self.ids, self.names):
            for i, s in enumerate(seq):
                if s.casefold() == low:
                    return i
        raise InputError(f"no exchange {exchange!r} in the book", field="exchange")

    def vendor_index(self, vendor: str) -> int:
        low = vendor.casefold()
        for k, v in enumerate(self.vendor_names):
            if v.casefold() == low:
                return k
        cands = [k for k, v in enumerate(self.vendor_names) if v.casefold().startswith(low)]
        if len(cands) == 1:
            return cands[0]
        raise InputError(f"no vendor {vendor!r} in the book", field="vendor")

    def clients(self, vendor: str | int) -> list[int]:
        k = vendor if isinstance(vendor, int) else self.vendor_index(vendor)
        return self.pair_client[self.pair_ptr[k]:self.pair_ptr[k + 1]].tolist()

    def severity(self, i: int, peril: str) -> Any:
        """The exchange's severity for a peril, rebuilt from the compiled arrays (or None)."""
        from underwriting.losses.severity import CappedSeverity, MixtureSeverity

        j = PERIL_INDEX[peril]
        if not self.covered[i, j]:
            return None
        cum = self.sev_cum[i, j]
        w = np.diff(np.concatenate([[0.0], cum]))
        parts, ws = [], []
        for c in range(cum.size):
            if w[c] <= 0:
                continue
            b = self.bases[self.sev_base[i, j, c]]
            cap = self.sev_cap[i, j, c]
            parts.append(CappedSeverity(b, cap) if math.isfinite(cap) else b)
            ws.append(w[c])
        return parts[0] if len(parts) == 1 else MixtureSeverity(tuple(parts), tuple(ws))

    def layer(self, i: int) -> Any:
        """The exchange's policy as a Layer (USD; reinstatement premiums are not kept)."""
        from underwriting.pricing.layers import Layer

        lim = float(self.limit[i].max())
        subs = {p: float(self.limit[i, j]) for j, p in enumerate(PERILS) if self.limit[i, j] < lim}
        return Layer(deductible=float(self.deductible[i]), limit=lim, agg_deductible=float(self.agg_deductible[i]),
                     agg_limit=float(self.agg_limit[i]), share=float(self.share[i]), sublimits=subs,
                     term_years=float(self.term_years[i]))

    def summary(self) -> dict[str, Any]:
        """Size of the book and of its dependence structure."""
        nc = self.n_clients
        return {"label": self.label, "exchanges": self.n, "vendors": self.n_vendors,
                "shared_vendors": int((nc > 1).sum()), "max_clients_of_a_vendor": int(nc.max()) if nc.size else 0,
                "expected_own_breaches": float(self.mean.sum()), "expected_vendor_losses": float(self.vendor_mean.sum()),
                "dependence": self.dependence.to_dict(),
                "term_years": {"min": float(self.term_years.min()), "max": float(self.term_years.max())}}
