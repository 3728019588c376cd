"""Turning pydantic validation errors into one clear :class:`InputError`."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from underwriting.errors import InputError
from underwriting.fileio import read_document

M = TypeVar("M", bound=BaseModel)

_FRIENDLY = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field (not in the schema; check the spelling)",
}


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if not (isinstance(p, str) and p.startswith(("function-", "literal["))))


#: Most problems spelled out in one message; the rest are counted (a file with 50,000 unknown keys gets a
#: short message, not a 3 MB one).
MAX_LISTED_ERRORS = 20
#: Longest echo of an offending value in a message (characters of its ``repr``).
MAX_ECHO = 80


def _echo(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) or len(value) <= MAX_ECHO * 4 else repr(value[:MAX_ECHO * 4])
    return text if len(text) <= MAX_ECHO else f"{text[:MAX_ECHO - 20]}...{text[-12:]} ({len(text):,} characters)"


def format_validation_error(exc: ValidationError) -> tuple[str, str | None]:
    """Return ``(message, first_field)`` for a pydantic error: one clause per distinct problem, at most
    :data:`MAX_LISTED_ERRORS` of them and a count of the rest (linear in the number of errors)."""
    seen: dict[str, None] = {}
    first = None
    for err in exc.errors(include_url=False):
        loc = _path(err["loc"])
        msg = _FRIENDLY.get(err["type"], err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err and not isinstance(err["input"], dict | list):
            msg = f"{msg} (got {_echo(err['input'])})"
        seen.setdefault(f"{loc}: {msg}" if loc else msg)
        if first is None:
            first = loc or None
    lines = list(seen)
    shown = lines[:MAX_LISTED_ERRORS]
    if len(lines) > MAX_LISTED_ERRORS:
        shown.append(f"and {len(lines) - MAX_LISTED_ERRORS:,} more problem(s)")
    return "; ".join(shown), first


def validate_model(model: type[M], data: Any, *, source: str | None = None) -> M:
    """Validate ``data`` against ``model``, raising :class:`InputError` naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        msg, first = format_validation_error(exc)
        raise InputError(msg, source=source) from None


def read_validated(model: type[M], path: str) -> M:
    """Read a JSON/TOML file and validate it as ``model``."""
    return validate_model(model, read_document(path), source=str(path))
