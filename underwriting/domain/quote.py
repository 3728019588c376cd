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
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_serializer,
)

from underwriting.domain.canonical import canonicalise
from underwriting.domain.frequency import FrequencyEstimate
from underwriting.domain.message import Message, known
from underwriting.domain.report import format_quote
from underwriting.fileio import canonical_json
from underwriting.i18n import use_lang

#: A text's message; one this version cannot read (saved before messages were typed) is dropped, not refused.
SavedMessage = Annotated[Message | None, BeforeValidator(known)]


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReasonBlock(_Block):
    """One reason code: a factor of the one risk model and how far it moves the log annual rate."""

    factor: str = Field(description="Factor key: 'experience', 'posture.<question>', 'vendors.<name>.<rule>', "
                        "'schedule.cap'.")
    direction: str = Field(description="'raises' or 'lowers'.")
    log_rate: float = Field(description="Contribution to ln(annual rate) - ln(base rate).")
    multiplier: float = Field(description="exp(log_rate): the factor on the annual rate.")
    p_effect: float = Field(description="P(breach within 1 year) minus its value without this factor.")
    detail: str = ""
    detail_message: SavedMessage = Field(default=None, description="`detail` as a template and arguments "
                                           "(its text is `detail`), for other languages.")


class ScoreBlock(_Block):
    """The risk-score block (as ``underwriting score`` prints it), from the one risk model."""

    exchange: str
    as_of: str
    risk_score: float = Field(description="0 (best) to 100 (worst), log-linear in the annual rate (0 at 0.1%, "
                              "100 at 10% a year), rounded to 2 decimals.")
    band: str
    p_breach: float = Field(description="P(at least one breach within horizon_years), the quote's p_breach_1y.")
    horizon_years: float
    reasons: list[ReasonBlock] = Field(default_factory=list)
    band_thresholds: list[float] = Field(default_factory=list, description="Annual-rate thresholds of bands A-E.")
    unknown_answers: list[str] = Field(default_factory=list)
    model: dict[str, Any] = Field(default_factory=dict, description="Frequency model version, prior strength, "
                                  "schedule table and its SHA-256.")


class FrequencyBlock(_Block):
    """Breach frequency over the policy term and the method that produced it."""

    method: str = Field(description="'frequency' (the one risk model), 'baseline' or 'survival'.")
    expected_breaches: float = Field(description="Poisson mean of the number of breaches in the term.")
    variance_of_lambda: float = Field(description="Parameter-uncertainty variance of that mean.")
    p_at_least_one_in_term: float
    p_breach_1y: float
    annual_rate: float = Field(description="Breaches per year over the term.")
    start_years: float = Field(description="Years from as_of to inception.")
    term_years: float
    uncertainty: str | None = Field(default=None, description="How the variance was obtained (survival).")
    factors: list[dict[str, Any]] | None = Field(default=None, description="Multipliers: experience and schedule "
                                                 "factors (frequency), posture multipliers (baseline).")
    base: dict[str, Any] | None = Field(default=None, description="Base rate, its interval and covariates.")
    experience: dict[str, Any] | None = Field(default=None, description="Prior rate, exposure years, breaches, "
                                              "credibility weight, posterior rate.")
    schedule: dict[str, Any] | None = Field(default=None, description="Every schedule factor, raw and capped.")
    annual_rate_interval: list[float] | None = None
    expected_breaches_interval: list[float] | None = None
    p_breach_interval: list[float] | None = None
    level: float | None = Field(default=None, description="Coverage of the intervals.")
    reasons: list[dict[str, Any]] | None = None
    model: dict[str, Any] | None = None
    survival: dict[str, Any] | None = Field(default=None, description="Survival curve over the term (probability of "
                                            "no breach by each time, years from inception) and the median time to "
                                            "breach in years (the one risk model).")
    interval: list[float] | None = Field(default=None, description="90% interval of expected_breaches: the one risk "
                                         "model's own interval; baseline and survival: the gamma with the estimate's "
                                         "mean and parameter variance (the premium range is priced at its ends).")

    @model_serializer(mode="wrap")
    def _drop_absent(self, handler):
        d = handler(self)
        return {k: v for k, v in d.items() if not (k in _OPTIONAL_FREQUENCY and v is None)}

    def with_interval(self, interval: list[float]) -> FrequencyBlock:
        """A copy carrying the 90% ``interval`` of the expected breaches (validated again)."""
        return FrequencyBlock.model_validate({**{k: getattr(self, k) for k in type(self).model_fields},
                                              "interval": [float(v) for v in interval]})

    @classmethod
    def from_estimate(cls, fe: FrequencyEstimate, model: str) -> FrequencyBlock:
        """The block of a :class:`~underwriting.domain.frequency.FrequencyEstimate` made by ``model``."""
        d = fe.detail or {}
        extra = {k: d[k] for k in ("base", "experience", "schedule", "annual_rate_interval",
                                   "expected_breaches_interval", "p_breach_interval", "level", "reasons", "model",
                                   "survival")
                 if k in d}
        if d:
            return cls(method=model, expected_breaches=fe.expected_breaches, variance_of_lambda=fe.variance_of_lambda,
                       p_at_least_one_in_term=fe.p_at_least_one, p_breach_1y=fe.p_breach_1y,
                       annual_rate=fe.annual_rate, start_years=fe.start_years, term_years=fe.term_years,
                       uncertainty="gamma mixing of the term's expected breaches, coefficient of variation from the "
                                   "base model's 90% interval (lognormal reading): negative binomial count",
                       factors=[dict(f) for f in fe.factors], **extra)
        return cls(method=model, expected_breaches=fe.expected_breaches, variance_of_lambda=fe.variance_of_lambda,
                   p_at_least_one_in_term=fe.p_at_least_one, p_breach_1y=fe.p_breach_1y, annual_rate=fe.annual_rate,
                   start_years=fe.start_years, term_years=fe.term_years,
                   uncertainty=None if fe.method == model else fe.method,
                   factors=[dict(f) for f in fe.factors] if fe.multiplier is not None else None)


_OPTIONAL_FREQUENCY = ("uncertainty", "factors", "base", "experience", "schedule", "annual_rate_interval",
                       "expected_breaches_interval", "p_breach_interval", "level", "reasons", "model", "interval",
                       "survival")


class CapitalBlock(_Block):
    """The exchange's share of a book's capital (``quote --portfolio``); USD unless stated."""

    exchange_id: str
    level: float = Field(description="TVaR level of the allocation.")
    rate: float = Field(description="Cost of capital, a fraction of the allocated capital a year.")
    aal: float = Field(description="The exchange's average annual loss in the book (USD).")
    aal_se: float = Field(description="Monte Carlo standard error of aal (USD).")
    co_tvar: float = Field(description="The exchange's contribution to the book's TVaR (USD).")
    capital: float = Field(description="co_tvar - aal (USD).")
    capital_load: float = Field(description="rate x capital (USD).")
    book_tvar: float
    book_aal: float
    currency: str = Field(description="The quote currency.")
    quote_per_usd: float
    years: int = Field(description="Simulated years.")
    seed: int
    book_exchanges: int = Field(default=0, description="Exchanges in the book (a thin book is flagged in warnings).")
    capital_load_quote_currency: float
    capital_quote_currency: float
    method: str


class MomentCheck(_Block):
    """Whether the aggregate loss distribution reproduced its exact moments."""

    ok: bool
    method: str


class ReserveBlock(_Block):
    """Reserve requirement and the credit the quoted policy earns under one regime."""

    regime: str | None
    regime_version: str | None = None
    requirement: float | None
    credit: float | None
    credit_share: float | None
    residual_cash: float | None = None
    checks: list[dict[str, Any]] = Field(default_factory=list)
    risk_sizing: dict[str, Any] | None = Field(default=None, description="The regime's risk-based sizing "
                                               "scenario from the quote's own loss model, where it has one.")
    note: str | None = None


class GofBlock(_Block):
    """Goodness of fit of the severity the quote uses."""

    test: str = Field(description="The test of `statistic` ('anderson_darling').")
    statistic: float = Field(description="Anderson-Darling A² against the left-truncated fitted CDF.")
    p_value: float = Field(description="p-value of `statistic` (method in `p_value_method`).")
    p_value_method: str
    p_value_method_message: SavedMessage = Field(default=None, description="`p_value_method` as a template "
                                                   "and arguments, for other languages.")
    ks_statistic: float
    ks_p_value: float = Field(description="Kolmogorov-Smirnov p-value (same method as `p_value`).")


class FamilyFit(_Block):
    """One severity family fitted to the same public losses, for comparison by AIC."""

    family: str
    aic: float
    delta_aic: float = Field(description="AIC minus the lowest AIC of the families compared.")
    akaike_weight: float


class SeverityBlock(_Block):
    """The ground-up severity fitted to public losses (USD), before the custody-tier cap."""

    family: str
    parameters: dict[str, float] = Field(description="Fitted parameters (USD scale).")
    currency: str = Field(description="Currency of the fitted amounts (USD).")
    threshold: float = Field(description="Reporting threshold of the left truncation (USD).")
    n: int = Field(description="Number of public losses fitted.")
    aic: float
    gof: GofBlock
    selection: list[FamilyFit] = Field(default_factory=list, description="Families fitted to the same losses, "
                                       "ranked by AIC (best first).")


class PerilBlock(_Block):
    """One covered peril: expected breaches of that kind in the term and the insured loss they cause."""

    name: str
    expected_count: float = Field(description="Expected occurrences over the term (ground up).")
    expected_loss: float = Field(description="Expected insured loss over the term (quote currency, all layers).")


class EpPoint(_Block):
    """Loss exceeded once per `return_period` terms (quote currency, insurer's share, all layers)."""

    return_period: float = Field(description="In policy terms (years for a one-year policy); chosen from the layer's own P(attach), see `ep_points`.")
    oep: float = Field(description="Largest single occurrence payment (before aggregate terms).")
    aep: float = Field(description="Total payments over the term (after aggregate terms).")


class LayerBlock(_Block):
    """One layer's result (quote currency); a single policy has one, a tower one per layer."""

    policy_id: str
    label: str = Field(description="'limit xs attachment' in the policy currency.")
    attachment: float = Field(description="Ground-up per-occurrence attachment point.")
    limit: float
    coinsurance: float
    expected_loss: float
    std: float
    tvar_995: float
    premium: float
    minimum_premium: float
    premium_components: dict[str, float]
    rate_on_line: float | None
    p_attach: float
    p_exhaust: float
    risk_load_floored: bool = Field(description="The risk load was negative and floored at 0 (see warnings).")


class Quote(BaseModel):
    """A priced quote for one exchange and one set of policy terms (amounts in ``currency``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exchange: str
    as_of: dt.date
    currency: str
    risk_score: float = Field(description="Relative risk score, 0 (best) to 100 (worst).")
    risk_band: str
    p_breach_1y: float = Field(description="Probability of at least one breach in one year, from the one risk "
                               "model (base x experience x schedule); the same as score.p_breach.")
    expected_breaches_term: float = Field(description="Expected number of breaches in the policy term.")
    expected_loss: float = Field(description="Expected insured loss over the term.")
    std: float = Field(description="Standard deviation of the insured loss over the term.")
    tvar_995: float = Field(description="TVaR at 99.5% of the insured loss over the term.")
    premium: float
    premium_components: dict[str, float]
    premium_range: list[float] | None = Field(default=None, description="Premium at the low and high ends of the "
                                              "90% frequency interval (Poisson count at each end).")
    reinstatement_factor: float = Field(default=0.0, description="φ: expected reinstatement premiums as a fraction "
                                        "of the upfront premium (premium income = premium × (1 + φ)).")
    rate_on_line: float | None
    terms: dict[str, Any]
    reserve: ReserveBlock
    methods: dict[str, str] = Field(description="Which method produced each stage (e.g. 'baseline').")
    method_messages: dict[str, Message] = Field(default_factory=dict, description="Each method as a template "
                                                "and typed arguments (its text is the method's), so the quote renders "
                                                "in another language (underwriting.domain.message).")
    assumptions: list[str]
    assumption_messages: list[Message] = Field(default_factory=list, description="Each assumption as a template "
                                               "and typed arguments, in the order of `assumptions`.")
    fx: list[dict[str, Any]]
    reasons: list[ReasonBlock] = Field(default_factory=list)
    score: ScoreBlock = Field(description="The risk-score block (as `underwriting score`).")
    frequency: FrequencyBlock = Field(description="Breach frequency over the term and its method.")
    portfolio: CapitalBlock | None = Field(default=None, description="Capital load from a book (quote --portfolio).")
    moment_check: MomentCheck
    severity: SeverityBlock | None = Field(default=None, description="The severity used and its goodness of fit.")
    perils: list[PerilBlock] | None = Field(default=None, description="Expected count and insured loss by peril.")
    p_attach: float | None = Field(default=None, description="P(the insurer pays anything in the term); for a "
                                   "tower, of its lowest-reaching layer.")
    p_exhaust: float | None = Field(default=None, description="P(the limit is used up in the term); for a tower, "
                                    "of its least-exhausted layer.")
    ep_points: list[EpPoint] | None = Field(default=None, description="OEP and AEP at six return periods: 1 in 10 to 1 in 250 terms for a layer reached at least once in 10 terms; otherwise from the layer's own 1/P(attach) to 1 in 10,000 terms (or 10 x 1/P(attach) if rarer), evenly spaced in log, two significant figures.")
    layers: list[LayerBlock] | None = Field(default=None, description="Per-layer results (one for a single policy).")
    warnings: list[str] = Field(default_factory=list, description="Unusual terms or results the underwriter must see.")
    versions: dict[str, str]
    version_messages: dict[str, Message] = Field(default_factory=dict, description="A version whose id holds "
                                                 "prose (the schedule's name) as a template and arguments.")
    seed: int
    inputs: dict[str, Any] = Field(description="Everything needed to recompute the quote (submission, terms, "
                                   "regime, seed, user FX rates, frequency model, pricing basis).")
    input_hash: str

    @field_validator("method_messages", "version_messages", mode="before")
    @classmethod
    def _known_messages(cls, v: Any) -> Any:
        """Drop the messages this version cannot read (a quote saved before they were typed keeps its texts)."""
        return {k: m for k, m in v.items() if known(m) is not None} if isinstance(v, dict) else v

    @field_validator("assumption_messages", mode="before")
    @classmethod
    def _known_assumptions(cls, v: Any) -> Any:
        """All or none: the messages pair with ``assumptions`` by position."""
        return v if not isinstance(v, list) or all(known(m) is not None for m in v) else []

    def summary(self, *, file: Any = None, lang: str | None = None) -> None:
        """Print the quote for people (as ``underwriting quote`` does): the figures, the premium
        build-up, the reserve, the reasons, the methods and versions, and the assumptions.

        Parameters
        ----------
        file : file-like, optional
            Where to print (default ``sys.stdout``).
        lang : {"en", "ja"}, optional
            Language (default ``UNDERWRITING_LANG``, then the locale, then English).
        """

        with use_lang(lang):
            print(format_quote(self), file=file)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON dict (dates as ISO strings)."""
        return self.model_dump(mode="json")

    def canonical(self) -> Quote:
        """This quote in canonical form: money to its currency's minor unit, every other computed
        number to fixed significant digits, inputs kept exactly (:mod:`underwriting.domain.canonical`,
        ``docs/reproducibility.md``). Every quote the toolkit publishes is canonical, so it is the same
        on any CPU except at a rounding tie."""

        return Quote.model_validate(canonicalise(self.to_dict()))

    def to_json(self) -> str:
        """Canonical JSON (sorted keys, two-space indent, newline at end)."""

        return canonical_json(self.to_dict())


def hash_inputs(payload: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``payload`` (hex)."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
