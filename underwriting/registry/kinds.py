"""Model names, versions and kinds.

A *model kind* is a name with a loader. The package that owns a kind registers it on import
(``register_kind("risk_scorer", load_fn)`` in :mod:`underwriting.scoring`, ``survival`` in
:mod:`underwriting.survival`), so this bottom layer names no module of a higher one.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from underwriting.errors import InputError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
VERSION_RE = re.compile(r"^(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:[-+]([0-9A-Za-z.]{1,32}))?$")


@dataclass(frozen=True)
class Kind:
    """A model kind: how to load a verified version folder.

    Attributes
    ----------
    loader : callable
        Takes the version folder (a :class:`pathlib.Path`) and returns the model.
    description : str
    """

    loader: Callable[[Path], Any]
    description: str = ""


#: Model kinds registered so far (model name -> kind). A model's name is its kind.
KINDS: dict[str, Kind] = {}


def register_kind(name: str, loader: Callable[[Path], Any], description: str = "") -> None:
    """Register a model kind; called by the package that owns the model, on import."""
    check_name(name)
    if not callable(loader):
        raise InputError("loader must be a callable taking the version folder", field="loader")
    KINDS[name] = Kind(loader, description)


def check_name(name: str) -> str:
    """``name`` if it is a model name (lower-case letters, digits, ``_``), else :class:`InputError`."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InputError(f"{name!r} is not a model name (lower-case letters, digits, _)", field="--name")
    return name


def check_version(version: str) -> str:
    """``version`` if it is ``MAJOR.MINOR.PATCH[-tag]``, else :class:`InputError`."""
    if not isinstance(version, str) or not VERSION_RE.match(version):
        raise InputError(f"{version!r} is not a version (MAJOR.MINOR.PATCH, e.g. 0.2.0)", field="version")
    return version


def version_key(version: str) -> tuple:
    """Sort key of a version string (numeric parts, releases after pre-releases)."""
    m = VERSION_RE.match(version)
    if not m:
        return (-1, -1, -1, version)
    return (int(m[1]), int(m[2]), int(m[3]), m[4] is None, m[4] or "")


def split_recorded(recorded: str) -> tuple[str, str | None]:
    """``"0.2.0@ab12cd34ef56"`` -> ``("0.2.0", "ab12cd34ef56")`` (as quotes record versions)."""
    v, _, sha = str(recorded).partition("@")
    return v, (sha or None)
