"""``make models`` is reproducible: two builds into temporary folders give the same hashes of the
hashed files (manifests compared without their build block); the shipped scorer is what the
pipeline produces."""

from __future__ import annotations

import pytest

from underwriting.lifecycle.rebuild_check import compare_json, compare_registries
from underwriting.models_build import build, hashed_files

from .conftest import ROOT

SMALL = {"risk_scorer": ("0.1.0", {"seed": 5, "data": {"synthetic": {"n_exchanges": 150, "years": 4, "seed": 5}},
                                   "validation": {"method": "independent_book", "n_boot": 20}}),
         # a 600-exchange book is small enough for a rare feature level to separate: without a ridge the
         # unpenalised fit is singular on one CPU and converges on another (numpy's AVX-512 exp), so the
         # small build fits with one (the shipped build, at 4,000 exchanges, fits without)
         "survival": ("0.1.0", {"seed": 5, "data": {"synthetic": {"n_exchanges": 600, "years": 5, "seed": 5}},
                                "survival": {"penalizer": 0.1}})}


def test_build_twice_same_hashes(tmp_path):
    build(tmp_path / "a", configs=SMALL)
    build(tmp_path / "b", configs=SMALL)
    a, b = hashed_files(tmp_path / "a"), hashed_files(tmp_path / "b")
    assert a == b and len(a) >= 6
    from underwriting.registry import Registry

    ma = Registry(tmp_path / "a").read_manifest("risk_scorer", "0.1.0")
    assert "created_at" in ma["build"]     # the timestamp lives only in the excluded block


def test_rebuild_in_place_keeps_default_and_history(tmp_path):
    cfg = {"risk_scorer": SMALL["risk_scorer"]}
    build(tmp_path, configs=cfg)
    build(tmp_path, configs=cfg)
    from underwriting.registry import Registry

    reg = Registry(tmp_path)
    assert reg.default("risk_scorer") == "0.1.0" and len(reg.history("risk_scorer")) == 1


def test_shipped_models_verify_and_record_the_make_models_configuration():
    """The shipped registry passes its hash checks, each model is the default, and its manifest
    records the seed, the synthetic book and the settings of ``make models`` (:data:`SHIPPED`).
    That the files are byte for byte what the pipeline makes is proved by the rebuild test below."""
    from underwriting.models_build import SHIPPED
    from underwriting.registry import Registry

    reg = Registry(ROOT / "models")
    for name, (version, cfg) in SHIPPED.items():
        doc = reg.verify(name, version)
        assert reg.default(name) == version
        assert doc["training"]["seed"] == cfg["seed"]
        book = cfg["data"]["synthetic"]
        assert doc["data"]["description"] == ("SYNTHETIC book: make_exchange_portfolio(n_exchanges={n_exchanges}, "
                                              "years={years}, seed={seed})".format(**book))
    scorer = reg.read_manifest("risk_scorer", SHIPPED["risk_scorer"][0])["training"]["config"]
    for key in ("data", "model"):
        assert scorer[key] == SHIPPED["risk_scorer"][1][key]
    surv = reg.read_manifest("survival", SHIPPED["survival"][0])["training"]["config"]
    assert {k: surv[k] for k in ("horizon", "breakpoints")} == SHIPPED["survival"][1]["survival"]


@pytest.mark.slow
def test_rebuild_reproduces_the_shipped_models(tmp_path):
    """`make models` from the shipped data reproduces the shipped models (~15 s instead of ~45 s).

    The survival model is rebuilt at full size and every hashed file matches the shipped one. The
    scorer is rebuilt at full size with 20 instead of 500 bootstrap resamples: the bootstrap only
    makes the validation intervals, so the fitted numbers (coefficients, scaling, calibration, bands)
    and the feature parameters must equal the shipped scorer's exactly; `python -m
    underwriting.models_build --check` compares everything, intervals included.
    """
    import copy
    import json

    from underwriting.models_build import SHIPPED

    version, cfg = SHIPPED["risk_scorer"]
    cfg = copy.deepcopy(cfg)
    cfg["validation"]["n_boot"] = 20
    build(tmp_path, configs={"survival": SHIPPED["survival"], "risk_scorer": (version, cfg)})
    files, bad = compare_registries(ROOT / "models", tmp_path, names=["survival"])
    assert len(files) >= 4 and not bad, [str(m) for m in bad]
    a = json.loads((tmp_path / "risk_scorer" / version / "scorer.json").read_text(encoding="utf-8"))
    b = json.loads((ROOT / "models" / "risk_scorer" / version / "scorer.json").read_text(encoding="utf-8"))
    assert not compare_json(b["model"], a["model"]) and not compare_json(b["feature_params"], a["feature_params"])


def test_make_models_rebuilds_the_shipped_frequency_model_with_its_alpha(rebuilt_frequency):
    """`make models` builds the shipped `frequency` version (base model on the real cohorts with the
    experience prior strength α) as shipped (no randomness): every number within its cross-CPU tolerance
    (underwriting.lifecycle.rebuild_check), the text the same; older versions are not rebuilt."""
    import json

    from underwriting.frequency.base_build import VERSION

    files, bad = compare_registries(ROOT / "models", rebuilt_frequency, names=["frequency"])
    assert len(files) >= 4 and not bad, [str(m) for m in bad]
    doc = json.loads((rebuilt_frequency / f"frequency/{VERSION}/model.json").read_text(encoding="utf-8"))
    shipped = json.loads((ROOT / f"models/frequency/{VERSION}/model.json").read_text(encoding="utf-8"))
    from underwriting.lifecycle.rebuild_check import _tolerance

    alpha_tol = _tolerance("experience_prior.alpha")    # the maximiser of a nearly flat likelihood (5e-3)
    assert alpha_tol < 1e-2
    assert doc["experience_prior"]["alpha"] == pytest.approx(shipped["experience_prior"]["alpha"], rel=alpha_tol)
