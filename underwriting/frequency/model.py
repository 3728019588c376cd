"""The breach frequency of a quote: base rate × experience × schedule.

:class:`BreachFrequency` combines three blocks into one annual breach rate per exchange:

* the **base** rate ``m`` of a fitted base model (any object with ``annual_rate(X) -> Series``
  and ``predict_interval(X, level) -> DataFrame`` with ``lo`` and ``hi`` columns, e.g. the
  real-cohort Poisson regression of :mod:`underwriting.frequency.base_model`), passed in;
* the **experience** rating (:mod:`.experience`): Poisson–gamma credibility on the exchange's own
  breaches, prior strength ``α`` given or estimated by :meth:`BreachFrequency.fit` from a cohort;
* the **schedule** (:mod:`.schedule`): posture and vendor credits and debits, capped.

``rate = posterior(m) × schedule``. Over a policy term of ``T`` years the expected count is
``Λ = rate × T`` and ``P(breach) = 1 − exp(−Λ)``. The posterior is non-decreasing in ``m`` and
the schedule does not depend on ``m``, so the base model's interval ``[m_lo, m_hi]`` maps exactly
to ``[rate(m_lo), rate(m_hi)]`` at the same level (parameter uncertainty of the base model only;
``α`` and the schedule are held fixed). ``reasons`` are the factors with the largest absolute
contributions to ``ln rate − ln m``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from underwriting.domain.message import Message, data, msg
from underwriting.domain.submission import Submission
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.errors import InputError, ModelIntegrityError
from underwriting.frequency.base_design import RawCovariates
from underwriting.frequency.base_predict import FrequencyEstimator, ModelNotFittedError
from underwriting.frequency.base_survival import survival_curve
from underwriting.frequency.experience import (
    ExperienceRating,
    estimate_prior_strength,
    experience_rating,
    rate_with_experience,
)
from underwriting.frequency.experience_prior import (
    exchange_totals,  # noqa: F401  (re-exported)
    prior_for_model,
)
from underwriting.frequency.schedule import (
    ScheduleRating,
    ScheduleTable,
    load_schedule,
    schedule_from_mapping,
)
from underwriting.i18n import N_
from underwriting.registry import load_model

#: A schedule factor's reason by its kind (credit, debit, neutral): the answer that earned it.
FACTOR_TEMPLATES: dict[str, str] = {"credit": N_("{answer} (credit)"), "debit": N_("{answer} (debit)"),
                                    "neutral": N_("{answer} (neutral)")}


@dataclass(frozen=True)
class Reason:
    """One factor's contribution to the log annual rate, relative to the base rate."""

    key: str
    log_contribution: float
    detail: str
    #: ``detail`` as a template and arguments (``detail == message.text()``), for other languages.
    message: Message | None = None

    @property
    def factor(self) -> float:
        """``exp(log_contribution)``."""
        return math.exp(self.log_contribution)


@dataclass(frozen=True)
class FrequencyResult:
    """Breach frequency of one exchange over a policy term.

    Attributes
    ----------
    base_rate : float
        Base model's annual rate (breaches per year), the experience prior.
    base_interval : (float, float)
        Base model's interval at ``level``.
    experience : ExperienceRating
        Prior rate, prior strength, exposure years, breaches, credibility weight, posterior.
    schedule : ScheduleRating
        Every schedule factor, raw and capped product.
    annual_rate : float
        ``experience.posterior_rate × schedule.factor``, breaches per year.
    annual_rate_interval : (float, float)
        The base interval carried through experience and schedule.
    term_years : float
        Policy term, years of :data:`~underwriting.domain.vocabulary.DAYS_PER_YEAR` days.
    expected_breaches, expected_breaches_interval
        ``Λ = annual_rate × term_years`` and its interval.
    p_breach, p_breach_interval
        ``1 − exp(−Λ)`` and its interval.
    level : float
        Coverage of the intervals.
    reasons : tuple of Reason
        Largest absolute log contributions first.
    """

    base_rate: float
    base_interval: tuple[float, float]
    experience: ExperienceRating
    schedule: ScheduleRating
    annual_rate: float
    annual_rate_interval: tuple[float, float]
    term_years: float
    expected_breaches: float
    expected_breaches_interval: tuple[float, float]
    p_breach: float
    p_breach_interval: tuple[float, float]
    level: float
    reasons: tuple[Reason, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready mapping of every block (floats, strings, lists), for the quote.

        An infinite prior strength (no measurable dispersion: the prior gets full weight) and its
        prior years are written as ``None``."""
        ex = self.experience

        def fin(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {
            "base": {"annual_rate": self.base_rate, "interval": list(self.base_interval), "level": self.level},
            "experience": {"prior_rate": ex.prior_rate, "prior_strength": fin(ex.prior_strength),
                           "prior_years": fin(ex.prior_years), "exposure_years": ex.exposure_years,
                           "breaches": ex.breaches, "weighted_breaches": ex.weighted_breaches,
                           "weighted_exposure_years": ex.weighted_exposure_years,
                           "breach_weights": list(ex.breach_weights), "half_life_years": fin(ex.half_life_years),
                           "credibility": ex.credibility,
                           "credibility_rate": ex.credibility_rate, "floor_rate": ex.floor_rate,
                           "posterior_rate": ex.posterior_rate, "look_back_years": ex.look_back_years,
                           "quiet_floor": ex.quiet_floor},
            "schedule": {"table": self.schedule.table, "factor": self.schedule.factor,
                         "raw_factor": self.schedule.raw_factor, "cap": list(self.schedule.cap),
                         "factors": [{"key": f.key, "answer": f.answer, "level": f.level, "factor": f.factor,
                                      "log_contribution": f.log_contribution, "kind": f.kind, "source": f.source}
                                     for f in self.schedule.factors]},
            "annual_rate": self.annual_rate, "annual_rate_interval": list(self.annual_rate_interval),
            "term_years": self.term_years, "expected_breaches": self.expected_breaches,
            "expected_breaches_interval": list(self.expected_breaches_interval),
            "p_breach": self.p_breach, "p_breach_interval": list(self.p_breach_interval), "level": self.level,
            "survival": survival_curve(self.annual_rate, self.term_years),
            "reasons": [{"key": r.key, "log_contribution": r.log_contribution, "detail": r.detail,
                         **({"detail_message": r.message.as_json()} if r.message is not None else {})}
                        for r in self.reasons],
        }

    def factor_table(self) -> list[dict[str, Any]]:
        """Rows ``{block, key, answer, factor, log_contribution, source}``: base, experience, every
        non-neutral schedule factor, the cap when it binds, and the final rate."""
        ex = self.experience
        ex_answer = msg(N_("{breaches} breach(es) weighing {weighted} in {years} y ({decayed} decayed), Z = {z}"),
                        breaches=str(ex.breaches), weighted=f"{ex.weighted_breaches:.2f}",
                        years=f"{ex.exposure_years:.2f}", decayed=f"{ex.weighted_exposure_years:.2f}",
                        z=f"{ex.credibility:.3f}")
        ex_source = msg(N_("Poisson-gamma credibility"))
        rows: list[dict[str, Any]] = [
            {"block": "base", "key": "base_rate", "answer": "", "factor": self.base_rate,
             "log_contribution": math.log(self.base_rate), "source": "base model"},
            {"block": "experience", "key": "experience", "answer": ex_answer.text(),
             "factor": self.experience.factor, "log_contribution": math.log(self.experience.factor),
             "source": ex_source.text(), "answer_message": ex_answer.as_json(), "source_message": ex_source.as_json()},
        ]
        for f in self.schedule.factors:
            if f.factor != 1.0:
                rows.append({"block": "schedule", "key": f.key, "answer": f.answer, "factor": f.factor,
                             "log_contribution": f.log_contribution, "source": f.source,
                             "answer_message": f.answer_message().as_json(),
                             "source_message": data(f.source).as_json()})
        if self.schedule.cap_log_contribution != 0.0:
            cap_answer, cap_source = msg(N_("raw {raw}"), raw=f"{self.schedule.raw_factor:.4g}"), \
                msg(N_("schedule cap"))
            rows.append({"block": "schedule", "key": "schedule.cap", "answer": cap_answer.text(),
                         "factor": math.exp(self.schedule.cap_log_contribution),
                         "log_contribution": self.schedule.cap_log_contribution, "source": cap_source.text(),
                         "answer_message": cap_answer.as_json(), "source_message": cap_source.as_json()})
        rows.append({"block": "total", "key": "annual_rate", "answer": "", "factor": self.annual_rate,
                     "log_contribution": math.log(self.annual_rate), "source": ""})
        return rows


def term_years(start: dt.date, end: dt.date) -> float:
    """Length of ``[start, end)`` in years of :data:`DAYS_PER_YEAR` days (end after start)."""
    if not end > start:
        raise InputError(f"term end {end} must be after its start {start}", field="term.end")
    return (end - start).days / DAYS_PER_YEAR


def _interval_frame(base: Any, X: Any, level: float):
    iv = base.predict_interval(X, level)
    cols = {c.lower(): c for c in iv.columns}
    lo = cols.get("lo", cols.get("lower"))
    hi = cols.get("hi", cols.get("upper"))
    if lo is None or hi is None:
        raise TypeError("base model's predict_interval must return columns 'lo' and 'hi'")
    return iv[lo].to_numpy(float), iv[hi].to_numpy(float)


def _base_rates(base: Any, X: Any, level: float):
    """``(m, lo, hi)`` arrays of a base model: ``annual_rate(X)`` and ``predict_interval(X, level)``.

    A model with ``_rate_and_interval`` (:class:`~.base_model.BaseFrequencyModel`) gives the same
    numbers in one pass without frames; ``X`` may then be a
    :class:`~.base_design.RawCovariates`, which other models get as a DataFrame."""

    fast = getattr(base, "_rate_and_interval", None)
    if fast is not None:
        return fast(X, level)
    if isinstance(X, RawCovariates):
        X = X.to_frame()
    m = base.annual_rate(X).to_numpy(float)
    lo, hi = _interval_frame(base, X, level)
    return m, lo, hi


class BreachFrequency(FrequencyEstimator):
    """Annual breach rate = base × experience × schedule, and the policy term's P(breach).

    Parameters
    ----------
    base_model : object
        Fitted; ``annual_rate(X) -> pandas.Series`` (breaches per year) and
        ``predict_interval(X, level) -> DataFrame`` with ``lo`` and ``hi`` columns.
    schedule : ScheduleTable, str or path, optional
        The schedule table, or the path of one; the shipped ``schedule.toml`` by default.
    prior_strength : float, optional
        Gamma shape ``α`` of the experience prior. If omitted, :meth:`fit` estimates it.
    level : float
        Coverage of the intervals (default 0.9).
    n_reasons : int
        Number of reasons returned (default 5).

    Attributes
    ----------
    prior_strength_ : float
        ``α`` used (given, or estimated by :meth:`fit`).
    prior_fit_ : PriorStrength or None
        The estimate, when :meth:`fit` estimated it.
    schedule_ : ScheduleTable
    """

    def __init__(self, base_model: Any, schedule: Any = None, prior_strength: float | None = None,
                 level: float = 0.9, n_reasons: int = 5):
        self.base_model = base_model
        self.schedule = schedule
        self.prior_strength = prior_strength
        self.level = level
        self.n_reasons = n_reasons

    # ----- fitting
    def _schedule(self) -> ScheduleTable:
        if isinstance(self.schedule, ScheduleTable):
            return self.schedule
        return load_schedule(self.schedule)

    def fit(self, X: Any = None, y: Any = None, *, exposure_years: Any = None,
            expected: Any = None) -> BreachFrequency:
        """Set the schedule and the prior strength ``α``.

        With ``prior_strength`` given, ``α`` is that value and the cohort arguments are not
        needed. Otherwise ``α`` is estimated (:func:`~.experience.estimate_prior_strength`) from a
        cohort's breach counts ``y`` around the base model's expectation: ``expected`` if given
        (e.g. from a base model with a calendar trend), else ``annual_rate(X) × exposure_years``.

        Parameters
        ----------
        X : pandas.DataFrame, optional
            Base-model covariates of the cohort.
        y : array-like of int, optional
            Breaches of each cohort exchange over its follow-up (the counts).
        exposure_years : array-like of float, optional
            Follow-up of each exchange, years.
        expected : array-like of float, optional
            Expected counts over the follow-up under the base model.

        Returns
        -------
        self
        """
        import numpy as np

        if X is not None and not isinstance(X, RawCovariates) and not hasattr(X, "columns"):
            raise InputError("X needs a pandas DataFrame of the base model's covariates (one row per "
                             "cohort exchange)", field="X")
        if not 0 < self.level < 1:
            raise InputError(f"level must be between 0 and 1, got {self.level!r}", field="level")
        self.schedule_ = self._schedule()
        if self.prior_strength is not None:
            a = float(self.prior_strength)
            if not a > 0:
                raise InputError(f"must be positive (or inf), got {self.prior_strength!r}", field="prior_strength")
            self.prior_strength_ = a
            self.prior_fit_ = None
            return self
        if y is None or exposure_years is None:
            raise InputError("give prior_strength, or a cohort (X, y = breach counts, exposure_years) to estimate it",
                             field="prior_strength")
        e = np.asarray(exposure_years, dtype=float)
        if expected is None:
            if X is None:
                raise InputError("X is needed to compute the expected counts", field="X")
            expected = self.base_model.annual_rate(X).to_numpy(float) * e
        self.prior_fit_ = estimate_prior_strength(y, e, expected)
        self.prior_strength_ = self.prior_fit_.alpha
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "prior_strength_"):
            raise ModelNotFittedError("BreachFrequency is not fitted: call fit() first", field="model")

    # ----- prediction
    def explain(self, X: Any, submissions: Sequence[Submission], *, start: dt.date | None = None,
                end: dt.date | None = None, years: float | None = None,
                compromised_vendors: Iterable[str] = (), fx: Any = None) -> list[FrequencyResult]:
        """Frequency of each exchange, with every block shown.

        Parameters
        ----------
        X : pandas.DataFrame or RawCovariates
            Base-model covariates, one row per submission, in the same order.
        submissions : sequence of Submission
            Posture, vendors, incidents, ``as_of`` and launch date of each exchange.
        start, end : datetime.date, optional
            Policy term; or give ``years``. Default: one year.
        years : float, optional
            Term length in years, instead of ``start``/``end``.
        compromised_vendors : iterable of str
            Vendor names with a known compromise (see :meth:`ScheduleTable.rate`).
        fx : FxTable, optional
            Rates converting incident amounts to the exposure currency (the bundled table by default).

        Returns
        -------
        list of FrequencyResult
        """
        import numpy as np

        self._check_fitted()
        subs = list(submissions)
        if len(X) != len(subs):
            raise InputError(f"X has {len(X)} rows but {len(subs)} submissions were given", field="X")
        if start is not None or end is not None:
            if start is None or end is None or years is not None:
                raise InputError("give both start and end, or years", field="term")
            t = term_years(start, end)
        else:
            t = 1.0 if years is None else float(years)
            if not (math.isfinite(t) and t > 0):
                raise InputError(f"term years must be positive, got {years!r}", field="term.years")
        m, lo, hi = _base_rates(self.base_model, X, self.level)
        bad = ~(np.isfinite(m) & (m > 0) & (lo <= m * (1 + 1e-12)) & (m <= hi * (1 + 1e-12)) & (lo > 0))
        if bad.any():
            j = int(np.flatnonzero(bad)[0])
            raise ValueError(f"base model gave rate {m[j]!r} outside its own interval [{lo[j]!r}, {hi[j]!r}] "
                             f"or not positive (row {j})")
        sched = self.schedule_
        exp_cfg = sched.experience
        bad_names = list(compromised_vendors)
        out = []
        for j, sub in enumerate(subs):
            ex = experience_rating(sub, float(m[j]), self.prior_strength_, look_back_years=exp_cfg.look_back_years,
                                   quiet_floor=exp_cfg.quiet_floor, fx=fx)
            sr = sched.rate(sub, compromised_vendors=bad_names)
            ends = []
            for mb in (lo[j], hi[j]):
                eb = rate_with_experience(float(mb), self.prior_strength_, ex.breaches, ex.exposure_years,
                                          quiet_floor=exp_cfg.quiet_floor, weighted_breaches=ex.weighted_breaches,
                                          weighted_exposure_years=ex.weighted_exposure_years)
                ends.append(eb.posterior_rate * sr.factor)
            rate = ex.posterior_rate * sr.factor
            lam, lam_iv = rate * t, (ends[0] * t, ends[1] * t)
            ex_msg = msg(N_("{breaches} breach(es) weighing {weighted} in {years} years, credibility {z}"),
                         breaches=str(ex.breaches), weighted=f"{ex.weighted_breaches:.2f}",
                         years=f"{ex.exposure_years:.2f}", z=f"{ex.credibility:.3f}")
            reasons = [Reason("experience", math.log(ex.factor), ex_msg.text(), ex_msg)]
            for f in sr.factors:
                if f.factor != 1:
                    f_msg = msg(FACTOR_TEMPLATES[f.kind], answer=f.answer_message())
                    reasons.append(Reason(f.key, f.log_contribution, f_msg.text(), f_msg))
            if sr.cap_log_contribution != 0:
                cap_msg = msg(N_("schedule {raw} capped to {capped}"),
                              raw=f"{sr.raw_factor:.4g}", capped=f"{sr.factor:.4g}")
                reasons.append(Reason("schedule.cap", sr.cap_log_contribution, cap_msg.text(), cap_msg))
            reasons = [r for r in reasons if r.log_contribution != 0]
            reasons.sort(key=lambda r: (-abs(r.log_contribution), r.key))
            out.append(FrequencyResult(
                base_rate=float(m[j]), base_interval=(float(lo[j]), float(hi[j])), experience=ex, schedule=sr,
                annual_rate=rate, annual_rate_interval=(ends[0], ends[1]), term_years=t,
                expected_breaches=lam, expected_breaches_interval=lam_iv,
                p_breach=-math.expm1(-lam), p_breach_interval=(-math.expm1(-lam_iv[0]), -math.expm1(-lam_iv[1])),
                level=float(self.level), reasons=tuple(reasons[: self.n_reasons])))
        return out

    def predict(self, X: Any, submissions: Sequence[Submission] | None = None, **term: Any):
        """Table of the results of :meth:`explain`: ``annual_rate, lo, hi, expected_breaches,
        p_breach, base_rate, experience_factor, schedule_factor`` per row (index of ``X``).

        ``submissions`` is required (one per row of ``X``); it has a default only so that a call
        without it is refused with an :class:`~underwriting.errors.InputError` after the fitted check."""
        import pandas as pd

        self._check_fitted()
        if submissions is None:
            raise InputError("predict needs the submissions, one per row of X", field="submissions")
        res = self.explain(X, submissions, **term)
        return pd.DataFrame({
            "annual_rate": [r.annual_rate for r in res],
            "lo": [r.annual_rate_interval[0] for r in res],
            "hi": [r.annual_rate_interval[1] for r in res],
            "expected_breaches": [r.expected_breaches for r in res],
            "p_breach": [r.p_breach for r in res],
            "base_rate": [r.base_rate for r in res],
            "experience_factor": [r.experience.factor for r in res],
            "schedule_factor": [r.schedule.factor for r in res],
        }, index=getattr(X, "index", None))  # RawCovariates: a default range index


#: Band thresholds on the final annual breach rate (breaches a year): A below 0.5%, B below 1%,
#: C below 2%, D below 4%, E from 4%. The cohorts' crude rates run from 0.3% (smallest third)
#: to 1.9% (largest third) a year (docs/frequency_validation.md); the schedule moves a rate by
#: at most ×0.5–×2 and a breach on record raises it.
RATE_BAND_THRESHOLDS: tuple[float, ...] = (0.005, 0.01, 0.02, 0.04)
#: The risk score is log-linear in the annual rate: 0 at 0.1% a year, 100 at 10% a year (clipped).
RISK_SCORE_RATES: tuple[float, float] = (0.001, 0.1)


def rate_band(rate: float, thresholds: Sequence[float] = RATE_BAND_THRESHOLDS) -> str:
    """Band letter ``A``–``E`` of an annual breach rate (see :data:`RATE_BAND_THRESHOLDS`)."""
    import bisect

    return "ABCDE"[bisect.bisect_right(list(thresholds), float(rate))]


def risk_score(rate: float) -> float:
    """0 (best) to 100 (worst), log-linear in the annual rate between :data:`RISK_SCORE_RATES`,
    rounded to 2 decimals; non-decreasing in the rate."""
    lo, hi = RISK_SCORE_RATES
    x = (math.log(max(rate, 1e-300)) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return round(100.0 * min(max(x, 0.0), 1.0), 2)


def schedule_sha(table: ScheduleTable) -> str:
    """SHA-256 (hex) of a schedule table's content (canonical JSON, without the file path): the
    hash a quote records, equal for the same table read from any file."""
    import hashlib
    import json

    d = table.model_dump(mode="json", exclude={"path"})
    return hashlib.sha256(json.dumps(d, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def load_breach_frequency(registry: Any = None, schedule: Any = None) -> BreachFrequency:
    """The quote's frequency model: the registry's ``frequency`` base model (default or pinned
    version, verified) with the prior strength ``α`` stored in it, and a schedule table.

    Parameters
    ----------
    registry : Registry, optional
        Default: :func:`underwriting.registry.load_model` (``UNDERWRITING_REGISTRY`` or ``models/``).
    schedule : ScheduleTable, mapping, path or None
        The shipped ``schedule.toml`` by default; a mapping is validated like a file.

    Returns
    -------
    BreachFrequency
        Fitted (``prior_strength_`` from :func:`~.experience_prior.prior_for_model`: the model's bounded,
        cross-validated ``experience_prior``, kept in full as ``prior_used_``).
    """

    if registry is None:

        base = load_model("frequency")
    else:
        base = registry.load("frequency")

    if not getattr(base, "experience_prior_", None):
        raise ModelIntegrityError("the frequency model stores no experience prior (experience_prior); "
                                  "rebuild it with python -m underwriting.frequency.base_build")
    prior = prior_for_model(base)  # bounded, cross-validated alpha (experience_prior.py): always finite
    if isinstance(schedule, dict):
        schedule = schedule_from_mapping(schedule, source="schedule")
    table = schedule if isinstance(schedule, ScheduleTable) else load_schedule(schedule)
    bf = BreachFrequency(base, schedule=table, prior_strength=float(prior["alpha"])).fit()
    bf.prior_used_ = prior
    return bf


__all__ = ["RATE_BAND_THRESHOLDS", "RISK_SCORE_RATES", "BreachFrequency", "FrequencyResult", "Reason",
           "exchange_totals", "load_breach_frequency", "rate_band", "risk_score", "schedule_sha", "term_years"]
