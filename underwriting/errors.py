"""Error types shared by the whole package.

User mistakes raise :class:`InputError` (exit code 2 at the CLI, no traceback); anything
else that escapes is an internal error (exit code 1).
"""

from __future__ import annotations


class UnderwritingError(Exception):
    """Base class of the package's own errors."""


class InputError(UnderwritingError, ValueError):
    """Invalid user input: a file, a field or an argument.

    Parameters
    ----------
    message : str
        What is wrong, in words a user can act on.
    field : str, optional
        Dotted path of the offending field (e.g. ``exposure.customer_assets.hot``).
    source : str, optional
        Where the input came from (a file path or ``"--limit"``).
    """

    def __init__(self, message: str, *, field: str | None = None, source: str | None = None):
        self.message = message
        self.field = field
        self.source = source
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        what = f"{self.field}: " if self.field else ""
        return f"{where}{what}{self.message}"


class ModelIntegrityError(UnderwritingError):
    """A model artifact is missing, tampered with, or of an unknown format."""
