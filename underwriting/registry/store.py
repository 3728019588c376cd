"""The registry store: versioned, hash-checked, signed plain-data model folders and their defaults.

Layout of a registry (the shipped one is ``models/``; any folder can be one)::

    <root>/<name>/DEFAULT                 the default version (one line), replaced atomically
    <root>/<name>/history.jsonl           hash chain of signed promotions (see registry.history)
    <root>/<name>/<version>/manifest.json every other file of the version with its SHA-256 and size,
                                          the training-data fingerprint, seed, configuration,
                                          metrics, library versions, build facts
    <root>/<name>/<version>/manifest.sig  Ed25519 signature of manifest.json (registry.signing)
    <root>/<name>/<version>/...           plain-data artifacts (JSON, Parquet, npz) and MODEL_CARD.md

Safety
    :meth:`Registry.verify` refuses a version whose manifest is missing, unreadable, unsigned or
    signed by a key outside the keyring, whose files differ in size or SHA-256 from the manifest,
    which holds a file the manifest does not list, or any file type that could execute code on load
    (pickle, joblib, npy with objects...): loading raises
    :class:`~underwriting.errors.ModelIntegrityError` naming what failed, before any loader runs.
    The default is the target of the last verified promotion in the signed history; ``DEFAULT`` must
    agree with it (or name its ``from`` version: a promotion killed between its two writes).
Atomicity
    A version is built in a hidden staging folder inside ``<root>/<name>/`` and renamed into place
    in one ``os.rename`` (:meth:`Registry.stage`). A promotion appends its signed history entry first
    (the commit), then replaces ``DEFAULT`` (temporary file, fsync, ``os.replace``). Writers hold an
    advisory lock (``flock`` on the registry folder).
"""

from __future__ import annotations

import errno
import functools
import hashlib
import json
import os
import stat
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

from underwriting.caches import register_cache
from underwriting.errors import ModelIntegrityError
from underwriting.fileio import canonical_json
from underwriting.registry import history as _history
from underwriting.registry import watermark as _watermark
from underwriting.registry.kinds import (
    KINDS,
    NAME_RE,
    VERSION_RE,
    check_name,
    check_version,
    version_key,
)
from underwriting.registry.pins import _PINS, default_root
from underwriting.registry.provenance import manifest_digest
from underwriting.registry.signing import (
    MANIFEST_TAG,
    SIGNATURE_FILE,
    Keyring,
    read_signature_doc,
)
from underwriting.registry.staging import (
    ALLOWED_SUFFIXES,
    MANIFEST,
    MANIFEST_FORMAT,
    MANIFEST_FORMAT_VERSION,
)
from underwriting.registry.writer import DEFAULT_FILE, HISTORY_FILE, RegistryWriter  # noqa: F401

#: Largest manifest read, in bytes (a manifest is a few kB).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
#: Libraries whose version drift is reported when a model is loaded.
KEY_LIBRARIES = ("numpy", "scikit-learn", "lifelines", "pandas")


class ModelVersionWarning(UserWarning):
    """A model was trained with other versions of key libraries than the ones installed."""


_LOADED: dict[tuple[str, str, str, str], Any] = register_cache({}, "registry.store._LOADED", static=True)
# (root, name, version, SHA-256 of the verified manifest bytes)
_LOAD_LOCK = threading.Lock()
_WARNED: set[tuple[str, str, str]] = set()


class _TooLarge(OSError):
    def __init__(self, size: int):
        super().__init__(f"{size} bytes")
        self.size = size


class _NotRegular(OSError):
    pass


def _read_once(path: Path, limit: int) -> bytes:
    """The bytes of regular file ``path`` (a symlink is refused, not followed), read through one open
    file descriptor; :class:`_TooLarge` if it holds more than ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _NotRegular(f"{path}: a symbolic link") from None
        raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _NotRegular(f"{path}: not a regular file")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise _TooLarge(max(total, st.st_size))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _load_snapshot(loader, files: dict[str, bytes]) -> Any:
    """Run ``loader`` on a private copy (a fresh 0700 temporary folder) of the verified bytes, so the
    loader parses exactly the bytes whose hashes were checked, whatever happens to the registry meanwhile."""
    with tempfile.TemporaryDirectory(prefix="uw-model-") as tmp:
        base = Path(tmp)
        for rel, data in files.items():
            fp = base / rel
            fp.parent.mkdir(parents=True, exist_ok=True)
            fp.write_bytes(data)
        return loader(base)


class Registry(RegistryWriter):
    """A model registry folder (see the module docstring).

    Parameters
    ----------
    root : path-like, optional
        The registry folder; default :func:`~underwriting.registry.pins.default_root`.
    keyring : Keyring, optional
        Trusted public keys; default the release key shipped in the package plus the user's
        trusted keys (read at each check, so ``underwriting keys trust`` takes effect at once).
    """

    def __init__(self, root: str | os.PathLike[str] | None = None, keyring: Keyring | None = None):
        self.root = Path(root) if root is not None else default_root()
        self.keyring = keyring

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

    def _keys(self) -> Keyring:
        return self.keyring if self.keyring is not None else Keyring.default()

    # ---- reading -------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Model names with at least one folder in the registry."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and NAME_RE.match(p.name))

    def versions(self, name: str) -> list[str]:
        """Published versions of ``name`` (staging folders and other entries ignored), oldest first."""
        d = self.root / check_name(name)
        if not d.is_dir():
            return []
        return sorted((p.name for p in d.iterdir() if p.is_dir() and VERSION_RE.match(p.name)), key=version_key)

    def path(self, name: str, version: str) -> Path:
        return self.root / check_name(name) / check_version(version)

    def has(self, name: str, version: str) -> bool:
        return (self.path(name, version) / MANIFEST).is_file()

    def _pointer(self, name: str) -> str | None:
        p = self.root / check_name(name) / DEFAULT_FILE
        try:
            text = p.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelIntegrityError(f"{p}: unreadable default pointer ({exc})") from None
        if not VERSION_RE.match(text):
            raise ModelIntegrityError(f"{p}: default pointer holds {text[:40]!r}, not a version")
        return text

    def chain(self, name: str) -> _history.Chain:
        """The verified promotions of ``name`` and the problems met (see :mod:`underwriting.registry.history`)."""
        return _history.read_chain(self.root / check_name(name) / HISTORY_FILE, name, self._keys())

    def default(self, name: str) -> str | None:
        """The default version of ``name``: the target of its last verified promotion.

        Raises
        ------
        ModelIntegrityError
            ``DEFAULT`` unreadable, not backed by a signed promotion, or naming another version than
            the last verified promotion (an edited pointer or history); or a signed history older than,
            or different from, the one seen before (a rollback, :mod:`~underwriting.registry.watermark`).
        """
        text = self._pointer(name)
        chain = self.chain(name)
        p = self.root / name / DEFAULT_FILE
        if not chain.entries:
            if text is None:
                _watermark.check(self.root, name, chain.hashes, None)
                return None
            raise ModelIntegrityError(f"{p}: names {text}, but history.jsonl holds no verified signed promotion "
                                      f"({'; '.join(chain.problems[:2]) or 'no history'}): refused")
        last = chain.entries[-1]
        if text is None or text == last.get("to") or text == last.get("from"):
            _watermark.check(self.root, name, chain.hashes, last.get("to"))
            return last["to"]  # equal to ``from``: a promotion killed after its history entry, before DEFAULT
        raise ModelIntegrityError(f"{p}: names {text}, but the last signed promotion in history.jsonl is to "
                                  f"{last.get('to')} (pointer or history edited): refused")

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
        """Verified promotions of ``name``, oldest first (unverified lines are left out)."""
        return self.chain(name).entries

    def read_manifest(self, name: str, version: str) -> dict[str, Any]:
        """The manifest of a version, parsed, checked for format and signature (file hashes not checked)."""
        return self._read_manifest(name, version)[0]

    def _read_manifest(self, name: str, version: str) -> tuple[dict[str, Any], bytes]:
        """``(manifest, its bytes)``: the file is read once; the signature is checked on those bytes and
        the same bytes are parsed (a file flipped between the check and the parse cannot slip through)."""
        d = self.path(name, version)
        mp = d / MANIFEST
        if not d.is_dir():
            raise ModelIntegrityError(f"{d}: version {version} of {name!r} is not in the registry {self.root} "
                                      f"(versions: {', '.join(self.versions(name)) or 'none'})")
        try:
            raw = _read_once(mp, MAX_MANIFEST_BYTES)
        except FileNotFoundError:
            raise ModelIntegrityError(f"{mp}: missing manifest (incomplete or foreign folder): refused") from None
        except _TooLarge:
            raise ModelIntegrityError(f"{mp}: manifest over {MAX_MANIFEST_BYTES} bytes: refused") from None
        except OSError as exc:
            raise ModelIntegrityError(f"{mp}: unreadable manifest ({exc}): refused") from None
        try:
            text = raw.decode("utf-8")
            doc = json.loads(text)
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ModelIntegrityError(f"{mp}: unreadable manifest ({exc}): refused") from None
        if isinstance(doc, dict) and (doc.get("manifest_sha256") != manifest_digest(doc) or text != canonical_json(doc)):
            raise ModelIntegrityError(f"{mp}: manifest altered (its SHA-256 or canonical form does not match): refused")
        sig = read_signature_doc(d / SIGNATURE_FILE)
        signed_at = (doc.get("build") or {}).get("created_at") if isinstance(doc, dict) and isinstance(
            doc.get("build"), dict) else None
        self._keys().verify(MANIFEST_TAG, raw, sig.get("key_id"), sig.get("signature"),
                            what=f"{mp}: Ed25519 signature ({SIGNATURE_FILE})", signed_at=signed_at)
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
        return doc, raw

    def verify(self, name: str, version: str) -> dict[str, Any]:
        """Check a version's signature and every file against its manifest; return the manifest.

        Raises
        ------
        ModelIntegrityError
            Naming what failed: the manifest's signature (missing, untrusted key, mismatch), or a
            file missing, truncated or altered (size or SHA-256), not listed in the manifest, or of a
            type that is not plain data.
        """
        doc, _ = self._read_manifest(name, version)
        self._verify_files(name, version, doc)
        return doc

    def _verify_files(self, name: str, version: str, doc: dict[str, Any]) -> dict[str, bytes]:
        """Read every listed file once (no symlinks followed), check its size and SHA-256 on the bytes
        read, and return those bytes by relative path: what is loaded is what was checked."""
        d = self.path(name, version)
        out: dict[str, bytes] = {}
        for rel, meta in sorted(doc["files"].items()):
            rp = Path(rel)
            if rp.is_absolute() or ".." in rp.parts or rel != rp.as_posix() or rel in (MANIFEST, SIGNATURE_FILE):
                raise ModelIntegrityError(f"{d / MANIFEST}: bad file entry {rel!r}")
            if rp.suffix.lower() not in ALLOWED_SUFFIXES:
                raise ModelIntegrityError(f"{d / rel}: file type {rp.suffix!r} is not plain data: refused")
            fp = d / rp
            want = meta.get("bytes") if isinstance(meta, dict) else None
            try:
                data = _read_once(fp, want if isinstance(want, int) and want >= 0 else 0)
            except (FileNotFoundError, IsADirectoryError, _NotRegular):
                raise ModelIntegrityError(f"{fp}: missing (listed in the manifest)") from None
            except _TooLarge as exc:
                raise ModelIntegrityError(f"{fp}: {exc.size} bytes, the manifest says {want if want is not None else '?'} "
                                          "(truncated or altered): refused") from None
            except OSError as exc:
                raise ModelIntegrityError(f"{fp}: unreadable ({exc.strerror or exc}): refused") from None
            if len(data) != want:
                raise ModelIntegrityError(f"{fp}: {len(data)} bytes, the manifest says {want if want is not None else '?'} "
                                          "(truncated or altered): refused")
            if hashlib.sha256(data).hexdigest() != meta.get("sha256"):
                raise ModelIntegrityError(f"{fp}: SHA-256 does not match the manifest (file altered): refused")
            out[rp.as_posix()] = data
        for fp in sorted(d.rglob("*")):
            rel = fp.relative_to(d).as_posix()
            if fp.is_dir() and not fp.is_symlink():
                continue
            if rel not in (MANIFEST, SIGNATURE_FILE) and rel not in out:
                raise ModelIntegrityError(f"{fp}: unknown file (not in the manifest): refused")
        self._check_libraries(name, version, doc)
        return out

    @staticmethod
    def _check_libraries(name: str, version: str, doc: dict[str, Any]) -> None:
        recorded = (doc.get("environment") or {}).get("libraries") or {}
        for lib in KEY_LIBRARIES:
            was = recorded.get(lib)
            if not was:
                continue
            now = _installed_version(lib)
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
                                      f"(known: {', '.join(sorted(KINDS)) or 'none'}; a kind is registered when the package that owns it is imported): refused")
        doc, raw = self._read_manifest(name, version)
        files = self._verify_files(name, version, doc)
        msha = hashlib.sha256(raw).hexdigest()
        # keyed by the hash of the manifest bytes that were verified (which fix every file's hash), so a
        # cached object is always the one built from those verified bytes
        key = (str(self.root.resolve()), name, version, msha)
        with _LOAD_LOCK:
            if key in _LOADED:
                return _LOADED[key]
        obj = _load_snapshot(kind.loader, files)
        try:
            obj.registry_ = {"name": name, "version": version, "root": str(self.root), "manifest_sha256": msha}
        except AttributeError:  # pragma: no cover - objects without a __dict__
            pass
        with _LOAD_LOCK:
            return _LOADED.setdefault(key, obj)

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
                    sig = read_signature_doc(self.path(n, v) / SIGNATURE_FILE)
                    row.update(status="ok", signed_by=sig.get("key_id"),
                               metrics=doc.get("metrics", {}).get("summary", {}),
                               data=(doc.get("data") or {}).get("description"),
                               created_at=(doc.get("build") or {}).get("created_at"))
                except ModelIntegrityError as exc:
                    row.update(status=f"refused: {exc}", metrics={})
                rows.append(row)
        return rows




# --------------------------------------------------------------------------- module-level helpers


def load_model(name: str, version: str | None = None, *, root: str | os.PathLike[str] | None = None) -> Any:
    """Verify and load ``name`` at ``version`` (default: pinned, else DEFAULT) from the registry."""
    return Registry(root).load(name, version)


def resolve(name: str, version: str | None = None, *, root: str | os.PathLike[str] | None = None) -> str:
    return Registry(root).resolve(name, version)


@register_cache(static=True)
@functools.cache
def _installed_version(lib: str) -> str:
    """Installed version of ``lib`` (read once per process: installed packages do not change under a
    running process, and the metadata scan costs milliseconds on every verified load)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(lib)
    except PackageNotFoundError:
        return "not installed"
