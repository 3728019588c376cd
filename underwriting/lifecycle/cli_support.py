"""Shared helpers of the lifecycle CLI commands (kept out of ``cli/`` module level)."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator

from underwriting.errors import InputError, ModelIntegrityError


@contextlib.contextmanager
def integrity_errors_as_input() -> Iterator[None]:
    """A refused model artifact is a user-facing error (exit 2, the file named), not a crash."""
    try:
        yield
    except ModelIntegrityError as exc:
        raise InputError(f"model refused: {exc}") from None
    except FileNotFoundError as exc:
        raise InputError(str(exc)) from None


def print_json(obj) -> None:
    json.dump(obj, sys.stdout, indent=2, sort_keys=True, ensure_ascii=False, default=_default)
    sys.stdout.write("\n")


def _default(o):
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:  # pragma: no cover
        pass
    return str(o)


def fmt_interval(d: dict) -> str:
    return f"{d['estimate']:.4f} [{d['low']:.4f}, {d['high']:.4f}]"
