"""Breach frequency over a policy term.

The fitted survival model (:mod:`underwriting.survival`) is the default; :mod:`.baseline` is a
transparent alternative kept by name (a base rate from the public record times documented posture
multipliers), used when asked for with ``--frequency-model baseline``.
"""
