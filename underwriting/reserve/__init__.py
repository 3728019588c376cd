"""Reserve engine: how much of a statutory liability reserve each insurance policy may replace.

Regimes are data (``underwriting/reserve/regimes/*.toml``: Japan, MiCA, Basel, Hong Kong, Dubai
VARA); the engine computes the requirement and its components (custody tiers), runs each regime's
policy tests, stacks the policies into a tower on each component without double counting, applies
the regime's cap last, and compares insurance with holding cash. ``jurisdictions.default_regime``
picks the regime for an exchange's jurisdiction.

Public API::

    from underwriting.reserve import assess, load_regime, bundled_regime_ids, ReserveAssessment
    a = assess(submission, [policy], "jp-fsa-2026", fx)
    a.to_dict(); a.to_table()
"""

from underwriting.reserve.assessment import PolicyCredit, ReserveAssessment, assess
from underwriting.reserve.regime import Regime, bundled_regime_ids, load_regime, validate_regime

__all__ = ["PolicyCredit", "Regime", "ReserveAssessment", "assess", "bundled_regime_ids", "load_regime",
           "validate_regime"]
