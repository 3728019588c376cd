"""Candidate policies for the insurance-versus-cash comparison (:mod:`underwriting.reserve.compare`).

Quotes a user supplies (:func:`load_quotes`), a limit × deductible grid priced by a callable
(:func:`grid_candidates`), and the pricing callables built from a loss model
(:func:`layer_pricer`, :func:`perils_pricer`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from underwriting.domain.policy import PolicyTerms
from underwriting.errors import InputError
from underwriting.reserve.compare_types import Candidate, PriceFn

# ---- candidates -----------------------------------------------------------------------------------

def grid_candidates(template: PolicyTerms, deductibles: Sequence[float], limits: Sequence[float], price_fn: PriceFn,
                    *, loss_fn: PriceFn | None = None, expected_loss_ratio: float = 0.5) -> list[Candidate]:
    """Candidates over a deductible × limit grid, priced by ``price_fn(deductible, limit) -> premium``.

    Parameters
    ----------
    template : PolicyTerms
        Terms shared by every candidate (insurer, dates, perils...); deductible and limit are replaced.
    deductibles, limits : sequence of float
        In the template's currency; pairs with ``deductible >= limit`` are skipped.
    price_fn : callable
        Annual premium for a layer, in the template's currency.
    loss_fn : callable, optional
        Expected annual insurer payments for a layer; default ``premium × expected_loss_ratio``.
    """
    from underwriting.domain.validation import validate_model

    out = []
    for d in deductibles:
        for lim in limits:
            if d >= lim:
                continue
            data = template.model_dump()
            data.update(policy_id=f"{template.policy_id}-{_short(lim)}xs{_short(d)}", deductible=float(d),
                        limit=float(lim), sublimits={k: min(v, lim) for k, v in template.sublimits.items()})
            if data.get("aggregate_limit") is not None:
                data["aggregate_limit"] = max(data["aggregate_limit"], float(lim))
            pol = validate_model(PolicyTerms, data, source="grid")
            prem = float(price_fn(float(d), float(lim)))
            if not prem >= 0:
                raise InputError(f"pricing returned {prem!r} for {lim:,.0f} xs {d:,.0f}", field="price_fn")
            if loss_fn is not None:
                rec, basis = float(loss_fn(float(d), float(lim))), "price_fn; loss_fn"
            else:
                rec, basis = prem * expected_loss_ratio, "price_fn; recoveries = premium × expected_loss_ratio"
            out.append(Candidate(pol, prem, rec, basis))
    return out


def _short(x: float) -> str:
    for div, suf in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(x) >= div:
            return f"{x / div:g}{suf}"
    return f"{x:g}"


_QUOTE_EXTRA = ("premium", "expected_loss")


def load_quotes(path: str | Path, *, expected_loss_ratio: float = 0.5) -> list[Candidate]:
    """Read candidate policies with premiums from a TOML or JSON file.

    Format::

        [defaults]            # any PolicyTerms fields shared by the quotes
        insurer = "..."
        ...
        [[quote]]
        policy_id = "primary-5bn"
        deductible = 100_000_000
        limit = 5_000_000_000
        premium = 95_000_000          # annual, in the policy currency
        expected_loss = 40_000_000    # optional: expected annual insurer payments

    Raises
    ------
    InputError
        Naming the field (``quote.1.premium``, ``quote.0.insurer_rating``...).
    """
    from underwriting.domain.validation import validate_model
    from underwriting.fileio import read_document

    src = str(path)
    doc = read_document(path)
    unknown = set(doc) - {"defaults", "quote"}
    if unknown:
        raise InputError(f"unknown top-level key(s) {', '.join(sorted(unknown))}; expected [defaults] and [[quote]]",
                         field=sorted(unknown)[0], source=src)
    defaults = doc.get("defaults", {})
    quotes = doc.get("quote")
    if not isinstance(defaults, dict):
        raise InputError("must be a table", field="defaults", source=src)
    if not isinstance(quotes, list) or not quotes:
        raise InputError("at least one [[quote]] is required", field="quote", source=src)
    out = []
    for i, q in enumerate(quotes):
        if not isinstance(q, dict):
            raise InputError("must be a table", field=f"quote.{i}", source=src)
        prem = q.get("premium")
        if isinstance(prem, bool) or not isinstance(prem, int | float) or not (0 <= prem < float("inf")):
            raise InputError(f"required: a non-negative annual premium (got {prem!r})", field=f"quote.{i}.premium",
                             source=src)
        el = q.get("expected_loss")
        if el is not None and (isinstance(el, bool) or not isinstance(el, int | float) or not 0 <= el < float("inf")):
            raise InputError(f"must be a non-negative number (got {el!r})", field=f"quote.{i}.expected_loss",
                             source=src)
        data = {**defaults, **{k: v for k, v in q.items() if k not in _QUOTE_EXTRA}}
        data.setdefault("policy_id", f"quote-{i + 1}")
        try:
            pol = validate_model(PolicyTerms, data, source=src)
        except InputError as exc:
            raise InputError(f"quote.{i}: {exc.message}", field=f"quote.{i}", source=src) from None
        if el is not None:  # issue #30: 1e18 on a 400M policy "saved" 2.6e18 against cash
            cover = pol.aggregate_limit if pol.aggregate_limit is not None else pol.limit * (1 + pol.reinstatements)
            most = cover * pol.coinsurance * max(1.0, 1.0 / pol.term_years)
            if el > most * (1 + 1e-9):
                raise InputError(f"{el:,.6g} a year exceeds the most the policy can pay ({most:,.6g}: its aggregate "
                                 "limit, or limit x (1 + reinstatements), times coinsurance, per year)",
                                 field=f"quote.{i}.expected_loss", source=src)
        if el is None:
            out.append(Candidate(pol, float(prem), float(prem) * expected_loss_ratio,
                                 "quote; recoveries = premium × expected_loss_ratio"))
        else:
            out.append(Candidate(pol, float(prem), float(el), "quote"))
    return out


def layer_pricer(frequency: Any, severity: Any, *, principle: str | None = None,
                 **kwargs: Any) -> tuple[PriceFn, PriceFn]:
    """``(price_fn, loss_fn)`` for :func:`grid_candidates`, through :func:`underwriting.pricing.premium.price_layer`.

    Parameters
    ----------
    frequency, severity
        Loss-count and severity models of :mod:`underwriting.losses` (e.g. ``Poisson(0.2)``,
        ``Lognormal(mu, sigma)``), severities in the policy currency.
    principle : str, optional
        Premium principle passed to ``price_layer`` (default: the project's ``DEFAULT_PRINCIPLE``).
    **kwargs
        Further ``price_layer`` keywords (``loadings`` to get the premium as charged, ``method``...).
    """
    from underwriting.pricing.layers import Layer as PricingLayer
    from underwriting.pricing.premium import DEFAULT_PRINCIPLE, price_layer

    principle = principle or DEFAULT_PRINCIPLE

    cache: dict[tuple[float, float], Any] = {}

    def _res(d: float, lim: float) -> Any:
        if (d, lim) not in cache:
            cache[(d, lim)] = price_layer(frequency, severity, PricingLayer(deductible=d, limit=lim),
                                          principle=principle, **kwargs)
        return cache[(d, lim)]

    return (lambda d, lim: float(_res(d, lim).premium)), (lambda d, lim: float(_res(d, lim).expected_loss))


def perils_pricer(perils: Sequence[Any], policy_per_usd: float, template: PolicyTerms, *,
                  principle: str | None = None, **kwargs: Any) -> tuple[PriceFn, PriceFn]:
    """``(price_fn, loss_fn)`` over the exchange's own loss model (its quote's perils, in USD).

    Each grid layer ``limit xs deductible`` (policy currency) is converted to USD, priced by
    :func:`underwriting.pricing.premium.price_perils` with the template's share, aggregate terms and
    sub-limits, and the premium (as charged, with the ``loadings`` given) and expected loss are
    converted back into the policy currency.

    Parameters
    ----------
    perils : sequence of underwriting.losses.aggregate.Peril
        Counts over the term and exposure-capped severities in USD (``build_loss_model(...).perils``).
    policy_per_usd : float
        Policy-currency units per USD.
    template : PolicyTerms
        Terms shared by the grid.
    principle : str, optional
        Premium principle (default ``DEFAULT_PRINCIPLE``).
    **kwargs
        Further ``price_perils`` keywords (``loadings``, ``level``, ``method``...).
    """
    from underwriting.pricing.layers import Layer as PricingLayer
    from underwriting.pricing.premium import DEFAULT_PRINCIPLE, price_perils

    if not perils:
        raise InputError("the template covers no peril the loss model prices", field="--template")
    principle = principle or DEFAULT_PRINCIPLE
    r = float(policy_per_usd)
    cache: dict[tuple[float, float], Any] = {}

    def _res(d: float, lim: float) -> Any:
        if (d, lim) not in cache:
            agg = template.aggregate_limit
            layer = PricingLayer(deductible=d / r, limit=lim / r, agg_deductible=template.aggregate_deductible / r,
                                 agg_limit=None if agg is None else max(agg, lim) / r, share=template.coinsurance,
                                 reinstatements=template.reinstatements,
                                 reinstatement_premium=template.reinstatement_premium_pct,
                                 pro_rata_amount=template.reinstatement_premium_basis == "pro_rata_amount",
                                 sublimits={k: min(v, lim) / r for k, v in template.sublimits.items()},
                                 term_years=template.term_years)
            cache[(d, lim)] = price_perils(list(perils), layer, principle=principle, **kwargs)
        return cache[(d, lim)]

    return (lambda d, lim: float(_res(d, lim).premium) * r), (lambda d, lim: float(_res(d, lim).expected_loss) * r)
