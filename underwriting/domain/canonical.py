"""The canonical quote: what "the same quote" means on any CPU, and how two quotes are compared.

numpy's vectorised ``exp``, ``log`` and ``pow`` take different code paths on different instruction
sets (AVX-512, AVX2, SSE, NEON), so the same inputs, seed and model versions give floating-point
results that differ at about 1e-11 relative (measured up to 3e-10 on a premium-range end, and
4e-16 absolute on a probability of 1e-12). A quote is therefore published in its **canonical
form** (``docs/reproducibility.md``):

* **money** (every amount in the quote's currency, and ``*_usd`` amounts in US dollars) is rounded
  to the currency's ISO 4217 minor unit (:data:`MINOR_UNITS`: JPY and KRW 0 decimals, USD, EUR and
  the others 2);
* **every other computed number** (probabilities, rates, ratios, factors, fitted parameters) is
  rounded to :data:`SIGNIFICANT_DIGITS` significant digits and to at most :data:`DECIMALS`
  decimals (probabilities below 5e-15 are below the engine's noise floor and read 0);
* the recorded inputs (``inputs``), the FX table used (``fx``), versions, hashes, integers,
  booleans and strings are kept exactly.

Rounding is done on the exact decimal value of each float (Python's correctly rounded ``round``
and ``format``), so it is itself the same on every machine. Noise can still flip a value that
lies within the noise of a rounding boundary (a *tie*); :func:`compare` therefore reports two
canonical quotes as ``identical``, ``within`` tolerance (every difference is at most one unit in
the last canonical place: a tie flipped by noise) or ``different``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: ISO 4217 minor units (decimals) of the supported currencies (ISO 4217 list one, 2024 edition).
MINOR_UNITS: dict[str, int] = {
    "USD": 2, "JPY": 0, "EUR": 2, "GBP": 2, "HKD": 2, "SGD": 2, "KRW": 0, "CHF": 2, "AUD": 2, "CAD": 2,
    "CNY": 2, "INR": 2, "TRY": 2, "BRL": 2, "TWD": 2,
}
#: Significant digits of every computed number that is not money. Cross-CPU noise is below 1e-9
#: relative, so it reaches the sixth significant digit only at a rounding tie (probability < 1e-3).
SIGNIFICANT_DIGITS = 6
#: At most this many decimals (absolute 1e-14): the FFT engine's probabilities carry absolute noise
#: of about 1e-16, so smaller values are not reproducible digits.
DECIMALS = 14
#: Keys whose number (or list of numbers, or mapping of numbers) is an amount in the quote's currency,
#: wherever they appear outside the kept subtrees.
MONEY_KEYS: frozenset[str] = frozenset({
    "expected_loss", "std", "tvar_995", "tvar", "var", "premium", "minimum_premium", "premium_range",
    "premium_components", "oep", "aep", "limit", "attachment", "deductible", "aggregate_limit",
    "aggregate_deductible", "sublimits", "credit", "requirement", "residual_cash", "amount", "band_low",
    "band_high", "commission", "expense", "risk_load", "tax", "minimum_uplift", "reinstatement_credit",
    "cash", "cost", "saving", "insurance_cost", "cash_cost", "payable", "capital_load_quote_currency",
    "capital_quote_currency",
})
#: Keys whose numbers are amounts in US dollars whatever the quote currency (besides ``*_usd`` keys): the
#: book figures of ``quote --portfolio`` (``CapitalBlock``).
USD_MONEY_KEYS: frozenset[str] = frozenset({"aal", "aal_se", "co_tvar", "capital", "capital_load", "book_tvar",
                                            "book_aal"})
#: Subtrees kept exactly: the recorded inputs (what a reproduction recomputes from), the FX rates
#: used (data, not computation, also where a block repeats one) and the versions.
KEPT_KEYS: frozenset[str] = frozenset({"inputs", "fx", "versions", "quote_per_usd", "units_per_usd",
                                       "policy_per_usd"})
#: Relative size of one canonical unit's allowance: a difference up to one unit in the last place,
#: with this slack for the binary representation of the rounded decimals (see also :data:`_ULPS`).
_SLACK = 1.0 + 1e-9
#: Spacings of the larger value's float added to the allowance: two rounded decimals one unit apart are
#: stored with an error of up to half a spacing each, which for large amounts exceeds the relative slack
#: (2,365,977,628.82 − 2,365,977,628.81 is 0.0100002 in binary: a spacing there is 4.8e-7).
_ULPS = 4


def minor_unit(currency: str) -> int:
    """Decimals of ``currency``'s minor unit (ISO 4217; 2 for a code not in :data:`MINOR_UNITS`)."""
    return MINOR_UNITS.get(currency, 2)


def round_significant(x: float, digits: int = SIGNIFICANT_DIGITS, decimals: int = DECIMALS) -> float:
    """``x`` rounded to ``digits`` significant digits and at most ``decimals`` decimals.

    Parameters
    ----------
    x : float
        A finite or non-finite number (non-finite values are returned unchanged).
    digits, decimals : int
        Significant digits kept; decimals kept at most.

    Returns
    -------
    float
        The rounded value (``0.0`` for ``-0.0`` and for values below half a unit of ``decimals``).
    """
    if not math.isfinite(x) or x == 0.0:
        return 0.0 if x == 0.0 else x
    r = round(float(format(x, f".{digits - 1}e")), decimals)
    return r + 0.0  # -0.0 -> 0.0


def round_money(x: float, currency: str) -> float:
    """``x`` rounded to ``currency``'s minor unit (e.g. whole yen, US cents)."""
    if not math.isfinite(x):
        return x
    return round(x, minor_unit(currency)) + 0.0


def _is_money(key: str) -> bool:
    return key in MONEY_KEYS or key in USD_MONEY_KEYS or key.endswith("_usd")


def _money_currency(key: str, currency: str) -> str:
    return "USD" if key.endswith("_usd") or key in USD_MONEY_KEYS else currency


def _canon(v: Any, currency: str, money: str | None) -> Any:
    if isinstance(v, bool) or v is None or isinstance(v, int | str):
        return v
    if isinstance(v, float):
        return round_money(v, money) if money else round_significant(v)
    if isinstance(v, Mapping):
        out = {}
        for k, x in v.items():
            if k in KEPT_KEYS:
                out[k] = x
            elif money is not None:
                out[k] = _canon(x, currency, money)
            elif _is_money(k):
                out[k] = _canon(x, currency, _money_currency(k, currency))
            else:
                out[k] = _canon(x, currency, None)
        return out
    if isinstance(v, list | tuple):
        return [_canon(x, currency, money) for x in v]
    return v


def canonicalise(doc: Mapping[str, Any], currency: str | None = None) -> dict[str, Any]:
    """The canonical form of a quote's JSON dict (see the module docstring); idempotent.

    Parameters
    ----------
    doc : mapping
        A quote as ``Quote.to_dict()`` gives it (its ``currency`` names the money's currency).
    currency : str, optional
        The money's currency when ``doc`` has no ``currency`` key (e.g. a score block).

    Returns
    -------
    dict
        A new dict; ``doc`` is not modified.
    """
    return _canon(dict(doc), str(doc.get("currency") or currency or "USD"), None)


def canonical_unit(key_path: str, value: float, currency: str) -> float:
    """One unit in the last canonical place of ``value`` at ``key_path`` (``a.b[2].c``)."""
    keys = [k.split("[")[0] for k in key_path.split(".")]
    for k in keys:
        if _is_money(k):
            return 10.0 ** -minor_unit(_money_currency(k, currency))
    if value == 0.0:
        return 10.0 ** -DECIMALS
    e = math.floor(math.log10(abs(value)))
    return max(10.0 ** (e - SIGNIFICANT_DIGITS + 1), 10.0 ** -DECIMALS)


@dataclass(frozen=True)
class Comparison:
    """Outcome of :func:`compare`.

    Attributes
    ----------
    status : {"identical", "within", "different"}
        ``within``: every difference is a number at most one unit in its last canonical place
        apart (a rounding tie flipped by floating-point noise of another CPU).
    differences : list of (path, recorded, recomputed, within)
        Every differing leaf; ``within`` says whether that one is inside the tolerance.
    largest : (path, relative difference) or None
        The numeric difference with the largest relative size.
    """

    status: str
    differences: list[tuple[str, Any, Any, bool]] = field(default_factory=list)
    largest: tuple[str, float] | None = None

    @property
    def ok(self) -> bool:
        """True when identical or within tolerance."""
        return self.status != "different"


def _leaf_diffs(old: Any, new: Any, path: str, out: list[tuple[str, Any, Any]]) -> None:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for k in sorted(set(old) | set(new), key=str):
            p = f"{path}.{k}" if path else str(k)
            if k not in old:
                out.append((p, "(absent)", new[k]))
            elif k not in new:
                out.append((p, old[k], "(absent)"))
            else:
                _leaf_diffs(old[k], new[k], p, out)
        return
    if isinstance(old, list) and isinstance(new, list):
        for i in range(max(len(old), len(new))):
            p = f"{path}[{i}]"
            if i >= len(old):
                out.append((p, "(absent)", new[i]))
            elif i >= len(new):
                out.append((p, old[i], "(absent)"))
            else:
                _leaf_diffs(old[i], new[i], p, out)
        return
    numeric = (isinstance(old, int | float) and isinstance(new, int | float)
               and not isinstance(old, bool) and not isinstance(new, bool))
    if (numeric and old == new) or (not numeric and old == new and type(old) is type(new)):
        return
    out.append((path, old, new))


def compare(recorded: Mapping[str, Any], recomputed: Mapping[str, Any]) -> Comparison:
    """Compare two quotes in canonical form, field by field.

    Both are canonicalised first (a no-op for quotes written by this version), so a quote recorded
    with full floats compares on its canonical values.

    Parameters
    ----------
    recorded, recomputed : mapping
        Quote dicts.

    Returns
    -------
    Comparison
    """
    a, b = canonicalise(recorded), canonicalise(recomputed)
    currency = str(a.get("currency") or "USD")
    raw: list[tuple[str, Any, Any]] = []
    _leaf_diffs(a, b, "", raw)
    diffs: list[tuple[str, Any, Any, bool]] = []
    largest: tuple[str, float] | None = None
    for path, x, y in raw:
        ok = False
        if (isinstance(x, float | int) and isinstance(y, float | int)
                and not isinstance(x, bool) and not isinstance(y, bool)
                and path.split(".")[0].split("[")[0] not in KEPT_KEYS):
            unit = canonical_unit(path, max(abs(x), abs(y)), currency)
            ok = abs(x - y) <= unit * _SLACK + _ULPS * math.ulp(max(abs(x), abs(y)))
            rel = abs(x - y) / max(abs(x), abs(y))
            if largest is None or rel > largest[1]:
                largest = (path, rel)
        diffs.append((path, x, y, ok))
    status = "identical" if not diffs else ("within" if all(d[3] for d in diffs) else "different")
    return Comparison(status, diffs, largest)
