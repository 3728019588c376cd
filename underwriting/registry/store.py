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

import contextlib
import json
import os
import shutil
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from underwriting.errors import InputError, ModelIntegrityError
from underwriting.fileio import canonical_json
from underwriting.registry import history as _history
from underwriting.registry.hooks import alive, fsync_dir, pause
from underwriting.registry.kinds import (
    KINDS,
    NAME_RE,
    VERSION_RE,
    check_name,
    check_version,
    version_key,
)
from underwriting.registry.pins import _PINS, ENV_ROOT, default_root
from underwriting.registry.provenance import (
    manifest_digest,
    now,
    sha256_file,
)
from underwriting.registry.signing import (
    MANIFEST_TAG,
    SIGNATURE_FILE,
    Keyring,
    SigningKey,
    read_signature_doc,
    signature_doc,
    signing_key,
)
from underwriting.registry.staging import (
    ALLOWED_SUFFIXES,
    MANIFEST,
    MANIFEST_FORMAT,
    MANIFEST_FORMAT_VERSION,
    Staging,
    write_json_atomic,
)

DEFAULT_FILE = "DEFAULT"
#: Largest manifest read, in bytes (a manifest is a few kB).
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
HISTORY_FILE = _history.HISTORY_FILE
#: Libraries whose version drift is reported when a model is loaded.
KEY_LIBRARIES = ("numpy", "scikit-learn", "lifelines", "pandas")


class ModelVersionWarning(UserWarning):
    """A model was trained with other versions of key libraries than the ones installed."""


_LOADED: dict[tuple[str, str], Any] = {}
_WARNED: set[tuple[str, str, str]] = set()


class Registry:
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
            the last verified promotion (an edited pointer or history).
        """
        text = self._pointer(name)
        chain = self.chain(name)
        p = self.root / name / DEFAULT_FILE
        if not chain.entries:
            if text is None:
                return None
            raise ModelIntegrityError(f"{p}: names {text}, but history.jsonl holds no verified signed promotion "
                                      f"({'; '.join(chain.problems[:2]) or 'no history'}): refused")
        last = chain.entries[-1]
        if text is None or text == last.get("to") or text == last.get("from"):
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
        d = self.path(name, version)
        mp = d / MANIFEST
        if not d.is_dir():
            raise ModelIntegrityError(f"{d}: version {version} of {name!r} is not in the registry {self.root} "
                                      f"(versions: {', '.join(self.versions(name)) or 'none'})")
        if not mp.is_file():
            raise ModelIntegrityError(f"{mp}: missing manifest (incomplete or foreign folder): refused")
        try:
            if mp.stat().st_size > MAX_MANIFEST_BYTES:
                raise ModelIntegrityError(f"{mp}: manifest over {MAX_MANIFEST_BYTES} bytes: refused")
            raw = mp.read_bytes()
            text = raw.decode("utf-8")
            doc = json.loads(text)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise ModelIntegrityError(f"{mp}: unreadable manifest ({exc}): refused") from None
        if isinstance(doc, dict) and (doc.get("manifest_sha256") != manifest_digest(doc) or text != canonical_json(doc)):
            raise ModelIntegrityError(f"{mp}: manifest altered (its SHA-256 or canonical form does not match): refused")
        sig = read_signature_doc(d / SIGNATURE_FILE)
        self._keys().verify(MANIFEST_TAG, raw, sig.get("key_id"), sig.get("signature"),
                            what=f"{mp}: Ed25519 signature ({SIGNATURE_FILE})")
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
        """Check a version's signature and every file against its manifest; return the manifest.

        Raises
        ------
        ModelIntegrityError
            Naming what failed: the manifest's signature (missing, untrusted key, mismatch), or a
            file missing, truncated or altered (size or SHA-256), not listed in the manifest, or of a
            type that is not plain data.
        """
        return self._verify_files(name, version, self.read_manifest(name, version))

    def _verify_files(self, name: str, version: str, doc: dict[str, Any]) -> dict[str, Any]:
        d = self.path(name, version)
        listed = set()
        for rel, meta in sorted(doc["files"].items()):
            rp = Path(rel)
            if rp.is_absolute() or ".." in rp.parts or rel != rp.as_posix() or rel in (MANIFEST, SIGNATURE_FILE):
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
            if rel not in (MANIFEST, SIGNATURE_FILE) and rel not in listed:
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
                                      f"(known: {', '.join(sorted(KINDS)) or 'none'}; a kind is registered when the package that owns it is imported): refused")
        d = self.path(name, version)
        self.verify(name, version)
        msha = sha256_file(d / MANIFEST)
        key = (str(d.resolve()), msha)
        if key in _LOADED:
            return _LOADED[key]
        obj = kind.loader(d)
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
                    sig = read_signature_doc(self.path(n, v) / SIGNATURE_FILE)
                    row.update(status="ok", signed_by=sig.get("key_id"),
                               metrics=doc.get("metrics", {}).get("summary", {}),
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

    def signer(self) -> SigningKey:
        """The writer's signing key, checked to be trusted by this registry's keyring (before any work)."""
        key = signing_key()
        if key.key_id not in self._keys():
            raise InputError(f"signing key {key.key_id} ({key.path}) is not trusted, so what it signs would be "
                             f"refused: run `underwriting keys trust {Path(key.path).with_suffix('.pub')}`",
                             field="signing key")
        return key

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
        have = [v for v in self.versions(name) if VERSION_RE.match(v)]
        if not have:
            return "0.1.0"
        m = VERSION_RE.match(max(have, key=version_key))
        a, b, c = int(m[1]), int(m[2]), int(m[3])
        return {"major": f"{a + 1}.0.0", "minor": f"{a}.{b + 1}.0", "patch": f"{a}.{b}.{c + 1}"}[bump]

    @contextlib.contextmanager
    def stage(self, name: str, version: str, *, replace: bool = False) -> Iterator[Staging]:
        """Build a version in a staging folder; on success write and sign the manifest and rename it into place.

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
        key = self.signer()
        parent = self.root / name
        parent.mkdir(parents=True, exist_ok=True)
        self._clean_stale(parent)
        if (parent / version).exists() and not replace:
            raise InputError(f"version {version} of {name!r} already exists in {self.root}", field="version")
        tmp = parent / f".staging-{version}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        st = Staging(dir=tmp, name=name, version=version, key=key)
        try:
            yield st
            pause("stage")
            st.write_manifest()
            fsync_dir(tmp)
            pause("publish")
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
                fsync_dir(parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @staticmethod
    def _clean_stale(parent: Path) -> None:
        """Remove staging folders left by killed writers (their process is gone)."""
        for p in parent.glob(".staging-*"):
            pid = p.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not alive(int(pid)):
                shutil.rmtree(p, ignore_errors=True)
        for p in parent.glob(".replaced-*"):
            ver = p.name[len(".replaced-"):].rsplit("-", 1)[0]
            pid = p.name.rsplit("-", 1)[-1]
            if pid.isdigit() and not alive(int(pid)):
                if (parent / ver).exists():
                    shutil.rmtree(p, ignore_errors=True)
                else:  # killed between the two renames: put the old version back
                    os.rename(p, parent / ver)
        for p in parent.glob(f".{DEFAULT_FILE}.*.tmp"):
            pid = p.name.split(".")[2]
            if pid.isdigit() and not alive(int(pid)):
                p.unlink(missing_ok=True)

    def _write_pointer(self, name: str, version: str) -> None:
        p = self.root / name / DEFAULT_FILE
        tmp = p.with_name(f".{DEFAULT_FILE}.{os.getpid()}.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(version + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
        fsync_dir(p.parent)

    def promote(self, name: str, version: str, *, note: str | None = None, action: str = "promote") -> dict[str, Any]:
        """Make ``version`` the default of ``name`` (after verifying it), atomically; log it.

        The signed history entry is appended first (it is the commit), then ``DEFAULT`` is replaced.
        Returns the entry ``{timestamp, name, action, from, to, note, manifest_sha256, prev, key_id,
        signature}``.
        """
        check_name(name)
        check_version(version)
        self.verify(name, version)  # never point the default at a broken, unsigned or foreign version
        key = self.signer()
        with self.lock():
            self._clean_stale(self.root / name)
            old = None
            with contextlib.suppress(ModelIntegrityError):
                old = self.default(name)
            entry = {"timestamp": now(), "name": name, "action": action, "from": old, "to": version,
                     "manifest_sha256": sha256_file(self.path(name, version) / MANIFEST)}
            if note:
                entry["note"] = note
            signed = _history.append(self.root / name / HISTORY_FILE, name, entry, key, self._keys())
            pause("promote")
            self._write_pointer(name, version)
        return signed

    def rollback(self, name: str) -> dict[str, Any]:
        """Make the default before the last promotion the default again (verified entries only).

        Rollbacks undo promotions in turn: promoting 0.2.0 then 0.3.0 and rolling back twice gives
        0.1.0 (a second rollback never re-instates the version the first one withdrew).
        """
        current = self.default(name)
        stack: list[str | None] = []  # defaults in force, replayed from the verified history
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

    def sign_all(self, name: str | None = None) -> list[str]:
        """Sign every version and re-sign the history of ``name`` (default: all) with the writer's key.

        Trust on first use, for registries made before signatures: each version's files must match its
        manifest's hashes, and the history entries are kept as they are (fields, order) but re-linked
        and signed. Returns one line per action. Only run it on a registry whose content you trust.
        """
        key = self.signer()
        done = []
        with self.lock():
            for n in [name] if name else self.names():
                for v in self.versions(n):
                    d = self.path(n, v)
                    mp = d / MANIFEST
                    if not mp.is_file():
                        raise ModelIntegrityError(f"{mp}: missing manifest: refused")
                    raw = mp.read_bytes()
                    try:
                        doc = json.loads(raw)
                    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
                        raise ModelIntegrityError(f"{mp}: unreadable manifest ({exc}): refused") from None
                    if not isinstance(doc, dict) or doc.get("manifest_sha256") != manifest_digest(doc) or raw.decode("utf-8") != canonical_json(doc):
                        raise ModelIntegrityError(f"{mp}: manifest altered: refused")
                    self._verify_files(n, v, doc)
                    write_json_atomic(d / SIGNATURE_FILE, signature_doc(key, raw))
                    done.append(f"signed {n} {v}")
                hp = self.root / n / HISTORY_FILE
                if hp.is_file():
                    entries = []
                    for line in hp.read_bytes().splitlines():
                        with contextlib.suppress(ValueError, RecursionError):
                            e = json.loads(line)
                            if isinstance(e, dict) and e.get("name") == n:
                                entries.append(e)
                    _history.rewrite(hp, entries, key)
                    done.append(f"signed {len(entries)} history entries of {n}")
                    pointer = self._pointer(n)
                    if entries and pointer != entries[-1].get("to"):
                        raise ModelIntegrityError(f"{self.root / n / DEFAULT_FILE}: names {pointer}, the history's "
                                                  f"last promotion is to {entries[-1].get('to')}: fix before signing")
        return done


# --------------------------------------------------------------------------- module-level helpers


def load_model(name: str, version: str | None = None, *, root: str | os.PathLike[str] | None = None) -> Any:
    """Verify and load ``name`` at ``version`` (default: pinned, else DEFAULT) from the registry."""
    return Registry(root).load(name, version)


def resolve(name: str, version: str | None = None, *, root: str | os.PathLike[str] | None = None) -> str:
    return Registry(root).resolve(name, version)
