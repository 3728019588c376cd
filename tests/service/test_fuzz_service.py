"""Property fuzz over the service routes (issue 30): malformed bodies, huge and non-finite numbers,
deep nesting, wrong media types, odd query values and headers, on every route, with valid keys and
without. The property: never a 5xx; every error is application/problem+json; every 2xx that creates
something is on a route that may."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.service.conftest import Service

PROBLEM = "application/problem+json"

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
                    st.sampled_from(["", "0", "-1", "1e308", "99999999999999999999", "poisson", "lognormal",
                                     "jp-fsa-2026", "underwriter", "risk_scorer", "2026-02-30", "\x00", "wang:50"]))
keys = st.sampled_from(["submission", "terms", "regime", "options", "seed", "frequency", "severity", "layer",
                        "family", "lam", "mu", "sigma", "limit", "deductible", "principle", "level", "method",
                        "cap", "policies", "fx", "as_of", "params", "name", "version", "rollback", "role", "label",
                        "exchange", "exposure"]) | st.text(max_size=10)
json_values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(keys, kids, max_size=5),
                           max_leaves=25)


def _deep(n: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return opener * n + closer * n


raw_bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=60, max_value=5000).map(_deep),
    st.integers(min_value=60, max_value=3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    st.sampled_from([b"", b"{", b"nul", b'{"seed": NaN}', b'{"level": 1e999}', b"\xff\xfe", b'"\\ud800"',
                     b'{"seed": ' + b"9" * 5000 + b"}", b"[" * 100_000]),
    st.binary(max_size=200),
)

ROUTES = [("POST", "/v1/quotes"), ("POST", "/v1/quotes/{id}/reproduce"), ("POST", "/v1/price"),
          ("POST", "/v1/reserve"), ("POST", "/v1/models/promote"), ("POST", "/v1/keys"), ("GET", "/v1/quotes"),
          ("GET", "/v1/quotes/{id}"), ("GET", "/v1/ledger"), ("GET", "/v1/ledger/verify"), ("GET", "/v1/keys"),
          ("DELETE", "/v1/keys/{id}"), ("GET", "/v1/schemas/{id}"), ("GET", "/v1/models"), ("GET", "/health"),
          ("POST", "/workbench/signin"), ("POST", "/workbench/quotes"), ("POST", "/workbench/questionnaire"),
          ("GET", "/workbench/quotes"), ("GET", "/workbench/ledger"), ("POST", "/workbench/signout")]
ids = st.one_of(st.text(max_size=40), st.sampled_from(["policy", "x" * 300, "..", "%00", HUGE := "9" * 25]))
query = st.dictionaries(st.sampled_from(["offset", "after", "limit", "from", "to", "exchange", "verify",
                                         "date_from", "date_to"]),
                        st.one_of(st.text(max_size=20), st.sampled_from([HUGE, "-1", "1e3", "", "2026-13-01"])),
                        max_size=3)
ctypes = st.sampled_from(["application/json", "application/problem+json", "text/plain", "",
                          "application/x-www-form-urlencoded", "multipart/form-data; boundary=zz"])


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory):
    from underwriting.service.settings import ServiceSettings

    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'service.db'}"
    svc = Service(url, settings=ServiceSettings(rate_limit_per_minute=0, signin_per_minute=0))
    from fastapi.testclient import TestClient

    client = TestClient(svc.app, raise_server_exceptions=False, headers={"Origin": "http://testserver"})
    client.post("/workbench/signin", data={"api_key": svc.keys["actuary"]})
    yield svc, client
    client.close()
    svc.close()


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(route=st.sampled_from(ROUTES), ident=ids, body=raw_bodies, ctype=ctypes, q=query,
       role=st.sampled_from(["underwriter", "actuary", "auditor", "admin", None, "bogus"]),
       idem=st.one_of(st.none(), st.text(max_size=5), st.just("k" * 250)))
def test_no_route_answers_5xx(fuzz_service, route, ident, body, ctype, q, role, idem):
    svc, client = fuzz_service
    method, path = route
    path = path.replace("{id}", quote(ident, safe="") or "x") if "{id}" in path else path
    headers = {}
    if role == "bogus":
        headers["Authorization"] = "Bearer uwk_000000000000_bogus"
    elif role is not None:
        headers.update(svc.auth(role))
    if ctype:
        headers["Content-Type"] = ctype
    if idem is not None:
        headers["Idempotency-Key"] = idem
    try:
        r = client.request(method, path, content=body if method != "GET" else None, params=q, headers=headers,
                           follow_redirects=False)
    except UnicodeEncodeError:  # a header the HTTP client itself cannot send
        return
    assert r.status_code < 500, (method, path, r.status_code, r.text[:300])
    if r.status_code >= 400 and path.startswith("/v1"):
        assert r.headers["content-type"].startswith(PROBLEM), (method, path, r.status_code)
    if r.status_code == 204:
        assert r.content == b""


form_keys = st.sampled_from(["q.exchange.name", "q.as_of", "q.exposure.currency", "q.exposure.customer_assets.hot",
                             "q.posture.security_staff_share", "q.vendors.0.name", "rows.vendors", "rows.incidents",
                             "action", "t.layers", "t.enabled", "t.currency", "t.layer.0.limit", "t.layer.0.attachment",
                             "seed", "regime", "principle", "frequency_model", "currency", "lang", "idempotency_key",
                             "everywhere"]) | st.text(max_size=12).map(lambda t: "q." + t)
form_values = st.one_of(st.text(max_size=20), st.sampled_from(
    ["9" * 5000, "-1", "1e309", "nan", "unknown", "add:vendors:" + "9" * 30, "remove:incidents:3", "add:layers",
     "[" * 2000, "2026-02-30", "\x00", "wang:50", "ZZ", "0"]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(path=st.sampled_from(["/workbench/questionnaire", "/workbench/quotes", "/workbench/signin",
                             "/workbench/keys"]),
       form=st.dictionaries(form_keys, form_values, max_size=8))
def test_no_workbench_form_answers_5xx(fuzz_service, path, form):
    _svc, client = fuzz_service
    r = client.post(path, data=form, follow_redirects=False)
    assert r.status_code < 500, (path, r.status_code, r.text[:300])


@pytest.mark.parametrize("answer", ["9" * 5000, "1e309", "-1e400", "nan", "inf"])
def test_a_non_finite_questionnaire_number_is_named_not_a_500(fuzz_service, answer):
    """Found by the fuzz above: ``float("9" * 5000)`` is ``inf``, which reached the idempotent quote's
    request hash (JSON refuses it) as a 500. The form now names the field."""
    svc, client = fuzz_service
    client.post("/workbench/signin", data={"api_key": svc.keys["actuary"]})  # the fuzz may have signed out
    r = client.post("/workbench/questionnaire", data={"q.exposure.customer_assets.hot": answer, "idempotency_key": "0"},
                    follow_redirects=False)
    assert r.status_code < 500, r.text[:300]
    assert "expected a finite number" in r.text and "customer_assets.hot" in r.text
    assert "9" * 100 + "...&#39;" not in r.text  # the message quotes at most 40 characters (the field keeps the answer)
