"""A version being built: the staging folder, its manifest and the manifest's signature."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from underwriting.errors import ModelIntegrityError
from underwriting.fileio import atomic_write_text, canonical_json
from underwriting.registry.provenance import (
    git_revision,
    library_versions,
    manifest_digest,
    now,
    sha256_file,
)
from underwriting.registry.signing import SIGNATURE_FILE, SigningKey, signature_doc, signing_key

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "underwriting.registry.manifest"
MANIFEST_FORMAT_VERSION = 1
#: File types a version may hold: plain data only.
ALLOWED_SUFFIXES = (".json", ".parquet", ".npz", ".md", ".csv", ".txt", ".png")


def write_json_atomic(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` as canonical JSON to ``path`` atomically (:func:`underwriting.fileio.atomic_write_text`)."""
    atomic_write_text(path, canonical_json(doc))


@dataclass
class Staging:
    """A version being built: write files into ``dir``; fill ``manifest`` (metrics, data, ...)."""

    dir: Path
    name: str
    version: str
    manifest: dict[str, Any] | None = None
    key: SigningKey | None = None

    def __post_init__(self) -> None:
        if self.manifest is None:
            self.manifest = {}

    def write_manifest(self) -> Path:
        files = {}
        for fp in sorted(self.dir.rglob("*")):
            if fp.is_dir():
                continue
            rel = fp.relative_to(self.dir).as_posix()
            if rel in (MANIFEST, SIGNATURE_FILE):
                continue
            if fp.suffix.lower() not in ALLOWED_SUFFIXES:
                raise ModelIntegrityError(f"{rel}: file type {fp.suffix!r} is not plain data (never pickle)")
            files[rel] = {"sha256": sha256_file(fp), "bytes": fp.stat().st_size}
        doc = {**self.manifest, "format": MANIFEST_FORMAT, "format_version": MANIFEST_FORMAT_VERSION,
               "name": self.name, "kind": self.name, "version": self.version, "files": files}
        doc.setdefault("environment", {"libraries": library_versions()})
        build = {"created_at": now(), "git": git_revision(), **(doc.get("build") or {})}
        doc["build"] = build
        doc.pop("manifest_sha256", None)
        doc["manifest_sha256"] = manifest_digest(doc)
        text = canonical_json(doc)
        mp = self.dir / MANIFEST
        with open(mp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        key = self.key if self.key is not None else signing_key()
        write_json_atomic(self.dir / SIGNATURE_FILE, signature_doc(key, text.encode("utf-8")))
        return mp
