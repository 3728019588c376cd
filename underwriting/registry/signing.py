"""Ed25519 signatures of registry manifests and history entries, and the keyring that trusts them.

Keys
    A signing key is an Ed25519 private key in a PKCS#8 PEM file (mode 0600). Its public half is
    a SubjectPublicKeyInfo PEM file; a key's id is the first 16 hex digits of the SHA-256 of the
    raw 32-byte public key.
Where keys live
    The user's folder is ``UNDERWRITING_HOME`` if set, else ``$XDG_CONFIG_HOME/underwriting``, else
    ``~/.config/underwriting``. It holds ``signing_key.pem`` (made by ``underwriting keys generate``)
    and ``trusted/<key id>.pub`` (added by ``underwriting keys trust FILE``). Writers sign with the
    key at ``UNDERWRITING_SIGNING_KEY`` if set, else ``signing_key.pem`` of the user's folder.
Keyring
    The project's release public keys are pinned in this module (:data:`RELEASE_KEYS`: raw key,
    id and validity window); ``release_keys/*.pub`` are copies for people, and a ``.pub`` file dropped
    there that is not pinned here is ignored. The user's ``trusted/`` keys are added to them.
    The ``trusted/`` folder (and the user's folder holding it) must not be writable by other users:
    a world-writable one is refused (:class:`~underwriting.errors.ModelIntegrityError`), as is a
    world-writable key file in it.
Expiry
    Every key has a validity window. A release key's ``not_before``/``not_after`` are pinned with
    it; a user key trusted by :func:`trust` gets ``not_after`` = the day it was trusted + ``valid_days``
    (default :data:`USER_KEY_VALID_DAYS`), kept in ``trusted/<key id>.json`` beside its ``.pub``. A
    signature counts only when its signing time (a manifest's ``build.created_at``, a history entry's
    ``timestamp``; the current time when the signed content states none) lies inside the window.
    Policy for a user key trusted before expiry was recorded (no ``.json``): it has no expiry, and
    ``underwriting keys list`` says so; trust it again to give it one. The signing time is stated by
    the signer, so expiry limits what an *honest* holder signs after the window and what a thief
    signs with a stolen key that is not back-dated; a stolen key must be removed from ``trusted/``.
What is signed
    The bytes of ``manifest.json`` (signature in ``manifest.sig`` beside it) and each history entry's
    canonical JSON without its ``signature`` field; each message is prefixed by a domain tag so a
    manifest signature can never pass as a history signature.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from underwriting.errors import InputError, ModelIntegrityError
from underwriting.fileio import atomic_write
from underwriting.registry.hooks import pause

ENV_HOME = "UNDERWRITING_HOME"
ENV_SIGNING_KEY = "UNDERWRITING_SIGNING_KEY"
SIGNATURE_FILE = "manifest.sig"
SIGNATURE_FORMAT = "underwriting.registry.signature"
RELEASE_KEYS_DIR = Path(__file__).resolve().parent / "release_keys"
MANIFEST_TAG = b"underwriting.registry.manifest.v1\x00"
HISTORY_TAG = b"underwriting.registry.history.v1\x00"
#: Largest key or signature file read, in bytes.
MAX_KEY_BYTES = 16 * 1024
#: Days a key trusted by :func:`trust` stays valid unless told otherwise.
USER_KEY_VALID_DAYS = 730

#: The project's release keys, pinned: ``key id -> (file name in release_keys/, raw public key (base64),
#: not_before, not_after)`` (UTC). release-2026 signed frequency 0.1.0 and risk_scorer/survival 0.1.0-0.1.1;
#: release-2026-12 signed frequency 0.2.0; release-2026-12b signed severity_fit 0.1.0, frequency 0.2.1 and
#: risk_scorer/survival 0.1.2 (docs/lifecycle.md). Only these keys are
#: trusted as release keys.
RELEASE_KEYS: dict[str, tuple[str, str, str, str]] = {
    "7040b41d1262b5df": ("release-2026.pub", "UUz5beXD1mEWJwLNq93rAsFzdvpy6ATUQEuvkNvjD1k=",
                         "2026-01-01T00:00:00Z", "2026-12-31T23:59:59Z"),
    "2fa94212330f86bc": ("release-2026-12.pub", "rb1qeKEdjGUvSM7u9x4WosyQFI4Ig9u7S++j9x5ooiY=",
                         "2026-12-01T00:00:00Z", "2027-12-31T23:59:59Z"),
    "0512e82c445cfc8f": ("release-2026-12b.pub", "Q6nhugSQYM7IZUd+orIKzawDrFJw6vPskGhWM+KaTak=",
                         "2026-12-01T00:00:00Z", "2027-12-31T23:59:59Z"),
}


def user_home() -> Path:
    """The user's underwriting folder (keys and trusted public keys)."""
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    base = Path(xdg) if xdg else Path.home() / ".config"
    return base / "underwriting"


def trusted_dir() -> Path:
    """Folder of the user's trusted public keys."""
    return user_home() / "trusted"


def default_private_key_path() -> Path:
    """Where ``keys generate`` puts the user's signing key by default."""
    return user_home() / "signing_key.pem"


def key_id_of(raw: bytes) -> str:
    """Key id: first 16 hex digits of the SHA-256 of the raw public key."""
    return hashlib.sha256(raw).hexdigest()[:16]


def _crypto():
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise ModelIntegrityError(f"the cryptography package is needed to check registry signatures ({exc})") from None
    return ed25519, serialization, InvalidSignature


@dataclass(frozen=True)
class PublicKey:
    """A trusted Ed25519 public key.

    Attributes
    ----------
    key_id : str
    raw : bytes
        The 32-byte public key.
    origin : str
        ``"release"`` (pinned in the package) or ``"user"`` (the user's ``trusted/`` folder).
    path : str
    not_before, not_after : str or None
        Validity window of the key's signatures (ISO 8601 UTC; ``None``: unbounded on that side).
    """

    key_id: str
    raw: bytes
    origin: str
    path: str
    not_before: str | None = None
    not_after: str | None = None

    def check_time(self, signed_at: Any, what: str) -> None:
        """Refuse a signature made outside the key's validity window (:class:`ModelIntegrityError`)."""
        if self.not_before is None and self.not_after is None:
            return
        when = parse_time(signed_at)
        if when is None:
            when = _dt.datetime.now(_dt.UTC)
        if self.not_after is not None and when > parse_time(self.not_after):
            raise ModelIntegrityError(f"{what}: signed at {when.isoformat()} by key {self.key_id}, which expired "
                                      f"{self.not_after}: refused")
        if self.not_before is not None and when < parse_time(self.not_before):
            raise ModelIntegrityError(f"{what}: signed at {when.isoformat()} by key {self.key_id}, which is valid "
                                      f"only from {self.not_before}: refused")

    def pem(self) -> bytes:
        """The key as a SubjectPublicKeyInfo PEM."""
        ed25519, serialization, _ = _crypto()
        return ed25519.Ed25519PublicKey.from_public_bytes(self.raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def parse_time(value: Any) -> _dt.datetime | None:
    """An ISO 8601 time as an aware UTC datetime (naive = UTC); ``None`` when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.replace(tzinfo=_dt.UTC) if t.tzinfo is None else t.astimezone(_dt.UTC)


def release_keys() -> list[PublicKey]:
    """The pinned release keys (:data:`RELEASE_KEYS`), whatever ``release_keys/`` holds."""
    out = []
    for kid, (fname, raw64, nb, na) in RELEASE_KEYS.items():
        raw = base64.b64decode(raw64)
        if key_id_of(raw) != kid:  # pragma: no cover - a typo in the table above
            raise ModelIntegrityError(f"pinned release key {kid}: the raw key's id is {key_id_of(raw)}")
        out.append(PublicKey(kid, raw, "release", str(RELEASE_KEYS_DIR / fname), nb, na))
    return out


def check_trust_folder(folder: Path) -> None:
    """Refuse a trust folder (or its parent, or a key file in it) that other users may write.

    Raises
    ------
    ModelIntegrityError
        Naming the path, its mode and the ``chmod`` that fixes it.
    """
    for p in [folder.parent, folder, *sorted(folder.iterdir())]:
        try:
            st = p.lstat()
        except FileNotFoundError:
            continue
        if st.st_mode & stat.S_IWOTH and not stat.S_ISLNK(st.st_mode):
            raise ModelIntegrityError(
                f"{p}: writable by every user (mode {stat.S_IMODE(st.st_mode):o}), so anyone could add a trusted "
                f"key: refused; run `chmod o-w {p}`")


def _read_small(path: Path, what: str) -> bytes:
    try:
        if not path.is_file():
            raise InputError(f"{what}: no such file" if not path.exists() else f"{what}: not a regular file",
                             source=str(path))
        if path.stat().st_size > MAX_KEY_BYTES:
            raise InputError(f"{what}: file over {MAX_KEY_BYTES} bytes", source=str(path))
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"{what}: cannot read ({exc.strerror or exc})", source=str(path)) from None


def load_public_key(path: str | os.PathLike[str], origin: str = "user") -> PublicKey:
    """Read an Ed25519 public key PEM; :class:`InputError` naming the file otherwise."""
    p = Path(path)
    data = _read_small(p, "public key")
    ed25519, serialization, _ = _crypto()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a PEM public key ({exc})", source=str(p)) from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise InputError("not an Ed25519 public key", source=str(p))
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PublicKey(key_id_of(raw), raw, origin, str(p))


class SigningKey:
    """An Ed25519 private key that signs manifests and history entries."""

    def __init__(self, private: Any, path: str = ""):
        _, serialization, _ = _crypto()
        self._private = private
        self.path = path
        self.raw_public = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                            serialization.PublicFormat.Raw)
        self.key_id = key_id_of(self.raw_public)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SigningKey:
        """Read an unencrypted PKCS#8 PEM Ed25519 private key."""
        p = Path(path)
        data = _read_small(p, "signing key")
        ed25519, serialization, _ = _crypto()
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise InputError(f"not an unencrypted PEM private key ({exc})", source=str(p)) from None
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise InputError("not an Ed25519 private key", source=str(p))
        return cls(key, str(p))

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh random key (not written anywhere)."""
        ed25519, _, _ = _crypto()
        return cls(ed25519.Ed25519PrivateKey.generate())

    def public(self) -> PublicKey:
        return PublicKey(self.key_id, self.raw_public, "signer", self.path)

    def private_pem(self) -> bytes:
        _, serialization, _ = _crypto()
        return self._private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption())

    def sign(self, tag: bytes, message: bytes) -> str:
        """Base64 Ed25519 signature of ``tag + message``."""
        return base64.b64encode(self._private.sign(tag + message)).decode("ascii")


def signing_key() -> SigningKey:
    """The key writers sign with: ``UNDERWRITING_SIGNING_KEY``, else the user's ``signing_key.pem``.

    Raises
    ------
    InputError
        No key configured (the message says how to make one), or an unreadable key file.
    """
    env = os.environ.get(ENV_SIGNING_KEY)
    if env:
        return SigningKey.load(env)
    p = default_private_key_path()
    if p.is_file():
        return SigningKey.load(p)
    raise InputError(f"no signing key: writing to a registry signs what is written; run `underwriting keys generate` "
                     f"(writes {p}) or set {ENV_SIGNING_KEY}=PATH", field="signing key")


class Keyring:
    """Trusted public keys by id.

    Parameters
    ----------
    keys : iterable of PublicKey, optional
        Default: :meth:`default` (the release key(s) shipped in the package + the user's trusted keys).
    """

    def __init__(self, keys=None):
        self.keys: dict[str, PublicKey] = {}
        for k in (keys if keys is not None else self._default_keys()):
            self.keys.setdefault(k.key_id, k)

    @staticmethod
    def _default_keys() -> list[PublicKey]:
        out = release_keys()
        folder = trusted_dir()
        if not folder.is_dir():
            return out
        check_trust_folder(folder)
        for p in sorted(folder.glob("*.pub")):
            try:
                k = load_public_key(p, "user")
            except InputError:
                continue  # an unreadable file in the trusted folder trusts nothing
            out.append(_with_expiry(k, p.with_suffix(".json")))
        return out

    @classmethod
    def default(cls) -> Keyring:
        return cls()

    def __contains__(self, key_id: str) -> bool:
        return key_id in self.keys

    def verify(self, tag: bytes, message: bytes, key_id: Any, signature: Any, *, what: str,
               signed_at: Any = None) -> PublicKey:
        """Check a signature; return the key that made it.

        ``signed_at`` (ISO 8601) is the signing time the signed content states; it must lie inside the
        key's validity window (the current time is used when it is ``None``).

        Raises
        ------
        ModelIntegrityError
            Naming ``what``: no signature, a key that is not trusted, a signature that does not match,
            or one made outside the key's validity window.
        """
        ed25519, _, invalid = _crypto()
        if not isinstance(key_id, str) or not isinstance(signature, str):
            raise ModelIntegrityError(f"{what}: no signature: refused")
        key = self.keys.get(key_id)
        if key is None:
            raise ModelIntegrityError(f"{what}: signed by key {key_id[:32]!r}, which is not trusted "
                                      "(`underwriting keys list`; `underwriting keys trust FILE`): refused")
        try:
            sig = base64.b64decode(signature, validate=True)
            ed25519.Ed25519PublicKey.from_public_bytes(key.raw).verify(sig, tag + message)
        except (invalid, ValueError):
            raise ModelIntegrityError(f"{what}: signature does not match (content altered after signing): "
                                      "refused") from None
        key.check_time(signed_at, what)
        return key


def signature_doc(key: SigningKey, manifest_bytes: bytes) -> dict[str, str]:
    """The content of ``manifest.sig`` for a manifest's bytes."""
    return {"format": SIGNATURE_FORMAT, "algorithm": "ed25519", "key_id": key.key_id,
            "signature": key.sign(MANIFEST_TAG, manifest_bytes)}


def read_signature_doc(path: Path) -> dict[str, Any]:
    """Parse ``manifest.sig``; :class:`ModelIntegrityError` naming the file when missing or malformed."""
    if path.is_symlink() or not path.is_file():
        raise ModelIntegrityError(f"{path}: missing signature (unsigned manifest): refused")
    try:
        raw = path.read_bytes()
        if len(raw) > MAX_KEY_BYTES:
            raise ValueError("too large")
        doc = json.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ModelIntegrityError(f"{path}: unreadable signature ({exc}): refused") from None
    if not isinstance(doc, dict) or doc.get("format") != SIGNATURE_FORMAT or doc.get("algorithm") != "ed25519":
        raise ModelIntegrityError(f"{path}: not an Ed25519 registry signature: refused")
    return doc


def write_private_key(key: SigningKey, path: Path, *, force: bool = False) -> tuple[Path, Path]:
    """Write ``key`` to ``path`` (mode 0600) and its public half to ``path`` with suffix ``.pub``.

    Both are written to a temporary file and renamed into place, so a kill leaves no half key.
    """
    path = Path(path)
    pub = path.with_suffix(".pub")
    for p in (path, pub):
        if (p.exists() or p.is_symlink()) and not force:
            raise InputError(f"{p} exists (pass --force to replace it)", field="--key")
        if p.exists() and not p.is_file():
            raise InputError(f"{p} is not a regular file", field="--key")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_atomic(path, key.private_pem(), 0o600, pause_point="key")
    _write_atomic(pub, key.public().pem(), 0o644)
    return path, pub


def trust(path: str | os.PathLike[str], valid_days: int = USER_KEY_VALID_DAYS) -> PublicKey:
    """Add a public key file to the user's trusted keys, valid for signatures made up to ``valid_days``
    days from now (kept in ``trusted/<key id>.json``); return it."""
    if not isinstance(valid_days, int) or not 1 <= valid_days <= 36600:
        raise InputError("the validity must be 1 to 36600 days", field="--valid-days")
    key = load_public_key(path)
    d = trusted_dir()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_trust_folder(d)
    now = _dt.datetime.now(_dt.UTC).replace(microsecond=0)
    not_after = (now + _dt.timedelta(days=valid_days)).isoformat().replace("+00:00", "Z")
    meta = {"key_id": key.key_id, "trusted_at": now.isoformat().replace("+00:00", "Z"), "not_after": not_after}
    _write_atomic(d / f"{key.key_id}.json", (json.dumps(meta, sort_keys=True) + "\n").encode("utf-8"), 0o644)
    _write_atomic(d / f"{key.key_id}.pub", key.pem(), 0o644)
    return PublicKey(key.key_id, key.raw, "user", str(d / f"{key.key_id}.pub"), None, not_after)


def _with_expiry(key: PublicKey, meta_path: Path) -> PublicKey:
    """``key`` with the ``not_after`` of its ``trusted/<id>.json`` (none when the file is absent: the
    documented policy for keys trusted before expiry was recorded; an unreadable one trusts nothing)."""
    if not meta_path.exists():
        return key
    try:
        meta = json.loads(_read_small(meta_path, "trusted key expiry").decode("utf-8"))
        not_after = meta["not_after"] if isinstance(meta, dict) else None
    except (InputError, UnicodeDecodeError, ValueError, KeyError, RecursionError):
        not_after = None
    if parse_time(not_after) is None:
        not_after = "1970-01-01T00:00:00Z"  # an unreadable expiry: the key is treated as expired
    return PublicKey(key.key_id, key.raw, key.origin, key.path, None, not_after)


def _write_atomic(path: Path, data: bytes, mode: int, pause_point: str | None = None) -> None:
    """Write ``data`` atomically with permission bits ``mode``; the kill tests may pause halfway."""

    def write(fh: BinaryIO) -> None:
        half = len(data) // 2
        fh.write(data[:half])
        fh.flush()
        if pause_point:
            pause(pause_point)
        fh.write(data[half:])

    atomic_write(path, write, mode=mode)
