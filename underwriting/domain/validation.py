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


def format_validation_error(exc: ValidationError) -> tuple[str, str | None]:
    """Return ``(message, first_field)`` for a pydantic error: one line per problem."""
    lines = []
    first = None
    for err in exc.errors(include_url=False):
        loc = _path(err["loc"])
        msg = _FRIENDLY.get(err["type"], err["msg"])
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        if err["type"] not in ("missing", "extra_forbidden") and "input" in err and not isinstance(err["input"], dict | list):
            msg = f"{msg} (got {err['input']!r})"
        line = f"{loc}: {msg}" if loc else msg
        if line not in lines:
            lines.append(line)
        if first is None:
            first = loc or None
    return "; ".join(lines), first


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
