"""The quote: everything a quote says, plus the versions of the models and regime that made it.

A :class:`Quote` is immutable and serialises to canonical JSON (sorted keys), so the same inputs,
seed and model versions give byte-identical output. ``input_hash`` is the SHA-256 of the canonical
JSON of the inputs (submission, terms, regime id, seed, user FX rates): ``underwriting reproduce``
recomputes a quote from them and compares.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ReserveBlock(BaseModel):
    """Reserve requirement and the credit the quoted policy earns under one regime."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    regime: str | None
    regime_version: str | None = None
    requirement: float | None
    credit: float | None
    credit_share: float | None
    residual_cash: float | None = None
    checks: list[dict[str, Any]] = Field(default_factory=list)
    note: str | None = None


class Quote(BaseModel):
    """A priced quote for one exchange and one set of policy terms (amounts in ``currency``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exchange: str
    as_of: dt.date
    currency: str
    risk_score: float = Field(description="Relative risk score, 0 (best) to 100 (worst).")
    risk_band: str
    p_breach_1y: float = Field(description="Probability of at least one breach in one year.")
    expected_breaches_term: float = Field(description="Expected number of breaches in the policy term.")
    expected_loss: float = Field(description="Expected insured loss over the term.")
    std: float = Field(description="Standard deviation of the insured loss over the term.")
    tvar_995: float = Field(description="TVaR at 99.5% of the insured loss over the term.")
    premium: float
    premium_components: dict[str, float]
    rate_on_line: float | None
    terms: dict[str, Any]
    reserve: ReserveBlock
    methods: dict[str, str] = Field(description="Which method produced each stage (e.g. 'baseline').")
    assumptions: list[str]
    fx: list[dict[str, Any]]
    reasons: list[dict[str, Any]] = Field(default_factory=list)
    score: dict[str, Any] = Field(default_factory=dict, description="The risk-score block (as `underwriting score`).")
    frequency: dict[str, Any] = Field(default_factory=dict, description="Breach frequency over the term and its method.")
    portfolio: dict[str, Any] | None = Field(default=None, description="Capital load from a book (quote --portfolio).")
    moment_check: dict[str, Any] = Field(default_factory=dict)
    versions: dict[str, str]
    seed: int
    inputs: dict[str, Any] = Field(description="Everything needed to recompute the quote (submission, terms, "
                                   "regime, seed, user FX rates, frequency model, pricing basis).")
    input_hash: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict (dates as ISO strings)."""
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, two-space indent, newline at end)."""
        from underwriting.fileio import canonical_json

        return canonical_json(self.to_dict())


def hash_inputs(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``payload`` (hex)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
