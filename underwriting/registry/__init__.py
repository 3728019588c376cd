"""The model registry: versioned, hash-checked, signed plain-data model folders and their defaults.

Split by concern: :mod:`~underwriting.registry.store` (the :class:`Registry` folder: read, verify,
stage, promote), :mod:`~underwriting.registry.kinds` (names, versions, kinds registered by their
owning packages), :mod:`~underwriting.registry.pins` (pins and the default root),
:mod:`~underwriting.registry.provenance` (hashes, library versions, git state),
:mod:`~underwriting.registry.signing` (Ed25519 keys and keyring), :mod:`~underwriting.registry.history`
(the signed hash chain of promotions) and :mod:`~underwriting.registry.hooks` (test pause hooks), :mod:`~underwriting.registry.staging` (a version being built).
The registry root is ``UNDERWRITING_REGISTRY`` when set, else the shipped ``models/``.
"""

from __future__ import annotations

from underwriting.registry.hooks import ENV_PAUSE_AT, ENV_PAUSE_FILE, PAUSE_POINTS
from underwriting.registry.kinds import (
    KINDS,
    Kind,
    check_name,
    check_version,
    register_kind,
    split_recorded,
    version_key,
)
from underwriting.registry.pins import ENV_ROOT, current_pins, default_root, pinned
from underwriting.registry.provenance import (
    NON_REPRODUCIBLE_KEYS,
    git_revision,
    library_versions,
    manifest_digest,
    reproducible_view,
    sha256_file,
)
from underwriting.registry.signing import (
    ENV_HOME,
    ENV_SIGNING_KEY,
    SIGNATURE_FILE,
    Keyring,
    PublicKey,
    SigningKey,
)
from underwriting.registry.staging import ALLOWED_SUFFIXES, MANIFEST, Staging
from underwriting.registry.store import (
    DEFAULT_FILE,
    HISTORY_FILE,
    ModelVersionWarning,
    Registry,
    load_model,
    resolve,
)

#: Old private name kept for callers of the single-module registry.
_manifest_digest = manifest_digest

__all__ = [
    "ALLOWED_SUFFIXES", "DEFAULT_FILE", "ENV_HOME", "ENV_PAUSE_AT", "ENV_PAUSE_FILE", "ENV_ROOT", "ENV_SIGNING_KEY",
    "HISTORY_FILE", "KINDS", "MANIFEST", "NON_REPRODUCIBLE_KEYS", "PAUSE_POINTS", "SIGNATURE_FILE", "Keyring", "Kind",
    "ModelVersionWarning", "PublicKey", "Registry", "SigningKey", "Staging", "check_name", "check_version",
    "current_pins", "default_root", "git_revision", "library_versions", "load_model", "manifest_digest", "pinned",
    "register_kind", "reproducible_view", "resolve", "sha256_file", "split_recorded", "version_key",
]
