"""The quote's frequency stage: the one risk model, the score block and the breach frequency over the term.

:func:`frequency_score` (``underwriting score``) and :func:`term_frequency` (the frequency over the
policy window: base × experience × schedule, or the baseline and survival comparison methods) come
from here, with results shared within one quote (:data:`_QUOTE_SCOPE`). No severity is fitted here: the
baseline method reads only the roster's base rate (:func:`underwriting.quote.calibration.roster_base_rate`).
"""

from __future__ import annotations

import contextvars
import copy
import datetime as dt
import functools
import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from underwriting.caches import register_cache
from underwriting.domain.currency import FxTable
from underwriting.domain.frequency import FrequencyEstimate
from underwriting.domain.message import PARTS, Message, data, msg
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.quote import (
    ReasonBlock,
    ScoreBlock,
)
from underwriting.domain.submission import Submission
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.i18n import N_
from underwriting.quote.calibration import roster_base_rate

#: Results shared between the stages of one :func:`make_quote` call (the reserve block's ground-up loss
#: model and the quote's own use the same verified frequency model, and the same one-risk-model
#: estimate when their windows agree). Set for the duration of one quote only, never across quotes.
_QUOTE_SCOPE: contextvars.ContextVar[dict[Any, Any] | None] = contextvars.ContextVar("underwriting_quote_scope",
                                                                                    default=None)


def _in_quote_scope(key: tuple[Any, ...], keep: tuple[Any, ...], compute: Any) -> Any:
    """``compute()``, reused within the current quote for the same ``key``. ``keep``: the objects whose
    ``id`` is in ``key``, held with the value so no id can be reused while the quote runs."""
    scope = _QUOTE_SCOPE.get()
    if scope is None:
        return compute()
    hit = scope.get(key)
    if hit is None:
        hit = (compute(), keep)
        scope[key] = hit
    return hit[0]


def _schedule_table(schedule: Any):
    from underwriting.frequency.schedule import ScheduleTable, load_schedule, schedule_from_mapping

    if schedule is None:
        return _default_schedule()
    if isinstance(schedule, ScheduleTable):
        table = schedule
    elif isinstance(schedule, dict):
        table = schedule_from_mapping(schedule, source="schedule")
    else:
        table = load_schedule(schedule)
    # factors in the questionnaire's order, whatever the order of the file or mapping (a quote stores
    # the table as canonical JSON with sorted keys; reproduce must list the factors as the quote did)
    order = [k for k in Submission.model_fields["posture"].annotation.model_fields if k in table.questions]
    if list(table.questions) != order:
        table = table.model_copy(update={"questions": {k: table.questions[k] for k in order}})
    return table


@register_cache(static=True)  # the shipped schedule
@functools.lru_cache(maxsize=1)
def _default_schedule():
    from underwriting.frequency.schedule import load_schedule

    return load_schedule()


def score_block(sub: Submission, detail: dict[str, Any], n_reasons: int = 5) -> ScoreBlock:
    """The risk-score block of the one risk model from a frequency detail (see :func:`frequency_score`)."""
    from underwriting.frequency.model import RATE_BAND_THRESHOLDS, rate_band, risk_score

    rate = float(detail["annual_rate"])
    p1 = -math.expm1(-rate)
    reasons = []
    for r in detail["reasons"][:n_reasons]:
        c = float(r["log_contribution"])
        reasons.append(ReasonBlock(factor=r["key"], direction="raises" if c > 0 else "lowers", log_rate=c,
                                   multiplier=math.exp(c), p_effect=p1 + math.expm1(-rate / math.exp(c)),
                                   detail=r["detail"], detail_message=r.get("detail_message")))
    unknown = sorted(k for k, v in sub.posture.model_dump(mode="json").items() if v == "unknown")
    return ScoreBlock(exchange=sub.exchange.name, as_of=sub.as_of.isoformat(), risk_score=risk_score(rate),
                      band=rate_band(rate), p_breach=p1, horizon_years=1.0, reasons=reasons,
                      band_thresholds=list(RATE_BAND_THRESHOLDS), unknown_answers=unknown,
                      model=dict(detail.get("model") or {}))


def frequency_score(sub: Submission, fx: FxTable | None = None, *, registry: Any = None, schedule: Any = None,
                    n_reasons: int = 5) -> tuple[ScoreBlock, FrequencyEstimate]:
    """Risk score, band, reasons and P(breach within 1 year) of the one risk model (``underwriting
    score``); the same numbers as the quote's. Returns ``(score block, one-year FrequencyEstimate)``."""
    fx = fx or FxTable.bundled()
    table = _schedule_table(schedule)
    start = sub.as_of + dt.timedelta(days=1)
    fe, _, _ = _one_risk_model(sub, start, 1.0, 0.0, fx, registry, table)
    return score_block(sub, fe.detail or {}, n_reasons), fe


def _one_risk_model(sub: Submission, start: dt.date, term: float, start_years: float, fx: FxTable, registry: Any,
                    table: Any) -> tuple[FrequencyEstimate, dict[str, Message], dict[str, str]]:
    """Base × experience × schedule over a term of ``term`` years (the one risk model); within one quote
    computed once per window (callers get their own copies of the mutable parts)."""
    key = ("one_risk_model", id(sub), start, term, start_years, id(fx), id(registry), id(table))
    fe, methods, versions = _in_quote_scope(key, (sub, fx, registry, table), lambda: _one_risk_model_impl(
        sub, start, term, start_years, fx, registry, table))
    return _copy_estimate(fe), _plain_copy(methods), _plain_copy(versions)


#: Types a copy may share with the original (immutable).
_IMMUTABLE = frozenset({str, int, float, bool, type(None), *PARTS})


def _plain_copy(obj: Any) -> Any:
    """Deep copy of plain data (dicts, lists, tuples of strings, numbers, None), the result of
    ``copy.deepcopy`` at a fraction of its cost; anything else goes through ``copy.deepcopy``."""
    t = type(obj)
    if t in _IMMUTABLE:
        return obj
    if t is dict:
        return {k: _plain_copy(v) for k, v in obj.items()}
    if t is list:
        return [_plain_copy(v) for v in obj]
    if t is tuple:
        return tuple([_plain_copy(v) for v in obj])
    return copy.deepcopy(obj)


def _copy_estimate(fe: FrequencyEstimate) -> FrequencyEstimate:
    """A :class:`FrequencyEstimate` whose mutable parts (``detail``, ``factors``' dicts) are the
    caller's own: every field deep-copied with :func:`_plain_copy`."""
    return replace(fe, **{f.name: _plain_copy(getattr(fe, f.name)) for f in fields(fe) if f.init})


def _one_risk_model_impl(sub: Submission, start: dt.date, term: float, start_years: float, fx: FxTable,
                         registry: Any, table: Any) -> tuple[FrequencyEstimate, dict[str, Message], dict[str, str]]:
    from underwriting.frequency.base_model import (
        RawCovariates,
        norm_quantile,
        submission_covariates,
    )
    from underwriting.frequency.model import load_breach_frequency, schedule_sha

    bf = _in_quote_scope(("breach_frequency", id(registry), id(table)), (registry, table),
                         lambda: load_breach_frequency(registry, table))
    # the covariate row as numpy columns (the numbers of covariates_from_submission, without a frame)
    cov = submission_covariates(sub, fx=fx)
    res = bf.explain(RawCovariates.from_records([cov]), [sub], years=term, fx=fx)[0]
    base = bf.base_model
    reg = getattr(base, "registry_", {}) or {}
    prior = getattr(bf, "prior_used_", None) or getattr(base, "experience_prior_", {}) or {}
    iv = [x if x is not None else math.inf for x in (prior.get("interval") or [])]
    version = f"{reg.get('version', '?')}@{str(reg.get('manifest_sha256', ''))[:12]}"
    d = res.to_dict()
    sha = schedule_sha(table)
    d["base"]["covariates"] = {
        "volume_24h_usd": None if not math.isfinite(cov["volume_24h_usd"]) else float(cov["volume_24h_usd"]),
        "country": cov["country"], "security_points": None,
        "age_years": None if not math.isfinite(cov["age_years"]) else float(cov["age_years"])}
    # an infinite upper end (the counts cannot exclude "no spread") is written as null in JSON
    d["experience"]["prior_strength_interval"] = list(prior.get("interval") or [])
    d["experience"]["prior_strength_bounds"] = list(prior.get("bounds") or [])
    d["experience"]["prior_strength_method"] = prior.get("method", "")
    d["model"] = {"name": "frequency", "version": reg.get("version", "?"),
                  "prior_strength": prior.get("alpha"), "prior_strength_interval": list(prior.get("interval") or []),
                  "schedule": f"{table.table.name} v{table.table.version}", "schedule_sha256": sha}
    lam = res.expected_breaches
    lo, hi = res.expected_breaches_interval
    # gamma mixing of Λ: its coefficient of variation from the 90% interval read as lognormal
    s = (math.log(hi) - math.log(lo)) / (2 * float(norm_quantile(0.5 + res.level / 2))) if hi > lo else 0.0
    var_lam = lam * lam * math.expm1(s * s)
    rows = [{"factor": r["key"], "block": r["block"], "multiplier": r["factor"], "answer": r["answer"],
             "reason": r["source"], "log_contribution": r["log_contribution"],
             **{k: r[m] for k, m in (("answer_message", "answer_message"), ("reason_message", "source_message")) if m in r}}
            for r in res.factor_table() if r["block"] in ("experience", "schedule")]
    bounds = "-".join(f"{x:.3g}" for x in (prior.get("bounds") or []))
    ends: list[str | Message] = [msg(N_("infinity")) if math.isinf(x) else f"{x:.3g}" for x in iv]
    interval: str | Message = msg(N_("{low} to {high}"), low=ends[0], high=ends[1]) if len(ends) == 2 else " to ".join(
        e if isinstance(e, str) else e.text() for e in ends)
    assumptions = (
        msg(N_("breach frequency = base rate (Poisson regression on real exchange cohorts, frequency {version}) x "
               "experience (Poisson-gamma credibility on size- and age-weighted breaches, prior strength alpha = "
               "{alpha} chosen by cross-validated predictive likelihood on the same cohorts within the bounds {bounds},"
               " 90% profile-likelihood interval {interval}) x posture schedule ({schedule}: every factor an "
               "ASSUMPTION, capped)"),
            version=str(reg.get("version", "?")), alpha=f"{prior.get('alpha', float('nan')):.3g}",
            bounds=bounds, interval=interval, schedule=schedule_name_message(table)),
        msg(N_("the {level} interval carries the base model's parameter uncertainty only; the expected loss uses the "
               "negative binomial count from gamma mixing of the term's expected breaches with that spread"),
            level=f"{res.level:.0%}"),
    )
    fe = FrequencyEstimate(
        expected_breaches=lam, variance_of_lambda=var_lam, p_at_least_one=res.p_breach,
        start_years=start_years, end_years=start_years + term, method="frequency", term_years=term,
        annual_rate=res.annual_rate, p_breach_1y=-math.expm1(-res.annual_rate), multiplier=None,
        factors=tuple(rows), detail=d, assumptions=tuple(a.text() for a in assumptions),
        assumption_messages=assumptions)
    methods = {"frequency": msg(N_("one risk model: base (real cohorts) x experience x schedule (docs/schedule.md)"))}
    versions = {"frequency": version, "schedule": schedule_version_message(table, sha).text()}
    return fe, methods, versions


def schedule_name_message(table: Any) -> Message:
    """A schedule table's name and version, ``default posture schedule v1`` (the name a data text)."""
    return msg(N_("{name} v{version}"), name=data(table.table.name), version=str(table.table.version))


def schedule_version_message(table: Any, sha: str) -> Message:
    """The schedule's version as the quote records it: name, version and the first 12 hex digits of its hash."""
    return msg("{schedule}@{sha}", schedule=schedule_name_message(table), sha=sha[:12])


def referral_warnings(sub: Submission, inception: dt.date) -> list[str]:
    """A referral warning for each breach dated in the ``[referral] months`` (``experience.toml``) before
    the policy's inception: the controls that failed may not be fixed yet."""
    from underwriting.frequency.experience import recent_breaches
    from underwriting.frequency.experience_prior import load_settings

    months = load_settings().referral_months
    return [f"REFER: a breach on {i.date} ({i.vector}, {i.amount:,.0f} {i.currency}) lies within {months} months "
            f"before inception {inception}: an underwriter should review the remediation before binding"
            for i in recent_breaches(sub, inception, months)]


@dataclass(frozen=True)
class TermFrequency:
    """The frequency stage's result: the breach frequency over the policy window and where it came from.

    Attributes
    ----------
    estimate : FrequencyEstimate
        Expected breaches over the term (count), their parameter variance, P(breach within 1 year).
    methods, versions : dict of str
        The method and model version of the frequency, as the quote records them.
    method_messages : dict of Message
        Each method as a template and arguments (its text is the method's).
    """

    estimate: FrequencyEstimate
    methods: dict[str, str]
    versions: dict[str, str]
    method_messages: dict[str, Message] = field(default_factory=dict)


def term_frequency(sub: Submission, terms: PolicyTerms, frequency_model: str, fx: FxTable, *,
                   features: Any = None, registry: Any = None, schedule: Any = None) -> TermFrequency:
    """Breach frequency over the policy window of ``terms`` by ``frequency_model``."""
    fe, methods, versions = _frequency(sub, terms, frequency_model, fx, features, registry, schedule)
    return TermFrequency(fe, {k: m.text() for k, m in methods.items()}, versions, methods)


def _frequency(sub: Submission, terms: PolicyTerms, frequency_model: str, fx: FxTable,
               features: Any = None, registry: Any = None,
               schedule: Any = None) -> tuple[FrequencyEstimate, dict[str, Message], dict[str, str]]:
    """Breach frequency over the policy window: ``(estimate, methods, versions)`` (methods as messages).

    ``survival`` (comparison only): the shipped landmark survival model (:mod:`underwriting.survival.landmarks`),
    expected breaches = cumulative hazard over the window from as-of to inception and expiry, variance
    from the coefficient covariance (delta method). ``baseline``: :mod:`underwriting.frequency.baseline`.
    ``features``: the submission's default feature row when the caller already built it.
    ``frequency`` (default): :func:`_one_risk_model`.
    """
    if frequency_model == "frequency":
        start = max((terms.inception - sub.as_of).days, 0) / DAYS_PER_YEAR
        return _one_risk_model(sub, terms.inception, terms.term_years, start, fx, registry, _schedule_table(schedule))
    if frequency_model == "survival":
        from underwriting.registry import load_model
        from underwriting.survival.frequency import frequency_for_term
        from underwriting.survival.landmarks import feature_row, policy_window_years

        # the registry's default (or a pinned) version, hashes checked
        model = load_model("survival") if registry is None else registry.load("survival")
        reg = getattr(model, "registry_", {}) or {}
        version = f"{reg.get('version', '?')}@{str(reg.get('manifest_sha256', ''))[:12]}"
        X = features if features is not None else feature_row(sub, fx)
        s, e = policy_window_years(sub, terms)
        fe = frequency_for_term(model, X, (s, e))
        said = msg(N_("breach frequency from the shipped landmark survival model (piecewise exponential on time since "
                      "the as-of date), fitted on a synthetic book whose base rate is calibrated to the real roster and"
                      " whose posture effects are assumptions"))
        fe = replace(fe, term_years=terms.term_years, annual_rate=fe.expected_breaches / terms.term_years,
                     p_breach_1y=float(model.predict_risk(X, 1.0)[0]), assumptions=(said.text(),),
                     assumption_messages=(said,))
        return fe, {"frequency": msg(N_("survival {version} (landmark piecewise-exponential, docs/survival.md)"),
                                     version=str(reg.get("version", "?")))}, \
            {"survival": version}

    from underwriting.frequency.baseline import baseline_frequency

    cal = roster_base_rate()
    start = max((terms.inception - sub.as_of).days, 0) / DAYS_PER_YEAR
    said = msg(N_("base breach rate {rate} a year = {events} breaches over {years} exchange-years of the roster "
                  "(exchanges with a known launch date); the roster over-represents breached exchanges, so this is an "
                  "upper estimate"), rate=f"{cal.base_rate.rate:.4f}", events=str(cal.base_rate.events),
               years=f"{cal.base_rate.exchange_years:,.0f}")
    fe = baseline_frequency(sub, cal.base_rate, terms.term_years, start_years=start, assumptions=(said.text(),))
    fe = replace(fe, assumption_messages=(said,))
    methods = {"frequency": msg(N_("baseline (roster base rate x posture multipliers, docs/baseline.md)"))}
    versions = {"baseline": f"baseline@{cal.data_sha}"}
    return fe, methods, versions


def quote_score(sub: Submission, frequency: TermFrequency, frequency_model: str, fx: FxTable, *, registry: Any,
                schedule: Any) -> tuple[ScoreBlock, dict[str, str]]:
    """The quote's score block and the versions it adds: from the term's one risk model, or (when the loss
    model compares another frequency method) from the one risk model over one year from as-of."""
    if frequency_model == "frequency":
        return score_block(sub, frequency.estimate.detail or {}), {}
    fe1, _, v1 = _one_risk_model(sub, sub.as_of + dt.timedelta(days=1), 1.0, 0.0, fx, registry,
                                 _schedule_table(schedule))
    return score_block(sub, fe1.detail or {}), v1
