"""The recipes of docs/extending.md, followed: a toy severity family, premium principle and reserve rule
kind are each registered in one place, used end to end (parsers, CLI help and output, fitting, the
regime file's validation and the assessment), and removed again. Every list of them reads the registry."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from pydantic import Field

from underwriting.cli.main import main
from underwriting.errors import InputError
from underwriting.losses.severity import (
    FAMILIES,
    FitSpec,
    Severity,
    family_names,
    fit_severity,
    make_severity,
    register_family,
    select_severity,
    unregister_family,
)
from underwriting.pricing.principles import (
    PRINCIPLE_REGISTRY,
    PRINCIPLES,
    Principle,
    parse_principle,
    register_principle,
    unregister_principle,
)
from underwriting.reserve import assess, validate_regime
from underwriting.reserve.figures import Check
from underwriting.reserve.regime import REQUIREMENT_METHODS, RULE_KINDS, RuleSpec
from underwriting.reserve.regime_params import _P, RULE_PARAMS, rule_kind, unregister

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- a severity family

class _Exponential(Severity):
    """Exponential losses with mean ``scale`` (currency units)."""

    scale: float
    family: ClassVar[str] = "toyexp"

    def cdf(self, x):
        return -np.expm1(-np.maximum(x, 0) / self.scale)

    def sf(self, x):
        return np.exp(-np.maximum(x, 0) / self.scale)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(x >= 0, np.exp(-np.maximum(x, 0) / self.scale) / self.scale, 0.0)

    def ppf(self, q):
        with np.errstate(divide="ignore"):  # ppf(1) = inf
            return -self.scale * np.log1p(-np.asarray(q, dtype=float))

    @property
    def params(self):
        return {"scale": self.scale}

    def moment(self, k=1):
        return math.factorial(k) * self.scale ** k

    @classmethod
    def fit_spec(cls, amounts, threshold, **options):
        return FitSpec(("scale",), np.exp, np.exp, lambda z: Exponential(math.exp(z[0])),
                       lambda x, t: [np.log([max(float(np.mean(x)) - t, 1.0)])])


Exponential = dataclass(frozen=True, repr=False)(_Exponential)


@pytest.fixture
def toy_family():
    register_family(Exponential, aliases=("toyexpo",))
    try:
        yield Exponential
    finally:
        unregister_family("toyexp")
    assert "toyexp" not in FAMILIES and "toyexpo" not in FAMILIES


def _price(capsys, *argv):
    rc = main(["price", "--frequency", "poisson:0.3", "--deductible", "1e5", "--limit", "9e5", "--json", *argv])
    out = capsys.readouterr()
    return rc, out


def test_a_severity_family_is_one_registered_class(toy_family, capsys):
    assert "toyexp" in family_names() and "toyexp" in family_names(selection=True)
    sev = make_severity("toyexpo", scale=2e5)
    assert sev == Exponential(2e5) and sev.family == "toyexp"
    with pytest.raises(InputError, match="missing parameter"):
        make_severity("toyexp")
    # the CLI's help and parser know it
    with pytest.raises(SystemExit):
        main(["price", "--help"])
    assert "toyexp:scale=" in capsys.readouterr().out
    rc, out = _price(capsys, "--severity", "toyexp:scale=2e5")
    assert rc == 0, out.err
    doc = json.loads(out.out)
    # E[min((X - d)+, l)] for the exponential: scale (e^{-d/s} - e^{-(d+l)/s}), times the Poisson mean
    el = 0.3 * 2e5 * (math.exp(-1e5 / 2e5) - math.exp(-1e6 / 2e5))
    assert doc["expected_loss"] == pytest.approx(el, rel=1e-6)
    # fitted by left-truncated maximum likelihood, and part of the default selection
    x = np.random.default_rng(1).exponential(3e5, 400) + 1e5
    fit = fit_severity(x, 1e5, "toyexp")
    assert fit.family == "toyexp" and fit.severity.scale == pytest.approx(np.mean(x) - 1e5, rel=1e-3)
    assert "toyexp" in {f.family for f in select_severity(x, 1e5).fits}


def test_a_family_must_be_a_frozen_dataclass():
    class Loose(_Exponential):  # inherits a frozen dataclass but is not one itself
        family: ClassVar[str] = "loose"

    class Mutable(Severity):  # a mutable dataclass (value caches would be unsafe)
        scale: float
        family: ClassVar[str] = "mutable"

    for cls in (Loose, dataclass(Mutable)):
        with pytest.raises(TypeError, match="frozen dataclass"):
            register_family(cls)
    assert "loose" not in FAMILIES and "mutable" not in FAMILIES
    with pytest.raises(ValueError, match="already registered"):
        register_family(dataclass(frozen=True)(type("Other", (_Exponential,), {"family": "lognormal"})))


# ---------------------------------------------------------------- a premium principle

@pytest.fixture
def toy_principle():
    register_principle("tvar_mix", lambda r, k, level: (1 - k) * r.mean + k * r.tvar(level), default=0.5,
                       description="(1 - w) E[L] + w TVaR_p[L]", symbol="w", aliases=("tm",),
                       check=lambda k: None if k <= 1 else f"tvar_mix weight must be at most 1, got {k!r}")
    try:
        yield
    finally:
        unregister_principle("tvar_mix")
    assert "tvar_mix" not in PRINCIPLES
    with pytest.raises(InputError, match="unknown premium principle"):
        parse_principle("tm:0.3")


def test_a_premium_principle_is_one_registry_entry(toy_principle, capsys):
    assert PRINCIPLES["tvar_mix"] == (0.5, "(1 - w) E[L] + w TVaR_p[L]")
    assert parse_principle("tm") == Principle("tvar_mix", 0.5)
    with pytest.raises(InputError, match="at most 1"):
        parse_principle("tvar_mix:2")
    with pytest.raises(SystemExit):
        main(["price", "--help"])
    assert "tvar_mix:w" in capsys.readouterr().out
    results = {}
    for spec in ("pure", "tvar_mix:0", "tvar_mix:0.5", "tvar_mix:1", "cost_of_capital:1"):
        rc, out = _price(capsys, "--severity", "lognormal:mu=11,sigma=2", "--principle", spec)
        assert rc == 0, out.err
        results[spec] = json.loads(out.out)["technical_premium"]
    assert results["tvar_mix:0"] == pytest.approx(results["pure"], rel=1e-12)
    assert results["tvar_mix:1"] == pytest.approx(results["cost_of_capital:1"], rel=1e-12)  # E[L] + (TVaR - E[L])
    assert results["pure"] < results["tvar_mix:0.5"] < results["tvar_mix:1"]


def test_the_documented_principle_table_is_the_registry():
    text = (ROOT / "docs/pricing.md").read_text(encoding="utf-8")
    table = text[text.index("| principle | premium |"):]
    table = table[:table.index("\n\n")]
    names = re.findall(r"^\| `(\w+)", table, flags=re.M)
    assert names == list(PRINCIPLE_REGISTRY)


def test_the_documented_severity_families_are_the_registry():
    import underwriting.losses.severity as sev

    block = sev.__doc__[sev.__doc__.index("Families\n--------"):sev.__doc__.index("Derived severities")]
    assert re.findall(r"^``(\w+)``", block, flags=re.M) == list(family_names())


# ---------------------------------------------------------------- a reserve rule kind

class MinimumLimitParams(_P):
    min_limit: float = Field(ge=0)


@pytest.fixture
def toy_rule_kind():
    @rule_kind("toy_minimum_limit", MinimumLimitParams)
    def minimum_limit(rule, p, pol, as_of):
        ok = pol.limit >= p.min_limit
        return Check(rule.rule, "pass" if ok else "fail", 0.0 if ok else 1.0,
                     f"limit {pol.limit:,.0f} vs minimum {p.min_limit:,.0f}", f"{rule.source} [{rule.status}]",
                     pol.policy_id, rule.status)

    try:
        yield
    finally:
        unregister("toy_minimum_limit")
    assert "toy_minimum_limit" not in RULE_KINDS and "toy_minimum_limit" not in RULE_PARAMS


def _regime(tmp_path: Path, min_limit: float) -> Path:
    text = (ROOT / "underwriting/reserve/regimes/jp-fsa-2026.toml").read_text(encoding="utf-8")
    text += ('\n[[rules]]\nrule = "toy.minimum_limit"\nkind = "toy_minimum_limit"\nstatus = "assumption"\n'
             f'source = "test"\nparams = {{ min_limit = {min_limit!r} }}\n')
    path = tmp_path / f"toy-{min_limit:g}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_rule_kind_is_one_registered_function(toy_rule_kind, tmp_path):
    assert "toy_minimum_limit" in RULE_KINDS and RULE_PARAMS["toy_minimum_limit"] is MinimumLimitParams
    assert "toy_minimum_limit" in RuleSpec.model_json_schema()["properties"]["kind"]["enum"]
    sub = ROOT / "datasets/examples/jp_small_exchange.json"
    pol = ROOT / "datasets/examples/policy_jp_primary.toml"
    passed = assess(sub, [pol], _regime(tmp_path, 0.0))
    failed = assess(sub, [pol], _regime(tmp_path, 1e18))
    check = {c.rule: c for c in passed.checks}["toy.minimum_limit"]
    assert check.outcome == "pass"
    assert {c.rule: c for c in failed.checks}["toy.minimum_limit"].outcome == "fail"
    assert passed.policies[0].eligible and not failed.policies[0].eligible  # the rule decides eligibility
    assert passed.credit > 0 and failed.credit == 0
    # its parameters are checked like a built-in's: the field path is named
    with pytest.raises(InputError, match="min_limit"):
        assess(sub, [pol], _regime(tmp_path, -1.0))


def test_an_unknown_rule_kind_names_the_registered_ones(tmp_path):
    text = (ROOT / "underwriting/reserve/regimes/eu-mica-art67.toml").read_text(encoding="utf-8")
    import tomllib

    data = tomllib.loads(text.replace('kind = "initial_term"', 'kind = "initial_trem"'))
    with pytest.raises(InputError, match="initial_term") as info:
        validate_regime(data)
    assert "rules" in str(info.value)
    assert set(REQUIREMENT_METHODS) >= {"volume_incident", "mica_art67", "basel_bia", "custody_cover", "vara_capital"}
