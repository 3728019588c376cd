"""Argument helpers shared by the sub-commands (standard library only, safe at start-up)."""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from underwriting.errors import InputError

#: Plausible conversion rates, units per USD: from a currency worth a million dollars a unit to one a
#: billion units of which make a dollar (the weakest currencies trade at about a million per USD).
MIN_FX_RATE = 1e-6
MAX_FX_RATE = 1e9


class LazyHelp(str):
    """An argparse help text computed only when help is printed: ``LazyHelp("FAMILY:...", fn)``.

    Lets a sub-command list what a registry holds (severity families, premium principles) without
    importing the registry's heavy modules when the parser is built (start-up stays standard-library
    only). ``fn()`` gives the text; the plain string value is the fallback.
    """

    def __new__(cls, fallback: str, fn: Callable[[], str]) -> LazyHelp:
        obj = super().__new__(cls, fallback)
        obj._fn = fn
        return obj

    def __mod__(self, params: object) -> str:  # argparse expands help with ``help % params``
        return self._fn().replace("%", "%%") % params


#: Characters escaped in every text the CLI prints or writes: C0 controls except tab, newline and carriage
#: return (ESC starts terminal escape sequences, NUL truncates C strings), DEL and C1 controls (U+009B is a
#: one-byte CSI), and the Unicode bidirectional marks, embeddings, overrides and isolates (which reorder
#: what a reader sees: "Trojan Source", CVE-2021-42574).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
#: A run of this many non-space characters in a message is shortened (a 5,000-character file name or
#: number is named, not echoed).
_LONG_RUN = re.compile(r"\S{241,}")


@contextlib.contextmanager
def imports_frozen() -> Iterator[None]:
    """Import a command's heavy module graph with the cyclic garbage collector paused, then freeze it.

    Importing the quote's libraries (numpy, scipy, pandas, scikit-learn, pydantic schemas) builds about a
    million long-lived objects, and the collector walks them again and again while they are built: about
    150 ms of a first quote (three full collections; ``benchmarks/bench_quote.py``). None of them is ever
    garbage, so after the imports they go to the permanent generation (:func:`gc.freeze`) and later
    collections see only the command's own objects. Only the CLI does this, in a process it owns; the
    library and :mod:`underwriting.api` never change their caller's collector.
    """
    import gc

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def escape_controls(text: str) -> str:
    """``text`` with every unsafe character (see ``_UNSAFE``) written as ``\\uXXXX``.

    The escape is also a valid JSON string escape, so JSON output stays valid JSON and decodes to the
    same string; in plain text it shows the character instead of acting on the terminal."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def shorten_runs(text: str) -> str:
    """Shorten every run of more than 240 non-space characters to its start and end and its length
    (linear time), so an error message stays readable whatever the user gave."""
    return _LONG_RUN.sub(lambda m: f"{m.group()[:120]}...[{len(m.group()):,} characters]...{m.group()[-40:]}",
                         text)


class EscapingStream:
    """A text stream that writes through to ``inner`` with :func:`escape_controls` applied; every other
    attribute (``encoding``, ``fileno``, ``buffer``, ``isatty``...) is the inner stream's."""

    def __init__(self, inner: io.TextIOBase) -> None:
        self._inner = inner

    def write(self, s: str) -> int:
        """Write ``s`` escaped; return ``len(s)`` (what the caller asked to write)."""
        self._inner.write(escape_controls(s))
        return len(s)

    def writelines(self, lines: Iterable[str]) -> None:
        """Write each line escaped."""
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


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
        if not MIN_FX_RATE <= rate <= MAX_FX_RATE:
            raise InputError(f"rate {rate:g} per USD is outside the plausible range {MIN_FX_RATE:g} to {MAX_FX_RATE:g} "
                             "(a typing mistake; it would overflow converted amounts)", field="--fx")
        rates[cur.strip().upper()] = rate
    return rates


def _whole(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def seed_arg(text: str) -> int:
    """argparse type of ``--seed``: a whole number from 0 to 2**32 - 1 (what numpy and scikit-learn accept)."""
    v = _whole(text)
    if not 0 <= v < 2**32:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {2**32 - 1}, got {text!r}")
    return v


def n_jobs_arg(text: str) -> int:
    """argparse type of ``--n-jobs``: a positive number of workers, or negative as joblib counts (-1: all cores)."""
    v = _whole(text)
    if v == 0:
        raise argparse.ArgumentTypeError("must not be 0 (give a number of workers, or -1 for all cores)")
    return v


def input_paths(args: argparse.Namespace | None, *, skip: tuple[str, ...] = ("out", "report", "plot")) -> list[Path]:
    """Every existing file named by an argument of the command (its inputs), outputs excluded."""
    if args is None:
        return []
    out = []
    for key, val in vars(args).items():
        if key in skip or key.startswith("_"):
            continue
        for v in (val if isinstance(val, list | tuple) else [val]):
            if isinstance(v, str | os.PathLike) and str(v):
                with contextlib.suppress(OSError, ValueError):
                    if Path(v).is_file():
                        out.append(Path(v))
    return out


def check_output_file(path: str | None, option: str, args: argparse.Namespace | None = None,
                      inputs: Iterable[str | os.PathLike[str]] = ()) -> Path | None:
    """Refuse an output file path that cannot or must not be written, before any work is done.

    Refused, naming ``option``: a directory, anything that is not a regular file (a device, pipe or
    socket), a symbolic link to a file outside the link's own folder, a folder that cannot be written,
    and any input of the same command (the files named by ``args`` and ``inputs``), compared by
    resolved path and by inode (hard links). Returns the path to write (a symbolic link inside its
    folder is written through), or None when ``path`` is None.
    """
    if path is None:
        return None
    p = Path(path)
    if p.is_symlink():
        target = Path(os.path.realpath(p))
        if target.parent != Path(os.path.realpath(p.parent)):
            raise InputError(f"{p} is a symbolic link out of its folder (to {target}): refused", source=option)
        p = target
    if p.exists():
        mode = p.stat().st_mode
        if stat.S_ISDIR(mode):
            raise InputError("is a directory, expected a file name", source=option)
        if not stat.S_ISREG(mode):
            raise InputError(f"{path} is not a regular file (a device, pipe or socket): refused", source=option)
    parent = next((q for q in (p.parent, *p.parent.parents) if q.exists()), None)
    if parent is not None and not parent.is_dir():
        raise InputError(f"{parent} is not a directory", source=option)
    if parent is not None and not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {parent} (permission denied)", source=option)
    for q in [*input_paths(args), *map(Path, inputs)]:
        same = os.path.realpath(q) == os.path.realpath(p)
        if not same and p.exists() and q.exists():
            with contextlib.suppress(OSError):
                same = os.path.samefile(q, p)
        if same:
            raise InputError(f"{path} is also an input of this command ({q}): refusing to overwrite it",
                             source=option)
    return p


def check_output_dir(path: str | None, option: str) -> None:
    """Refuse an output folder path that exists as a file (or lies under one), before any work is done."""
    if path is None:
        return
    p = Path(path)
    existing = next((q for q in (p, *p.parents) if q.exists()), None)
    if existing is not None and not existing.is_dir():
        raise InputError("exists and is not a directory" if existing == p else f"{existing} is not a directory",
                         source=option)
    if existing is not None and not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {existing} (permission denied)", source=option)


def write_output(path: str, text: str, option: str, args: argparse.Namespace | None = None,
                 inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Write ``text`` to the user's ``path`` atomically (temporary file in the same folder, fsync,
    ``os.replace``) after :func:`check_output_file`; an OS refusal is an input error naming ``option``."""
    from underwriting.fileio import atomic_write_text

    target = check_output_file(path, option, args, inputs)
    try:
        atomic_write_text(target, escape_controls(text))
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}", source=option) from None


def write_output_bytes(path: str, data: bytes, option: str, args: argparse.Namespace | None = None) -> None:
    """:func:`write_output` for bytes (a PDF): atomic, never over an input; an OS refusal names ``option``."""
    from underwriting.fileio import atomic_write_bytes

    target = check_output_file(path, option, args)
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}", source=option) from None


def add_model_data_args(p: argparse.ArgumentParser) -> None:
    """``--data``, ``--config``, ``--name``, ``--registry`` and ``--n-boot``, shared by ``evaluate`` and ``compare``."""
    p.add_argument("--data", metavar="PATH", help="data folder or file, or a .toml book spec")
    p.add_argument("--config", metavar="CONFIG.toml", help="configuration with a [data] table")
    p.add_argument("--name", default="risk_scorer", help="model (default risk_scorer)")
    p.add_argument("--registry", metavar="DIR", help="registry folder (default: $UNDERWRITING_REGISTRY or models/)")
    p.add_argument("--n-boot", type=int, default=500, help="bootstrap resamples (default 500)")


def schedule_and_registry(args: argparse.Namespace) -> tuple[object | None, object | None]:
    """The ``--schedule FILE`` table and the ``--registry DIR`` registry a command was given (``None``
    where not given: the shipped schedule and the default registry)."""
    schedule = registry = None
    if getattr(args, "schedule", None):
        from underwriting.frequency.schedule import load_schedule

        schedule = load_schedule(args.schedule)
    if getattr(args, "registry", None):
        from underwriting.registry import Registry

        registry = Registry(args.registry)
    return schedule, registry
