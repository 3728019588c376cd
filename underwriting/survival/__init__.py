"""Survival layer: time to an exchange's next breach, and the frequency hand-off to pricing.

Public API
----------
TimeToBreachModel
    scikit-learn estimator (Cox, Weibull/log-normal/log-logistic AFT, piecewise exponential).
survival_target
    Build the structured-array target ``y`` (duration, event[, entry]).
save, load
    Plain-data persistence (JSON + Parquet, no pickle), bitwise-reproducible predictions.
frequency_for_term, FrequencyEstimate, policy_window
    Expected breaches over a policy window with a gamma-mixing variance (negative binomial).
metrics
    Concordance (Harrell, Uno), time-dependent AUC, Brier/IBS, calibration, cross-validation.
"""

from underwriting.registry.kinds import register_kind as _register_kind
from underwriting.survival._target import survival_target
from underwriting.survival.estimator import TimeToBreachModel
from underwriting.survival.frequency import FrequencyEstimate, frequency_for_term, policy_window
from underwriting.survival.persistence import load, save

_register_kind("survival", load, "time to breach (underwriting.survival plain-data folder)")

__all__ = ["FrequencyEstimate", "TimeToBreachModel", "frequency_for_term", "load", "policy_window",
           "save", "survival_target"]
