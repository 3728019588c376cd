"""Severity families by name and :func:`make_severity` (user-specified severities).

``FAMILIES`` is the family registry itself (:data:`~underwriting.losses.severity.registry.FAMILY_REGISTRY`,
names and aliases); the built-in families register themselves in ``families`` and ``spliced``.
"""

from __future__ import annotations

import math

import numpy as np

from underwriting.errors import InputError
from underwriting.losses.severity import families as _families  # noqa: F401 - registers the built-in families
from underwriting.losses.severity import spliced as _spliced  # noqa: F401 - registers the spliced family
from underwriting.losses.severity.base import Severity
from underwriting.losses.severity.registry import FAMILY_REGISTRY, family_parameters

#: Family name (or alias) -> class: the registry (live).
FAMILIES: dict[str, type[Severity]] = FAMILY_REGISTRY


#: Largest plausible single loss a user-specified severity may reach at its 99.9% quantile (currency units).
MAX_LOSS = 1e30


def make_severity(family: str, **params: float) -> Severity:
    """Build a severity from a family name and its parameters.

    Raises
    ------
    InputError
        Unknown family, unknown or missing parameter, or an invalid value.
    """
    cls = FAMILIES.get(family.strip().lower())
    if cls is None:
        raise InputError(f"unknown severity distribution {family!r}; choose from {sorted(FAMILIES)}",
                         field="severity")
    names = list(family_parameters(cls.family))
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise InputError(f"unknown parameter(s) {unknown} for {cls.family}; expected {names}", field="severity")
    missing = [n for n in names if n not in params]
    if missing:
        raise InputError(f"missing parameter(s) {missing} for {cls.family}; expected {names}", field="severity")
    sev = cls(**params)
    with np.errstate(over="ignore", invalid="ignore"):
        q = float(sev.ppf(0.999))
    if not (math.isfinite(q) and q < MAX_LOSS):
        raise InputError(f"{cls.family} with {params} puts losses beyond {MAX_LOSS:.0e} currency units "
                         f"(99.9% quantile {q:.3g}); check the parameters' scale", field="severity")
    return sev


