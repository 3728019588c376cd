"""The pricing-basis file: the loads between a technical price and the premium, and the quote letter's own terms.

A TOML or JSON file given to ``underwriting quote --pricing-basis FILE`` (layout:
``datasets/examples/pricing_basis_default.toml``). Every field has the default the toolkit used
before the loads became inputs (expense 10%, commission 10%, tax 0% of premium; a quote letter
valid 30 days), so a quote without the file is unchanged. The minimum premium is a term of each
layer (``minimum_premium`` in the policy file), not of the basis.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from underwriting.domain._base import Strict
from underwriting.domain.validation import read_validated

__all__ = ["PricingBasisFile", "load_pricing_basis", "DEFAULT_SUBJECTIVITIES"]

#: Subjectivities a quote letter carries unless the basis file lists its own.
DEFAULT_SUBJECTIVITIES: tuple[str, ...] = (
    "no material change in the submission or the security posture before inception",
    "no loss or circumstance known to the insured before inception and not disclosed",
    "the signed questionnaire (submission) and the latest penetration test report",
)


class PricingBasisFile(Strict):
    """Loads (fractions of the premium before tax) and the quote letter's validity, subjectivities and signatory."""

    expense: float = Field(default=0.10, ge=0.0, lt=1.0, description="Insurer's expenses, fraction of premium before tax.")
    commission: float = Field(default=0.10, ge=0.0, lt=1.0, description="Broker commission, fraction of premium before tax.")
    tax: float = Field(default=0.0, ge=0.0, le=1.0, description="Premium tax, added on top (fraction).")
    validity_days: int = Field(default=30, ge=1, le=365, description="Days after the as-of date the quote stands.")
    subjectivities: list[str] = Field(default_factory=lambda: list(DEFAULT_SUBJECTIVITIES), max_length=30)
    signatory: str | None = Field(default=None, max_length=200, description="Name and title under the signature line.")

    @model_validator(mode="after")
    def _loads_below_one(self) -> PricingBasisFile:
        if self.expense + self.commission >= 1.0:
            raise ValueError("expense + commission must be below 1 (fractions of the premium)")
        return self


def load_pricing_basis(path: str) -> PricingBasisFile:
    """Read and validate a pricing-basis file (TOML or JSON); errors name the file and field (exit 2)."""

    return read_validated(PricingBasisFile, path)
