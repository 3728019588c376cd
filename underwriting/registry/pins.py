"""Version pins (reproducing a quote with the versions that made it) and the default registry root."""

from __future__ import annotations

import contextlib
import contextvars
import os
from collections.abc import Iterator
from pathlib import Path

from underwriting.registry.kinds import check_name, check_version

ENV_ROOT = "UNDERWRITING_REGISTRY"

_PINS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("underwriting_registry_pins", default=None)


@contextlib.contextmanager
def pinned(versions: dict[str, str] | None = None, **more: str) -> Iterator[dict[str, str]]:
    """Within the block, :func:`resolve` returns these versions instead of the defaults.

    >>> with pinned(risk_scorer="0.1.0"):   # doctest: +SKIP
    ...     quote = make_quote(sub, terms)
    """
    new = {**(_PINS.get() or {}), **(versions or {}), **more}
    for n, v in new.items():
        check_name(n)
        check_version(v)
    token = _PINS.set(new)
    try:
        yield new
    finally:
        _PINS.reset(token)


def current_pins() -> dict[str, str]:
    """The versions pinned in this context (name -> version)."""
    return dict(_PINS.get() or {})


def default_root() -> Path:
    """``UNDERWRITING_REGISTRY`` if set, else the shipped ``models/`` folder."""
    env = os.environ.get(ENV_ROOT)
    if env:
        return Path(env)
    from underwriting.resources import models_root

    return models_root()
