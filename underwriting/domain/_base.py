"""Shared pydantic configuration and field types."""

from __future__ import annotations

import math
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic import Strict as StrictType

from underwriting.domain.vocabulary import MAX_AMOUNT
from underwriting.errors import InputError


class Strict(BaseModel):
    """Base model: unknown fields are rejected and instances are immutable.

    Numbers, booleans and integers are strict (see :data:`Amount`, :data:`Share`, :data:`Flag`,
    :data:`Count`): a quoted number or ``"true"`` is an error, not a silent fix. Dates are given as
    ISO strings (``"2026-09-30"``) in JSON, or as TOML dates.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, str_strip_whitespace=True,
                              validate_default=True)

    def with_(self, **changes: Any) -> Self:
        """A copy with some fields changed, validated again like a new object.

        Use this instead of ``model_copy(update=...)``, which skips every validator (it would accept
        a deductible above the limit). A bad change raises :class:`~underwriting.errors.InputError`
        naming the field.
        """
        from underwriting.domain.validation import validate_model

        unknown = sorted(set(changes) - set(type(self).model_fields))
        if unknown:
            raise InputError(f"unknown field(s) {unknown} for {type(self).__name__}", field=unknown[0])
        return validate_model(type(self), {**dict(self), **changes})


def _finite_nonneg(v: float) -> float:
    if isinstance(v, bool):
        raise ValueError("must be a number, not a boolean")
    if not math.isfinite(v):
        raise ValueError("must be a finite number")
    if v < 0:
        raise ValueError("must not be negative")
    if v > MAX_AMOUNT:
        raise ValueError(f"{v:.3g} is beyond any plausible amount (bound {MAX_AMOUNT:.0e} currency units, "
                         "above the whole crypto market's value; see domain.vocabulary.MAX_AMOUNT)")
    return float(v)


def _share(v: float) -> float:
    if not math.isfinite(v) or not 0.0 <= v <= 1.0:
        raise ValueError("must be a share between 0 and 1")
    return float(v)


#: A non-negative, finite amount of money (the currency is stated by the enclosing block).
Amount = Annotated[float, StrictType(), AfterValidator(_finite_nonneg)]
#: A share in [0, 1].
Share = Annotated[float, StrictType(), AfterValidator(_share)]
#: A strict boolean (``true``/``false`` only).
Flag = Annotated[bool, StrictType()]
#: A strict integer (no ``2.0``, no ``"2"``).
Count = Annotated[int, StrictType()]
