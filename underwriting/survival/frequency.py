"""Frequency hand-off: expected breaches over a policy term, with parameter uncertainty.

For an exchange unbreached (at risk) at inception, the number of breaches in the policy window
``(start, end]`` is Poisson with mean Λ = Λ(end | x) − Λ(start | x), and P(at least one breach)
= 1 − e^{−Λ}. The estimate Λ̂ is uncertain because the model's parameters are: that uncertainty
is carried to pricing as a **gamma mixing distribution** on the Poisson mean with mean Λ̂ and
variance ``variance_of_lambda``, which makes the claim count negative binomial with mean Λ̂ and
variance Λ̂ + ``variance_of_lambda``.

``variance_of_lambda`` comes from the parameters' covariance matrix, either by the delta method
(gradient of Λ with respect to the parameters, central differences) or by parametric draws
(multivariate normal on the parameters, seeded generator, never numpy's global state).
What the covariance contains depends on the family: the piecewise-exponential and AFT models
carry the joint covariance of baseline and coefficients; for ``coxph`` only the coefficients are
uncertain and the Breslow baseline is treated as known (stated in ``method``), which understates
the variance for small training sets.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np

from underwriting.domain.frequency import FrequencyEstimate
from underwriting.domain.vocabulary import DAYS_PER_YEAR
from underwriting.errors import InputError
from underwriting.survival._hazard import check_follow_up, cumulative_hazard


def policy_window(terms, origin) -> tuple[float, float]:
    """Place a policy's inception and expiry on the model's time axis (years since ``origin``).

    Parameters
    ----------
    terms : PolicyTerms or (start, end)
        Policy terms (calendar dates) or a window already in model years.
    origin : datetime.date, optional
        Time zero of the model's axis: the exchange's launch date. Required with ``PolicyTerms``.
    """
    if isinstance(terms, tuple | list) and len(terms) == 2:
        s, e = float(terms[0]), float(terms[1])
    elif hasattr(terms, "inception") and hasattr(terms, "expiry"):
        if origin is None:
            raise InputError("policy terms are calendar dates; pass origin= (the exchange's launch date) to "
                             "place inception and expiry on the model's time axis (years since launch)",
                             field="origin")
        if isinstance(origin, dt.datetime):
            origin = origin.date()
        if not isinstance(origin, dt.date):
            raise InputError(f"origin must be a date, got {type(origin).__name__}", field="origin")
        s = (terms.inception - origin).days / DAYS_PER_YEAR
        e = s + terms.term_years
    else:
        raise InputError("window must be PolicyTerms or a (start_years, end_years) pair", field="terms")
    if not (math.isfinite(s) and math.isfinite(e)):
        raise InputError("window bounds must be finite", field="terms")
    if s < 0:
        raise InputError(f"the policy starts {-s:.3f} years before the exchange's launch (origin)", field="terms")
    if e <= s:
        raise InputError(f"window end {e:g} must be after its start {s:g}", field="terms")
    return s, e


def frequency_for_term(model, X_row, terms, *, origin: dt.date | None = None, method: str = "delta",
                       n_draws: int = 4000, seed: int = 0) -> FrequencyEstimate:
    """Expected breaches over a policy window and its parameter-uncertainty variance.

    Parameters
    ----------
    model : TimeToBreachModel
        Fitted (or loaded) model; time axis in years since launch.
    X_row : DataFrame (one row), Series or mapping
        The exchange's features at inception.
    terms : PolicyTerms or (start_years, end_years)
        The policy window. With ``PolicyTerms`` give ``origin`` (the launch date).
    method : {"delta", "draws"}
        Delta method (default) or ``n_draws`` parametric draws from N(θ̂, Σ) with ``seed``.

    Returns
    -------
    FrequencyEstimate
    """
    import pandas as pd

    if isinstance(X_row, dict):
        X_row = pd.DataFrame([X_row])
    elif isinstance(X_row, pd.Series):
        X_row = X_row.to_frame().T
    if hasattr(X_row, "shape") and len(X_row.shape) == 2 and X_row.shape[0] != 1:
        raise InputError(f"X_row must be one exchange (one row), got {X_row.shape[0]} rows", field="X_row")
    s, e = policy_window(terms, origin)
    A, sidx = model._prepare(X_row)
    st = model.state_
    window = np.array([[s, e]])
    check_follow_up(st, window, sidx)

    def lam_of(theta):
        H = cumulative_hazard(st, A, window, sidx, theta)
        return float(H[0, 1] - H[0, 0])

    lam = lam_of(None)
    theta = st.theta
    cov = st.covariance
    note = "; Breslow baseline treated as known" if st.family == "coxph" else ""
    if method == "delta":
        grad = np.empty(theta.shape[0])
        for j in range(theta.shape[0]):
            h = 1e-5 * max(1.0, abs(theta[j]))
            tp, tm = theta.copy(), theta.copy()
            tp[j] += h
            tm[j] -= h
            grad[j] = (lam_of(tp) - lam_of(tm)) / (2 * h)
        var = float(max(grad @ cov @ grad, 0.0))
        how = f"{st.family}: delta method on the parameter covariance{note}"
    elif method == "draws":
        if int(n_draws) < 2:
            raise InputError("n_draws must be >= 2", field="n_draws")
        rng = np.random.default_rng(seed)
        draws = rng.multivariate_normal(theta, cov, size=int(n_draws), method="eigh")
        lams = np.array([lam_of(t) for t in draws])
        var = float(np.var(lams, ddof=1))
        how = f"{st.family}: {int(n_draws)} parametric draws (seed {seed}){note}"
    else:
        raise InputError(f"method must be 'delta' or 'draws', got {method!r}", field="method")
    return FrequencyEstimate(expected_breaches=lam, variance_of_lambda=var, p_at_least_one=-math.expm1(-lam),
                             start_years=s, end_years=e, method=how, annual_rate=lam / (e - s))
