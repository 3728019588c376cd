"""Pydantic request and response models of the ``/v1`` API (the quote request's body is the structure
issue's ``QuoteRequest``, not defined here).

Request models name every top-level field with its type and unit and refuse unknown ones; the nested
domain documents (a submission, policy terms, a frequency or severity specification) are JSON objects
here and are checked by :mod:`underwriting.service.engine` with the CLI's own validators and messages,
so a bad field is named exactly as the CLI names it (``layer.limt``, ``submission.as_of``).
Response models describe what each route returns; blocks that are the CLI's own JSON output (a price,
a reserve assessment, a quote document) are objects documented by ``underwriting schema``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["underwriter", "actuary", "auditor", "admin"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Response(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---- requests ----------------------------------------------------------------------------------

class PriceRequest(_Request):
    """Price one layer from an explicit frequency and severity (``underwriting price``)."""

    frequency: dict[str, Any] = Field(description='{"family": "poisson", "lam": 0.3} (events a year) or another '
                                                  "family with its parameters",
                                      examples=[{"family": "poisson", "lam": 0.3}])
    severity: dict[str, Any] = Field(description='{"family": "lognormal", "mu": .., "sigma": ..} (a loss in the '
                                                 "policy currency) or another family with its parameters",
                                     examples=[{"family": "lognormal", "mu": 11.5, "sigma": 2.0}])
    layer: dict[str, Any] | None = Field(None, description="deductible, limit, agg_deductible, agg_limit (currency "
                                                           "units), share (0-1), reinstatements, "
                                                           "reinstatement_premium, pro_rata_amount, term_years",
                                         examples=[{"deductible": 1_000_000, "limit": 9_000_000}])
    principle: str | None = Field(None, description="premium principle, e.g. cost_of_capital:0.10 or wang:0.25",
                                  max_length=200)
    level: float | None = Field(None, gt=0, lt=1, description="capital confidence level (default 0.995)")
    loadings: dict[str, Any] | None = Field(None, description="expense, commission, tax (shares of the premium), "
                                                              "minimum_premium (currency units)")
    method: Literal["fft", "mc", "panjer"] | None = Field(None, description="aggregate loss method (default fft)")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="random seed of the Monte Carlo method")
    cap: float | None = Field(None, gt=0, description="largest single loss (currency units; caps the severity)")


class ReserveRequest(_Request):
    """Assess the statutory reserve of an exchange's programme (``underwriting reserve``)."""

    submission: dict[str, Any] = Field(description="the exchange's submission (schema: GET /v1/schemas/submission)")
    policies: list[dict[str, Any]] = Field(default_factory=list, max_length=100,
                                           description="policy terms (schema: GET /v1/schemas/policy)")
    regime: str = Field(description="a bundled regime, e.g. jp-fsa-2026", max_length=100)
    fx: dict[str, Any] | None = Field(None, description="FX rates to the regime's currency, e.g. {\"USD\": 150.2}")
    as_of: str | None = Field(None, description="assessment date YYYY-MM-DD (default the submission's)",
                              max_length=40)
    params: dict[str, Any] | None = Field(None, description="regime parameter overrides {PATH: VALUE}")
    risk_sizing: bool | None = Field(None, description="size the requirement by the exchange's risk (default true)")


class PromoteRequest(_Request):
    """Make a registry model version the default, or roll back to the previous default."""

    name: str = Field(description="the model's name, e.g. risk_scorer", max_length=100)
    version: str | None = Field(None, description="the version to promote", max_length=100)
    rollback: bool | None = Field(None, description="true: roll back to the previous default instead")
    note: str | None = Field(None, description="why (recorded in the registry history and the ledger)",
                             max_length=2000)


class KeyCreateRequest(_Request):
    """A new API key's role and label."""

    role: Role
    label: str = Field("", max_length=200, description="who or what holds the key")


class ReproduceRequest(_Request):
    """Reproduction takes no parameters: the inputs and versions come from the quote's ledger entry."""


# ---- responses ---------------------------------------------------------------------------------

class Health(_Response):
    status: Literal["ok"]
    version: str
    database: str = Field(description="sqlite or postgresql")


class QuoteSummary(_Response):
    id: str
    exchange: str
    as_of: str = Field(description="the submission's date, YYYY-MM-DD")
    currency: str = Field(description="ISO 4217 code of the premium")
    premium: float = Field(description="annual premium (currency units)")
    input_hash: str
    created_by: str = Field(description="id of the API key that made the quote")
    created_at: str = Field(description="UTC, ISO 8601")
    ledger_seq: int


class QuoteRecordOut(QuoteSummary):
    quote_sha256: str = Field(description="SHA-256 of the stored quote document (canonical JSON)")
    quote: dict[str, Any] = Field(description="the quote document: `underwriting quote --json` "
                                              "(schema: GET /v1/schemas/quote)")


class QuoteList(_Response):
    quotes: list[QuoteSummary]


class Difference(_Response):
    key: str
    recorded: Any = None
    recomputed: Any = None
    within_tolerance: bool


class Reproduction(_Response):
    id: str
    ledger_seq: int
    status: str
    identical: bool
    reproduced: bool
    differences: list[Difference]
    quote_sha256_recorded: str
    quote_sha256_recomputed: str
    stored_document_matches_ledger: bool


class PriceOut(_Response):
    """`underwriting price --json`: premium, expected loss, capital and the components (currency units)."""

    frequency: dict[str, Any]
    severity: dict[str, Any]


class ReserveOut(_Response):
    id: str
    ledger_seq: int
    assessment: dict[str, Any] = Field(description="`underwriting reserve --json`")


class ModelInfo(_Response):
    name: str
    versions: list[str]
    default: str | None


class ModelList(_Response):
    models: list[ModelInfo]


class PromoteOut(_Response):
    ledger_seq: int
    promotion: dict[str, Any] = Field(description="the registry's history entry (name, from, to, note, ...)")


class LedgerEntryOut(_Response):
    seq: int
    at: str
    actor: str = Field(description="API key id, or cli")
    action: str
    subject: str
    input_hash: str
    versions: dict[str, Any]
    detail: dict[str, Any]
    prev_hash: str
    entry_hash: str


class LedgerPage(_Response):
    entries: list[LedgerEntryOut]


class LedgerVerification(_Response):
    ok: bool
    entries: int
    head: str = Field(description="hash of the last entry; keep it outside the database and compare")
    problems: list[str]


class KeyCreated(_Response):
    id: str
    role: Role
    label: str
    key: str | None = Field(description="the key, shown in this response only (null in an idempotent replay)")


class KeyInfo(_Response):
    id: str
    role: str
    label: str
    created_at: str
    revoked_at: str | None


class KeyList(_Response):
    keys: list[KeyInfo]


class ProblemOut(_Response):
    """An error, `application/problem+json` (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, str]] | None = Field(None, description='[{"field", "message"}], every bad field')
    instance: str | None = None
