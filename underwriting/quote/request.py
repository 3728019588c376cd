"""The one door of the quote: :class:`QuoteRequest`, where every option and default is checked.

``underwriting quote`` (``cli/quote.py``), :func:`underwriting.api.quote` and the service's
``POST /v1/quotes`` (``service/engine.py``) each build a :class:`QuoteRequest` and call the same
:func:`underwriting.quote.make.make_quote`; its JSON Schema (:func:`request_schema`) is the service's
request body. Defaults come from one place each: the premium principle from
:data:`underwriting.pricing.premium.DEFAULT_PRINCIPLE` (read when a request is built), the frequency
methods, seed range and TVaR level from :mod:`underwriting.quote.options`, the loads from
:class:`~underwriting.domain.pricing_basis.PricingBasisFile`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from underwriting.domain._base import Strict
from underwriting.domain.message import Message, msg
from underwriting.domain.policy import PolicyTerms, Programme
from underwriting.domain.pricing_basis import PricingBasisFile
from underwriting.domain.submission import Submission
from underwriting.i18n import LANGUAGES, N_
from underwriting.pricing import premium as _premium
from underwriting.quote.options import (
    DEFAULT_FREQUENCY_MODEL,
    DEFAULT_LEVEL,
    DEFAULT_SEED,
    FREQUENCY_MODELS,
    MAX_SEED,
)

__all__ = ["QuoteOptions", "QuoteRequest", "PricingBasis", "request_schema", "default_principle"]

#: Plausible conversion rates (units per USD): outside them a rate is a typing mistake.
MIN_FX_RATE, MAX_FX_RATE = 1e-6, 1e9


def default_principle() -> str:
    """The package's one default premium principle, read now (``pricing.premium.DEFAULT_PRINCIPLE``)."""
    return _premium.DEFAULT_PRINCIPLE


@dataclass(frozen=True)
class PricingBasis:
    """How a technical price becomes a premium (assumptions a user can change), as the layers stage uses it.

    Built from a :class:`QuoteRequest` (:meth:`QuoteRequest.basis`); a quote records it in ``inputs.basis``.

    Parameters
    ----------
    principle : str
        Premium principle, default :data:`underwriting.pricing.premium.DEFAULT_PRINCIPLE`. The default Wang
        transform (λ = 0.25) is a standalone, market-style load: the technical premium is about 1.6–2× the
        expected loss for the bundled examples. A cost-of-capital charge on a standalone 99.5% TVaR
        (``"cost_of_capital:0.10"``) charges nearly the whole limit as capital for a layer that attaches a
        few percent of the time; capital is better allocated across a book (the portfolio issue).
    level : float
        TVaR level used by the principle and reported (0.995).
    expense, commission, tax : float
        Loads as fractions of premium (defaults those of :class:`PricingBasisFile`).
    """

    principle: str = ""
    level: float = DEFAULT_LEVEL
    expense: float = PricingBasisFile.model_fields["expense"].default
    commission: float = PricingBasisFile.model_fields["commission"].default
    tax: float = PricingBasisFile.model_fields["tax"].default

    def __post_init__(self) -> None:
        if not self.principle:  # not given: the one default, read now
            object.__setattr__(self, "principle", default_principle())

    def describe(self) -> str:
        """The principle and loads in words (the text of :meth:`describe_message`)."""
        return self.describe_message().text()

    def describe_message(self) -> Message:
        """The principle and loads as a template and arguments (for other languages)."""
        return msg(N_("premium principle {principle} at TVaR {level}; expense {expense}, commission {commission}, tax "
                      "{tax} of premium"), principle=str(self.principle), level=str(self.level),
                   expense=f"{self.expense:.0%}", commission=f"{self.commission:.0%}", tax=f"{self.tax:.0%}")


class QuoteOptions(Strict):
    """How to quote: seed, rates, frequency method, premium principle, currency, loads, schedule, language."""

    seed: int = Field(default=DEFAULT_SEED, ge=0, le=MAX_SEED, description="Seed of every random step.")
    fx: dict[str, float] = Field(default_factory=dict, description=(
        "Conversion rates in units per USD (e.g. {\"JPY\": 150}) overriding the bundled yearly table."))
    frequency_model: Literal[FREQUENCY_MODELS] = Field(  # type: ignore[valid-type]
        default=DEFAULT_FREQUENCY_MODEL, description=(
            "Breach frequency of the loss model: the one risk model (default), the roster baseline or the "
            "synthetic landmark survival model (comparison only)."))
    principle: str = Field(default_factory=default_principle, description=(
        "Premium principle, e.g. wang:0.25, cost_of_capital:0.10; default the package's one default "
        "(underwriting.pricing.premium.DEFAULT_PRINCIPLE)."))
    currency: str | None = Field(default=None, description="Quote currency (ISO 4217); default the submission's.")
    pricing_basis: PricingBasisFile | None = Field(default=None, description=(
        "Loads and letter terms (expense, commission, tax, validity_days, subjectivities, signatory)."))
    schedule: dict[str, Any] | None = Field(default=None, description=(
        "Posture schedule table as a mapping (the layout of frequency/schedule.toml); default the shipped one."))
    lang: Literal[LANGUAGES] | None = Field(default=None, description=(  # type: ignore[valid-type]
        "Language of the human-readable outputs; the quote itself is language-free."))
    model_versions: dict[str, str] = Field(default_factory=dict, description=(
        "Registry versions to quote with (kind: version), e.g. {\"frequency\": \"0.2.0\"}; default the registry's."))

    @field_validator("fx", mode="before")
    @classmethod
    def _rates(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out: dict[str, float] = {}
        for cur, rate in value.items():
            ok = isinstance(rate, int | float) and not isinstance(rate, bool) and math.isfinite(rate) and rate > 0
            if not ok or not isinstance(cur, str) or not cur.strip():
                raise ValueError(f"{cur}: expected a positive rate in units per USD (e.g. JPY: 150), got {rate!r}")
            if not MIN_FX_RATE <= rate <= MAX_FX_RATE:
                raise ValueError(f"{cur}: rate {rate:g} per USD is outside the plausible range {MIN_FX_RATE:g} to "
                                 f"{MAX_FX_RATE:g} (a typing mistake; it would overflow converted amounts)")
            out[cur.strip().upper()] = float(rate)
        return out

    @field_validator("principle")
    @classmethod
    def _principle(cls, value: str) -> str:
        from underwriting.errors import InputError

        try:
            _premium.parse_principle(value)
        except InputError as exc:
            raise ValueError(exc.message) from None
        return value

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> Any:
        if value is None:
            return None
        code = value.strip().upper() if isinstance(value, str) else value
        if not (isinstance(code, str) and len(code) == 3 and code.isalpha() and code.isascii()):
            raise ValueError(f"expected a three-letter ISO 4217 currency code (e.g. EUR), got {value!r}")
        return code

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            from underwriting.frequency.schedule import schedule_from_mapping

            schedule_from_mapping(value, source="schedule")  # checked now (monotone, capped), used by the quote
        return value

    @field_validator("model_versions")
    @classmethod
    def _versions(cls, value: dict[str, str]) -> dict[str, str]:
        from underwriting.errors import InputError
        from underwriting.registry.kinds import check_name, check_version

        for name, version in value.items():
            try:
                check_name(name)
                check_version(version)
            except InputError as exc:
                raise ValueError(f"{name}: {exc.message}") from None
        return value


def _terms_kind(value: Any) -> str:
    return "tower" if isinstance(value, Programme) or (isinstance(value, dict) and "layers" in value) else "layer"


Terms = Annotated[Annotated[Programme, Tag("tower")] | Annotated[PolicyTerms, Tag("layer")],
                  Discriminator(_terms_kind)]


class QuoteRequest(Strict):
    """One quote to make: the submission, the terms, the regime and the options.

    Attributes
    ----------
    submission : Submission
        The exchange's validated submission; its currency is the quote's unless ``options.currency``.
    terms : PolicyTerms or Programme, optional
        One layer, or a tower (an object with ``layers``); default ground-up cover of the customer assets
        for one year from the day after ``as_of`` (no reserve credit).
    regime : str, optional
        Reserve regime id or regime TOML path; default from the exchange's jurisdiction.
    options : QuoteOptions
        Seed, rates, frequency method, principle, currency, loads, schedule, language, model versions.
    """

    submission: Submission
    terms: Terms | None = None
    regime: str | None = Field(default=None, description="Reserve regime id; default from the jurisdiction.")
    options: QuoteOptions = Field(default_factory=QuoteOptions)

    @model_validator(mode="after")
    def _currency_has_a_rate(self) -> QuoteRequest:
        """A quote currency must have a rate (bundled or in ``options.fx``) for the as-of year."""
        cur = self.options.currency
        if cur is not None and cur != self.submission.currency:
            from underwriting.domain.currency import FxTable
            from underwriting.errors import InputError

            try:
                FxTable.bundled().with_user_rates(self.options.fx).rate(cur, self.submission.as_of.year)
            except InputError as exc:
                raise ValueError(f"options.currency: {exc.message}") from None
        return self

    def basis(self) -> PricingBasis:
        """The pricing basis of this request: its principle and loads (the basis file's, else the defaults)."""
        o = self.options
        pb = o.pricing_basis
        loads = {} if pb is None else {"expense": pb.expense, "commission": pb.commission, "tax": pb.tax}
        return PricingBasis(principle=o.principle, **loads)

    def schedule_table(self) -> Any:
        """The posture schedule of this request (a ``ScheduleTable``), or None for the shipped one."""
        if self.options.schedule is None:
            return None
        from underwriting.frequency.schedule import schedule_from_mapping

        return schedule_from_mapping(self.options.schedule, source="schedule")

    @classmethod
    def build(cls, submission: Any, terms: Any = None, *, regime: str | None = None, seed: int | None = None,
              fx_rates: dict[str, float] | None = None, frequency_model: str | None = None,
              basis: PricingBasis | None = None, schedule: Any = None, currency: str | None = None,
              principle: str | None = None, pricing_basis: Any = None, lang: str | None = None,
              model_versions: dict[str, str] | None = None) -> QuoteRequest:
        """A request from Python values (the keyword names of ``make_quote``'s convenience form).

        ``schedule`` may be a ``ScheduleTable``, a mapping or a path (read here); ``basis`` a
        :class:`PricingBasis` (its principle and loads). Everything is then checked by the model itself;
        a bad value raises :class:`~underwriting.errors.InputError` naming the field.
        """
        opts: dict[str, Any] = {}
        if seed is not None:
            opts["seed"] = seed
        if fx_rates:
            opts["fx"] = dict(fx_rates)
        if frequency_model is not None:
            opts["frequency_model"] = frequency_model
        if basis is not None:
            if basis.level != DEFAULT_LEVEL:
                from underwriting.errors import InputError

                raise InputError(f"the quote prices at TVaR {DEFAULT_LEVEL}, got {basis.level}", field="basis.level")
            opts["principle"] = basis.principle
            opts["pricing_basis"] = {"expense": basis.expense, "commission": basis.commission, "tax": basis.tax}
        if principle is not None:
            opts["principle"] = principle
        if pricing_basis is not None:
            opts["pricing_basis"] = pricing_basis
        if currency is not None:
            opts["currency"] = currency
        if lang is not None:
            opts["lang"] = lang
        if model_versions:
            opts["model_versions"] = dict(model_versions)
        if schedule is not None:
            opts["schedule"] = _schedule_mapping(schedule)
        return cls.checked({"submission": submission, "terms": terms, "regime": regime, "options": opts})

    @classmethod
    def checked(cls, data: Any) -> QuoteRequest:
        """Validate ``data`` (a mapping of values or validated objects); :class:`~underwriting.errors.InputError`
        names every bad field (one bad field: its path in ``field``, e.g. ``options.principle``)."""
        from pydantic import ValidationError

        from underwriting.domain.validation import format_validation_error
        from underwriting.errors import InputError

        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            errors = [{**e, "loc": _untagged(e["loc"])} for e in exc.errors(include_url=False)]
            message, first = format_validation_error(_Errors(errors))
            if first is None and message.startswith("options.currency: "):  # the cross-field check's field
                first = "options.currency"
            if first and message.startswith(f"{first}: ") and len(errors) == 1:  # one bad field: name it
                raise InputError(message[len(first) + 2:], field=first) from None
            raise InputError(message) from None


class _Errors:
    """Pydantic errors with their locations cleaned, in the shape ``format_validation_error`` reads."""

    def __init__(self, errors: list[dict[str, Any]]):
        self._errors = errors

    def errors(self, include_url: bool = False) -> list[dict[str, Any]]:
        return self._errors


def _untagged(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """``terms.layer.deductible`` → ``terms.deductible``: the terms union's tag is no field of the request."""
    if len(loc) > 1 and loc[0] == "terms" and loc[1] in ("layer", "tower"):
        return (loc[0], *loc[2:])
    return tuple(loc)


def _schedule_mapping(schedule: Any) -> dict[str, Any]:
    """A schedule given as a table, mapping or path, as the mapping a request carries."""
    from underwriting.frequency.schedule import ScheduleTable, load_schedule

    if isinstance(schedule, dict):
        return schedule
    table = schedule if isinstance(schedule, ScheduleTable) else load_schedule(schedule)
    return table.model_dump(mode="json", exclude={"path"})


def request_schema() -> dict[str, Any]:
    """JSON Schema of :class:`QuoteRequest`: the body of the service's ``POST /v1/quotes``."""
    return QuoteRequest.model_json_schema()
