"""Shared helpers of the feature transformers: input checks that fail with the field named."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

# DAYS_PER_YEAR (every age and window) is re-exported for the feature modules.
from underwriting.errors import InputError


def require_frame(X, columns: Sequence[str], *, what: str, table: str | None = None) -> pd.DataFrame:
    """Return ``X`` if it is a DataFrame holding ``columns``, else raise :class:`InputError`.

    ``what`` names the transformer in the message; ``table`` prefixes the field (``incidents.date``).
    """
    if not isinstance(X, pd.DataFrame):
        raise InputError(
            f"{what} needs a pandas DataFrame with columns {list(columns)}, got {type(X).__name__}",
            field=table,
        )
    missing = [c for c in columns if c not in X.columns]
    if missing:
        raise InputError(f"{what}: required column(s) missing: {missing}",
                         field=f"{table}.{missing[0]}" if table else missing[0])
    return X


def check_vocabulary(values: pd.Series, allowed: Iterable[str], *, field: str) -> None:
    """Raise :class:`InputError` naming ``field`` and the first value not in ``allowed``."""
    allowed = set(allowed)
    bad = ~values.isin(allowed)
    if bad.any():
        v = values[bad].iloc[0]
        raise InputError(f"unknown value {v!r}; expected one of {sorted(allowed)}", field=field)


def as_timestamps(values: pd.Series, *, field: str, allow_missing: bool = False) -> pd.Series:
    """Parse ``values`` as timestamps; a missing or unparsable date raises :class:`InputError`."""
    try:
        with warnings.catch_warnings():  # mixed inputs: pandas warns before raising or parsing one by one
            warnings.simplefilter("ignore", UserWarning)
            out = pd.to_datetime(values, errors="raise")
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a date ({exc})", field=field) from None
    if not allow_missing and out.isna().any():
        pos = int(np.flatnonzero(out.isna().to_numpy())[0])
        raise InputError(f"date is missing (row {pos})", field=field)
    return out


def as_amounts(values: pd.Series, *, field: str) -> np.ndarray:
    """Finite, non-negative float amounts, else :class:`InputError`."""
    try:
        a = pd.to_numeric(values, errors="raise").to_numpy(dtype=float)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a number ({exc})", field=field) from None
    bad = ~np.isfinite(a) | (a < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InputError(f"must be a finite, non-negative amount (row {pos}: {a[pos]!r})", field=field)
    return a
