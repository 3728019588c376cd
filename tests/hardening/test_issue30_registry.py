"""Issue #30, items 2 and 4, replayed: a model file flipped between the check and the parse never loads
(nor stays cached); release keys are pinned in code; a world-writable trust folder is refused; keys
expire; a registry rolled back to an older signed state is refused by load and `models verify`."""

from __future__ import annotations

import json
import os
import shutil
import threading

import pytest

import underwriting.lifecycle.loaders  # noqa: F401  the model kinds register on import
from underwriting.errors import ModelIntegrityError
from underwriting.registry import Keyring, Registry, SigningKey, signing
from underwriting.registry.kinds import KINDS, Kind
from underwriting.registry.store import _LOADED


def _forge(genuine: bytes) -> bytes:
    """The base model with its intercept raised (a much higher breach rate): a forged model."""
    doc = json.loads(genuine)
    doc["coef"][0] += 1.0
    return json.dumps(doc).encode("utf-8")


def _frequency_file(root):
    reg = Registry(root)
    v = reg.default("frequency")
    return reg, v, root / "frequency" / v / "model.json"


def test_a_file_flipped_after_the_check_is_not_what_loads(shipped_copy, monkeypatch):
    reg, v, model = _frequency_file(shipped_copy)
    genuine = model.read_bytes()
    forged = _forge(genuine)
    real = KINDS["frequency"]
    seen = {}

    def flipping_loader(folder):
        # the attacker's flip lands between the hash check and the parse
        model.write_bytes(forged)
        seen["bytes"] = (folder / "model.json").read_bytes()
        seen["folder"] = folder
        return real.loader(folder)

    monkeypatch.setitem(KINDS, "frequency", Kind(flipping_loader, real.description))
    _LOADED.clear()
    obj = reg.load("frequency", v)
    assert seen["bytes"] == genuine                     # the loader parsed the verified bytes
    assert not str(seen["folder"]).startswith(str(shipped_copy))
    assert obj.registry_["version"] == v
    # the forged file is on disk now: the next load is refused, not served from the cache
    with pytest.raises(ModelIntegrityError, match="SHA-256 does not match|bytes, the manifest says"):
        reg.load("frequency", v)
    model.write_bytes(genuine)
    assert reg.load("frequency", v) is obj             # cached under the hash of the verified manifest


def test_flipping_a_file_during_many_loads_never_yields_a_forged_model(shipped_copy):
    reg, v, model = _frequency_file(shipped_copy)
    genuine = model.read_bytes()
    forged = _forge(genuine)
    stop = threading.Event()

    def flip():
        while not stop.is_set():
            for data in (forged, genuine):
                tmp = model.with_name(".flip.tmp")
                tmp.write_bytes(data)
                os.replace(tmp, model)

    t = threading.Thread(target=flip, daemon=True)
    t.start()
    loaded = refused = 0
    intercept = json.loads(genuine)["coef"][0]
    try:
        for _ in range(150):
            _LOADED.clear()
            try:
                obj = reg.load("frequency", v)
            except ModelIntegrityError:
                refused += 1
                continue
            loaded += 1
            assert float(obj.coef_.iloc[0]) == intercept     # never the forged intercept
    finally:
        stop.set()
        t.join()
    model.write_bytes(genuine)
    assert loaded + refused == 150 and refused > 0   # the flips were seen (and refused), never loaded


def test_release_keys_are_pinned_in_code_not_read_from_the_package_folder(tmp_path, monkeypatch):
    forger = SigningKey.generate()
    _, pub = signing.write_private_key(forger, tmp_path / "forger.pem")
    fake_dir = tmp_path / "release_keys"
    shutil.copytree(signing.RELEASE_KEYS_DIR, fake_dir)
    shutil.copy(pub, fake_dir / "release-2027.pub")     # a .pub dropped into the package
    monkeypatch.setattr(signing, "RELEASE_KEYS_DIR", fake_dir)
    ring = Keyring.default()
    assert forger.key_id not in ring
    assert {k.key_id for k in ring.keys.values() if k.origin == "release"} == set(signing.RELEASE_KEYS)


def test_a_world_writable_trust_folder_is_refused(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / "trusted").mkdir(parents=True)
    monkeypatch.setenv(signing.ENV_HOME, str(home))
    os.chmod(home / "trusted", 0o777)
    with pytest.raises(ModelIntegrityError, match=r"trusted: writable by every user .*chmod o-w"):
        Keyring.default()
    os.chmod(home / "trusted", 0o700)
    assert set(signing.RELEASE_KEYS) <= set(Keyring.default().keys)
    os.chmod(home, 0o777)
    with pytest.raises(ModelIntegrityError, match="writable by every user"):
        Keyring.default()


def test_keys_expire_by_signing_time(tmp_path, monkeypatch):
    monkeypatch.setenv(signing.ENV_HOME, str(tmp_path / "home"))
    key = SigningKey.generate()
    _, pub = signing.write_private_key(key, tmp_path / "k.pem")
    trusted = signing.trust(pub, valid_days=30)
    assert trusted.not_after
    ring = Keyring.default()
    msg = b"hello"
    sig = key.sign(signing.MANIFEST_TAG, msg)
    ring.verify(signing.MANIFEST_TAG, msg, key.key_id, sig, what="m")                 # signed now: inside
    with pytest.raises(ModelIntegrityError, match="expired"):
        ring.verify(signing.MANIFEST_TAG, msg, key.key_id, sig, what="m", signed_at="2099-01-01T00:00:00Z")
    # the pinned release keys have windows, and the shipped models were signed inside them
    rel = {k.key_id: k for k in signing.release_keys()}
    with pytest.raises(ModelIntegrityError, match="expired"):
        rel["7040b41d1262b5df"].check_time("2027-02-01T00:00:00Z", "m")
    rel["7040b41d1262b5df"].check_time("2026-11-21T18:48:53Z", "m")
    with pytest.raises(ModelIntegrityError, match="valid only from"):
        rel["2fa94212330f86bc"].check_time("2026-06-01T00:00:00Z", "m")


def test_a_rollback_to_an_older_signed_state_is_refused(shipped_copy, lc_cli):
    reg = Registry(shipped_copy)
    hist = shipped_copy / "frequency" / "history.jsonl"
    old_hist, old_default = hist.read_bytes(), (shipped_copy / "frequency" / "DEFAULT").read_bytes()
    assert reg.default("frequency") == "0.2.1"          # seen: three promotions
    # the attacker restores the older, genuinely signed state (one promotion, to 0.1.0)
    lines = old_hist.splitlines(keepends=True)
    hist.write_bytes(lines[0])
    (shipped_copy / "frequency" / "DEFAULT").write_text("0.1.0\n", encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="rolled back: it holds 1 verified promotion"):
        reg.load("frequency")
    code, out, _ = lc_cli("models", "verify", "--registry", shipped_copy)
    assert code == 2 and "rolled back" in out
    code, out, _ = lc_cli("models", "verify", "--registry", shipped_copy, "--accept-rollback")
    assert code == 0 and "recorded as the latest seen" in out
    assert reg.default("frequency") == "0.1.0"
    hist.write_bytes(old_hist)
    (shipped_copy / "frequency" / "DEFAULT").write_bytes(old_default)
    assert reg.default("frequency") == "0.2.1"          # moving forward again is fine


def test_keys_trust_records_an_expiry_and_refuses_a_bad_one(tmp_path, monkeypatch, lc_cli):
    monkeypatch.setenv(signing.ENV_HOME, str(tmp_path / "home"))
    key = SigningKey.generate()
    _, pub = signing.write_private_key(key, tmp_path / "k.pem")
    code, out, err = lc_cli("keys", "trust", pub, "--valid-days", "10")
    assert code == 0 and "accepted until" in out, err
    meta = json.loads((tmp_path / "home" / "trusted" / f"{key.key_id}.json").read_text())
    assert meta["not_after"] > meta["trusted_at"]
    code, out, err = lc_cli("keys", "list")
    assert f"{key.key_id}  user" in out and "signs until" in out
    code, _, err = lc_cli("keys", "trust", pub, "--valid-days", "0")
    assert code == 2 and "--valid-days" in err
