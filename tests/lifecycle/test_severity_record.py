"""The stored severity record (issue #29, target 3): recomputing it from the shipped data gives the stored
record to the last bit; the quote uses it only when it is the record of the quote's own fit; an altered
record is refused, never silently recomputed."""

from __future__ import annotations

import json
import math

import pytest

from underwriting.errors import ModelIntegrityError
from underwriting.lifecycle import severity_build
from underwriting.losses.severity.record import NAME, SeverityRecord
from underwriting.quote import defence
from underwriting.quote.calibration import loss_calibration
from underwriting.registry import Registry

from .conftest import ROOT

SHIPPED = ROOT / "models" / NAME / severity_build.VERSION / "model.json"


def _shipped_doc() -> dict:
    return json.loads(SHIPPED.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_recomputing_from_the_data_gives_the_stored_record(tmp_path):
    rec = severity_build.compute()                  # the quote's fit, 200 bootstrap refits, 4 families
    assert rec.to_dict() == _shipped_doc()         # exact: every float to the last bit
    fit = loss_calibration().severity_fit
    boot, rows = defence.compute_gof(fit)
    assert rec.gof_bootstrap() == boot and rec.selection_rows() == rows
    # and the build publishes it as a signed version that loads back to the same record
    severity_build.build(tmp_path)
    assert Registry(tmp_path).load(NAME) == rec
    assert (tmp_path / NAME / "DEFAULT").read_text(encoding="utf-8").strip() == severity_build.VERSION


def test_the_shipped_record_is_signed_by_a_release_key_and_matches_the_quotes_fit():
    from underwriting.registry.signing import RELEASE_KEYS, read_signature_doc

    reg = Registry(ROOT / "models")
    sig = read_signature_doc(reg.path(NAME, severity_build.VERSION) / "manifest.sig")
    assert sig["key_id"] in RELEASE_KEYS
    rec = reg.load(NAME)
    fit = loss_calibration().severity_fit
    assert rec.matches(fit, n_boot=defence.GOF_BOOTSTRAP, seed=defence.GOF_SEED, families=defence.SELECTION_FAMILIES)
    assert rec.parameters == {k: float(v) for k, v in fit.params.items()} and rec.n == fit.n


def test_the_quote_reads_the_stored_record_instead_of_recomputing(monkeypatch):
    fit = loss_calibration().severity_fit

    def no_compute(_fit):
        raise AssertionError("the bootstrap was recomputed although the registry holds its record")

    monkeypatch.setattr(defence, "compute_gof", no_compute)
    monkeypatch.setattr(defence, "_GOF_CACHE", {})
    block = defence.severity_block(fit, Registry(ROOT / "models"))
    doc = _shipped_doc()
    assert block["gof"]["p_value"] == doc["gof"]["ad_pvalue"] and block["gof"]["statistic"] == doc["gof"]["ad_statistic"]
    assert [r["family"] for r in block["selection"]] == [r["family"] for r in doc["selection"]]
    block["selection"][0]["aic"] = -1.0             # a caller's change does not reach the cache
    assert defence.severity_block(fit, Registry(ROOT / "models"))["selection"][0]["aic"] == doc["selection"][0]["aic"]


def test_a_record_of_another_fit_or_other_settings_is_not_used():
    from underwriting.losses.severity import fit_severity

    fit = loss_calibration().severity_fit
    rec = Registry(ROOT / "models").load(NAME)
    other = fit_severity(fit._amounts[:-1], fit.threshold, "lognormal", _gof=False)    # one amount fewer
    kw = {"n_boot": defence.GOF_BOOTSTRAP, "seed": defence.GOF_SEED, "families": defence.SELECTION_FAMILIES}
    assert not rec.matches(other, **kw)
    assert defence.stored_gof(other, Registry(ROOT / "models")) is None
    assert not rec.matches(fit, **{**kw, "n_boot": 100})
    assert not rec.matches(fit, **{**kw, "seed": 1})
    assert not rec.matches(fit, **{**kw, "families": ("lognormal",)})


def test_a_registry_without_the_record_computes(tmp_path):
    assert defence.stored_gof(loss_calibration().severity_fit, Registry(tmp_path)) is None


def test_an_altered_record_is_refused_not_recomputed(shipped_copy):
    p = shipped_copy / NAME / severity_build.VERSION / "model.json"
    doc = json.loads(p.read_text(encoding="utf-8"))
    doc["gof"]["ad_pvalue"] = 0.9                    # a better-looking p-value
    p.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    with pytest.raises(ModelIntegrityError):
        defence.stored_gof(loss_calibration().severity_fit, Registry(shipped_copy))


@pytest.mark.parametrize("change", [
    lambda d: d.pop("gof"), lambda d: d.update(format="other"), lambda d: d["parameters"].update(mu=math.nan),
    lambda d: d.update(n=0), lambda d: d["selection"][0].pop("aic"),
])
def test_a_malformed_document_is_an_integrity_error(change):
    doc = _shipped_doc()
    change(doc)
    with pytest.raises(ModelIntegrityError):
        SeverityRecord.from_dict(doc)


def test_the_document_reads_back_to_the_same_bits():
    doc = _shipped_doc()
    assert SeverityRecord.from_dict(json.loads(json.dumps(SeverityRecord.from_dict(doc).to_dict()))).to_dict() == doc
