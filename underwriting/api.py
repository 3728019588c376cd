"""The public Python API: quote an exchange, price a layer, assess a reserve, in a few lines.

Importing this module is cheap (standard library only); each function imports the stages it needs
when called. Amounts are in the submission's currency unless stated.

>>> import underwriting.api as uw                                     # doctest: +SKIP
>>> sub = uw.load_submission("datasets/examples/jp_small_exchange.json")
>>> q = uw.quote(sub)                       # ground-up cover for one year, default regime
>>> q.summary()                             # a readable table (like lifelines' print_summary)
>>> layer = uw.Layer(deductible=50e6, limit=450e6)                  # in the exchange's currency (JPY)
>>> uw.price_layer(sub, layer).premium

Names
-----
quote, price_layer, reserve, compare_reserve, load_submission, load_policy : functions
summary_text, quote_letter, reserve_text : the human-readable outputs, ``lang="ja"`` or ``"en"``
Layer : :class:`underwriting.pricing.layers.Layer` (a per-occurrence and aggregate layer)
Registry : :class:`underwriting.registry.Registry` (a model registry folder)
Quote, Submission, PolicyTerms : the domain objects
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from underwriting.domain.policy import PolicyTerms
    from underwriting.domain.quote import Quote
    from underwriting.domain.submission import Submission
    from underwriting.pricing.layers import Layer
    from underwriting.registry import Registry

__all__ = ["quote", "price_layer", "reserve", "compare_reserve", "load_submission", "load_policy", "summary_text",
           "quote_letter", "reserve_text", "Layer", "Registry", "Quote", "Submission", "PolicyTerms"]

_LAZY = {
    "Layer": "underwriting.pricing.layers",
    "Registry": "underwriting.registry",
    "Quote": "underwriting.domain.quote",
    "Submission": "underwriting.domain.submission",
    "PolicyTerms": "underwriting.domain.policy",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'underwriting.api' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def _load(kind: str, obj: Any) -> Any:
    from underwriting.domain.policy import PolicyTerms
    from underwriting.domain.submission import Submission
    from underwriting.domain.validation import read_validated, validate_model

    model = Submission if kind == "submission" else PolicyTerms
    if isinstance(obj, model):
        return obj
    if isinstance(obj, Mapping):
        return validate_model(model, dict(obj))
    if isinstance(obj, str | os.PathLike):
        return read_validated(model, str(obj))
    from underwriting.errors import InputError

    raise InputError(f"expected a {model.__name__}, a mapping or a file path, got {type(obj).__name__}", field=kind)


def load_submission(path_or_mapping: str | os.PathLike[str] | Mapping[str, Any] | Submission) -> Submission:
    """A validated :class:`~underwriting.domain.submission.Submission` from a JSON/TOML file or a mapping."""
    return _load("submission", path_or_mapping)


def load_policy(path_or_mapping: str | os.PathLike[str] | Mapping[str, Any] | PolicyTerms) -> PolicyTerms:
    """Validated :class:`~underwriting.domain.policy.PolicyTerms` from a TOML/JSON file or a mapping."""
    return _load("policy", path_or_mapping)


def _load_terms(obj: Any) -> Any:
    """One layer (PolicyTerms) or a tower (Programme: a mapping or file with ``layers``)."""
    from underwriting.domain.policy import Programme

    if isinstance(obj, Programme):
        return obj
    if isinstance(obj, Mapping) and "layers" in obj:
        from underwriting.domain.validation import validate_model

        return validate_model(Programme, dict(obj))
    if isinstance(obj, str | os.PathLike):
        from underwriting.domain.policy import load_terms

        return load_terms(str(obj))
    return load_policy(obj)


def quote(submission: Any, terms: Any = None, *, regime: str | None = None, fx: Mapping[str, float] | None = None,
          currency: str | None = None, frequency_model: str | None = None, registry: Any = None,
          portfolio: str | os.PathLike[str] | None = None, seed: int | None = None, principle: str | None = None,
          schedule: Any = None, pricing_basis: Any = None) -> Quote:
    """Quote one exchange, as ``underwriting quote`` does.

    Parameters
    ----------
    submission : Submission, mapping or path
        The exchange's submission.
    terms : PolicyTerms, Programme, mapping or path, optional
        Policy terms of one layer, or a tower (a mapping or file with ``[[layers]]``); default ground-up cover of the customer assets for one year from the day after
        ``as_of`` (the cost of the risk, no reserve credit).
    regime : str, optional
        Reserve regime id or TOML path; default from the exchange's jurisdiction.
    fx : mapping, optional
        Conversion rates in units per USD (e.g. ``{"JPY": 150.0}``) overriding the bundled table.
    currency : str, optional
        Quote in this currency, any with a known rate (the exposure is converted at the as-of year's
        rate, recorded in ``Quote.fx``); default the submission's currency. A rate in ``fx`` that
        nothing uses is listed in ``Quote.warnings``.
    frequency_model : str, optional
        One of :data:`underwriting.quote.options.FREQUENCY_MODELS`. Default ``"frequency"``: the one risk model (base on real cohorts × experience × posture
        schedule); ``"survival"`` (synthetic landmark model) is a comparison only.
    registry : Registry or path, optional
        Model registry to take the frequency model from (default: the shipped models, or
        ``UNDERWRITING_REGISTRY``).
    portfolio : path, optional
        A book: the risk load becomes this exchange's capital share of the book.
    seed : int, optional
        Seed of every random step (default 0).
    principle : str, optional
        Premium principle; default :data:`underwriting.pricing.premium.DEFAULT_PRINCIPLE`.
    schedule : path, mapping or ScheduleTable, optional
        Posture schedule table (as ``quote --schedule``); default the shipped ``schedule.toml``.
    pricing_basis : path, mapping or PricingBasisFile, optional
        Loads (expense, commission, tax: fractions of premium) as ``quote --pricing-basis`` reads
        them; default expense 10%, commission 10%, tax 0%.

    Returns
    -------
    Quote
        Amounts in the quote currency; ``Quote.summary(lang=...)`` prints it, :func:`quote_letter`
        writes the letter.
    """
    from underwriting.errors import InputError
    from underwriting.quote.make import make_quote
    from underwriting.quote.request import QuoteRequest
    from underwriting.registry import Registry

    sub = load_submission(submission)
    pol = None if terms is None else _load_terms(terms)
    try:
        request = QuoteRequest.build(sub, pol, regime=regime, seed=seed, fx_rates=dict(fx or {}),
                                     frequency_model=frequency_model, principle=principle, currency=currency,
                                     pricing_basis=_pricing_basis(pricing_basis), schedule=schedule)
    except InputError as exc:  # name the keyword argument the bad option came from
        if not (exc.field or "").startswith("options."):
            raise
        raise InputError(exc.message, field=exc.field.removeprefix("options."), source=exc.source) from None
    reg = registry if registry is None or isinstance(registry, Registry) else Registry(registry)
    if portfolio is not None:
        from underwriting.portfolio.capital import portfolio_quote

        if reg is not None:
            raise InputError("a portfolio quote uses the default registry; drop registry= or set "
                             "UNDERWRITING_REGISTRY", field="registry")
        return portfolio_quote(request, portfolio)
    return make_quote(request, registry=reg)


def _pricing_basis(obj: Any) -> Any:
    """A validated :class:`~underwriting.domain.pricing_basis.PricingBasisFile` from a path or mapping, or None."""
    if obj is None:
        return None
    from underwriting.domain.pricing_basis import PricingBasisFile, load_pricing_basis

    if isinstance(obj, PricingBasisFile):
        return obj
    if isinstance(obj, Mapping):
        from underwriting.domain.validation import validate_model

        return validate_model(PricingBasisFile, dict(obj), source="pricing_basis")
    return load_pricing_basis(str(obj))


def summary_text(q: Quote, *, lang: str | None = None) -> str:
    """The quote as ``underwriting quote`` prints it, in ``lang`` ("en" or "ja"; default
    ``UNDERWRITING_LANG``, then the locale, then English)."""
    from underwriting.domain.report import format_quote
    from underwriting.i18n import use_lang

    with use_lang(lang):
        return format_quote(q)


def quote_letter(q: Quote, *, terms: Any = None, pricing_basis: Any = None, lang: str | None = None,
                 pdf: bool = False) -> str | bytes:
    """The quote letter of ``q``: self-contained HTML (str), or with ``pdf=True`` the A4 PDF (bytes, headless Chromium).

    Parameters
    ----------
    q : Quote
    terms : PolicyTerms, Programme, mapping or path, optional
        The policy file the quote was made with: the slip fields the quote does not carry (insurer,
        reinstatements, exclusions, conditions). Without it they read "not given".
    pricing_basis : path, mapping or PricingBasisFile, optional
        Validity days, subjectivities and signatory (default: 30 days, the standard subjectivities).
    lang : {"en", "ja"}, optional
    pdf : bool
        Print to PDF (needs Debian's ``chromium``; an input error says so when it is missing).
    """
    from underwriting.domain.pricing_basis import PricingBasisFile
    from underwriting.i18n import resolve_lang, use_lang
    from underwriting.quote.document import build_quote_figures, render_quote_html

    code = resolve_lang(lang, field="lang")
    if pdf:
        from underwriting.quote.pdf import require_chromium

        require_chromium("pdf")
    d = q.to_dict()
    with use_lang(code):
        figs = build_quote_figures(d)
    slip = None if terms is None else _load_terms(terms).model_dump(mode="json")
    letter = (_pricing_basis(pricing_basis) or PricingBasisFile()).model_dump(mode="json")
    page = render_quote_html(d, figures=figs, slip=slip, letter=letter, lang=code)
    if not pdf:
        return page
    from underwriting.quote.pdf import html_to_pdf

    return html_to_pdf(page)


def reserve_text(assessment: Any, *, lang: str | None = None) -> str:
    """A reserve assessment (from :func:`reserve`) as ``underwriting reserve`` prints it, in ``lang``."""
    from underwriting.i18n import resolve_lang, use_lang

    code = resolve_lang(lang, field="lang")
    if code == "en":
        return assessment.to_table()
    from underwriting.reserve_report import reserve_table

    with use_lang(code):
        return reserve_table(assessment.to_dict())


def price_layer(submission: Any, layer: Layer, *, regime: str | None = None, fx: Mapping[str, float] | None = None,
                frequency_model: str | None = None, registry: Any = None, seed: int = 0,
                principle: str | None = None) -> Quote:
    """Price a custom layer for one exchange, amounts in the exchange's currency.

    The layer replaces the structure of the default one-year ground-up terms (all perils covered):
    per-occurrence deductible and limit, aggregate deductible and limit, the insurer's share,
    reinstatements, their premium and its basis (``layer.pro_rata_amount``: pro rata to the amount
    reinstated, or charged in full), sub-limits. The term is the default one (one year from the
    day after ``as_of``); ``layer.term_years`` is not used.

    Returns
    -------
    Quote
        The quote of those terms (``premium``, ``expected_loss``, ``tvar_995`` … in the exchange's currency).
    """
    from underwriting.errors import InputError
    from underwriting.pricing.layers import Layer as _Layer
    from underwriting.quote.losses import default_terms

    if not isinstance(layer, _Layer):
        raise InputError(f"expected a Layer, got {type(layer).__name__}", field="layer")
    if not math.isfinite(layer.limit):
        raise InputError("a policy needs a finite per-occurrence limit", field="layer.limit")
    rps = set(layer.reinstatement_premium)
    if len(rps) > 1:
        raise InputError("policy terms take one reinstatement premium for every reinstatement",
                         field="layer.reinstatement_premium")
    sub = load_submission(submission)
    terms = default_terms(sub).with_(
        policy_id="custom-layer", deductible=layer.deductible, limit=layer.limit,
        aggregate_deductible=layer.agg_deductible,
        aggregate_limit=None if math.isinf(layer.agg_limit) else layer.agg_limit, coinsurance=layer.share,
        reinstatements=layer.reinstatements, reinstatement_premium_pct=rps.pop() if rps else 1.0,
        reinstatement_premium_basis="pro_rata_amount" if layer.pro_rata_amount else "in_full",
        sublimits={k: v for k, v in layer.sublimits.items() if math.isfinite(v)})
    return quote(sub, terms, regime=regime, fx=fx, frequency_model=frequency_model, registry=registry, seed=seed,
                 principle=principle)


def reserve(submission: Any, policies: Any = (), *, regime: str | None = None, as_of: Any = None,
            fx: Mapping[str, float] | None = None, overrides: Mapping[str, Any] | None = None,
            risk_sizing: bool = True) -> Any:
    """Reserve requirement of an exchange under a regime and the credit its policies earn.

    Parameters
    ----------
    submission : Submission, mapping or path
    policies : PolicyTerms, mapping, path, or a sequence of them
    regime : str, optional
        Regime id or TOML path; default from the exchange's jurisdiction.
    as_of : date or ISO string, optional
        Assess on this date instead of the submission's ``as_of``.
    fx : mapping, optional
        Conversion rates in units per USD overriding the bundled table.
    overrides : mapping, optional
        Regime parameter changes, as ``--param PATH=VALUE`` gives them.
    risk_sizing : bool
        Build the regime's risk-based sizing scenario (where it has one) from the quote's loss model.

    Returns
    -------
    ReserveAssessment
        :class:`underwriting.reserve.assessment.ReserveAssessment` (``to_dict()`` for JSON).
    """

    from underwriting.domain.currency import FxTable
    from underwriting.errors import InputError
    from underwriting.quote.reserve import assess_reserve
    from underwriting.reserve.jurisdictions import default_regime

    sub = load_submission(submission)
    day = _as_of_date(as_of)
    if day is not None:
        sub = sub.with_(as_of=day)
    from underwriting.domain.policy import PolicyTerms

    single = isinstance(policies, str | os.PathLike | Mapping | PolicyTerms)
    pols = [load_policy(p) for p in ([policies] if single else list(policies))]
    reg = regime or default_regime(sub.exchange.jurisdiction)
    if reg is None:
        raise InputError(f"no bundled regime for jurisdiction {sub.exchange.jurisdiction}; pass regime=",
                         field="regime")
    return assess_reserve(sub, pols, reg, FxTable.bundled().with_user_rates(dict(fx or {})), as_of=None,
                          overrides=dict(overrides or {}), risk_sizing=risk_sizing)


def _python_field(field: str | None) -> str | None:
    """A CLI flag in an error (``--horizon-years``, ``--param credit.cap_share``) as the Python argument."""
    if not field or not field.startswith("--"):
        return field
    if field.startswith("--param "):
        return f"params[{field[len('--param '):]!r}]"
    return field[2:].replace("-", "_")


def compare_reserve(submission: Any, quotes: Any = None, *, regime: str | None = None, horizon_years: int = 3,
                    template: Any = None, deductibles: Any = None, limits: Any = None, as_of: Any = None,
                    fx: Mapping[str, float] | None = None, params: Mapping[str, Any] | None = None,
                    assumptions: Mapping[str, float] | None = None, max_layers: int = 3, allow_overlap: bool = False,
                    frequency_model: str = "frequency", principle: str | None = None,
                    samples_per_year: int = 24) -> Any:
    """Insurance versus cash for a reserve, as ``underwriting compare-reserve`` does.

    Parameters
    ----------
    submission : Submission, mapping or path
    quotes : path or sequence of Candidate, optional
        Candidate policies with premiums (a ``[defaults]``/``[[quote]]`` file, or
        :class:`underwriting.reserve.compare.Candidate` objects). Or give ``template``.
    regime : str, optional
        Regime id or TOML path; default from the exchange's jurisdiction.
    horizon_years : int
        Whole years (1 to 50).
    template : PolicyTerms, mapping or path, optional
        Terms of a deductible × limit grid priced with the exchange's own quote loss model.
    deductibles, limits : sequence of float, optional
        The grid, in the template's currency (with ``template``).
    as_of : date or ISO string, optional
        Assessment date (default the submission's).
    fx : mapping, optional
        Units per USD overriding the bundled table.
    params : mapping, optional
        Regime parameter changes (``{"credit.cap_share": 0.2}``).
    assumptions : mapping, optional
        Cost assumptions as shares per year (``{"funding_cost": 0.07}``; 7% is 0.07, a value above 1
        is refused except ``expected_loss_ratio``).
    max_layers, allow_overlap, frequency_model, principle, samples_per_year
        As the command's options.

    Returns
    -------
    Comparison
        :class:`underwriting.reserve.compare_types.Comparison`: ``best``, ``cash_only``,
        ``saving_vs_cash``, ``caveats``, ``cap_scenarios``, ``renewal``, ``to_dict()``, ``to_table()``.

    Raises
    ------
    InputError
        Naming the Python argument (``horizon_years``, ``assumptions.funding_cost``, ``params[...]``).
    """

    from underwriting.domain.currency import FxTable
    from underwriting.errors import InputError
    from underwriting.reserve import load_regime
    from underwriting.reserve.compare import CostAssumptions, load_quotes, optimise
    from underwriting.reserve.jurisdictions import default_regime

    sub = load_submission(submission)
    day = _as_of_date(as_of)
    reg_id = regime or default_regime(sub.exchange.jurisdiction)
    if reg_id is None:
        raise InputError(f"no bundled regime for jurisdiction {sub.exchange.jurisdiction}; pass regime=",
                         field="regime")
    try:
        given = dict(assumptions or {})
        try:
            ca = CostAssumptions.default(**given)
        except InputError as exc:
            raise InputError(exc.message, field=f"assumptions.{exc.field}") from None
        except TypeError as exc:
            raise InputError(str(exc), field="assumptions") from None
        reg = load_regime(reg_id)
        if params:
            reg = reg.with_overrides(dict(params))
        table = FxTable.bundled().with_user_rates(dict(fx or {}))
        note = ""
        if quotes is not None and template is not None:
            raise InputError("give quotes or template, not both", field="quotes")
        if quotes is not None:
            cands = (load_quotes(quotes, expected_loss_ratio=ca.expected_loss_ratio)
                     if isinstance(quotes, str | os.PathLike) else list(quotes))
        elif template is not None:
            from underwriting.quote.reserve import grid_from_quote_model

            if not deductibles or not limits:
                raise InputError("give deductibles and limits with template", field="deductibles" if not deductibles
                                 else "limits")
            cands, note = grid_from_quote_model(sub, load_policy(template), [float(x) for x in deductibles],
                                                [float(x) for x in limits], table, frequency_model=frequency_model,
                                                principle=principle)
        else:
            raise InputError("give candidate policies: quotes=PATH or a list of Candidate, or template= with "
                             "deductibles= and limits=", field="quotes")
        return optimise(sub, reg, cands, table, horizon_years=horizon_years, assumptions=ca, max_layers=max_layers,
                        as_of=day, allow_overlap=allow_overlap, pricing_note=note, samples_per_year=samples_per_year)
    except InputError as exc:
        if exc.field and exc.field.startswith("--"):
            raise InputError(exc.message, field=_python_field(exc.field), source=exc.source) from None
        raise


def _as_of_date(as_of: Any) -> Any:
    """``as_of`` (a date or an ISO string) as a ``datetime.date``, None when not given; an input error
    naming ``as_of`` otherwise."""
    import datetime as dt

    from underwriting.errors import InputError

    if as_of is None or isinstance(as_of, dt.date):
        return as_of
    try:
        return dt.date.fromisoformat(str(as_of))
    except ValueError:
        raise InputError(f"not an ISO date: {as_of!r}", field="as_of") from None
