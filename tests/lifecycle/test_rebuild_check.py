"""The rebuild comparison (issue #23): cross-CPU noise passes, real changes do not."""

from __future__ import annotations

import json

from underwriting.lifecycle.rebuild_check import REL_TOL, compare_file, compare_json, compare_text


def test_well_conditioned_floats_pass_at_noise_and_fail_beyond():
    a = {"coef": [0.1234567890123, -5.037], "n": 27, "name": "x"}
    noisy = {"coef": [0.1234567890123 * (1 + 3e-10), -5.037 * (1 - 1e-12)], "n": 27, "name": "x"}
    assert compare_json(a, noisy) == []
    moved = {"coef": [0.1234567890123 * (1 + 100 * REL_TOL), -5.037], "n": 27, "name": "x"}
    assert [d[0] for d in compare_json(a, moved)] == ["coef[0]"]
    assert [d[0] for d in compare_json(a, {**a, "n": 28})] == ["n"]
    assert [d[0] for d in compare_json(a, {**a, "name": "y"})] == ["name"]
    assert compare_json(a, {**a, "extra": 1}) == [("extra", "(absent)", 1)]


def test_ill_conditioned_bound_has_its_own_tolerance_and_only_it():
    a = {"experience_prior": {"interval": [0.022277398241535174, 567.023640599762]}}
    b = {"experience_prior": {"interval": [0.022277398241535174, 567.12]}}  # the two machines
    assert compare_json(a, b) == []
    c = {"experience_prior": {"interval": [0.022277398241535174, 567.023640599762]}, "coef": 1.0002}
    assert [d[0] for d in compare_json({**a, "coef": 1.0}, c)] == ["coef"]  # nothing else is loosened
    d = {"experience_prior": {"interval": [0.022277398241535174, 600.0]}}
    assert compare_json(a, d)  # 6% is a real change


def test_model_card_numbers_may_flip_one_printed_digit_only():
    a = "alpha 3.55 (90% interval 0.0223–567.02); 27 breaches\n"
    assert compare_text(a, a.replace("3.55", "3.56")) == []
    assert compare_text(a, a.replace("3.55", "3.57"))
    assert compare_text(a, a.replace("breaches", "events"))


def test_manifest_compared_without_build_block_and_file_hashes():
    a = {"name": "frequency", "version": "0.1.0", "files": {"model.json": {"sha256": "aa", "bytes": 10}},
         "build": {"timestamp": "t1"}, "data": {"fingerprint_sha256": "f1", "rows": 5, "source": {"kind": "real"}}}
    b = {**a, "files": {"model.json": {"sha256": "bb", "bytes": 11}}, "build": {"timestamp": "t2"}}
    assert compare_file("manifest.json", json.dumps(a).encode(), json.dumps(b).encode()) == []
    # real data: its fingerprint is a hash of the files and must stay exact
    other = {**b, "data": {**a["data"], "fingerprint_sha256": "f2"}}
    assert [m.where for m in compare_file("manifest.json", json.dumps(a).encode(), json.dumps(other).encode())] == [
        "data.fingerprint_sha256"]
    # generated data: its floats are regenerated per CPU, the hash is not compared; the counts are
    syn = {**a, "data": {**a["data"], "source": {"kind": "synthetic"}}}
    syn2 = {**syn, "data": {**syn["data"], "fingerprint_sha256": "f2"}}
    assert compare_file("manifest.json", json.dumps(syn).encode(), json.dumps(syn2).encode()) == []
    syn3 = {**syn, "data": {**syn["data"], "rows": 6}}
    assert compare_file("manifest.json", json.dumps(syn).encode(), json.dumps(syn3).encode())
    c = {**b, "version": "0.1.1"}
    assert [m.where for m in compare_file("manifest.json", json.dumps(a).encode(), json.dumps(c).encode())] == ["version"]
