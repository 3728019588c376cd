"""Argument helpers shared by the sub-commands (standard library only, safe at start-up)."""

from __future__ import annotations

import math

from underwriting.errors import InputError


def parse_fx(items: list[str]) -> dict[str, float]:
    """Parse ``["JPY=150.2", ...]`` (units per USD) into ``{"JPY": 150.2}``.

    Raises
    ------
    InputError
        On ``--fx`` for a malformed item or a rate that is not a positive finite number.
    """
    rates: dict[str, float] = {}
    for item in items:
        cur, sep, val = item.partition("=")
        try:
            rate = float(val)
        except ValueError:
            rate = float("nan")
        if not sep or not cur.strip() or not math.isfinite(rate) or rate <= 0:
            raise InputError(f"expected CUR=RATE with a positive rate in units per USD (e.g. JPY=150), got {item!r}",
                             field="--fx")
        rates[cur.strip().upper()] = rate
    return rates
