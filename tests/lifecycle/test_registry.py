"""Registry integrity: the shipped registry loads; any altered, truncated, unknown or pickled file
is refused with ModelIntegrityError naming the file; promotion, rollback, history, pins."""

from __future__ import annotations

import json
import pickle
import warnings

import pytest

import underwriting.lifecycle.loaders  # noqa: F401  the model kinds register on import
from underwriting.errors import InputError, ModelIntegrityError
from underwriting.models_build import SHIPPED as _SHIPPED
from underwriting.registry import ModelVersionWarning, Registry, pinned
from underwriting.registry import Registry as _Registry

from .conftest import ROOT

#: the shipped scorer's default version, its published versions and the targets of its history
CUR = _SHIPPED["risk_scorer"][0]
SHIPPED_VERSIONS = _Registry(ROOT / "models").versions("risk_scorer")
HISTORY_TO = [h["to"] for h in _Registry(ROOT / "models").history("risk_scorer")]


def test_shipped_registry_verifies_and_loads():
    reg = Registry(ROOT / "models")
    assert reg.default("risk_scorer") == CUR
    doc = reg.verify("risk_scorer", CUR)
    assert set(doc["files"]) == {"scorer.json", "MODEL_CARD.md"}
    for key in ("data", "training", "metrics", "environment", "build", "manifest_sha256"):
        assert key in doc
    assert len(doc["data"]["fingerprint_sha256"]) == 64
    assert doc["training"]["seed"] == 20261121
    scorer = reg.load("risk_scorer")
    assert scorer.metadata_["version"] == CUR
    assert "SYNTHETIC" in (ROOT / f"models/risk_scorer/{CUR}/MODEL_CARD.md").read_text(encoding="utf-8")


def test_load_scorer_goes_through_the_registry(shipped_copy, monkeypatch):
    from underwriting.scoring import default_model_path, load_scorer

    monkeypatch.setenv("UNDERWRITING_REGISTRY", str(shipped_copy))
    assert default_model_path() == shipped_copy / f"risk_scorer/{CUR}/scorer.json"
    assert load_scorer().registry_["version"] == CUR
    (shipped_copy / f"risk_scorer/{CUR}/scorer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelIntegrityError, match="scorer.json"):
        load_scorer()


@pytest.mark.parametrize("name", ["scorer.json", "MODEL_CARD.md", "manifest.json"])
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_flipping_any_byte_is_refused(shipped_copy, name, where):
    p = shipped_copy / f"risk_scorer/{CUR}" / name
    raw = bytearray(p.read_bytes())
    i = {"first": 0, "middle": len(raw) // 2, "last": len(raw) - 1}[where]
    raw[i] = (raw[i] + 1) % 256
    p.write_bytes(bytes(raw))
    with pytest.raises(ModelIntegrityError) as exc:
        Registry(shipped_copy).load("risk_scorer", CUR)
    assert name in str(exc.value)


def test_truncated_unknown_pickled_and_missing_files_are_refused(shipped_copy):
    reg = Registry(shipped_copy)
    d = shipped_copy / f"risk_scorer/{CUR}"
    scorer = d / "scorer.json"
    good = scorer.read_bytes()
    scorer.write_bytes(good[:-10])
    with pytest.raises(ModelIntegrityError, match="truncated"):
        reg.load("risk_scorer", CUR)
    scorer.write_bytes(good)
    (d / "extra.pkl").write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(ModelIntegrityError, match="extra.pkl.*unknown file"):
        reg.load("risk_scorer", CUR)
    (d / "extra.pkl").unlink()
    scorer.unlink()
    with pytest.raises(ModelIntegrityError, match="scorer.json: missing"):
        reg.load("risk_scorer", CUR)
    scorer.write_bytes(good)
    (d / "manifest.json").unlink()
    with pytest.raises(ModelIntegrityError, match="missing manifest"):
        reg.load("risk_scorer", CUR)
    with pytest.raises(ModelIntegrityError, match="not in the registry"):
        reg.load("risk_scorer", "9.9.9")


def test_a_pickle_listed_in_a_manifest_is_never_loaded(tmp_path):
    reg = Registry(tmp_path)
    with pytest.raises(ModelIntegrityError, match="not plain data"):
        with reg.stage("risk_scorer", CUR) as st:
            (st.dir / "model.pkl").write_bytes(pickle.dumps(object))
    assert reg.versions("risk_scorer") == []


def test_cli_exit_2_names_the_file(shipped_copy, lc_cli, tmp_path):
    p = shipped_copy / f"risk_scorer/{CUR}/scorer.json"
    p.write_bytes(p.read_bytes().replace(b'"C"', b'"D"', 1))
    code, out, err = lc_cli("evaluate", CUR, "--data", "nowhere.toml", "--registry", shipped_copy)
    assert code == 2 and "scorer.json" in err and "refused" in err
    code, out, err = lc_cli("models", "verify", "--registry", shipped_copy)
    assert code == 2 and "refused" in out


def test_library_drift_is_a_warning(tmp_path):
    reg = Registry(tmp_path)
    with reg.stage("risk_scorer", CUR) as st:
        (st.dir / "note.json").write_text("{}", encoding="utf-8")
        st.manifest["environment"] = {"libraries": {"numpy": "0.1.0", "pandas": "0.1"}}
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        reg.verify("risk_scorer", CUR)
    msgs = [str(x.message) for x in w if issubclass(x.category, ModelVersionWarning)]
    assert any("numpy 0.1.0" in m for m in msgs) and any("pandas" in m for m in msgs)


def test_promote_rollback_history_and_pins(small_registry, tmp_path):
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(small_registry[0], root)
    reg = Registry(root)
    assert reg.versions("risk_scorer") == [*SHIPPED_VERSIONS, "0.2.0"]
    e = reg.promote("risk_scorer", "0.2.0")
    assert (e["from"], e["to"]) == (CUR, "0.2.0") and reg.default("risk_scorer") == "0.2.0"
    with pinned(risk_scorer=CUR):
        assert reg.resolve("risk_scorer") == CUR
        assert reg.load("risk_scorer").registry_["version"] == CUR
    assert reg.resolve("risk_scorer") == "0.2.0"
    e = reg.rollback("risk_scorer")
    assert (e["from"], e["to"], e["action"]) == ("0.2.0", CUR, "rollback")
    hist = reg.history("risk_scorer")
    assert [(h["from"], h["to"]) for h in hist[-2:]] == [(CUR, "0.2.0"), ("0.2.0", CUR)]
    assert all("timestamp" in h for h in hist)
    # a broken version is never made the default
    (root / "risk_scorer/0.2.0/MODEL_CARD.md").write_text("edited", encoding="utf-8")
    with pytest.raises(ModelIntegrityError):
        reg.promote("risk_scorer", "0.2.0")
    assert reg.default("risk_scorer") == CUR
    with pytest.raises(InputError):
        reg.promote("risk_scorer", "../0.1.0")


def test_read_only_registry_refuses_writes(shipped_copy):
    import os

    os.chmod(shipped_copy, 0o555)
    try:
        if os.access(shipped_copy, os.W_OK):  # running as root: permissions are not enforced
            pytest.skip("permissions not enforced for this user")
        with pytest.raises(InputError, match="read-only"):
            Registry(shipped_copy).promote("risk_scorer", CUR)
    finally:
        os.chmod(shipped_copy, 0o755)


def test_models_list_json(lc_cli, small_registry):
    code, out, err = lc_cli("models", "list", "--json", "--registry", small_registry[0])
    assert code == 0, err
    rows = json.loads(out)["models"]
    by = {(r["name"], r["version"]): r for r in rows}
    assert by[("risk_scorer", CUR)]["default"] is True
    assert by[("risk_scorer", "0.2.0")]["default"] is False
    assert 0.5 < by[("risk_scorer", "0.2.0")]["metrics"]["auc"] < 1
    code, out, _ = lc_cli("models", "--registry", small_registry[0])
    assert code == 0 and "* risk_scorer" in out


def test_rollback_twice_goes_back_two_promotions(small_registry, tmp_path):
    import shutil

    root = tmp_path / "reg"
    shutil.copytree(small_registry[0], root)
    shutil.copytree(root / "risk_scorer/0.2.0", root / "risk_scorer/0.3.0")
    m = json.loads((root / "risk_scorer/0.3.0/manifest.json").read_text(encoding="utf-8"))
    m["version"] = "0.3.0"
    from tests.hardening.keys import sign_version
    from underwriting.fileio import canonical_json
    from underwriting.registry import manifest_digest

    m["manifest_sha256"] = manifest_digest(m)
    (root / "risk_scorer/0.3.0/manifest.json").write_text(canonical_json(m), encoding="utf-8")
    sign_version(root / "risk_scorer/0.3.0")  # a version the test's own (trusted) key publishes
    reg = Registry(root)
    reg.promote("risk_scorer", "0.2.0")
    reg.promote("risk_scorer", "0.3.0")
    assert reg.rollback("risk_scorer")["to"] == "0.2.0"
    assert reg.rollback("risk_scorer")["to"] == CUR   # never back to the withdrawn 0.3.0
    assert reg.default("risk_scorer") == CUR
    for earlier in reversed(HISTORY_TO[:-1]):           # then the shipped defaults before it, in turn
        assert reg.rollback("risk_scorer")["to"] == earlier
    with pytest.raises(InputError, match="no earlier default"):
        reg.rollback("risk_scorer")


def test_models_verify_refuses_a_default_pointing_nowhere(shipped_copy, lc_cli):
    (shipped_copy / "risk_scorer/DEFAULT").write_text("9.9.9\n", encoding="utf-8")
    code, out, err = lc_cli("models", "verify", "--registry", shipped_copy)
    assert code == 2 and "9.9.9" in out and "refused" in out
    code, out, err = lc_cli("models", "verify", "--json", "--registry", shipped_copy)
    assert code == 2 and "9.9.9" in json.loads(out)["default_problems"][0]
    (shipped_copy / "risk_scorer/DEFAULT").write_text("../../etc\n", encoding="utf-8")
    code, out, err = lc_cli("models", "verify", "--registry", shipped_copy)
    assert code == 2 and "not a version" in out


def test_a_registry_path_that_is_a_file_is_an_input_error(tmp_path, lc_cli):
    f = tmp_path / "registry"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"):
        with Registry(f).stage("risk_scorer", CUR):
            pass
    code, _, err = lc_cli("train", "--data", "book.toml", "--registry", f)
    assert code == 2 and "--registry" in err and "not a folder" in err and "Traceback" not in err
