"""The registry has a trust anchor (issue #17, item 4): manifests and promotions are Ed25519-signed
and verified against a keyring; a model whose files and hashes were rewritten together, a moved
DEFAULT pointer and an edited history are refused by verify, score, quote and reproduce, naming
the signature or the pointer."""

from __future__ import annotations

import json
import shutil

import pytest

import underwriting.lifecycle.loaders  # noqa: F401  the model kinds register on import
from tests.conftest import EXAMPLES
from tests.hardening.keys import sign_version
from underwriting.errors import InputError, ModelIntegrityError
from underwriting.fileio import canonical_json
from underwriting.models_build import SHIPPED
from underwriting.registry import (
    Keyring,
    Registry,
    SigningKey,
    manifest_digest,
    sha256_file,
    signing,
)
from underwriting.registry.history import read_chain

#: the shipped scorer's current (default) version
CUR = SHIPPED["risk_scorer"][0]


def _forge_scorer(root, version=CUR, name="risk_scorer", file="scorer.json"):
    """What the red team's script did: change a model file, then recompute its hash, size, the
    manifest entry and manifest_sha256, so every unkeyed check passes."""
    d = root / name / version
    scorer = d / file
    scorer.write_text(scorer.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # any change of content
    m = json.loads((d / "manifest.json").read_text(encoding="utf-8"))
    m["files"][file] = {"sha256": sha256_file(scorer), "bytes": scorer.stat().st_size}
    m["manifest_sha256"] = manifest_digest(m)
    (d / "manifest.json").write_text(canonical_json(m), encoding="utf-8")


def test_shipped_models_carry_the_release_signature():
    from tests.conftest import ROOT

    reg = Registry(ROOT / "models", keyring=Keyring([]))  # an empty keyring trusts nothing...
    with pytest.raises(ModelIntegrityError, match="not trusted"):
        reg.verify("risk_scorer", "0.1.0")
    release = [k for k in Keyring.default().keys.values() if k.origin == "release"]
    # ...the release keys ship in the package: the 2026 key (risk_scorer and survival 0.1.0-0.1.1, frequency 0.1.0),
    # the 2026-12 key that signed frequency 0.2.0 and the 2026-12b key that signed severity_fit 0.1.0 and the
    # rebuild with Bit Station (frequency 0.2.1, risk_scorer and survival 0.1.2; neither earlier private key was
    # available to those builds; docs/lifecycle.md)
    assert sorted(k.path.rsplit("/", 1)[-1] for k in release) == ["release-2026-12.pub", "release-2026-12b.pub",
                                                                  "release-2026.pub"]
    ids = {k.key_id for k in release}
    reg = Registry(ROOT / "models", keyring=Keyring(release))
    for name in ("risk_scorer", "survival", "frequency", "severity_fit"):
        for version in reg.versions(name):
            reg.verify(name, version)
            sig = json.loads((ROOT / "models" / name / version / "manifest.sig").read_text(encoding="utf-8"))
            assert sig["key_id"] in ids
        assert reg.default(name) == (SHIPPED[name][0] if name in SHIPPED else
                                     {"frequency": "0.2.1", "severity_fit": "0.1.0"}[name])
        assert {h["key_id"] for h in reg.history(name)} <= ids
    assert not list(ROOT.rglob("*signing_key.pem"))          # no private key in the repository


def test_forged_model_is_refused_by_verify_score_quote_and_reproduce(shipped_copy, lc_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("UNDERWRITING_REGISTRY", str(shipped_copy))
    sub = EXAMPLES / "jp_small_exchange.json"
    quote_file = tmp_path / "quote.json"
    code, _, err = lc_cli("quote", sub, "--out", quote_file)
    assert code == 0, err
    _forge_scorer(shipped_copy)
    _forge_scorer(shipped_copy, version=Registry(shipped_copy).default("frequency"), name="frequency",
                  file="model.json")  # what score and quote read
    with pytest.raises(ModelIntegrityError, match="signature does not match"):
        Registry(shipped_copy).load("risk_scorer")
    code, out, _ = lc_cli("models", "verify", "--registry", shipped_copy)
    assert code == 2 and "signature" in out and f"risk_scorer  {CUR}" in out
    for argv in (("score", sub), ("quote", sub), ("reproduce", quote_file, "--registry", shipped_copy)):
        code, out, err = lc_cli(*argv)
        assert code == 2, (argv, out, err)
        assert "signature" in err and "Traceback" not in err, (argv, err)


def test_a_version_signed_by_an_untrusted_key_is_refused_until_trusted(shipped_copy, tmp_path, lc_cli):
    reg = Registry(shipped_copy)
    stranger = SigningKey.generate()
    raw = (shipped_copy / "risk_scorer/0.1.0/manifest.json").read_bytes()
    (shipped_copy / "risk_scorer/0.1.0/manifest.sig").write_text(
        json.dumps(signing.signature_doc(stranger, raw)), encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match=f"{stranger.key_id}.*not trusted"):
        reg.verify("risk_scorer", "0.1.0")
    priv, pub = signing.write_private_key(stranger, tmp_path / "stranger.pem")
    code, out, err = lc_cli("keys", "trust", pub)
    assert code == 0 and stranger.key_id in out, err
    reg.verify("risk_scorer", "0.1.0")
    code, out, _ = lc_cli("keys", "list")
    assert stranger.key_id in out and "release" in out
    (shipped_copy / "risk_scorer/0.1.0/manifest.sig").unlink()
    with pytest.raises(ModelIntegrityError, match="missing signature"):
        reg.verify("risk_scorer", "0.1.0")


def test_default_moved_to_another_valid_version_is_refused(small_registry, tmp_path, lc_cli):
    root = tmp_path / "reg"
    shutil.copytree(small_registry[0], root)
    reg = Registry(root)
    reg.verify("risk_scorer", "0.2.0")                       # a valid, signed version, never promoted
    (root / "risk_scorer/DEFAULT").write_text("0.2.0\n", encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match=f"DEFAULT: names 0.2.0.*last signed promotion.*{CUR}"):
        reg.load("risk_scorer")
    code, out, _ = lc_cli("models", "verify", "--registry", root)
    assert code == 2 and "DEFAULT" in out


def test_edited_history_is_ignored_and_rollback_walks_only_verified_entries(small_registry, tmp_path):
    root = tmp_path / "reg"
    shutil.copytree(small_registry[0], root)
    reg = Registry(root)
    reg.promote("risk_scorer", "0.2.0")
    hist = root / "risk_scorer/history.jsonl"
    lines = hist.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["to"] = "0.2.0"                                    # rewrite the first promotion
    hist.write_text(json.dumps(first, sort_keys=True) + "\n" + lines[1] + "\n", encoding="utf-8")
    chain = reg.chain("risk_scorer")
    assert chain.entries == []                               # the edit breaks the chain from there on
    assert "signature does not match" in chain.problems[0] and "hash chain" in chain.problems[1]
    with pytest.raises(ModelIntegrityError, match="no verified signed promotion"):
        reg.default("risk_scorer")
    with pytest.raises(ModelIntegrityError):
        reg.rollback("risk_scorer")


def test_forged_promotion_appended_with_the_pointer_is_refused(small_registry, tmp_path):
    root = tmp_path / "reg"
    shutil.copytree(small_registry[0], root)
    reg = Registry(root)
    hist = root / "risk_scorer/history.jsonl"
    chain = read_chain(hist, "risk_scorer", Keyring.default())
    before = [h["to"] for h in reg.history("risk_scorer")]
    forged = {"timestamp": "2026-12-01T00:00:00Z", "name": "risk_scorer", "action": "promote", "from": CUR,
              "to": "0.2.0", "manifest_sha256": "0" * 64, "prev": chain.last_hash,
              "key_id": chain.entries[-1]["key_id"], "signature": chain.entries[-1]["signature"]}
    with open(hist, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(forged, sort_keys=True) + "\n")
    (root / "risk_scorer/DEFAULT").write_text("0.2.0\n", encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="DEFAULT: names 0.2.0"):
        reg.default("risk_scorer")
    assert [h["to"] for h in reg.history("risk_scorer")] == before
    # a legitimate promotion links past the forged line, and the registry verifies again
    reg.promote("risk_scorer", "0.2.0")
    assert reg.default("risk_scorer") == "0.2.0"
    assert [h["to"] for h in reg.history("risk_scorer")] == [*before, "0.2.0"]
    assert reg.rollback("risk_scorer")["to"] == CUR


def test_a_manifest_signature_cannot_sign_a_history_entry():
    key = SigningKey.generate()
    ring = Keyring([key.public()])
    sig = key.sign(signing.MANIFEST_TAG, b"{}")
    with pytest.raises(ModelIntegrityError, match="does not match"):
        ring.verify(signing.HISTORY_TAG, b"{}", key.key_id, sig, what="entry")
    ring.verify(signing.MANIFEST_TAG, b"{}", key.key_id, sig, what="manifest")


def test_writing_without_a_signing_key_is_an_input_error(shipped_copy, monkeypatch, tmp_path, lc_cli):
    monkeypatch.setenv(signing.ENV_HOME, str(tmp_path / "empty-home"))
    with pytest.raises(InputError, match="no signing key.*keys generate"):
        Registry(shipped_copy).promote("risk_scorer", "0.1.0")
    code, _, err = lc_cli("promote", "0.1.0", "--registry", shipped_copy)
    assert code == 2 and "no signing key" in err
    # a key that is not trusted would sign what nobody accepts: refused up front
    monkeypatch.setenv(signing.ENV_SIGNING_KEY, str(signing.write_private_key(SigningKey.generate(),
                                                                               tmp_path / "k.pem")[0]))
    code, _, err = lc_cli("promote", "0.1.0", "--registry", shipped_copy)
    assert code == 2 and "not trusted" in err


def test_keys_generate_trust_list_cli(tmp_path, monkeypatch, lc_cli):
    monkeypatch.setenv(signing.ENV_HOME, str(tmp_path / "home"))
    code, out, err = lc_cli("keys", "generate")
    assert code == 0, err
    key = SigningKey.load(tmp_path / "home/signing_key.pem")
    assert oct((tmp_path / "home/signing_key.pem").stat().st_mode & 0o777) == "0o600"
    code, out, _ = lc_cli("keys", "list")
    assert key.key_id in out
    code, _, err = lc_cli("keys", "generate")
    assert code == 2 and "exists" in err                      # never overwrites a key silently
    (tmp_path / "bad.pub").write_text("not a key", encoding="utf-8")
    code, _, err = lc_cli("keys", "trust", tmp_path / "bad.pub")
    assert code == 2 and "bad.pub" in err and "Traceback" not in err


def test_models_verify_of_a_missing_registry_exits_2(lc_cli, tmp_path):
    code, out, err = lc_cli("models", "verify", "--registry", tmp_path / "nonexistent" / "x")
    assert code == 2 and "no such registry" in err


def test_a_new_version_signed_by_the_test_key_verifies(shipped_copy):
    d = shipped_copy / "risk_scorer/0.1.0"
    sign_version(d)
    Registry(shipped_copy).verify("risk_scorer", "0.1.0")


def test_hostile_registry_files_are_refused_not_crashing(shipped_copy, lc_cli):
    reg = Registry(shipped_copy)
    before = [h["to"] for h in reg.history("risk_scorer")]
    d = shipped_copy / f"risk_scorer/{CUR}"
    (d / "manifest.sig").write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="manifest.sig"):
        reg.verify("risk_scorer", CUR)
    hist = shipped_copy / "risk_scorer/history.jsonl"
    hist.write_text(hist.read_text(encoding="utf-8") + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    assert [h["to"] for h in reg.history("risk_scorer")] == before
    assert "is not JSON" in reg.chain("risk_scorer").problems[0]
    (d / "manifest.json").write_text("[" * 5000 + "]" * 5000, encoding="utf-8")
    code, out, err = lc_cli("models", "verify", "--registry", shipped_copy)
    assert code == 2 and "unreadable manifest" in out and "Traceback" not in err
