"""A throwaway signing key for tests: a temporary UNDERWRITING_HOME holding a fresh key, trusted."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def throwaway_home(home: Path) -> Iterator[Path]:
    """Point ``UNDERWRITING_HOME`` at ``home`` with a fresh trusted key (environment restored after)."""
    from underwriting.registry import signing

    saved = {k: os.environ.get(k) for k in (signing.ENV_HOME, signing.ENV_SIGNING_KEY)}
    os.environ[signing.ENV_HOME] = str(home)
    os.environ.pop(signing.ENV_SIGNING_KEY, None)
    try:
        key = signing.SigningKey.generate()
        _, pub = signing.write_private_key(key, signing.default_private_key_path())
        signing.trust(pub)
        yield home
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def sign_version(version_dir: Path) -> None:
    """(Re-)sign ``version_dir/manifest.json`` with the test session's key (a test building a version by hand)."""
    import json

    from underwriting.registry import signing

    raw = (Path(version_dir) / "manifest.json").read_bytes()
    doc = signing.signature_doc(signing.signing_key(), raw)
    (Path(version_dir) / signing.SIGNATURE_FILE).write_text(json.dumps(doc), encoding="utf-8")
