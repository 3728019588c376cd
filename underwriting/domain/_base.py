"""Shared pydantic configuration and field types."""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import typing
from typing import Annotated, Any, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo, field_validator
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

    @field_validator("*", mode="before")
    @classmethod
    def _dates_are_not_numbers(cls, v: Any, info: ValidationInfo) -> Any:
        # pydantic reads a number (or a string of digits) as Unix time: ``0`` became 1970-01-01 unnoticed
        if (isinstance(v, int | float) and not isinstance(v, bool)) or (isinstance(v, str) and _NUMERIC.match(v)):
            if info.field_name and _takes_date(cls, info.field_name):
                raise ValueError(f"a date must be written as YYYY-MM-DD, got the number {v!r} "
                                 "(it would be read as seconds since 1970-01-01)")
        return v

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


_NUMERIC = re.compile(r"^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$")


def _has_date(tp: Any) -> bool:
    if tp in (dt.date, dt.datetime):
        return True
    return any(_has_date(a) for a in typing.get_args(tp))


@functools.cache
def _takes_date_cached(cls: type, name: str) -> bool:
    f = cls.model_fields.get(name)
    return f is not None and _has_date(f.annotation)


def _takes_date(cls: type, name: str) -> bool:
    """Whether field ``name`` of model ``cls`` accepts a date (alone or in a union)."""
    return _takes_date_cached(cls, name)


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
