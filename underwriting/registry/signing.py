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
    The project's release public key ships in the package (``release_keys/``) and is always
    trusted; the user's ``trusted/`` keys are added to it.
What is signed
    The bytes of ``manifest.json`` (signature in ``manifest.sig`` beside it) and each history entry's
    canonical JSON without its ``signature`` field; each message is prefixed by a domain tag so a
    manifest signature can never pass as a history signature.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
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
        ``"release"`` (shipped in the package) or ``"user"`` (the user's ``trusted/`` folder).
    path : str
    """

    key_id: str
    raw: bytes
    origin: str
    path: str

    def pem(self) -> bytes:
        """The key as a SubjectPublicKeyInfo PEM."""
        ed25519, serialization, _ = _crypto()
        return ed25519.Ed25519PublicKey.from_public_bytes(self.raw).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


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
        out = []
        for origin, folder in (("release", RELEASE_KEYS_DIR), ("user", trusted_dir())):
            if not folder.is_dir():
                continue
            for p in sorted(folder.glob("*.pub")):
                try:
                    out.append(load_public_key(p, origin))
                except InputError:
                    continue  # an unreadable file in the trusted folder trusts nothing
        return out

    @classmethod
    def default(cls) -> Keyring:
        return cls()

    def __contains__(self, key_id: str) -> bool:
        return key_id in self.keys

    def verify(self, tag: bytes, message: bytes, key_id: Any, signature: Any, *, what: str) -> PublicKey:
        """Check a signature; return the key that made it.

        Raises
        ------
        ModelIntegrityError
            Naming ``what``: no signature, a key that is not trusted, or a signature that does not match.
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


def trust(path: str | os.PathLike[str]) -> PublicKey:
    """Add a public key file to the user's trusted keys; return it."""
    key = load_public_key(path)
    d = trusted_dir()
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_atomic(d / f"{key.key_id}.pub", key.pem(), 0o644)
    return PublicKey(key.key_id, key.raw, "user", str(d / f"{key.key_id}.pub"))


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
