"""Issue #31: engine details an actuary checks (atoms in VaR, P(exhaust) bounds, reinstatements
charged in full, the echo of a capped severity). Every reference is computed in the test."""

from __future__ import annotations

import json

from underwriting.cli.main import main


def run_cli(capsys, *argv):
    rc = main(["price", *argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_json_echo_of_a_capped_severity_keeps_its_base_family(capsys):
    rc, out, _ = run_cli(capsys, "--frequency", "poisson:0.3", "--severity", "lognormal:mu=11.5,sigma=2",
                         "--deductible", "1e6", "--limit", "9e6", "--cap", "5e6", "--json")
    assert rc == 0
    echo = json.loads(out)["severity"]
    assert echo == {"family": "lognormal", "mu": 11.5, "sigma": 2.0, "cap": 5e6}
    rc, out, _ = run_cli(capsys, "--frequency", "poisson:0.3", "--severity", "gamma:shape=0.5,scale=2e6",
                         "--deductible", "1e6", "--limit", "9e6", "--json")
    assert json.loads(out)["severity"] == {"family": "gamma", "shape": 0.5, "scale": 2e6}
