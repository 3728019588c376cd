"""The workbench without a browser: sign-in, upload, quote page, document, history, questionnaire
with errors beside the fields, and the ledger for auditors (server-rendered, no JavaScript)."""

from __future__ import annotations

import re

import pytest

from tests.service.conftest import POLICY, SUBMISSION


@pytest.fixture
def svc(make_service, sqlite_url):
    return make_service(sqlite_url)


def sign_in(svc, role: str):
    r = svc.client.post("/workbench/signin", data={"api_key": svc.keys[role]}, follow_redirects=False)
    assert r.status_code == 303 and "uw_session" in r.cookies
    return r


def upload(svc, **files):
    names = {"submission_file": SUBMISSION, "terms_file": POLICY, **files}
    return svc.client.post("/workbench/quotes", data={"seed": "0", "frequency_model": "frequency",
                                                      "principle": "wang:0.25", "regime": "",
                                                      "idempotency_key": "form-1"},
                           files={k: (p.name, p.read_bytes()) for k, p in names.items() if p is not None},
                           follow_redirects=False)


def flatten_into(form: dict, d: dict, prefix: str = "") -> dict:
    """A submission as the questionnaire posts it: lists of objects as numbered rows, the words of a
    date-or-word answer ("never") in its choice box."""
    for k, v in d.items():
        if isinstance(v, dict):
            flatten_into(form, v, f"{prefix}{k}.")
        elif isinstance(v, list):
            form[f"rows.{prefix}{k}"] = str(len(v))
            for i, row in enumerate(v):
                for rk, rv in row.items():
                    form[f"q.{prefix}{k}.{i}.{rk}"] = str(rv)
        elif v in ("never", "unknown") and k.startswith("last_") or (k == "security_staff_share" and v == "unknown"):
            form[f"q.{prefix}{k}.choice"] = v
        elif v is not None:
            form[f"q.{prefix}{k}"] = str(v)
    return form


def test_pages_need_sign_in_and_a_bad_key_is_refused(svc):
    assert svc.client.get("/workbench", follow_redirects=False).headers["location"] == "/workbench/signin"
    page = svc.client.get("/workbench/signin")
    assert page.status_code == 200 and '<label for="api_key">' in page.text
    r = svc.client.post("/workbench/signin", data={"api_key": "uwk_nope_nope"})
    assert r.status_code == 401 and "not valid" in r.text


def test_upload_quote_document_and_history(svc, cli_quote):
    sign_in(svc, "underwriter")
    home = svc.client.get("/workbench")
    for field in ("submission_file", "terms_file", "regime", "seed", "frequency_model", "principle"):
        assert f'<label for="{field}">' in home.text and f'id="{field}"' in home.text
    r = upload(svc)
    assert r.status_code == 303, r.text
    page = svc.client.get(r.headers["location"])
    assert page.status_code == 200
    shown = re.search(r'id="premium" data-value="([^"]+)"', page.text).group(1)
    assert float(shown) == cli_quote["premium"]
    assert f"{cli_quote['premium']:,.0f} JPY" in page.text  # money to the yen, with its currency
    qid = r.headers["location"].rsplit("/", 1)[1]
    doc = svc.client.get(f"/workbench/quotes/{qid}/document.txt")
    from underwriting.service.views import format_document

    assert doc.status_code == 200 and doc.text == format_document(cli_quote)
    assert svc.client.get(f"/workbench/quotes/{qid}/document.json").json() == cli_quote
    # the same form posted twice (a double click) makes one quote
    assert upload(svc).headers["location"] == r.headers["location"]
    hist = svc.client.get("/workbench/quotes")
    assert hist.text.count(f'href="/workbench/quotes/{qid}"') == 1
    bad = svc.client.get("/workbench/quotes", params={"date_from": "soon"})
    assert bad.status_code == 422 and "expected a date" in bad.text


def test_upload_errors_are_shown_beside_the_fields(svc, tmp_path):
    sign_in(svc, "underwriter")
    bad = tmp_path / "bad.json"
    bad.write_text(SUBMISSION.read_text().replace('"as_of": "2026-09-30"', '"as_of": "soon"'))
    r = upload(svc, submission_file=bad)
    assert r.status_code == 422
    block = re.search(r'<div id="submission_error">(.*?)</div>', r.text, re.S).group(1)
    assert "submission.as_of" in block
    assert 'aria-invalid="true" aria-describedby="submission_error"' in r.text
    wrong = tmp_path / "sub.txt"
    wrong.write_text("x")
    r = upload(svc, submission_file=wrong)
    assert r.status_code == 422 and "unsupported file type" in r.text


def test_questionnaire_is_generated_from_the_schema(svc, cli_quote):
    import json

    from underwriting.service.engine import schema

    sign_in(svc, "underwriter")
    page = svc.client.get("/workbench/questionnaire")
    assert page.status_code == 200
    for name in ("exchange.name", "exchange.jurisdiction", "as_of", "exposure.currency",
                 "exposure.customer_assets.hot", "posture.custody_architecture"):
        fid = "q_" + name.replace(".", "__")
        assert f'<label for="{fid}">' in page.text and f'name="q.{name}"' in page.text
    assert set(schema("submission")["properties"]) >= {"exchange", "as_of", "exposure", "posture"}
    # fill the form with the Japanese sample: the same quote as the CLI without its policy
    sub = json.loads(SUBMISSION.read_text())
    form = {}

    flatten_into(form, sub)
    form.update({"seed": "0", "frequency_model": "frequency", "principle": "wang:0.25", "regime": ""})
    r = svc.client.post("/workbench/questionnaire", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[:3000]
    stored = svc.client.get(r.headers["location"].replace("/workbench/quotes/", "/v1/quotes/"),
                            headers=svc.auth("auditor")).json()["quote"]
    assert stored["inputs"]["submission"] == cli_quote["inputs"]["submission"]
    form["q.exposure.customer_assets.hot"] = "-1"
    form["q.as_of"] = "later"
    r = svc.client.post("/workbench/questionnaire", data=form)
    assert r.status_code == 422
    for name in ("exposure.customer_assets.hot", "as_of"):
        fid = "q_" + name.replace(".", "__")
        assert f'aria-describedby="{fid}_error"' in r.text and f'<div id="{fid}_error">' in r.text


def test_auditors_browse_the_ledger_underwriters_do_not(svc):
    sign_in(svc, "underwriter")
    assert upload(svc).status_code == 303
    assert svc.client.get("/workbench/ledger").status_code == 403
    svc.client.post("/workbench/signout")
    sign_in(svc, "auditor")
    page = svc.client.get("/workbench/ledger", params={"verify": 1})
    assert page.status_code == 200 and "quote.create" in page.text and "chain intact" in page.text
    r = svc.client.post("/workbench/quotes", data={}, files={"submission_file": ("a.json", b"{}")},
                        follow_redirects=False)
    assert r.status_code == 403


def test_the_rate_limit_applies_to_workbench_quotes(make_service, sqlite_url):
    svc = make_service(sqlite_url, rate_limit_per_minute=1)
    sign_in(svc, "underwriter")
    assert upload(svc).status_code == 303
    r = upload(svc)
    assert r.status_code == 429 and "rate limit" in r.text and int(r.headers["retry-after"]) >= 1
