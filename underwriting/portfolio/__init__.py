"""Insurer portfolio: a book of insured exchanges, simulated with shared-vendor and market dependence.

Public API::

    from underwriting.portfolio import load_book, simulate_book, capital_loads, default_scenarios
    book = load_book("datasets/examples/books/sample")          # submissions + policies (+ [dependence])
    res = simulate_book(book, years=20_000, seed=1, n_jobs=2)    # or backend="dask", scheduler="tcp://..."
    res.aal, res.aal_se, res.ep_curves(), res.tvar(0.99), res.by_vendor(), res.allocation(0.995)

See ``docs/portfolio.md`` for the model, its assumptions and the output definitions.
"""

from underwriting.portfolio.book import (
    DEFAULT_MARKET_VARIANCE,
    DEFAULT_VENDOR_LOSS_PROB,
    Book,
    Dependence,
    Insured,
)
from underwriting.portfolio.capital import (
    CapitalLoad,
    capital_loads,
    loaded_premium,
    portfolio_capital_load,
)
from underwriting.portfolio.io import book_from_submissions, load_book, read_book_entries
from underwriting.portfolio.results import PortfolioResult
from underwriting.portfolio.scenarios import (
    default_scenarios,
    exchange_breach_scenario,
    vendor_scenario,
)
from underwriting.portfolio.simulate import DEFAULT_BLOCK_YEARS, simulate_book
from underwriting.portfolio.synthetic import synthetic_book

__all__ = [
    "Book", "Dependence", "Insured", "DEFAULT_MARKET_VARIANCE", "DEFAULT_VENDOR_LOSS_PROB",
    "load_book", "read_book_entries", "book_from_submissions", "synthetic_book",
    "simulate_book", "DEFAULT_BLOCK_YEARS", "PortfolioResult",
    "vendor_scenario", "exchange_breach_scenario", "default_scenarios",
    "CapitalLoad", "capital_loads", "portfolio_capital_load", "loaded_premium",
]
