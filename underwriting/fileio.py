"""Reading user files safely and writing files atomically.

Every user-supplied file goes through :func:`read_document`: the path must exist and be a
regular file under a size limit, the bytes must be UTF-8 and parse as JSON or TOML, nested at most
:data:`MAX_NESTING` deep (checked before parsing, so a deep document is an input error naming its
line and column, never a ``RecursionError``), with no duplicate key (JSON; TOML forbids them itself)
and no non-finite number (``NaN``, ``Infinity``, TOML ``nan``/``inf``, or a literal such as ``1e999``
that overflows a float), each named by its field path. Every file
the package writes goes through :func:`atomic_write` (temporary file in the same folder,
``fsync``, ``os.replace``), so an interrupted write never leaves a half-written file.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from underwriting.errors import InputError

#: Largest user document accepted, in bytes (a submission is a few kB; 5 MiB is generous).
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
#: Deepest nesting of arrays and tables accepted (a submission is 4 deep; Python's parsers recurse).
MAX_NESTING = 64


def read_text(path: str | os.PathLike[str], *, max_bytes: int = MAX_DOCUMENT_BYTES) -> str:
    """Read a user file as UTF-8 text, with clear errors.

    Parameters
    ----------
    path : path-like
        The file to read.
    max_bytes : int
        Size limit in bytes; larger files are refused.

    Returns
    -------
    str
        The decoded text.

    Raises
    ------
    InputError
        Missing path, a directory, a file over ``max_bytes``, an empty file or non-UTF-8 bytes.
    """
    p = Path(path)
    src = str(p)
    if not p.exists():
        raise InputError("no such file", source=src)
    if p.is_dir():
        raise InputError("is a directory, expected a file", source=src)
    if not p.is_file():
        raise InputError("is not a regular file", source=src)
    size = p.stat().st_size
    if size > max_bytes:
        raise InputError(f"file is {size:,} bytes, over the limit of {max_bytes:,} bytes", source=src)
    raw = p.read_bytes()
    if not raw.strip():
        raise InputError("file is empty", source=src)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"file is not valid UTF-8 (byte {exc.start}: {raw[exc.start:exc.start + 1]!r})", source=src
        ) from None


def parse_document(text: str, *, fmt: str, source: str) -> dict[str, Any]:
    """Parse JSON or TOML text into a mapping.

    Parameters
    ----------
    text : str
        Document text.
    fmt : {"json", "toml"}
        Format to parse.
    source : str
        Name used in error messages.
    """
    _check_nesting(text, fmt=fmt, source=source)
    if fmt == "json":
        try:
            data = json.loads(text, parse_constant=float, parse_int=_parse_int, object_pairs_hook=_no_duplicates)
        except _DuplicateKey as exc:
            exc.source = source
            hits = [m.start() for m in re.finditer(re.escape(json.dumps(exc.field)) + r"\s*:", text)]
            if len(hits) == 2:  # unambiguous: say where the second one is
                line = text.count("\n", 0, hits[1]) + 1
                col = hits[1] - (text.rfind("\n", 0, hits[1]) + 1) + 1
                exc.message += f" (second one at line {line}, column {col})"
            raise InputError(exc.message, field=exc.field, source=source) from None
        except json.JSONDecodeError as exc:
            raise InputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source=source) from None
        except RecursionError:  # pragma: no cover - guarded by _check_nesting
            raise InputError(f"nested more than {MAX_NESTING} deep", source=source) from None
    elif fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            hint = " (a duplicate key or table)" if "overwrite" in str(exc) else ""
            raise InputError(f"invalid TOML{hint}: {exc}", source=source) from None
        except ValueError as exc:  # Python's int() refuses literals over 4,300 digits
            m = re.search(rf"[0-9]{{{MAX_INT_DIGITS + 1},}}", text)
            at = ""
            if m:
                line = text.count("\n", 0, m.start()) + 1
                at = f" at line {line}, column {m.start() - (text.rfind(chr(10), 0, m.start()) + 1) + 1}"
            raise InputError(f"a whole number longer than {MAX_INT_DIGITS} digits{at} is not a plausible value "
                             f"({type(exc).__name__})", source=source) from None
        except RecursionError:  # pragma: no cover - guarded by _check_nesting
            raise InputError(f"nested more than {MAX_NESTING} deep", source=source) from None
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown format {fmt!r}")
    if not isinstance(data, dict):
        raise InputError(f"top level must be an object, got {type(data).__name__}", source=source)
    deep = _too_deep(data, MAX_NESTING)
    if deep is not None:
        raise InputError(f"nested more than {MAX_NESTING} deep (e.g. by dotted keys)", field=deep[:120],
                         source=source)
    bad = first_non_finite(data)
    if bad is not None:
        raise InputError(f"non-finite number ({bad[1]}) is not allowed: give a finite value", field=bad[0],
                         source=source)
    return data


#: Longest whole-number literal read as an integer; a longer one becomes a float (so its field is named as
#: non-finite when it overflows): Python refuses to parse integers over 4,300 digits with a ValueError.
MAX_INT_DIGITS = 400


def _parse_int(text: str) -> int | float:
    return int(text) if len(text) <= MAX_INT_DIGITS else float(text)


class _DuplicateKey(InputError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(f"duplicate key {k!r} in the same object (JSON would silently keep the last one)",
                                field=k)
        out[k] = v
    return out


def _check_nesting(text: str, *, fmt: str, source: str, limit: int | None = None) -> None:
    """Refuse text whose brackets nest deeper than ``limit`` (strings and, in TOML, comments skipped)."""
    limit = MAX_NESTING if limit is None else limit
    if text.count("[") + text.count("{") <= limit:
        return  # cannot nest deeper than the number of openers
    depth, quote, i, n = 0, "", 0, len(text)
    line, line_start = 1, 0
    while i < n:
        c = text[i]
        if c == "\n":
            line, line_start = line + 1, i + 1
        if quote:
            if c == "\\" and quote != "'":
                i += 2
                continue
            if c == quote:
                quote = ""
        elif c == '"' or (c == "'" and fmt == "toml"):
            quote = c
        elif c == "#" and fmt == "toml":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c in "[{":
            depth += 1
            if depth > limit:
                raise InputError(f"nested more than {limit} deep at line {line}, column {i - line_start + 1}",
                                 source=source)
        elif c in "]}":
            depth -= 1
        i += 1


def _too_deep(obj: Any, limit: int) -> str | None:
    """Path of the first container nested deeper than ``limit`` in a parsed document, else None."""
    stack = [("", obj, 0)]
    while stack:
        p, o, d = stack.pop()
        if d > limit:
            return p
        if isinstance(o, dict):
            stack.extend((f"{p}.{k}" if p else str(k), v, d + 1) for k, v in o.items() if isinstance(v, dict | list))
        elif isinstance(o, list):
            stack.extend((f"{p}[{i}]", v, d + 1) for i, v in enumerate(o) if isinstance(v, dict | list))
    return None


def first_non_finite(obj: Any, path: str = "") -> tuple[str, str] | None:
    """``(field path, repr)`` of the first NaN or infinite float in a parsed document, else None."""
    stack = [(path, obj)]
    while stack:
        p, o = stack.pop()
        if isinstance(o, float) and not math.isfinite(o):
            return p or "(top level)", repr(o)
        if isinstance(o, dict):
            stack.extend((f"{p}.{k}" if p else str(k), v) for k, v in reversed(list(o.items())))
        elif isinstance(o, list):
            stack.extend((f"{p}[{i}]", v) for i, v in reversed(list(enumerate(o))))
    return None


def read_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON (``.json``) or TOML (``.toml``) user document into a mapping."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in (".json", ".toml"):
        if p.exists() and p.is_dir():
            raise InputError("is a directory, expected a file", source=str(p))
        raise InputError(f"unsupported file type {suffix or '(none)'!r}; use .json or .toml", source=str(p))
    text = read_text(p)
    try:
        return parse_document(text, fmt=suffix[1:], source=str(p))
    except InputError as exc:
        if exc.source is None:
            exc.source = str(p)
        raise


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object], *,
                 mode: int | None = None) -> Path:
    """Write a file atomically: ``write(fh)`` fills a temporary file that then replaces ``path``.

    The one atomic write of the package. The temporary file lives in the target's folder, is named
    ``.<name>.<pid>.<random>.tmp`` (so a clean-up of a killed writer can read the process id), is
    flushed and ``fsync``-ed, then renamed over ``path`` with :func:`os.replace`. If ``write`` (or
    anything after it) raises, the temporary file is removed and ``path`` keeps its old content.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; missing parent folders are created.
    write : callable
        Called once with the temporary file opened for binary writing.
    mode : int, optional
        Permission bits of the new file (e.g. ``0o600`` for a private key). Default: what an
        ordinary ``open()`` would give (``0o666`` less the umask). The file never has wider bits
        than ``mode`` at any moment.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    try:
        if mode is None:
            # mkstemp creates 0600; give the file the permissions an ordinary open() would (0666 & ~umask)
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        if fd != -1:
            os.close(fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically; see :func:`atomic_write`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    return atomic_write(path, lambda fh: fh.write(data), mode=mode)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` atomically; see :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def canonical_json(obj: Any) -> str:
    """Serialise ``obj`` to deterministic JSON (sorted keys, fixed separators, newline at end)."""
    return json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
