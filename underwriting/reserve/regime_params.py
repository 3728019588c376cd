"""Parameter schemas of the regime file's requirement methods and rule kinds.

:func:`underwriting.reserve.regime.typed_requirement_params` and
:func:`underwriting.reserve.regime.typed_rule_params` validate a regime's parameters against these
(``METHOD_PARAMS`` by requirement method, ``RULE_PARAMS`` by rule kind); re-exported by
:mod:`underwriting.reserve.regime`.
"""

from __future__ import annotations

from typing import Literal

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


METHOD_PARAMS: dict[str, type[_P]] = {
    "volume_incident": VolumeIncidentParams, "mica_art67": MicaParams,
    "basel_bia": BaselBiaParams, "custody_cover": CustodyCoverParams, "vara_capital": VaraCapitalParams,
}


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


RULE_PARAMS: dict[str, type[_P]] = {
    "initial_term": DaysParams, "cancellation_notice": DaysParams, "authorised_insurer": NoParams,
    "third_party": ThirdPartyParams, "insurer_rating": RatingParams, "residual_term": ResidualTermParams,
    "forbidden_exclusions": ForbiddenExclusionsParams, "payment_uncertainty": PaymentUncertaintyParams,
    "coverage": NoParams, "wording_check": WordingParams, "declared_coverage": DeclaredCoverageParams,
    "required_perils": RequiredPerilsParams,
}
