"""Writing to the model registry: lock, staging, promotion, rollback and signing.

:class:`RegistryWriter` holds the writing half of :class:`underwriting.registry.store.Registry`
(which inherits it); the layout and the safety and atomicity rules are in the docstring of
:mod:`underwriting.registry.store`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from underwriting.errors import InputError, ModelIntegrityError
from underwriting.fileio import atomic_write_text, canonical_json
from underwriting.registry import history as _history
from underwriting.registry import watermark as _watermark
from underwriting.registry.hooks import alive, fsync_dir, pause
from underwriting.registry.kinds import VERSION_RE, check_name, check_version, version_key
from underwriting.registry.pins import ENV_ROOT
from underwriting.registry.provenance import manifest_digest, now, sha256_file
from underwriting.registry.signing import SIGNATURE_FILE, SigningKey, signature_doc, signing_key
from underwriting.registry.staging import MANIFEST, Staging, write_json_atomic

DEFAULT_FILE = "DEFAULT"
HISTORY_FILE = _history.HISTORY_FILE


class RegistryWriter:
    """The writing methods of :class:`~underwriting.registry.store.Registry` (a mixin: it uses the
    reading methods ``versions``, ``verify``, ``default``, ``history`` of the class it is mixed into)."""

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
        atomic_write_text(p, version + "\n")
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
                    chain = self.chain(n)  # re-signed: new line hashes, recorded as the ones seen
                    _watermark.reset(self.root, n, chain.hashes, chain.entries[-1].get("to") if chain.entries else None)
                    pointer = self._pointer(n)
                    if entries and pointer != entries[-1].get("to"):
                        raise ModelIntegrityError(f"{self.root / n / DEFAULT_FILE}: names {pointer}, the history's "
                                                  f"last promotion is to {entries[-1].get('to')}: fix before signing")
        return done
