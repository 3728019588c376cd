"""Insurer portfolio: a book of insured exchanges, simulated with shared-vendor and market dependence.

Public API::

    from underwriting.portfolio import load_book, simulate_book, capital_loads, default_scenarios
    book = load_book("datasets/examples/books/sample")          # submissions + policies (+ [dependence])
    res = simulate_book(book, years=20_000, seed=1, n_jobs=2)    # or backend="dask", scheduler="tcp://..."
    res.aal, res.aal_se, res.ep_curves(), res.tvar(0.99), res.by_vendor(), res.allocation(0.995)

See ``docs/portfolio.md`` for the model, its assumptions and the output definitions.

The names are imported on first use (as ``underwriting`` does for its API): a simulation worker
process imports only :mod:`underwriting.portfolio.engine` (numpy and the peril vocabulary), not the
loss models, pricing and I/O the rest of the package needs, so starting a worker stays cheap.
"""

from typing import Any

_EXPORTS = {
    "underwriting.portfolio.book": ("Book", "Dependence", "Insured", "DEFAULT_MARKET_VARIANCE",
                                    "DEFAULT_VENDOR_LOSS_PROB"),
    "underwriting.portfolio.capital": ("CapitalLoad", "capital_loads", "loaded_premium", "portfolio_capital_load"),
    "underwriting.portfolio.io": ("book_from_submissions", "load_book", "read_book_entries"),
    "underwriting.portfolio.results": ("PortfolioResult",),
    "underwriting.portfolio.scenarios": ("default_scenarios", "exchange_breach_scenario", "vendor_scenario"),
    "underwriting.portfolio.simulate": ("DEFAULT_BLOCK_YEARS", "simulate_book"),
    "underwriting.portfolio.synthetic": ("synthetic_book",),
}
_WHERE = {name: mod for mod, names in _EXPORTS.items() for name in names}

__all__ = [
    "Book", "Dependence", "Insured", "DEFAULT_MARKET_VARIANCE", "DEFAULT_VENDOR_LOSS_PROB",
    "load_book", "read_book_entries", "book_from_submissions", "synthetic_book",
    "simulate_book", "DEFAULT_BLOCK_YEARS", "PortfolioResult",
    "vendor_scenario", "exchange_breach_scenario", "default_scenarios",
    "CapitalLoad", "capital_loads", "portfolio_capital_load", "loaded_premium",
]


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module 'underwriting.portfolio' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(mod), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
