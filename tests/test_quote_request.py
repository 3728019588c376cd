"""QuoteRequest is the one door: the CLI, the Python API and the service build one and agree on defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "datasets" / "examples"
SUB = EXAMPLES / "jp_small_exchange.json"
POLICY = EXAMPLES / "policy_jp_primary.toml"


def _service_body() -> dict:
    import tomllib

    terms = tomllib.loads(POLICY.read_text(encoding="utf-8"))
    terms = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in terms.items()}
    return {"submission": json.loads(SUB.read_text(encoding="utf-8")), "terms": terms}


def test_a_default_changed_in_one_place_reaches_cli_api_and_service(cli, monkeypatch):
    """Monkeypatch the one default principle: the CLI, ``api.quote`` and the service quote with it, alike."""
    import underwriting.api as uw
    from underwriting.pricing import premium
    from underwriting.service import engine

    base = uw.quote(SUB, POLICY)
    assert base.inputs["basis"]["principle"] == premium.DEFAULT_PRINCIPLE
    monkeypatch.setattr(premium, "DEFAULT_PRINCIPLE", "wang:0.3")
    code, out, err = cli("quote", SUB, "--terms", POLICY, "--json")
    assert code == 0, err
    by_cli = json.loads(out)
    by_api = uw.quote(SUB, POLICY).to_dict()
    by_service = engine.quote(_service_body()).to_dict()
    for q in (by_cli, by_api, by_service):
        assert q["inputs"]["basis"]["principle"] == "wang:0.3"
    assert by_cli["premium"] == by_api["premium"] == by_service["premium"]
    assert by_cli["input_hash"] == by_api["input_hash"] == by_service["input_hash"]
    assert by_api["premium"] > base.premium  # a larger Wang load: a larger premium, never silently the old one
    assert engine.default_principle() == "wang:0.3"  # the workbench's pre-filled value too


def test_the_request_schema_is_the_service_body():
    from underwriting.quote.options import FREQUENCY_MODELS
    from underwriting.quote.request import QuoteRequest, request_schema
    from underwriting.service import engine

    schema = request_schema()
    assert schema == engine.schema("quote-request")
    # the OpenAPI components carry the same model, its references rewritten to #/components/schemas/...
    comps = engine.quote_request_components()
    assert comps["QuoteRequest"]["properties"].keys() == schema["properties"].keys()
    assert set(comps) - {"QuoteRequest"} == set(schema["$defs"])
    assert set(schema["properties"]) == {"submission", "terms", "regime", "options"}
    assert schema["required"] == ["submission"]
    opts = schema["$defs"]["QuoteOptions"]["properties"]
    assert set(opts) >= {"seed", "fx", "frequency_model", "principle", "currency", "pricing_basis", "schedule",
                         "lang", "model_versions"}
    assert opts["frequency_model"]["enum"] == list(FREQUENCY_MODELS)
    # a service body validates as a request as it stands
    req = QuoteRequest.checked({**_service_body(), "options": {"seed": 3, "fx": {"jpy": 150}}})
    assert req.options.seed == 3 and req.options.fx == {"JPY": 150.0} and req.terms.policy_id


@pytest.mark.parametrize(("option", "value", "field"), [
    ("principle", "wang:x", "principle"), ("seed", -1, "seed"), ("frequency_model", "magic", "frequency_model"),
    ("currency", "E1R", "currency"), ("fx", {"JPY": -2}, "fx"), ("model_versions", {"frequency": "x y"},
                                                                      "model_versions"),
])
def test_every_door_names_the_bad_option(option, value, field, cli):
    """One check, three wordings of where: ``options.<field>`` (request, service), the keyword (API), the flag (CLI)."""
    import underwriting.api as uw
    from underwriting.domain.submission import load_submission
    from underwriting.errors import InputError
    from underwriting.quote.request import QuoteRequest
    from underwriting.service import engine

    sub = load_submission(str(SUB))
    with pytest.raises(InputError) as exc:
        QuoteRequest.checked({"submission": sub, "options": {option: value}})
    assert exc.value.field == f"options.{field}"
    with pytest.raises(engine.FieldErrors) as svc:
        engine.quote({**_service_body(), "options": {option: value}})
    assert any(e["field"].startswith(f"options.{field}") for e in svc.value.errors)
    if option != "model_versions":  # not an argument of api.quote (the registry's pins are)
        kw = {"fx": value} if option == "fx" else {option: value}
        with pytest.raises(InputError) as api:
            uw.quote(sub, **kw)
        assert api.value.field == field
    flags = {"principle": ["--principle", "wang:x"], "seed": None, "frequency_model": None,
             "currency": ["--currency", "E1R"], "fx": ["--fx", "JPY=-2"], "model_versions": None}
    if flags[option]:
        code, _, err = cli("quote", SUB, *flags[option])
        assert code == 2 and f"--{field.replace('_', '-')}" in err and "Traceback" not in err


def test_make_quote_takes_a_request_or_builds_one_the_same_way():
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission
    from underwriting.quote.make import make_quote
    from underwriting.quote.request import QuoteRequest

    sub, terms = load_submission(str(SUB)), load_policy(str(POLICY))
    a = make_quote(QuoteRequest.build(sub, terms, seed=5, frequency_model="baseline"))
    b = make_quote(sub, terms, seed=5, frequency_model="baseline")
    assert a.to_json() == b.to_json()
    with pytest.raises(TypeError):
        make_quote(QuoteRequest.build(sub), seed=1)


def test_model_versions_pin_the_registry_and_an_unknown_version_is_a_bad_input():
    from underwriting.domain.submission import load_submission
    from underwriting.errors import InputError
    from underwriting.quote.make import make_quote
    from underwriting.quote.request import QuoteRequest
    from underwriting.registry import Registry
    from underwriting.service import engine

    sub = load_submission(str(SUB))
    versions = Registry().versions("frequency")
    assert len(versions) >= 2, "the shipped registry holds two frequency versions"
    old = make_quote(QuoteRequest.build(sub, model_versions={"frequency": versions[0]}))
    assert old.versions["frequency"].startswith(f"{versions[0]}@")
    with pytest.raises(InputError) as exc:
        make_quote(QuoteRequest.build(sub, model_versions={"frequency": "9.9.9"}))
    assert exc.value.field == "options.model_versions.frequency" and "9.9.9" in exc.value.message
    with pytest.raises(engine.FieldErrors) as svc:
        engine.quote({**_service_body(), "options": {"model_versions": {"frequency": "9.9.9"}}})
    assert svc.value.errors[0]["field"] == "options.model_versions.frequency"


def test_schema_command_publishes_the_request(cli):
    from underwriting.quote.request import request_schema

    code, out, _ = cli("schema", "quote-request")
    assert code == 0 and json.loads(out) == json.loads(json.dumps(request_schema()))


def test_bad_terms_are_named_by_their_own_path():
    """A layer or a tower: errors name ``terms.<field>`` or ``terms.layers.<i>.<field>`` (no union tag)."""
    from underwriting.errors import InputError
    from underwriting.quote.request import QuoteRequest

    body = _service_body()
    with pytest.raises(InputError) as layer:
        QuoteRequest.checked({**body, "terms": {**body["terms"], "deductible": "lots"}})
    assert layer.value.field == "terms.deductible"
    with pytest.raises(InputError) as tower:
        QuoteRequest.checked({**body, "terms": {"programme_id": "t", "layers": [{**body["terms"], "limit": -1}]}})
    assert "terms.layers.0.limit" in str(tower.value) and ".tower." not in str(tower.value)
