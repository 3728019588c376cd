"""What a manifest records about a build: file hashes, library versions, git state."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from underwriting.fileio import canonical_json

#: Manifest blocks left out of the reproducibility comparison (timestamps, git state, host).
NON_REPRODUCIBLE_KEYS = ("build",)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def manifest_digest(doc: dict[str, Any]) -> str:
    """SHA-256 of a manifest's canonical JSON without its ``manifest_sha256`` field."""
    body = {k: v for k, v in doc.items() if k != "manifest_sha256"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def reproducible_view(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its non-reproducible blocks (timestamps, git state)."""
    return {k: v for k, v in manifest.items() if k not in NON_REPRODUCIBLE_KEYS + ("manifest_sha256",)}


def library_versions() -> dict[str, str]:
    """Installed versions of Python and the libraries models depend on."""
    import platform
    from importlib.metadata import PackageNotFoundError, version

    from underwriting._version import __version__

    out = {"python": platform.python_version(), "underwriting": __version__}
    for pkg in ("numpy", "scipy", "pandas", "scikit-learn", "lifelines", "pyarrow", "joblib"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def git_revision(start: Path | None = None) -> dict[str, Any]:
    """``{"revision": sha or None, "dirty": bool or None}`` of the checkout holding ``start``."""
    import subprocess

    here = Path(start or Path(__file__).resolve().parent)
    try:
        rev = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip() != ""
        return {"revision": rev or None, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {"revision": None, "dirty": None}


def now() -> str:
    """The current UTC time, ISO 8601 to the second (``2026-11-21T18:47:51Z``)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
