"""Baseline breach frequency: the public record's base rate times documented posture multipliers.

The base annual rate is the maximum-likelihood rate of a homogeneous Poisson process fitted to the
shipped roster: breaches (hack or insider incidents) divided by exchange-years at risk, with a
Gamma-posterior variance (``events / exposure²``) as its parameter uncertainty. Posture multipliers
are ASSUMPTIONS (relative hazards chosen from the incident record's lessons, not fitted): each is
listed in :data:`MULTIPLIERS` with its reasoning and shown in every quote that uses them. An
"unknown" answer takes the multiplier of the weakest answer and is reported, never hidden.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from underwriting.domain.frequency import FrequencyEstimate
from underwriting.domain.message import answer as answer_of
from underwriting.domain.message import data, msg
from underwriting.domain.submission import Submission
from underwriting.domain.vocabulary import BREACH_EVENT_TYPES, DAYS_PER_YEAR
from underwriting.errors import InputError
from underwriting.i18n import N_

#: (question, answer) -> (relative hazard, reason). Assumptions, documented in docs/baseline.md.
MULTIPLIERS: dict[tuple[str, str], tuple[float, str]] = {
    ("custody_architecture", "mpc"): (0.8, N_("threshold signing removes single-key theft")),
    ("custody_architecture", "multisig"): (0.85, N_("several keys needed, but signing UIs remain a path (Bybit 2025)")),
    ("custody_architecture", "hsm"): (0.9, N_("keys cannot be exported, but one device signs")),
    ("custody_architecture", "single_key"): (1.5, N_("one stolen key empties the wallet (Coincheck 2018)")),
    ("signing_screen_verification", "no"): (1.25, N_("faked signing screens drained a multisig cold wallet (Bybit 2025)")),
    ("signing_device_verification", "no"): (1.15, N_("signers approve what a compromised host shows")),
    ("withdrawal_allowlist", "no"): (1.15, N_("stolen funds can go to any address")),
    ("withdrawal_velocity_limits", "no"): (1.1, N_("no brake on a draining wallet")),
    ("admin_mfa", "hardware_key"): (0.85, N_("phishing-resistant admin login")),
    ("admin_mfa", "sms"): (1.2, N_("SIM swap defeats the second factor")),
    ("admin_mfa", "none"): (1.5, N_("password alone guards admin access")),
    ("privileged_access_management", "no"): (1.15, N_("standing admin rights widen insider and takeover paths")),
    ("incident_response_plan_tested", "no"): (1.05, N_("slower containment")),
    ("soc2_type2", "yes"): (0.95, N_("controls audited over a period")),
    ("iso27001", "yes"): (0.95, N_("certified security management")),
    ("bug_bounty", "yes"): (0.95, N_("outside researchers find flaws first")),
}
_UNREGISTERED = N_("custody-path vendor not registered with the regulator (or unknown)")
#: The weakest answer of each yes/no question; "unknown" is scored like it.
_WEAKEST = {"custody_architecture": "single_key", "admin_mfa": "none"}
#: Extra multipliers from recency and history (assumptions).
PENTEST_STALE_MONTHS = 12
PENTEST_STALE_MULT = 1.15
PRIOR_INCIDENT_YEARS = 3
PRIOR_INCIDENT_MULT = 1.5
UNREGISTERED_VENDOR_MULT = 1.15


@dataclass(frozen=True)
class BaseRate:
    """Annual breach rate of the roster: events / exchange-years, with its variance (per year²)."""

    rate: float
    variance: float
    events: int
    exchange_years: float
    source: str


def base_rate_from_roster(exchanges, incidents, *, cutoff: dt.date | None = None) -> BaseRate:
    """Poisson MLE of the annual breach rate from the roster and incident tables.

    Parameters
    ----------
    exchanges : pandas.DataFrame
        ``load_exchanges()``: ``exchange_id, launch_date, closure_date``.
    incidents : pandas.DataFrame
        ``load_incidents()``: ``exchange_id, incident_date, event_type``.
    cutoff : datetime.date, optional
        End of follow-up for exchanges still open (default: the latest date in either table).

    Returns
    -------
    BaseRate
        ``rate`` in breaches per exchange-year.
    """
    import pandas as pd

    undated = exchanges["launch_date"].isna().to_numpy()
    if undated.any():  # its breaches would count with no exposure behind them
        first = exchanges["exchange_id"].to_numpy()[undated][0]
        raise InputError(f"launch date is missing for {undated.sum()} exchange(s), e.g. {first!r}; "
                         "drop them or give the date", field="exchanges.launch_date")
    end = pd.Timestamp(cutoff) if cutoff is not None else max(
        exchanges["launch_date"].max(), incidents["incident_date"].max(),
        exchanges["closure_date"].max() if exchanges["closure_date"].notna().any() else exchanges["launch_date"].max())
    stop = exchanges["closure_date"].fillna(end).clip(upper=end)
    years = ((stop - exchanges["launch_date"]).dt.days.clip(lower=0) / DAYS_PER_YEAR).sum()
    breach = incidents[incidents["event_type"].isin(BREACH_EVENT_TYPES)]
    breach = breach[breach["exchange_id"].isin(exchanges["exchange_id"]) & (breach["incident_date"] <= end)]
    n = int(len(breach))
    if not years > 0:
        raise InputError("the roster has no exchange-years at risk before the cut-off", field="exchanges")
    return BaseRate(rate=n / years, variance=n / years**2, events=n, exchange_years=float(years),
                    source="datasets/exchanges.csv and datasets/incidents.csv (hack and insider events)")


def posture_multiplier(sub: Submission) -> tuple[float, list[dict[str, object]]]:
    """Product of the documented multipliers for one submission, with each factor listed."""
    factors: list[dict[str, object]] = []
    post = sub.posture
    for name in ("custody_architecture", "signing_screen_verification", "signing_device_verification",
                 "withdrawal_allowlist", "withdrawal_velocity_limits", "admin_mfa",
                 "privileged_access_management", "incident_response_plan_tested", "soc2_type2",
                 "iso27001", "bug_bounty"):
        answer = getattr(post, name)
        used = answer
        if answer == "unknown":
            used = _WEAKEST.get(name, "no")
        key = (name, used)
        if key in MULTIPLIERS:
            m, why = MULTIPLIERS[key]
            note = msg(N_("{why}; answer unknown, scored as '{used}'"),
                       why=data(why), used=answer_of(str(used))) if answer == "unknown" else data(why)
            factors.append({"factor": name, "answer": answer, "multiplier": m, "reason": note.text(),
                            "answer_message": answer_of(str(answer)).as_json(), "reason_message": note.as_json()})
    pt = post.last_penetration_test
    stale = not isinstance(pt, dt.date) or (sub.as_of - pt).days > PENTEST_STALE_MONTHS * 30.44
    if stale:
        note = msg(N_("no penetration test in the last {months} months"), months=str(PENTEST_STALE_MONTHS))
        factors.append({"factor": "last_penetration_test", "answer": str(pt), "multiplier": PENTEST_STALE_MULT,
                        "reason": note.text(), "answer_message": data(str(pt)).as_json(),
                        "reason_message": note.as_json()})
    recent = [i for i in sub.incidents if (sub.as_of - i.date).days <= PRIOR_INCIDENT_YEARS * DAYS_PER_YEAR
              and i.vector != "exit_scam_or_fraud"]
    if recent:
        said = msg(N_("{n} in {years}y"), n=str(len(recent)), years=str(PRIOR_INCIDENT_YEARS))
        note = msg(N_("a breach in the last {years} years"), years=str(PRIOR_INCIDENT_YEARS))
        factors.append({"factor": "incident_history", "answer": said.text(), "multiplier": PRIOR_INCIDENT_MULT,
                        "reason": note.text(), "answer_message": said.as_json(), "reason_message": note.as_json()})
    unreg = [v.name for v in sub.vendors if v.registered != "yes" and v.role != "cloud"]
    if unreg:
        names = ", ".join(unreg)  # vendor names: data, shown as they are
        factors.append({"factor": "vendors", "answer": names, "multiplier": UNREGISTERED_VENDOR_MULT,
                        "reason": _UNREGISTERED, "answer_message": data(names).as_json(),
                        "reason_message": data(_UNREGISTERED).as_json()})
    mult = math.prod(float(f["multiplier"]) for f in factors)
    return mult, factors


def baseline_frequency(sub: Submission, base: BaseRate, term_years: float, *, start_years: float = 0.0,
                       assumptions: tuple[str, ...] = ()) -> FrequencyEstimate:
    """Expected breaches over ``term_years``: ``base.rate × multiplier × term``.

    The variance of the Poisson mean carries the base rate's estimation variance (the multipliers
    are fixed assumptions), which the pricing engine turns into a negative binomial.

    Parameters
    ----------
    sub : Submission
    base : BaseRate
        Annual base rate (breaches per exchange-year) and its variance.
    term_years : float
        Length of the policy term, in years.
    start_years : float
        Years from the submission's as-of date to inception (recorded; the rate is flat in time).
    assumptions : tuple of str
        Words on what ``base`` rests on, carried into the result.

    Returns
    -------
    FrequencyEstimate
        ``method = "baseline"``, with the multiplier and every factor listed.
    """
    if not term_years > 0:
        raise InputError(f"must be positive, got {term_years!r}", field="term_years")
    mult, factors = posture_multiplier(sub)
    lam = base.rate * mult * term_years
    var = base.variance * (mult * term_years) ** 2
    annual = base.rate * mult
    return FrequencyEstimate(expected_breaches=lam, variance_of_lambda=var, p_at_least_one=-math.expm1(-lam),
                             start_years=start_years, end_years=start_years + term_years, method="baseline",
                             term_years=term_years, annual_rate=annual, p_breach_1y=-math.expm1(-annual),
                             multiplier=mult, factors=tuple(factors), assumptions=tuple(assumptions))
