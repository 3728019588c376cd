"""Harrell's concordance index: a leaf module (numpy and lifelines only).

Both the estimator (its training ``concordance_`` and ``score``) and the validation metrics use it;
keeping it here means neither imports the other for it.
"""

from __future__ import annotations

import numpy as np

from underwriting.errors import InputError


def _arr(time, event, risk=None):
    t = np.asarray(time, dtype=float).reshape(-1)
    e = np.asarray(event).reshape(-1).astype(bool)
    if t.shape != e.shape:
        raise InputError("time and event have different lengths")
    if risk is None:
        return t, e
    r = np.asarray(risk, dtype=float)
    if r.shape[0] != t.shape[0]:
        raise InputError(f"risk has {r.shape[0]} rows but time has {t.shape[0]}")
    if not np.all(np.isfinite(r)):
        raise InputError("risk scores must be finite")
    return t, e, r


def concordance_index(time, event, risk) -> float:
    """Harrell's C: share of comparable pairs in which the higher risk breaches first (ties ½)."""
    from lifelines.utils import concordance_index as _ci

    t, e, r = _arr(time, event, risk)
    return float(_ci(t, -r, e))
