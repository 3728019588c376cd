"""Reserve regimes as data: the TOML schema, loading, validation and parameter overrides.

A regime file declares *what* the law (or our reading of a pending law) asks; the engine
(:mod:`underwriting.reserve.requirement`, :mod:`underwriting.reserve.rules`,
:mod:`underwriting.reserve.tower`) knows *how* to evaluate a closed vocabulary of requirement
methods and rule kinds. Every parameter carries a ``status`` (``confirmed`` / ``reported`` /
``assumption``; ``user`` once overridden on the command line) and a ``source``.

Bundled regimes live in ``underwriting/reserve/regimes/*.toml`` and ship inside the wheel. A user
regime is any TOML file following the same schema (``--regime path/to/file.toml``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from underwriting.caches import register_cache
from underwriting.domain.currency import CurrencyCode
from underwriting.domain.vocabulary import EXCLUSIONS
from underwriting.errors import InputError
from underwriting.reserve.regime_choices import Choice, expand
from underwriting.reserve.regime_params import (
    _P,
    METHOD_PARAMS,
    REQUIREMENT_METHOD_REGISTRY,
    RULE_KIND_REGISTRY,
    RULE_PARAMS,
)

Status = Literal["confirmed", "reported", "assumption", "user"]

#: Requirement methods the engine can evaluate: a live view of the registry
#: (:func:`~underwriting.reserve.regime_params.requirement_method`, in :mod:`underwriting.reserve.requirement`).
REQUIREMENT_METHODS = REQUIREMENT_METHOD_REGISTRY.keys()
#: Rule kinds the engine can evaluate: a live view of the registry
#: (:func:`~underwriting.reserve.regime_params.rule_kind`, in :mod:`underwriting.reserve.rules`).
RULE_KINDS = RULE_KIND_REGISTRY.keys()
#: Custody tiers and causes of loss the coverage model splits a reserve's purpose into.
TIERS = ("hot", "cold")
CAUSES = ("external_hack", "third_party_vendor", "insider", "social_engineering")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Param(_Model):
    """One regime parameter with its provenance.

    Attributes
    ----------
    value : any
        A number, string, boolean, list or table, as the method or rule expects.
    status : {"confirmed", "reported", "assumption", "user"}
        How sure we are; ``user`` marks a command-line override.
    source : str
        The legal reference, publication or reasoning behind the value.
    unit : str
        Unit of ``value`` (``"JPY"``, ``"days"``, ``"share"``...), for display.
    """

    value: Any
    status: Status
    source: str = Field(min_length=1)
    unit: str = ""
    note: str = ""

    @field_validator("value")
    @classmethod
    def _finite(cls, v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v


class RequirementSpec(_Model):
    """How the requirement is computed: a method name and its parameters."""

    method: str = Field(json_schema_extra=lambda schema: schema.update(enum=sorted(REQUIREMENT_METHODS)))
    formula: str = Field(min_length=1, description="The formula in words, shown in the assessment.")
    params: dict[str, Param]

    @field_validator("method")
    @classmethod
    def _known_method(cls, v: str) -> str:
        return _registered(v, REQUIREMENT_METHODS, "requirement method")


def _registered(name: str, names: Any, what: str) -> str:
    if name not in names:
        raise ValueError(f"unknown {what} {name!r}; choose from {', '.join(sorted(names))}")
    return name


class CreditSpec(_Model):
    """How much of the requirement insurance may supply (the cap applies last)."""

    cap_share: Param
    scenarios: dict[str, float] = Field(default_factory=dict,
                                        description="Named alternative cap shares (e.g. 0/20/50/100%).")
    argument: str = ""

    @field_validator("scenarios")
    @classmethod
    def _shares(cls, v: dict[str, float]) -> dict[str, float]:
        for k, s in v.items():
            if isinstance(s, bool) or not (0.0 <= float(s) <= 1.0):
                raise ValueError(f"{k}: must be a share between 0 and 1 (got {s!r})")
        return v


class CoverageSpec(_Model):
    """What the reserve is for, split into custody tiers × causes of loss, with weights.

    ``tier_weights`` is ``"customer_assets"`` (hot+warm vs cold share of customer assets),
    ``"requirement_components"`` (the requirement's own hot/cold parts) or ``"fixed"``
    (``fixed_tier_weights``). ``cause_weights`` must add up to 1.
    """

    tier_weights: Literal["customer_assets", "requirement_components", "fixed"]
    fixed_tier_weights: dict[Literal["hot", "cold"], float] | None = None
    cause_weights: dict[Literal["external_hack", "third_party_vendor", "insider", "social_engineering"], float]
    status: Status
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _weights(self) -> CoverageSpec:
        for k, w in self.cause_weights.items():
            if not (0.0 <= w <= 1.0):
                raise ValueError(f"cause_weights.{k}: must be between 0 and 1 (got {w})")
        if set(self.cause_weights) != set(CAUSES):
            raise ValueError(f"cause_weights: must give a weight for each of {', '.join(CAUSES)}")
        if abs(sum(self.cause_weights.values()) - 1.0) > 1e-9:
            raise ValueError(f"cause_weights: must add up to 1 (they add up to {sum(self.cause_weights.values()):.6g})")
        if self.tier_weights == "fixed":
            w = self.fixed_tier_weights
            if w is None or set(w) != set(TIERS):
                raise ValueError("fixed_tier_weights: required with tier_weights = \"fixed\" (hot and cold)")
            if any(not 0.0 <= x <= 1.0 for x in w.values()) or abs(sum(w.values()) - 1.0) > 1e-9:
                raise ValueError("fixed_tier_weights: each between 0 and 1, adding up to 1")
        return self


class RuleSpec(_Model):
    """One policy test: a rule kind the engine knows plus its parameters and provenance."""

    rule: str = Field(min_length=1, max_length=100, description="Name shown in the audit trail.")
    kind: str = Field(json_schema_extra=lambda schema: schema.update(enum=sorted(RULE_KINDS)))
    status: Status
    source: str = Field(min_length=1)
    description: str = ""
    params: dict[str, Param | Any] = Field(default_factory=dict)

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, v: str) -> str:
        return _registered(v, RULE_KINDS, "rule kind")


class Fact(_Model):
    """A reported or confirmed fact the regime file relies on, with its source and date."""

    fact: str = Field(min_length=1)
    status: Status
    source: str = Field(min_length=1)
    date: dt.date | None = None


class RiskSizingSpec(_Model):
    """A risk-based sizing scenario: a quantile of the exchange's annual ground-up customer loss.

    ``quantile`` is the default level (e.g. 0.995); ``band_low``/``band_high`` the precedent range in
    the regime currency it is set beside as a sanity band.
    """

    quantile: Param
    band_low: Param
    band_high: Param
    status: Status
    source: str = Field(min_length=1)
    description: str = ""


class Regime(_Model):
    """A reserve regime: identity, requirement method, credit cap, coverage model and policy tests."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{1,60}$")
    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    effective: dt.date
    status: Status
    provisional: bool = False
    jurisdiction: str = Field(min_length=2)
    currency: CurrencyCode
    summary: str = ""
    requirement: RequirementSpec
    credit: CreditSpec
    coverage: CoverageSpec
    rules: list[RuleSpec] = Field(default_factory=list)
    other_exclusion_haircuts: dict[str, Param] = Field(default_factory=dict)
    facts: list[Fact] = Field(default_factory=list)
    risk_sizing: RiskSizingSpec | None = None
    requirement_only: bool = False
    choices: list[Choice] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> Regime:
        names = [r.rule for r in self.rules]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise ValueError(f"rules: rule name(s) used twice: {', '.join(sorted(dup))}")
        for k in self.other_exclusion_haircuts:
            if k not in EXCLUSIONS:
                raise ValueError(f"other_exclusion_haircuts.{k}: unknown exclusion; known: {', '.join(EXCLUSIONS)}")
        return self

    # ---- convenience -------------------------------------------------------------------------
    def rule_params(self, rule: RuleSpec) -> dict[str, Param]:
        """The rule's parameters, each as a :class:`Param` (bare values inherit the rule's provenance)."""
        out = {}
        for k, v in rule.params.items():
            out[k] = v if isinstance(v, Param) else Param(value=v, status=rule.status, source=rule.source)
        return out

    def with_overrides(self, overrides: dict[str, Any]) -> Regime:
        """Return a copy with parameters replaced, each marked ``status = "user"``.

        Parameters
        ----------
        overrides : dict
            ``{"requirement.base_rate": 0.002, "credit.cap_share": 0.2,
            "rules.<rule name>.<param>": 120}``.

        Raises
        ------
        InputError
            Unknown path, naming it (``field="--param <path>"``).
        """
        data = self.model_dump(mode="python")
        plain: dict[str, Any] = {}
        for path, value in overrides.items():  # a scenario choice expands into its option's overrides
            if path.startswith("choices."):
                name, extra = expand(self.choices, path, value)
                plain.update(extra)
                next(c for c in data["choices"] if c["name"] == name)["selected"] = value
            else:
                plain[path] = value
        for path, value in plain.items():
            user = {"value": value, "status": "user", "source": "command-line override (--param)"}
            parts = path.split(".")
            fld = f"--param {path}"
            if len(parts) == 2 and parts[0] == "requirement":
                params = data["requirement"]["params"]
                if parts[1] not in params:
                    raise InputError(f"unknown requirement parameter; known: {', '.join(sorted(params))}", field=fld)
                params[parts[1]] = {**params[parts[1]], **user}
            elif path == "credit.cap_share":
                data["credit"]["cap_share"] = {**data["credit"]["cap_share"], **user}
            elif len(parts) >= 3 and parts[0] == "rules":
                # rule names may contain dots ("jp.initial_term"): the parameter is the last part
                name = ".".join(parts[1:-1])
                match = [r for r in data["rules"] if r["rule"] == name]
                if not match:
                    raise InputError(f"no rule named {name!r}; rules: {', '.join(r['rule'] for r in data['rules'])}",
                                     field=fld)
                match[0]["params"][parts[-1]] = user
            elif path in ("coverage.tier_weights", "coverage.fixed_tier_weights"):
                data["coverage"][parts[1]] = value
            elif len(parts) == 2 and parts[0] == "risk_sizing" and data.get("risk_sizing") and \
                    parts[1] in ("quantile", "band_low", "band_high"):
                data["risk_sizing"][parts[1]] = {**data["risk_sizing"][parts[1]], **user}
            else:
                raise InputError("unknown parameter path; use requirement.<name>, credit.cap_share, "
                                 "rules.<rule>.<param>, risk_sizing.quantile, coverage.tier_weights or "
                                 "choices.<name>", field=fld)
        return validate_regime(data, source="--param")


def _typed(model: type[_P], params: dict[str, Param], where: str, source: str | None) -> _P:
    values = {k: p.value for k, p in params.items()}
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        errs = exc.errors(include_url=False)
        # a misspelt name shows up as "unknown" plus "missing": report the misspelling first
        err = next((e for e in errs if e["type"] == "extra_forbidden"), errs[0])
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        fld = f"{where}.{loc}" if loc else where
        if err["type"] == "missing":
            msg = "required parameter is missing"
        elif err["type"] == "extra_forbidden":
            msg = "unknown parameter (check the spelling)"
        raise InputError(msg, field=fld, source=source) from None


def typed_requirement_params(regime: Regime) -> _P:
    """The requirement parameters validated against the method's schema."""
    return _typed(METHOD_PARAMS[regime.requirement.method], regime.requirement.params, "requirement.params", None)


def typed_rule_params(regime: Regime, rule: RuleSpec) -> _P:
    """A rule's parameters validated against its kind's schema."""
    return _typed(RULE_PARAMS[rule.kind], regime.rule_params(rule), f"rules.{rule.rule}.params", None)


def validate_regime(data: dict[str, Any], *, source: str | None = None) -> Regime:
    """Validate a regime mapping (parsed TOML) into a :class:`Regime`.

    Raises
    ------
    InputError
        Naming the offending field (e.g. ``rules.2.kind`` or ``requirement.params.base_rate``).
    """
    from underwriting.domain.validation import format_validation_error

    try:
        regime = Regime.model_validate(data)
    except ValidationError as exc:
        msg, first = format_validation_error(exc)
        raise InputError(msg, field=None, source=source) from None
    # method- and rule-specific parameters
    try:
        typed_requirement_params(regime)
        cap = regime.credit.cap_share.value
        if isinstance(cap, bool) or not isinstance(cap, int | float) or not 0.0 <= cap <= 1.0:
            raise InputError(f"must be a share between 0 and 1 (got {cap!r})", field="credit.cap_share.value")
        for rule in regime.rules:
            typed_rule_params(regime, rule)
        rs = regime.risk_sizing
        if rs is not None:
            q = rs.quantile.value
            if isinstance(q, bool) or not isinstance(q, int | float) or not 0.5 <= q < 1.0:
                raise InputError(f"must be a level in [0.5, 1) (got {q!r})", field="risk_sizing.quantile.value")
            lo, hi = rs.band_low.value, rs.band_high.value
            if any(isinstance(v, bool) or not isinstance(v, int | float) or v < 0 for v in (lo, hi)) or lo > hi:
                raise InputError(f"band_low and band_high must be amounts with low <= high (got {lo!r}, {hi!r})",
                                 field="risk_sizing.band_low.value")
        for k, p in regime.other_exclusion_haircuts.items():
            if isinstance(p.value, bool) or not isinstance(p.value, int | float) or not 0.0 <= p.value <= 1.0:
                raise InputError(f"must be a share between 0 and 1 (got {p.value!r})",
                                 field=f"other_exclusion_haircuts.{k}.value")
    except InputError as exc:
        exc.source = exc.source or source
        raise
    return regime


def bundled_regime_ids() -> list[str]:
    """Ids of the regimes shipped with the package."""
    folder = resources.files("underwriting.reserve") / "regimes"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def load_regime(regime: str | Path | Regime) -> Regime:
    """Load a bundled regime by id or a regime TOML file by path.

    Parameters
    ----------
    regime : str, Path or Regime
        A bundled id (``"eu-mica-art67"``), a path to a ``.toml`` file, or a regime (returned as is).

    Raises
    ------
    InputError
        Unknown id, unreadable file or invalid content (the message names the field).
    """
    if isinstance(regime, Regime):
        return regime
    text = str(regime)
    looks_like_path = isinstance(regime, Path) or text.endswith(".toml") or "/" in text or "\\" in text
    if looks_like_path:
        from underwriting.fileio import read_document

        p = Path(text)
        if p.suffix.lower() != ".toml":
            raise InputError("a regime file must be TOML (.toml)", field="--regime", source=text)
        return validate_regime(read_document(p), source=text)
    ids = bundled_regime_ids()
    if text not in ids:
        raise InputError(f"unknown regime {text!r}; bundled: {', '.join(ids)} (or give a path to a .toml file)",
                         field="--regime")
    res = resources.files("underwriting.reserve") / "regimes" / f"{text}.toml"
    return _bundled_regime(text, res.read_text(encoding="utf-8"))


@register_cache(static=True)
@functools.lru_cache(maxsize=32)
def _bundled_regime(regime_id: str, toml_text: str) -> Regime:
    """A bundled regime parsed and validated once per file content (the service quotes the same regime
    thousands of times; parsing its TOML cost ~2 ms a quote). Keyed by the text read on every call, so
    an edited file is parsed again; the :class:`Regime` is frozen, so sharing it is safe."""
    name = f"<bundled regime {regime_id}>"
    try:
        data = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:  # pragma: no cover - bundled files are tested
        raise InputError(f"invalid TOML: {exc}", source=name) from None
    return validate_regime(data, source=name)
