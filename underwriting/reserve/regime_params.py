"""Parameter schemas of the regime file's requirement methods and rule kinds, and their registries.

A requirement method or a rule kind is ONE registry entry: its name, its parameter schema and the
function that evaluates it, registered where the function is defined::

    @requirement_method("volume_incident", VolumeIncidentParams)   # reserve/requirement.py
    def volume_incident(sub, regime, fx) -> Requirement: ...

    @rule_kind("initial_term", DaysParams)                          # reserve/rules.py
    def initial_term(rule, params, policy, as_of) -> Check: ...

Every list of them derives from these registries: the names a regime file may use
(``RequirementSpec.method``, ``RuleSpec.kind`` and their JSON Schema enums,
``regime.REQUIREMENT_METHODS``, ``regime.RULE_KINDS``), the parameter schemas
(:data:`METHOD_PARAMS`, :data:`RULE_PARAMS`) and the dispatch of the engine. ``docs/extending.md``
shows how to add one. :func:`underwriting.reserve.regime.typed_requirement_params` and
:func:`underwriting.reserve.regime.typed_rule_params` validate a regime's parameters against the
schemas.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from underwriting.domain.policy import RATINGS, DeclaredCoverage
from underwriting.domain.vocabulary import Exclusion, Peril

#: Items a ``declared_coverage`` rule may ask for (fields of :class:`~underwriting.domain.policy.DeclaredCoverage`).
DECLARABLE = tuple(DeclaredCoverage.model_fields)


# ---- method and rule parameter schemas ------------------------------------------------------------

class _P(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class VolumeIncidentParams(_P):
    base_rate: float = Field(ge=0, le=1)
    floor: float = Field(ge=0)
    cap: float = Field(gt=0)
    incident_window_years: float = Field(gt=0, le=20)
    volume_base_years: float = Field(gt=0, le=20)
    incident_measure: Literal["losses", "compensation"]
    partial_reimbursement_share: float = Field(ge=0, le=1)
    incident_multiplier: float = Field(ge=0)
    incident_factor_cap: float = Field(ge=1)

    @model_validator(mode="after")
    def _fc(self) -> VolumeIncidentParams:
        if self.floor > self.cap:
            raise ValueError(f"floor {self.floor:,.0f} is above cap {self.cap:,.0f}")
        return self


class MicaParams(_P):
    casp_class: Literal[1, 2, 3]
    class_minimums: dict[Literal["1", "2", "3"], float]
    overheads_fraction: float = Field(ge=0, le=1)


class BaselBiaParams(_P):
    alpha: float = Field(ge=0, le=1)
    gross_income: float | Literal["proxy", "submission"]
    gross_income_fee_rate: float = Field(ge=0, le=1)


class CustodyCoverParams(_P):
    hot_share: float = Field(ge=0, le=1)
    warm_share: float = Field(ge=0, le=1)
    cold_share: float = Field(ge=0, le=1)


class VaraCapitalParams(_P):
    aed_per_usd: float = Field(gt=0)
    uses_licensed_custodian: bool
    exchange_min_with_custodian: float = Field(ge=0)
    exchange_fraction_with_custodian: float = Field(ge=0, le=1)
    exchange_min_otherwise: float = Field(ge=0)
    exchange_fraction_otherwise: float = Field(ge=0, le=1)
    custody_min: float = Field(ge=0)
    custody_fraction: float = Field(ge=0, le=1)
    combine: Literal["sum", "max"]




class DaysParams(_P):
    min_days: int = Field(ge=0, le=3650)


class NoParams(_P):
    pass


class ThirdPartyParams(_P):
    captive_allowed_if_reinsured: bool


class RatingParams(_P):
    min_rating: Literal["AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
                        "B+", "B", "B-", "CCC"]


class ResidualTermParams(_P):
    full_credit_days: int = Field(ge=1, le=3650)
    zero_credit_days: int = Field(ge=0, le=3650)
    shape: Literal["linear"] = "linear"

    @model_validator(mode="after")
    def _order(self) -> ResidualTermParams:
        if self.zero_credit_days >= self.full_credit_days:
            raise ValueError("zero_credit_days must be below full_credit_days")
        return self


class ForbiddenExclusionsParams(_P):
    exclusions: list[Exclusion]


class DeclaredCoverageParams(_P):
    items: dict[str, str] = Field(description="{declared-coverage field: label shown in the reason}")

    @field_validator("items")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        for k in v:
            if k not in DECLARABLE:
                raise ValueError(f"{k}: unknown declared-coverage item; known: {', '.join(DECLARABLE)}")
        return v


class RequiredPerilsParams(_P):
    perils: list[Peril]


class PaymentUncertaintyParams(_P):
    rating_haircuts: dict[str, float]
    prompt_payment_days: int = Field(ge=0, le=3650)
    haircut_per_day_late: float = Field(ge=0, le=1)
    max_delay_haircut: float = Field(ge=0, le=1)

    @field_validator("rating_haircuts")
    @classmethod
    def _ratings(cls, v: dict[str, float]) -> dict[str, float]:
        missing = [r for r in RATINGS if r not in v]
        if missing:
            raise ValueError(f"missing haircut for rating(s) {', '.join(missing)}")
        for k, h in v.items():
            if k not in RATINGS:
                raise ValueError(f"{k}: unknown rating")
            if not 0.0 <= h <= 1.0:
                raise ValueError(f"{k}: haircut must be between 0 and 1")
        return v


class WordingParams(_P):
    items: list[str] = Field(min_length=1)


# ---- the registries ------------------------------------------------------------------------------

@dataclass(frozen=True)
class RequirementMethod:
    """A requirement method: ``evaluate(submission, regime, fx) -> Requirement`` with its parameter schema."""

    name: str
    params: type[_P]
    evaluate: Callable[..., Any]


@dataclass(frozen=True)
class RuleKind:
    """A policy-test kind: ``check(rule, params, policy, as_of) -> Check`` with its parameter schema.

    ``check`` is ``None`` for a kind evaluated elsewhere (``coverage``: the tower, which needs the
    requirement)."""

    name: str
    params: type[_P]
    check: Callable[..., Any] | None


REQUIREMENT_METHOD_REGISTRY: dict[str, RequirementMethod] = {}
RULE_KIND_REGISTRY: dict[str, RuleKind] = {}


def _check_name(name: str, registry: Mapping[str, Any], what: str) -> None:
    if not isinstance(name, str) or not name.isidentifier() or name != name.lower():
        raise ValueError(f"a {what} name is a lower-case identifier, got {name!r}")
    if name in registry:
        raise ValueError(f"{what} {name!r} is already registered")


def requirement_method(name: str, params: type[_P]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering ``evaluate(submission, regime, fx) -> Requirement`` as requirement method ``name``.

    Parameters
    ----------
    name : str
        The ``[requirement] method`` a regime file names.
    params : type
        Pydantic schema (a subclass of the module's ``_P``) of ``[requirement.params]``.
    """
    _check_name(name, REQUIREMENT_METHOD_REGISTRY, "requirement method")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        REQUIREMENT_METHOD_REGISTRY[name] = RequirementMethod(name, params, fn)
        return fn

    return register


def rule_kind(name: str, params: type[_P] = NoParams) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator registering ``check(rule, params, policy, as_of) -> Check`` as rule kind ``name``.

    Parameters
    ----------
    name : str
        The ``kind`` a ``[[rules]]`` entry of a regime file names.
    params : type
        Pydantic schema of the rule's ``params`` (default: none allowed).
    """
    _check_name(name, RULE_KIND_REGISTRY, "rule kind")

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        RULE_KIND_REGISTRY[name] = RuleKind(name, params, fn)
        return fn

    return register


def register_rule_kind_elsewhere(name: str, params: type[_P] = NoParams) -> None:
    """Register a rule kind the engine evaluates outside :mod:`underwriting.reserve.rules` (``coverage``)."""
    _check_name(name, RULE_KIND_REGISTRY, "rule kind")
    RULE_KIND_REGISTRY[name] = RuleKind(name, params, None)


def unregister(name: str) -> None:
    """Remove a rule kind or requirement method (a plug-in's or a test's own; not meant for the built-ins)."""
    if RULE_KIND_REGISTRY.pop(name, None) is None and REQUIREMENT_METHOD_REGISTRY.pop(name, None) is None:
        raise KeyError(name)


class _ParamsView(Mapping[str, type[_P]]):
    """Name -> parameter schema, read live from a registry."""

    def __init__(self, registry: Mapping[str, RequirementMethod | RuleKind]):
        self._registry = registry

    def __getitem__(self, name: str) -> type[_P]:
        return self._registry[name].params

    def __iter__(self) -> Iterator[str]:
        return iter(self._registry)

    def __len__(self) -> int:
        return len(self._registry)


#: Parameter schema by requirement method (live view of the registry).
METHOD_PARAMS: Mapping[str, type[_P]] = _ParamsView(REQUIREMENT_METHOD_REGISTRY)
#: Parameter schema by rule kind (live view of the registry).
RULE_PARAMS: Mapping[str, type[_P]] = _ParamsView(RULE_KIND_REGISTRY)
