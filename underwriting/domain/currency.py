"""Currencies and conversion with explicit, dated rates.

Amounts never change currency silently: a conversion needs either a rate the user supplies or
the bundled dated table (``datasets/fx_rates.csv``, yearly averages with a source per row), and
every conversion used by a quote is recorded in it.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator

from underwriting.caches import register_cache
from underwriting.domain.message import Message, data, msg
from underwriting.errors import InputError
from underwriting.i18n import N_
from underwriting.resources import dataset_path

#: ISO 4217 codes the toolkit accepts. Others are rejected rather than guessed.
CURRENCIES: frozenset[str] = frozenset(
    {"USD", "JPY", "EUR", "GBP", "HKD", "SGD", "KRW", "CHF", "AUD", "CAD", "CNY", "INR", "TRY", "BRL", "TWD"}
)


def _supported(code: str) -> str:
    if code not in CURRENCIES:
        raise ValueError(f"unknown currency {code!r}; supported: {', '.join(sorted(CURRENCIES))}")
    return code


#: A supported ISO 4217 code, for pydantic models (the error names the field and lists the codes).
CurrencyCode = Annotated[str, AfterValidator(_supported)]


def check_currency(code: str, *, field: str) -> str:
    """Return ``code`` if it is a supported ISO 4217 code, else raise :class:`InputError`."""
    if code not in CURRENCIES:
        raise InputError(f"unknown currency {code!r}; supported: {', '.join(sorted(CURRENCIES))}", field=field)
    return code


@dataclass(frozen=True)
class FxRate:
    """One conversion rate: ``units_per_usd`` units of ``currency`` buy one US dollar."""

    currency: str
    units_per_usd: float
    basis: str  # e.g. "yearly average 2024" or "user-supplied"
    source: str
    #: ``basis`` as a template and arguments (its text is ``basis``), for other languages.
    basis_message: Message | None = field(default=None, compare=False)


def _rate(currency: str, units_per_usd: float, basis: Message, source: str) -> FxRate:
    return FxRate(currency, units_per_usd, basis.text(), source, basis)


#: The rate of USD to itself (built once: :meth:`FxTable.rate` answers it for every USD amount converted).
_USD = _rate("USD", 1.0, msg(N_("identity")), "")


def fx_row(r: FxRate, purpose: Message | None = None) -> dict[str, Any]:
    """The quote's record of one rate used: currency, units per USD, basis, source (and why it was used),
    with the basis and purpose as messages beside their texts."""
    row: dict[str, Any] = {"currency": r.currency, "units_per_usd": r.units_per_usd, "basis": r.basis,
                           "source": r.source}
    if r.basis_message is not None:
        row["basis_message"] = r.basis_message.as_json()
    if purpose is not None:
        row["purpose"] = purpose.text()
        row["purpose_message"] = purpose.as_json()
    return row


@dataclass(frozen=True)
class FxTable:
    """Conversion rates to and from USD.

    Parameters
    ----------
    rates : dict
        ``{(currency, year): FxRate}``; ``year`` is ``None`` for user-supplied rates, which apply to
        every date and take precedence over the table.
    """

    rates: dict[tuple[str, int | None], FxRate] = field(default_factory=dict)

    @classmethod
    def from_csv(cls, path: str | Path) -> FxTable:
        """Load a table with columns ``year, currency, units_per_usd, source_url``."""
        rates: dict[tuple[str, int | None], FxRate] = {}
        with open(path, newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh), start=2):
                try:
                    year = int(row["year"])
                    cur = row["currency"].strip()
                    val = float(row["units_per_usd"])
                except (KeyError, ValueError) as exc:
                    raise InputError(f"line {i}: malformed FX row ({exc})", source=str(path)) from None
                rates[(cur, year)] = _rate(cur, val, msg(N_("yearly average {year}"),
                                                         year=str(year)), row.get("source_url", ""))
        return cls(rates)

    @classmethod
    def bundled(cls) -> FxTable:
        """The bundled dated table of yearly average rates."""

        path = dataset_path("fx_rates.csv")
        st = path.stat()
        table = _bundled_table(str(path), st.st_mtime_ns, st.st_size)
        return cls(dict(table.rates))  # the caller's own mapping (the rates themselves are frozen)

    def with_user_rates(self, user: dict[str, float]) -> FxTable:
        """Return a copy where ``user`` (``{"JPY": 150.0}``, units per USD) overrides the table."""
        rates = dict(self.rates)
        for cur, val in user.items():
            check_currency(cur, field=f"fx.{cur}")
            if not (val > 0 and val < float("inf")):
                raise InputError("rate must be a positive finite number", field=f"fx.{cur}")
            rates[(cur, None)] = _rate(cur, float(val), msg(N_("user-supplied")), "user")
        return FxTable(rates)

    def rate(self, currency: str, year: int) -> FxRate:
        """Rate for ``currency`` in ``year``: a user rate, else that year's average, else the latest
        earlier year's (stated in the returned basis). USD is 1."""
        if currency == "USD":
            return _USD
        if (currency, None) in self.rates:
            return self.rates[(currency, None)]
        if (currency, year) in self.rates:
            return self.rates[(currency, year)]
        known = sorted(y for (c, y) in self.rates if c == currency and y is not None)
        if not known or year < known[-1]:
            # A year before the table starts, or a gap inside it (a year no source was found for; see
            # datasets/fx_rates.md): never borrow a neighbouring year's rate there.
            raise InputError(
                f"no conversion rate for ({year}, {currency}) in the bundled table; "
                f"supply one with --fx {currency}=RATE (units per USD)",
                field="currency",
            )
        years = known  # after the table's last year: that last year's average, stated in the basis
        r = self.rates[(currency, years[-1])]
        if years[-1] != year:
            r = _rate(r.currency, r.units_per_usd, msg(N_("{basis} (latest available for {year})"),
                                                       basis=r.basis_message or data(r.basis),
                                                       year=str(year)), r.source)
        return r

    def convert(self, amount: float, from_cur: str, to_cur: str, year: int) -> float:
        """Convert ``amount`` from ``from_cur`` to ``to_cur`` at ``year``'s rates (via USD)."""
        if from_cur == to_cur:
            return amount
        usd = amount / self.rate(from_cur, year).units_per_usd
        return usd * self.rate(to_cur, year).units_per_usd


@register_cache(static=True)
@functools.lru_cache(maxsize=4)
def _bundled_table(path: str, mtime_ns: int, size: int) -> FxTable:
    """The bundled table read once per file version (a quote asks for it several times; parsing the CSV
    cost ~0.7 ms each time). Keyed by modification time and size, so an edited file is read again."""
    return FxTable.from_csv(path)
