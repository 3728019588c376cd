"""Capital allocated to each exchange by the book, and the capital load it puts on the premium.

With the co-TVaR (Euler) allocation at level ``p`` (:meth:`PortfolioResult.co_tvar`), exchange
``i`` consumes capital ``C_i = co-TVaR_i - AAL_i`` (these add up to ``TVaR_p(S) - AAL``), and its
premium carries a **capital load** ``rate * C_i`` (cost of capital, as the quote's
``cost_of_capital`` principle does on the stand-alone TVaR). :func:`portfolio_capital_load` is the
entry point for ``underwriting quote --portfolio BOOK``: it simulates the book with the quoted
exchange in it (under the quoted terms) and returns that exchange's load.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from underwriting.errors import InputError

__all__ = ["CapitalLoad", "capital_loads", "portfolio_capital_load", "loaded_premium", "DEFAULT_COST_OF_CAPITAL",
           "MIN_BOOK_EXCHANGES"]

DEFAULT_COST_OF_CAPITAL = 0.10
#: A book of fewer exchanges than this gives a capital allocation too thin to lean on: one or two large
#: exchanges dominate the book's tail, so an exchange's co-TVaR mostly reflects its own stand-alone
#: tail, and the load swings with which other exchanges happen to be in the book. The quote carries a
#: warning below it. (20 is a judgement: the tail of a book of n similar exchanges is shared by
#: about n of them only once n is in the tens.)
MIN_BOOK_EXCHANGES = 20


@dataclass(frozen=True)
class CapitalLoad:
    """An exchange's share of the book's capital (USD unless stated)."""

    exchange_id: str
    level: float
    rate: float
    aal: float
    aal_se: float
    co_tvar: float
    capital: float
    capital_load: float
    book_tvar: float
    book_aal: float
    currency: str = "USD"
    quote_per_usd: float = 1.0
    years: int = 0
    seed: int = 0
    book_exchanges: int = 0

    @property
    def capital_load_quote_currency(self) -> float:
        return self.capital_load * self.quote_per_usd

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["capital_load_quote_currency"] = self.capital_load_quote_currency
        d["capital_quote_currency"] = self.capital * self.quote_per_usd
        d["method"] = (f"co-TVaR (Euler) allocation at {self.level} over {self.years:,} simulated years (seed "
                       f"{self.seed}); capital = co-TVaR - AAL; load = {self.rate:.0%} of capital")
        return d


def capital_loads(result: Any, *, rate: float = DEFAULT_COST_OF_CAPITAL, level: float | None = None) -> list[CapitalLoad]:
    """One :class:`CapitalLoad` per exchange of a simulated book."""
    if not (0 <= rate < 1):
        raise InputError(f"cost of capital must be in [0, 1), got {rate!r}", field="rate")
    level = result.levels[-1] if level is None else float(level)
    co = result.co_tvar(level)
    aal, se = result.exchange_aal, result.exchange_aal_se
    b = result.book
    tv = result.tvar_from_tail(level)
    return [CapitalLoad(b.ids[i], level, rate, float(aal[i]), float(se[i]), float(co[i]), float(co[i] - aal[i]),
                        float(rate * (co[i] - aal[i])), tv, result.aal, b.currencies[i], float(b.quote_per_usd[i]),
                        result.years, int(result.run.get("seed", 0)), int(b.n))
            for i in range(b.n)]


def loaded_premium(expected_loss: float, capital_load: float, *, expense: float = 0.10, commission: float = 0.10,
                   tax: float = 0.0) -> float:
    """Gross premium ``(EL + capital load) / (1 - expense - commission) * (1 + tax)``."""
    if expense + commission >= 1:
        raise InputError("expense + commission must be below 1", field="expense")
    return (expected_loss + capital_load) / (1.0 - expense - commission) * (1.0 + tax)


def portfolio_capital_load(book: str | Path, submission: Any, terms: Any, *, exchange_id: str | None = None,
                           years: int = 20_000, seed: int = 0, rate: float = DEFAULT_COST_OF_CAPITAL,
                           level: float = 0.995, fx_rates: dict[str, float] | None = None,
                           frequency_model: str = "frequency", n_jobs: int = 1,
                           dependence: dict[str, Any] | None = None, schedule: Any = None) -> CapitalLoad:
    """Capital load of one quoted exchange within a book (for ``quote --portfolio BOOK``).

    The submission replaces the book's entry for the same exchange (matched by ``exchange_id`` or,
    failing that, by the exchange's name), else it is added; ``terms`` are the quoted terms (a
    ``PolicyTerms``; ``None`` gives the quote's default ground-up terms).
    """
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission
    from underwriting.portfolio.io import book_from_submissions, read_book_entries
    from underwriting.portfolio.simulate import simulate_book
    from underwriting.quote.losses import default_terms

    terms = terms if terms is not None else default_terms(submission)
    entries, dep, label, src = read_book_entries(book)
    if dependence:
        from underwriting.portfolio.book import Dependence

        dep = Dependence.from_mapping({**dep.to_dict(), **dependence})
    items, target = [], None
    for e in entries:
        sub = load_submission(str(e["submission"]))
        match = (exchange_id is not None and e["exchange_id"] == exchange_id) or (
            exchange_id is None and sub.exchange.name.casefold() == submission.exchange.name.casefold())
        if match:
            target = e["exchange_id"]
            items.append((target, submission, terms, e["_where"]))
        else:
            items.append((e["exchange_id"], sub, load_policy(str(e["policy"])), e["_where"]))
    if target is None:
        target = exchange_id or "(quoted exchange)"
        items.append((target, submission, terms, "quoted submission"))
    b = book_from_submissions(items, dep, fx_rates=fx_rates, frequency_model=frequency_model, label=label,
                              source=str(src), schedule=schedule)
    res = simulate_book(b, years, seed, n_jobs=n_jobs, levels=(level,), progress=False)
    i = b.index(target)
    load = capital_loads(res, rate=rate, level=level)[i]
    if not math.isfinite(load.capital_load):
        raise InputError("the capital load is not finite", field="--portfolio")
    return load


def portfolio_quote(request: Any, book: str | Path, *, years: int = 20_000, rate: float = DEFAULT_COST_OF_CAPITAL,
                    level: float = 0.995) -> Any:
    """A quote whose risk load is the exchange's Euler capital load within ``book``.

    ``request`` is a :class:`~underwriting.quote.request.QuoteRequest` (one layer; the default registry).
    The standalone quote (:func:`~underwriting.quote.make.make_quote`) is computed first; its premium is
    then rebuilt as ``(EL + rate × (co-TVaR − AAL)) / (1 − expense − commission) × (1 + tax)``, where
    co-TVaR is the exchange's contribution to the book's TVaR at ``level`` (diversification shared
    across the book, not charged standalone). The book, years and rate enter the quote's inputs and hash.
    """
    import hashlib

    from underwriting.domain.quote import CapitalBlock, Quote, hash_inputs
    from underwriting.quote.make import make_quote

    basis, o = request.basis(), request.options
    submission, terms = request.submission, request.terms
    if hasattr(terms, "layers"):
        raise InputError("a portfolio quote prices one layer; quote the tower without --portfolio", field="--portfolio")
    q = make_quote(request)
    schedule = request.schedule_table()
    if o.currency is not None and q.currency != submission.currency:
        from underwriting.domain.currency import FxTable
        from underwriting.quote.currency import submission_in_currency

        submission = submission_in_currency(submission, q.currency, FxTable.bundled().with_user_rates(o.fx))
    load = portfolio_capital_load(book, submission, terms, years=years, seed=o.seed, rate=rate, level=level,
                                  fx_rates=o.fx or None, frequency_model=o.frequency_model, schedule=schedule)
    el = q.expected_loss
    cap = load.capital_load_quote_currency
    gross = loaded_premium(el, cap, expense=basis.expense, commission=basis.commission, tax=basis.tax)
    # Expected reinstatement premiums are income on top of the upfront premium, as in the standalone
    # quote, which carries their factor phi (upfront = gross / (1 + phi)).
    premium = gross / (1.0 + q.reinstatement_factor)
    before_tax = gross / (1.0 + basis.tax)
    comps = {"expected_loss": el, "risk_load": cap, "expense": before_tax * basis.expense,
             "commission": before_tax * basis.commission, "tax": before_tax * basis.tax,
             "reinstatement_credit": premium - gross}
    floor_note = None
    if cap < 0 or premium < el:  # guard rails: no negative risk load, no premium below the expected loss
        floor_note = (f"--portfolio: the capital load ({cap:,.0f} {q.currency}) and reinstatement credit would put "
                      "the premium below the expected loss or the risk load below 0; floored")
        cap = max(cap, 0.0)
        gross = loaded_premium(el, cap, expense=basis.expense, commission=basis.commission, tax=basis.tax)
        premium = max(gross / (1.0 + q.reinstatement_factor), el)
        before_tax = gross / (1.0 + basis.tax)
        comps = {"expected_loss": el, "risk_load": cap, "expense": before_tax * basis.expense,
                 "commission": before_tax * basis.commission, "tax": before_tax * basis.tax,
                 "reinstatement_credit": min(premium - gross, 0.0), "minimum_uplift": max(premium - gross, 0.0)}
    src = Path(book)
    files = sorted(p for p in (src.rglob("*") if src.is_dir() else [src]) if p.is_file())
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    inputs = {**q.inputs, "portfolio": {"book": str(book), "book_sha256": h.hexdigest(), "years": years,
                                        "rate": rate, "level": level}}
    rol = premium / (q.terms["limit"] * q.terms["coinsurance"]) if q.terms["limit"] else None
    methods = {**q.methods, "premium": f"portfolio capital load: {load.to_dict()['method']}"}
    warnings = list(q.warnings) + ([floor_note] if floor_note else [])
    if load.book_exchanges < MIN_BOOK_EXCHANGES:
        warnings.append(f"--portfolio: the book has {load.book_exchanges} exchange(s), fewer than "
                        f"{MIN_BOOK_EXCHANGES} (portfolio.capital.MIN_BOOK_EXCHANGES): its capital allocation is "
                        f"thin, and the capital load ({cap:,.0f} {q.currency}; stand-alone premium "
                        f"{q.premium:,.0f}) rests on a handful of exchanges")
    # validated again (model_copy(update=...) would skip the checks of the typed blocks)
    return Quote.model_validate({**dict(q), "premium": premium, "warnings": warnings, "premium_components": comps, "rate_on_line": rol,
                                 "portfolio": CapitalBlock(**load.to_dict()), "methods": methods, "inputs": inputs,
                                 "input_hash": hash_inputs(inputs)}).canonical()
