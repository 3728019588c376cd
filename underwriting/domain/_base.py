"""Shared pydantic configuration and field types."""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict


class Strict(BaseModel):
    """Base model: unknown fields are rejected, instances are immutable, no type coercion
    from strings to numbers (a typo or a quoted number is an error, not a silent fix)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, str_strip_whitespace=True,
                              validate_default=True)


def _finite_nonneg(v: float) -> float:
    if isinstance(v, bool):
        raise ValueError("must be a number, not a boolean")
    if not math.isfinite(v):
        raise ValueError("must be a finite number")
    if v < 0:
        raise ValueError("must not be negative")
    return float(v)


def _share(v: float) -> float:
    if not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise ValueError("must be a share between 0 and 1")
    return float(v)


#: A non-negative, finite amount of money (the currency is stated by the enclosing block).
Amount = Annotated[float, AfterValidator(_finite_nonneg)]
#: A share in [0, 1].
Share = Annotated[float, AfterValidator(_share)]
