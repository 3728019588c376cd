"""The model registry: versioned, hash-checked, plain-data model folders and their default pointers.

Layout of a registry (the shipped one is ``models/``; any folder can be one)::

    <root>/<name>/DEFAULT                 the default version (one line), replaced atomically
    <root>/<name>/history.jsonl           append-only log of promotions {timestamp, name, from, to, ...}
    <root>/<name>/<version>/manifest.json every other file of the version with its SHA-256 and size,
                                          the training-data fingerprint, seed, configuration,
                                          metrics, library versions, build facts
    <root>/<name>/<version>/...           plain-data artifacts (JSON, Parquet, npz) and MODEL_CARD.md

A *model kind* is just a name with a loader: :data:`KINDS` maps ``risk_scorer`` and ``survival``
to ``"module:function"`` strings called with the version folder (imported lazily, so this module
stays at the bottom layer). :func:`register_kind` adds one.

Safety
    :meth:`Registry.verify` refuses a version whose manifest is missing or unreadable, whose files
    differ in size or SHA-256 from the manifest, which holds a file the manifest does not list, or
    any file type that could execute code on load (pickle, joblib, npy with objects...): loading
    raises :class:`~underwriting.errors.ModelIntegrityError` naming the file, before any loader runs.
    Library versions recorded at training that differ (major.minor) from the installed ones are
    reported as a :class:`ModelVersionWarning`.
Atomicity
    A version is built in a hidden staging folder inside ``<root>/<name>/`` and renamed into place
    in one ``os.rename`` (:meth:`Registry.stage`); the DEFAULT pointer is written to a temporary
    file, fsynced and ``os.replace``-d. Killing the process at any moment leaves either the old or
    the new state. Writers hold an advisory lock (``flock`` on the registry folder).
Selecting versions
    The registry root is ``UNDERWRITING_REGISTRY`` when set, else the shipped ``models/``.
    :func:`pinned` overrides the default of some models in memory (used to reproduce a quote with
    the versions that made it); :func:`resolve` honours pins, then ``DEFAULT``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import hashlib
import importlib
import json
import os
import re
import shutil
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from underwriting.errors import InputError, ModelIntegrityError
from underwriting.fileio import canonical_json

MANIFEST = "manifest.json"
DEFAULT_FILE = "DEFAULT"
HISTORY_FILE = "history.jsonl"
MANIFEST_FORMAT = "underwriting.registry.manifest"
MANIFEST_FORMAT_VERSION = 1
#: Manifest blocks left out of the reproducibility comparison (timestamps, git state, host).
NON_REPRODUCIBLE_KEYS = ("build",)
#: File types a version may hold: plain data only.
ALLOWED_SUFFIXES = (".json", ".parquet", ".npz", ".md", ".csv", ".txt", ".png")
#: Libraries whose version drift is reported when a model is loaded.
KEY_LIBRARIES = ("numpy", "scikit-learn", "lifelines", "pandas")
ENV_ROOT = "UNDERWRITING_REGISTRY"
#: Test hook: ``UNDERWRITING_TEST_PAUSE_AT=<point>`` makes the writer touch
#: ``UNDERWRITING_TEST_PAUSE_FILE`` and sleep at that point (points: ``stage``, ``publish``,
#: ``promote``), so a test can kill it mid-write.
ENV_PAUSE_AT = "UNDERWRITING_TEST_PAUSE_AT"
ENV_PAUSE_FILE = "UNDERWRITING_TEST_PAUSE_FILE"

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_VERSION_RE = re.compile(r"^(\d{1,6})\.(\d{1,6})\.(\d{1,6})(?:[-+]([0-9A-Za-z.]{1,32}))?$")


class ModelVersionWarning(UserWarning):
    """A model was trained with other versions of key libraries than the ones installed."""


@dataclass(frozen=True)
class Kind:
    """A model kind: how to load a version folder.

    Attributes
    ----------
    loader : str
        ``"module:function"``; the function takes the version folder and returns the model.
    description : str
    """

    loader: str
    description: str = ""


#: Model kinds known to the registry (model name -> kind). A model's name is its kind.
KINDS: dict[str, Kind] = {
    "risk_scorer": Kind("underwriting.lifecycle.loaders:load_risk_scorer",
                        "calibrated P(breach within the horizon) (scorer.json)"),
    "survival": Kind("underwriting.lifecycle.loaders:load_survival",
                     "time to breach (underwriting.survival plain-data folder)"),
}


def register_kind(name: str, loader: str, description: str = "") -> None:
    """Register a model kind: ``loader`` is ``"module:function"`` taking the version folder."""
    check_name(name)
    if ":" not in loader:
        raise InputError("loader must be 'module:function'", field="loader")
    KINDS[name] = Kind(loader, description)


# --------------------------------------------------------------------------- names and versions


def check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InputError(f"{name!r} is not a model name (lower-case letters, digits, _)", field="--name")
    return name


def check_version(version: str) -> str:
    if not isinstance(version, str) or not _VERSION_RE.match(version):
        raise InputError(f"{version!r} is not a version (MAJOR.MINOR.PATCH, e.g. 0.2.0)", field="version")
    return version


def version_key(version: str) -> tuple:
    m = _VERSION_RE.match(version)
    if not m:
        return (-1, -1, -1, version)
    return (int(m[1]), int(m[2]), int(m[3]), m[4] is None, m[4] or "")


def split_recorded(recorded: str) -> tuple[str, str | None]:
    """``"0.2.0@ab12cd34ef56"`` -> ``("0.2.0", "ab12cd34ef56")`` (as quotes record versions)."""
    v, _, sha = str(recorded).partition("@")
    return v, (sha or None)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def _pause(point: str) -> None:
    if os.environ.get(ENV_PAUSE_AT) == point:
        import time

        flag = os.environ.get(ENV_PAUSE_FILE)
        if flag:
            Path(flag).write_text(point, encoding="utf-8")
        time.sleep(float(os.environ.get("UNDERWRITING_TEST_PAUSE_SECONDS", "60")))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------- pins


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
    return dict(_PINS.get() or {})


def default_root() -> Path:
    """``UNDERWRITING_REGISTRY`` if set, else the shipped ``models/`` folder."""
    env = os.environ.get(ENV_ROOT)
    if env:
        return Path(env)
    from underwriting.resources import models_root

    return models_root()


# --------------------------------------------------------------------------- the registry


_LOADED: dict[tuple[str, str], Any] = {}
_WARNED: set[tuple[str, str, str]] = set()


class Registry:
    """A model registry folder (see the module docstring).

    Parameters
    ----------
    root : path-like, optional
        The registry folder; default :func:`default_root`.
    """

    def __init__(self, root: str | os.PathLike[str] | None = None):
        self.root = Path(root) if root is not None else default_root()

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

    # ---- reading -------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Model names with at least one folder in the registry."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _NAME_RE.match(p.name))

    def versions(self, name: str) -> list[str]:
        """Published versions of ``name`` (staging folders and other entries ignored), oldest first."""
        d = self.root / check_name(name)
        if not d.is_dir():
            return []
        return sorted((p.name for p in d.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)), key=version_key)

    def path(self, name: str, version: str) -> Path:
        return self.root / check_name(name) / check_version(version)

    def has(self, name: str, version: str) -> bool:
        return (self.path(name, version) / MANIFEST).is_file()

    def default(self, name: str) -> str | None:
        """The default version of ``name`` (its ``DEFAULT`` file), or None when there is none."""
        p = self.root / check_name(name) / DEFAULT_FILE
        try:
            text = p.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelIntegrityError(f"{p}: unreadable default pointer ({exc})") from None
        if not _VERSION_RE.match(text):
            raise ModelIntegrityError(f"{p}: default pointer holds {text[:40]!r}, not a version")
        return text

    def resolve(self, name: str, version: str | None = None) -> str:
        """``version`` if given, else the pinned version (:func:`pinned`), else the default."""
        if version is not None:
            return check_version(version)
        pin = (_PINS.get() or {}).get(name)
        if pin is not None:
            return pin
        d = self.default(name)
        if d is None:
            have = self.versions(name)
            raise ModelIntegrityError(
                f"{self.root / name}: no default version of {name!r} "
                + (f"(versions: {', '.join(have)}; run `underwriting promote VERSION --name {name}`)" if have
                   else "(no versions: run `underwriting train`)"))
        return d

    def history(self, name: str) -> list[dict[str, Any]]:
        """Promotion log of ``name``, oldest first (a torn last line is skipped)."""
        p = self.root / check_name(name) / HISTORY_FILE
        if not p.is_file():
            return []
        out = []
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out

    def read_manifest(self, name: str, version: str) -> dict[str, Any]:
        """The manifest of a version, parsed and checked for format (file hashes not checked)."""
        d = self.path(name, version)
        mp = d / MANIFEST
        if not d.is_dir():
            raise ModelIntegrityError(f"{d}: version {version} of {name!r} is not in the registry {self.root} "
                                      f"(versions: {', '.join(self.versions(name)) or 'none'})")
        if not mp.is_file():
            raise ModelIntegrityError(f"{mp}: missing manifest (incomplete or foreign folder): refused")
        try:
            text = mp.read_text(encoding="utf-8")
            doc = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelIntegrityError(f"{mp}: unreadable manifest ({exc}): refused") from None
        if isinstance(doc, dict) and (doc.get("manifest_sha256") != _manifest_digest(doc) or text != canonical_json(doc)):
            raise ModelIntegrityError(f"{mp}: manifest altered (its SHA-256 or canonical form does not match): refused")
        if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
            raise ModelIntegrityError(f"{mp}: not a registry manifest (format "
                                      f"{doc.get('format') if isinstance(doc, dict) else None!r})")
        if doc.get("format_version") != MANIFEST_FORMAT_VERSION:
            raise ModelIntegrityError(f"{mp}: manifest format_version {doc.get('format_version')!r} is not "
                                      f"supported (this version reads {MANIFEST_FORMAT_VERSION})")
        if doc.get("name") != name or doc.get("version") != version:
            raise ModelIntegrityError(f"{mp}: manifest says {doc.get('name')!r} {doc.get('version')!r}, "
                                      f"but the folder is {name} {version}")
        if not isinstance(doc.get("files"), dict) or not doc["files"]:
            raise ModelIntegrityError(f"{mp}: manifest lists no files")
        return doc

    def verify(self, name: str, version: str) -> dict[str, Any]:
        """Check every file of a version against its manifest; return the manifest.

        Raises
        ------
        ModelIntegrityError
            Naming the file: missing, truncated or altered (size or SHA-256), not listed in the
            manifest, or of a type that is not plain data.
        """
        d = self.path(name, version)
        doc = self.read_manifest(name, version)
        listed = set()
        for rel, meta in sorted(doc["files"].items()):
            rp = Path(rel)
            if rp.is_absolute() or ".." in rp.parts or rel != rp.as_posix() or rel == MANIFEST:
                raise ModelIntegrityError(f"{d / MANIFEST}: bad file entry {rel!r}")
            if rp.suffix.lower() not in ALLOWED_SUFFIXES:
                raise ModelIntegrityError(f"{d / rel}: file type {rp.suffix!r} is not plain data: refused")
            fp = d / rp
            if fp.is_symlink() or not fp.is_file():
                raise ModelIntegrityError(f"{fp}: missing (listed in the manifest)")
            size = fp.stat().st_size
            if not isinstance(meta, dict) or size != meta.get("bytes"):
                raise ModelIntegrityError(f"{fp}: {size} bytes, the manifest says {meta.get('bytes') if isinstance(meta, dict) else '?'} "
                                          "(truncated or altered): refused")
            if sha256_file(fp) != meta.get("sha256"):
                raise ModelIntegrityError(f"{fp}: SHA-256 does not match the manifest (file altered): refused")
            listed.add(rp.as_posix())
        for fp in sorted(d.rglob("*")):
            rel = fp.relative_to(d).as_posix()
            if fp.is_dir() and not fp.is_symlink():
                continue
            if rel != MANIFEST and rel not in listed:
                raise ModelIntegrityError(f"{fp}: unknown file (not in the manifest): refused")
        self._check_libraries(name, version, doc)
        return doc

    @staticmethod
    def _check_libraries(name: str, version: str, doc: dict[str, Any]) -> None:
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as installed

        recorded = (doc.get("environment") or {}).get("libraries") or {}
        for lib in KEY_LIBRARIES:
            was = recorded.get(lib)
            if not was:
                continue
            try:
                now = installed(lib)
            except PackageNotFoundError:
                now = "not installed"
            if was.split(".")[:2] != now.split(".")[:2] and (name, version, lib) not in _WARNED:
                _WARNED.add((name, version, lib))
                warnings.warn(f"{name} {version} was trained with {lib} {was}; {now} is installed "
                              "(predictions may differ slightly)", ModelVersionWarning, stacklevel=3)

    def load(self, name: str, version: str | None = None) -> Any:
        """Verify and load a version (default: :meth:`resolve`). The object carries
        ``registry_ = {"name", "version", "root", "manifest_sha256"}``; loads are cached per content."""
        version = self.resolve(name, version)
        kind = KINDS.get(name)
        if kind is None:
            raise ModelIntegrityError(f"{self.root / name}: unknown model kind {name!r} "
                                      f"(known: {', '.join(sorted(KINDS))}): refused")
        d = self.path(name, version)
        self.verify(name, version)
        msha = sha256_file(d / MANIFEST)
        key = (str(d.resolve()), msha)
        if key in _LOADED:
            return _LOADED[key]
        mod, _, fn = kind.loader.partition(":")
        obj = getattr(importlib.import_module(mod), fn)(d)
        try:
            obj.registry_ = {"name": name, "version": version, "root": str(self.root), "manifest_sha256": msha}
        except AttributeError:  # pragma: no cover - objects without a __dict__
            pass
        _LOADED[key] = obj
        return obj

    def describe(self, name: str | None = None) -> list[dict[str, Any]]:
        """One dict per version: name, version, default, status (ok / the integrity error), metrics."""
        rows = []
        for n in [name] if name else self.names():
            try:
                default = self.default(n)
            except ModelIntegrityError:
                default = None
            for v in self.versions(n):
                row: dict[str, Any] = {"name": n, "version": v, "default": v == default}
                try:
                    doc = self.verify(n, v)
                    row.update(status="ok", metrics=doc.get("metrics", {}).get("summary", {}),
                               data=(doc.get("data") or {}).get("description"),
                               created_at=(doc.get("build") or {}).get("created_at"))
                except ModelIntegrityError as exc:
                    row.update(status=f"refused: {exc}", metrics={})
                rows.append(row)
        return rows

    # ---- writing -------------------------------------------------------------------------------
    def check_root(self) -> None:
        """Refuse a registry path that is (or lies under) a file, without creating anything."""
        existing = next((q for q in (self.root, *self.root.parents) if q.exists()), None)
        if existing is not None and not existing.is_dir():
            raise InputError(f"registry {self.root}: {existing} is not a folder", field="--registry")

    def _writable(self) -> None:
        self.check_root()
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise InputError(f"registry {self.root} is read-only (e.g. the models shipped inside an installed "
                             f"package): pass --registry DIR or set {ENV_ROOT}", field="--registry")

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive advisory lock of the registry for writers."""
        import fcntl

        self._writable()
        fd = os.open(self.root, os.O_RDONLY)  # lock the folder itself: no lock file to ship
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def next_version(self, name: str, bump: str = "minor") -> str:
        """The version after the highest one of ``name`` (``0.1.0`` -> ``0.2.0``); ``0.1.0`` for a new name."""
        have = [v for v in self.versions(name) if _VERSION_RE.match(v)]
        if not have:
            return "0.1.0"
        m = _VERSION_RE.match(max(have, key=version_key))
        a, b, c = int(m[1]), int(m[2]), int(m[3])
        return {"major": f"{a + 1}.0.0", "minor": f"{a}.{b + 1}.0", "patch": f"{a}.{b}.{c + 1}"}[bump]

    @contextlib.contextmanager
    def stage(self, name: str, version: str, *, replace: bool = False) -> Iterator[Staging]:
        """Build a version in a staging folder; on success write the manifest and rename it into place.

        >>> with registry.stage("risk_scorer", "0.2.0") as st:   # doctest: +SKIP
        ...     save(scorer, st.dir / "scorer.json")
        ...     st.manifest.update(metrics=..., data=...)

        The version appears all at once or not at all. ``replace=True`` swaps out an existing
        version of the same number (used by ``make models``); the old folder is moved aside first,
        so a kill leaves the old or the new version, never a mix.
        """
        check_name(name)
        check_version(version)
        self._writable()
        parent = self.root / name
        parent.mkdir(parents=True, exist_ok=True)
        self._clean_stale(parent)
        if (parent / version).exists() and not replace:
            raise InputError(f"version {version} of {name!r} already exists in {self.root}", field="version")
        tmp = parent / f".staging-{version}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        st = Staging(dir=tmp, name=name, version=version)
        try:
            yield st
            _pause("stage")
            st.write_manifest()
            _fsync_dir(tmp)
            _pause("publish")
            with self.lock():
                target = parent / version
                if target.exists():
                    if not replace:
                        raise InputError(f"version {version} of {name!r} appeared in {self.root} meanwhile",
                                         field="version")
                    old = parent / f".replaced-{version}-{os.getpid()}"
                    os.rename(target, old)
                    os.rename(tmp, target)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    os.rename(tmp, target)
                _fsync_dir(parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @staticmethod
    def _clean_stale(parent: Path) -> None:
        """Remove staging folders left by killed writers (their process is gone)."""
        for p in parent.glob(".staging-*"):
            pid = p.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(p, ignore_errors=True)
        for p in parent.glob(".replaced-*"):
            ver = p.name[len(".replaced-"):].rsplit("-", 1)[0]
            pid = p.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not _alive(int(pid)):
                if (parent / ver).exists():
                    shutil.rmtree(p, ignore_errors=True)
                else:  # killed between the two renames: put the old version back
                    os.rename(p, parent / ver)

    def promote(self, name: str, version: str, *, note: str | None = None, action: str = "promote") -> dict[str, Any]:
        """Make ``version`` the default of ``name`` (after verifying it), atomically; log it.

        Returns the history entry ``{timestamp, name, action, from, to, note, manifest_sha256}``.
        """
        check_name(name)
        check_version(version)
        self.verify(name, version)  # never point the default at a broken or foreign version
        with self.lock():
            old = None
            with contextlib.suppress(ModelIntegrityError):
                old = self.default(name)
            p = self.root / name / DEFAULT_FILE
            tmp = p.with_name(f".{DEFAULT_FILE}.{os.getpid()}.tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(version + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            _pause("promote")
            os.replace(tmp, p)
            _fsync_dir(p.parent)
            entry = {"timestamp": _now(), "name": name, "action": action, "from": old, "to": version,
                     "manifest_sha256": sha256_file(self.path(name, version) / MANIFEST)}
            if note:
                entry["note"] = note
            with open(self.root / name / HISTORY_FILE, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(entry, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
        return entry

    def rollback(self, name: str) -> dict[str, Any]:
        """Make the default before the last promotion the default again.

        Rollbacks undo promotions in turn: promoting 0.2.0 then 0.3.0 and rolling back twice gives
        0.1.0 (a second rollback never re-instates the version the first one withdrew).
        """
        current = self.default(name)
        stack: list[str | None] = []  # defaults in force, replayed from the history
        for h in self.history(name):
            if h.get("action") == "rollback" and len(stack) > 1 and stack[-2] == h.get("to"):
                stack.pop()
            else:
                if not stack and h.get("from"):
                    stack.append(h["from"])
                stack.append(h.get("to"))
        if len(stack) < 2 or stack[-1] != current or not stack[-2]:
            raise InputError(f"no earlier default of {name!r} to roll back to (see its history.jsonl)",
                             field="--rollback")
        return self.promote(name, stack[-2], action="rollback")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Staging:
    """A version being built: write files into ``dir``; fill ``manifest`` (metrics, data, ...)."""

    dir: Path
    name: str
    version: str
    manifest: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.manifest is None:
            self.manifest = {}

    def write_manifest(self) -> Path:
        files = {}
        for fp in sorted(self.dir.rglob("*")):
            if fp.is_dir():
                continue
            rel = fp.relative_to(self.dir).as_posix()
            if rel == MANIFEST:
                continue
            if fp.suffix.lower() not in ALLOWED_SUFFIXES:
                raise ModelIntegrityError(f"{rel}: file type {fp.suffix!r} is not plain data (never pickle)")
            files[rel] = {"sha256": sha256_file(fp), "bytes": fp.stat().st_size}
        doc = {**self.manifest, "format": MANIFEST_FORMAT, "format_version": MANIFEST_FORMAT_VERSION,
               "name": self.name, "kind": self.name, "version": self.version, "files": files}
        doc.setdefault("environment", {"libraries": library_versions()})
        build = {"created_at": _now(), "git": git_revision(), **(doc.get("build") or {})}
        doc["build"] = build
        doc.pop("manifest_sha256", None)
        doc["manifest_sha256"] = _manifest_digest(doc)
        mp = self.dir / MANIFEST
        with open(mp, "w", encoding="utf-8") as fh:
            fh.write(canonical_json(doc))
            fh.flush()
            os.fsync(fh.fileno())
        return mp


def _manifest_digest(doc: dict[str, Any]) -> str:
    body = {k: v for k, v in doc.items() if k != "manifest_sha256"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def reproducible_view(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest without its non-reproducible blocks (timestamps, git state)."""
    return {k: v for k, v in manifest.items() if k not in NON_REPRODUCIBLE_KEYS + ("manifest_sha256",)}


# --------------------------------------------------------------------------- module-level helpers


def load_model(name: str, version: str | None = None, *, root: str | os.PathLike[str] | None = None) -> Any:
    """Verify and load ``name`` at ``version`` (default: pinned, else DEFAULT) from the registry."""
    return Registry(root).load(name, version)


def resolve(name: str, version: str | None = None, *, root: str | os.PathLike[str] | None = None) -> str:
    return Registry(root).resolve(name, version)
