"""The quote's currencies: the submission in the quote currency and the rates a quote records or leaves unused.

A quote in another currency than the submission's converts the exposure at the as-of year's rate
(recorded), prices in USD as always and converts the results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from underwriting.domain.currency import fx_row
from underwriting.domain.message import msg
from underwriting.i18n import N_

__all__ = ["submission_in_currency", "incident_fx", "unused_fx_warnings"]


def submission_in_currency(sub: Any, currency: str, fx: Any) -> Any:
    """The submission with its exposure amounts converted into ``currency`` at the as-of year's rates.

    ``fx`` is an :class:`~underwriting.domain.currency.FxTable`. Amounts are multiplied by
    ``rate(currency) / rate(submission currency)`` (both in units per USD), so their USD value,
    and with it every model input, is unchanged.
    """
    if currency == sub.currency:
        return sub
    year = sub.as_of.year
    k = fx.rate(currency, year).units_per_usd / fx.rate(sub.currency, year).units_per_usd
    e, a = sub.exposure, sub.exposure.customer_assets
    assets = a.with_(hot=a.hot * k, warm=a.warm * k, cold=a.cold * k, total=a.total * k)
    return sub.with_(exposure=e.with_(currency=currency, customer_assets=assets,
                                      trading_volume_12m=e.trading_volume_12m * k, own_funds=e.own_funds * k,
                                      fixed_overheads_prior_year=e.fixed_overheads_prior_year * k))


def incident_fx(sub: Any, fx: Any) -> list[dict[str, Any]]:
    """The rates that convert the submission's past incident amounts to USD (risk-score features), one per
    currency and year, in the order met."""
    out: list[dict[str, Any]] = []
    seen = set()
    for inc in sub.incidents:
        key = (inc.currency, inc.date.year)
        if inc.currency == "USD" or key in seen:
            continue
        seen.add(key)
        r = fx.rate(inc.currency, inc.date.year)
        out.append(fx_row(r, msg(N_("incident amounts of {year} (risk-score features)"), year=str(inc.date.year))))
    return out


def unused_fx_warnings(user_rates: Mapping[str, float], used: set[str]) -> list[str]:
    """A warning for each user rate (``--fx``) that no conversion of the quote used."""
    return [f"--fx {c}={r:g}: no amount of this quote is in {c}, so the rate was not used"
            for c, r in sorted(user_rates.items()) if c not in used and c != "USD"] + \
           [f"--fx USD={r:g}: USD is the pricing currency (1 per USD by definition); the rate was not used"
            for c, r in sorted(user_rates.items()) if c == "USD"]
