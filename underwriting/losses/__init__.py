"""Loss models: severity, frequency and aggregate (compound) distributions.

Everything here is in currency units (USD unless the caller says otherwise) and counts over
the policy term. Heavy imports (numpy, scipy) happen when a sub-module is imported, so import
the sub-modules directly::

    from underwriting.losses.severity import Lognormal, fit_severity
    from underwriting.losses.counts import Poisson
    from underwriting.losses.aggregate import Peril, compound
"""
