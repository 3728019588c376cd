"""The workbench pages an underwriting team uses (issue #28), without a browser: the terms editor gives
the CLI's quote for the same terms (one layer with its reserve credit, and a two-layer tower), the quote
page shows the whole quote formatted, the typed questionnaire, each role's home, the models and keys
pages, history search, the language switch and the documents in Japanese."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.service.conftest import POLICY, SUBMISSION, run_cli
from tests.service.test_workbench import flatten_into, sign_in

SHARED = {"policy_id": "jp-primary-2026", "insurer": "Example Marine & Fire (fictional)", "insurer_rating": "A+",
          "insurer_authorised": "true", "inception": "2026-10-01", "expiry": "2027-10-01",
          "cancellation_notice_days": "90", "currency": "JPY"}
PERILS = ["hot_wallet_theft", "cold_wallet_theft", "third_party_vendor", "insider", "social_engineering"]
#: The JP primary policy (datasets/examples/policy_jp_primary.toml) as the terms editor's one layer.
JP_PRIMARY_LAYER = {"deductible": "100000000", "limit": "5000000000", "aggregate_limit": "5000000000",
                    "reinstatements": "0", "coinsurance": "1", "sublimits.social_engineering": "500000000"}
#: A two-layer JPY tower: 2bn xs 100m primary (one reinstatement), 3bn xs 2.1bn excess at a 50% share.
TOWER = [{"policy_id": "jp-tower-primary", "deductible": "100000000", "limit": "2000000000", "reinstatements": "1",
          "coinsurance": "1", "sublimits.social_engineering": "500000000"},
         {"policy_id": "jp-tower-excess", "attachment": "2100000000", "limit": "3000000000", "reinstatements": "0",
          "coinsurance": "0.5"}]
TOWER_TOML = """policy_id = "jp-tower-2026"
insurer = "Example Marine & Fire (fictional)"
insurer_rating = "A+"
insurer_authorised = true
inception = 2026-10-01
expiry = 2027-10-01
cancellation_notice_days = 90
currency = "JPY"
perils = ["hot_wallet_theft", "cold_wallet_theft", "third_party_vendor", "insider", "social_engineering"]
exclusions = ["war_and_state_actor"]

[[layers]]
policy_id = "jp-tower-primary"
deductible = 100_000_000
limit = 2_000_000_000
reinstatements = 1
coinsurance = 1.0
sublimits = { social_engineering = 500_000_000 }

[[layers]]
policy_id = "jp-tower-excess"
attachment = 2_100_000_000
limit = 3_000_000_000
reinstatements = 0
coinsurance = 0.5
"""


#: A float printed as Python writes it: six or more significant digits after the point ("0.29824561403508776");
#: a small number to three significant figures ("0.0000164%") is not one.
RAW_FLOAT = re.compile(r"\d\.0*[1-9]\d{5,}")


def terms_form(layers: list[dict[str, str]], **shared) -> dict:
    """The terms editor's fields (``t.*``) for the given layers, bottom first."""
    form = {"t.enabled": "1", "t.layers": str(len(layers)), "t.perils": PERILS, "t.exclusions": ["war_and_state_actor"]}
    form.update({f"t.{k}": v for k, v in {**SHARED, **shared}.items()})
    for i, lay in enumerate(layers):
        form.update({f"t.layers.{i}.{k}": v for k, v in lay.items()})
    return form


def questionnaire_form(**extra) -> dict:
    form = flatten_into({}, json.loads(SUBMISSION.read_text(encoding="utf-8")))
    form.update({"seed": "0", "frequency_model": "frequency", "principle": "wang:0.25", "regime": "",
                 "idempotency_key": extra.pop("idem", "q-1")})
    form.update(extra)
    return form


@pytest.fixture
def svc(make_service, sqlite_url):
    return make_service(sqlite_url)


def quote_page(svc, form):
    r = svc.client.post("/workbench/questionnaire", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[-3000:]
    page = svc.client.get(r.headers["location"])
    assert page.status_code == 200
    stored = svc.client.get(r.headers["location"].split("?")[0].replace("/workbench/quotes/", "/v1/quotes/"),
                            headers=svc.auth("auditor")).json()["quote"]
    return page.text, stored


def test_one_layer_from_the_terms_editor_is_the_cli_quote_with_its_reserve_credit(svc, cli_quote):
    sign_in(svc, "underwriter")
    text, stored = quote_page(svc, questionnaire_form(**terms_form([JP_PRIMARY_LAYER])))
    assert stored["premium"] == cli_quote["premium"]
    assert stored["reserve"]["credit"] == cli_quote["reserve"]["credit"] > 0
    assert stored["layers"] == cli_quote["layers"]
    assert "--terms" not in text and "(pass" not in text
    # the page says what was quoted, formatted, warnings first
    assert text.index('id="warnings"') < text.index('id="premium"') < text.index('id="terms"')
    assert f"{cli_quote['premium']:,.0f} JPY" in text
    lo, hi = cli_quote["premium_range"]
    assert re.search(rf'id="premium_range">[^<]*{lo:,.0f} JPY[^<]*{hi:,.0f} JPY', text)
    assert "[8439374" not in text and "0.29824561403508776" not in text
    for amount in ("5,000,000,000 JPY", "100,000,000 JPY", "500,000,000 JPY"):
        assert amount in text
    assert "1 October 2026 – 1 October 2027" in text
    for section in ("defence", "severity", "perils", "ep_points", "factors", "layers_table", "reserve_checks"):
        assert f'id="{section}"' in text
    assert "log_odds" not in text and "Log-odds" not in text
    # no raw float anywhere in the page's text
    body = re.sub(r"<[^>]+>", " ", text.split("<main", 1)[1])
    assert not RAW_FLOAT.search(body), RAW_FLOAT.search(body)


def test_a_two_layer_tower_from_the_editor_matches_the_cli(svc, tmp_path):
    toml = tmp_path / "tower.toml"
    toml.write_text(TOWER_TOML, encoding="utf-8")
    code, out, err = run_cli("quote", SUBMISSION, "--terms", toml, "--json")
    assert code == 0, err
    cli = json.loads(out)
    sign_in(svc, "underwriter")
    text, stored = quote_page(svc, questionnaire_form(**terms_form(TOWER, policy_id="jp-tower-2026")))
    assert stored["premium"] == cli["premium"]
    assert [lay["premium"] for lay in stored["layers"]] == [lay["premium"] for lay in cli["layers"]]
    assert text.count('class="num layer"') == 2
    for lay in cli["layers"]:
        assert f"{lay['premium']:,.0f} JPY" in text and lay["label"] in text
    assert "jp-tower-excess" in text and "50%" in text


def test_the_terms_editor_adds_and_removes_layers_and_marks_bad_fields(svc):
    sign_in(svc, "underwriter")
    form = questionnaire_form(**terms_form([JP_PRIMARY_LAYER]), action="add:layers")
    r = svc.client.post("/workbench/questionnaire", data=form)
    assert r.status_code == 200 and 'name="t.layers.1.limit"' in r.text
    assert 'value="5000000000"' in r.text  # the first layer's values are kept
    form = questionnaire_form(**terms_form(TOWER), action="remove:layers:0")
    r = svc.client.post("/workbench/questionnaire", data=form)
    assert 'name="t.layers.1.limit"' not in r.text and 'value="3000000000"' in r.text
    bad = terms_form([{**JP_PRIMARY_LAYER, "deductible": "9000000000"}, TOWER[1]])
    bad["t.layers.1.limit"] = "lots"
    r = svc.client.post("/workbench/questionnaire", data=questionnaire_form(**bad))
    assert r.status_code == 422
    assert 'id="t_layers__1__limit" name="t.layers.1.limit" value="lots" aria-invalid="true"' in r.text
    assert '<div id="t_layers__1__limit_error">' in r.text


def test_the_questionnaire_is_typed_with_human_labels(svc):
    sign_in(svc, "underwriter")
    page = svc.client.get("/workbench/questionnaire").text
    for generated in ("Admin Mfa", "Soc2 Type2", "``currency``", "Iso27001", ">JSON<"):
        assert generated not in page
    assert "Administrator multi-factor authentication" in page and "SOC 2 Type II report" in page
    assert '<textarea' not in page
    assert 'type="number" step="any"\n       id="q_posture__security_staff_share"' in page
    assert 'name="q.posture.security_staff_share.choice"' in page and 'name="q.vendors.0.name"' in page
    # "unknown" is a choice, not JSON; a bad number and a bad date are both reported, beside their fields
    form = questionnaire_form()
    form.pop("q.posture.security_staff_share")
    form["q.posture.security_staff_share.choice"] = "unknown"
    form["q.exposure.own_funds"] = "a lot"
    form["q.as_of"] = "later"
    form["q.vendors.1.role"] = "astrologer"
    r = svc.client.post("/workbench/questionnaire", data=form)
    assert r.status_code == 422 and "invalid JSON" not in r.text
    for name in ("exposure.own_funds", "as_of", "vendors.1.role"):
        fid = "q_" + name.replace(".", "__")
        assert f'aria-describedby="{fid}_error"' in r.text and f'<div id="{fid}_error">' in r.text, name
    assert 'id="q_posture__security_staff_share" name="q.posture.security_staff_share" value="" aria-invalid' not in r.text
    # a group's error is shown on its fieldset
    form = questionnaire_form()
    form["q.exposure.customer_assets.total"] = "1"
    r = svc.client.post("/workbench/questionnaire", data=form)
    assert r.status_code == 422
    assert '<fieldset id="q_exposure__customer_assets" aria-describedby="q_exposure__customer_assets_error">' in r.text
    # rows: add one, remove the first (the second moves up)
    form = questionnaire_form(action="add:vendors")
    r = svc.client.post("/workbench/questionnaire", data=form)
    assert 'name="q.vendors.2.name"' in r.text and 'value="Nimbus Cloud (fictional)"' in r.text
    form = questionnaire_form(action="remove:vendors:0")
    r = svc.client.post("/workbench/questionnaire", data=form)
    assert 'name="q.vendors.1.name"' not in r.text
    assert re.search(r'name="q.vendors.0.name" value="Nimbus Cloud \(fictional\)"', r.text)


def test_the_questionnaires_hints_are_in_the_page_language(svc):
    """Each field's hint (the Submission schema's description, marked for the catalogue) in English and Japanese."""
    sign_in(svc, "underwriter")
    en = svc.client.get("/workbench/questionnaire?lang=en").text
    ja = svc.client.get("/workbench/questionnaire?lang=ja").text
    assert "Legal or trading name." in en and "Trading volume over the last 12 months." in en
    assert "法人名または商号。" in ja and "直近12か月の取引高。" in ja
    assert "Legal or trading name." not in ja and "Trading volume over the last 12 months." not in ja
    # an incident row's hints too
    rows = svc.client.post("/workbench/questionnaire?lang=ja", data=questionnaire_form(action="add:incidents"))
    assert "損失額（併記した通貨建て）。" in rows.text and "``" not in rows.text


def test_unknown_security_staff_share_quotes(svc):
    sign_in(svc, "underwriter")
    form = questionnaire_form()
    form.pop("q.posture.security_staff_share")
    form["q.posture.security_staff_share.choice"] = "unknown"
    _text, stored = quote_page(svc, form)
    assert stored["inputs"]["submission"]["posture"]["security_staff_share"] == "unknown"


def test_role_homes_models_and_keys(svc):
    sign_in(svc, "underwriter")
    home = svc.client.get("/workbench").text
    assert 'id="home_new_quote"' in home and 'id="home_recent"' in home
    r = svc.client.get("/workbench/models")
    assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
    r = svc.client.get("/workbench/no/such/page")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html") and "Not found" in r.text
    svc.client.post("/workbench/signout")
    assert svc.client.get("/workbench/models", follow_redirects=False).headers["location"] == "/workbench/signin"

    sign_in(svc, "actuary")
    home = svc.client.get("/workbench").text
    assert 'id="home_models"' in home and 'id="home_recent"' in home
    models = svc.client.get("/workbench/models")
    assert models.status_code == 200 and models.headers["content-type"].startswith("text/html")
    from underwriting.service.engine import models as registry_models

    for m in registry_models():
        assert f'id="model_{m["name"]}"' in models.text
        if m["default"]:
            assert f'<strong class="default">{m["default"]}</strong>' in models.text
    assert "Promotion history" in models.text and "Out-of-time check" in models.text
    svc.client.post("/workbench/signout")

    sign_in(svc, "auditor")
    home = svc.client.get("/workbench").text
    assert 'id="home_ledger"' in home and 'id="verify"' in home and 'href="/workbench/ledger/export"' in home
    assert 'id="home_new_quote"' not in home
    export = svc.client.get("/workbench/ledger/export")
    assert export.status_code == 200 and all(json.loads(line)["seq"] for line in export.text.splitlines())
    svc.client.post("/workbench/signout")

    sign_in(svc, "admin")
    home = svc.client.get("/workbench").text
    assert 'id="home_keys"' in home and 'id="home_new_quote"' not in home
    r = svc.client.post("/workbench/keys", data={"role": "auditor", "label": "ops"})
    assert r.status_code == 201
    key = re.search(r'<code id="new_key">(uwk_[^<]+)</code>', r.text).group(1)
    assert svc.client.get("/v1/ledger/verify", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    kid = key.split("_")[1]
    r = svc.client.post(f"/workbench/keys/{kid}/rotate")
    assert r.status_code == 201 and f"Key {kid} is revoked." in r.text
    new = re.search(r'<code id="new_key">(uwk_[^<]+)</code>', r.text).group(1)
    assert svc.client.get("/v1/ledger/verify", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert svc.client.get("/v1/ledger/verify", headers={"Authorization": f"Bearer {new}"}).status_code == 200
    r = svc.client.post(f"/workbench/keys/{new.split('_')[1]}/revoke", follow_redirects=False)
    assert r.status_code == 303
    assert svc.client.get("/v1/ledger/verify", headers={"Authorization": f"Bearer {new}"}).status_code == 401
    r = svc.client.post("/workbench/keys", data={"role": "wizard", "label": ""})
    assert r.status_code == 422 and 'aria-describedby="role_error"' in r.text


def test_history_search_is_partial_and_case_insensitive_and_a_bad_filter_lists_nothing(svc):
    sign_in(svc, "underwriter")
    r = svc.client.post("/workbench/quotes", data={"idempotency_key": "h-1"},
                        files={"submission_file": (SUBMISSION.name, SUBMISSION.read_bytes()),
                               "terms_file": (POLICY.name, POLICY.read_bytes())}, follow_redirects=False)
    assert r.status_code == 303, r.text[-2000:]
    qid = r.headers["location"].rsplit("/", 1)[1].split("?")[0]
    for term in ("Sakura", "sakura", "COIN EXCH", "(sample)"):
        assert f'href="/workbench/quotes/{qid}"' in svc.client.get("/workbench/quotes", params={"exchange": term}).text
    assert f'href="/workbench/quotes/{qid}"' not in svc.client.get("/workbench/quotes", params={"exchange": "Kraken"}).text
    assert f'href="/workbench/quotes/{qid}"' not in svc.client.get("/workbench/quotes", params={"exchange": "%"}).text
    bad = svc.client.get("/workbench/quotes", params={"date_from": "soon"})
    assert bad.status_code == 422 and "expected a date" in bad.text and f"/workbench/quotes/{qid}" not in bad.text
    # the API's exchange filter is still the exact name
    api = svc.client.get("/v1/quotes", params={"exchange": "sakura"}, headers=svc.auth("auditor")).json()
    assert api["quotes"] == []


def test_the_language_follows_accept_language_and_the_switch(svc, cli_quote):
    sign_in(svc, "underwriter")
    page = svc.client.get("/workbench", headers={"Accept-Language": "ja,en;q=0.5"})
    assert '<html lang="ja">' in page.text and "新規見積" in page.text
    page = svc.client.get("/workbench", headers={"Accept-Language": "fr-FR,en;q=0.8"})
    assert '<html lang="en">' in page.text and "New quote" in page.text
    r = svc.client.get("/workbench/lang", params={"to": "ja", "next": "/workbench/quotes"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/workbench/quotes"
    assert "新規見積" in svc.client.get("/workbench").text
    r = svc.client.get("/workbench/lang", params={"to": "en", "next": "https://example.com/"}, follow_redirects=False)
    assert r.headers["location"] == "/workbench"
    svc.client.get("/workbench/lang", params={"to": "ja"})
    form = svc.client.get("/workbench/questionnaire").text
    for label in ("管理者の多要素認証", "委託先名", "てん補限度額", "免責金額", "レイヤー1", "不明"):
        assert label in form, label
    r = svc.client.post("/workbench/questionnaire", data=questionnaire_form(**terms_form([JP_PRIMARY_LAYER]),
                                                                            doc_lang="ja"), follow_redirects=False)
    assert r.headers["location"].endswith("?doc_lang=ja")
    page = svc.client.get(r.headers["location"]).text
    assert f"{cli_quote['premium']:,.0f}円" in page and "保険料" in page and "2026年10月1日" in page
    qid = r.headers["location"].rsplit("/", 1)[1].split("?")[0]
    from underwriting.service.views import format_document

    doc = svc.client.get(f"/workbench/quotes/{qid}/document.txt", params={"lang": "ja"})
    assert doc.text == format_document(cli_quote, lang="ja") and "円" in doc.text
    letter = svc.client.get(f"/workbench/quotes/{qid}/document.html", params={"lang": "ja"})
    assert letter.status_code == 200 and '<html lang="ja"' in letter.text


def test_upload_with_a_schedule_and_a_quote_currency_is_the_cli_quote(svc):
    from underwriting.frequency.schedule import DEFAULT_SCHEDULE

    text = DEFAULT_SCHEDULE.read_text(encoding="utf-8")
    code, out, err = run_cli("quote", SUBMISSION, "--terms", POLICY, "--schedule", DEFAULT_SCHEDULE,
                             "--currency", "USD", "--json")
    assert code == 0, err
    cli = json.loads(out)
    sign_in(svc, "underwriter")
    files = {"submission_file": (SUBMISSION.name, SUBMISSION.read_bytes()),
             "terms_file": (POLICY.name, POLICY.read_bytes()),
             "schedule_file": ("schedule.toml", text.encode("utf-8"))}
    r = svc.client.post("/workbench/quotes", data={"idempotency_key": "s-1", "quote_currency": "usd"}, files=files,
                        follow_redirects=False)
    assert r.status_code == 303, r.text[-2000:]
    stored = svc.client.get(r.headers["location"].replace("/workbench/quotes/", "/v1/quotes/"),
                            headers=svc.auth("auditor")).json()["quote"]
    assert stored["currency"] == "USD" and stored["premium"] == cli["premium"]
    assert stored["inputs"]["schedule"] == cli["inputs"]["schedule"]
    # a broken schedule is named beside its field; a terms file and the editor together are refused
    files["schedule_file"] = ("schedule.toml", b"[nonsense")
    r = svc.client.post("/workbench/quotes", data={"idempotency_key": "s-2", **terms_form([JP_PRIMARY_LAYER])},
                        files=files)
    assert r.status_code == 422
    assert '<div id="schedule_file_error">' in r.text and "not both" in r.text


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_golden_quote_renders_with_no_raw_float(lang):
    """The quote page of each golden quote (every model, terms, towers and currencies), without a server."""
    from pathlib import Path

    from underwriting import i18n
    from underwriting.service import pages_quote, views, web

    tpl = web.templates.env.get_template("quote.html")
    paths = sorted((Path(__file__).resolve().parents[1] / "golden" / "quotes").glob("*.json"))
    assert len(paths) >= 20
    for path in paths:
        q = views.build_up_order(json.loads(path.read_text(encoding="utf-8")))
        rec = {"id": "q", "created_at": "2026-12-07T00:00:00+00:00", "created_by": "k", "ledger_seq": 1}
        with i18n.use_lang(lang):
            html = tpl.render(principal=None, lang=lang, here="/workbench", languages=i18n.LANGUAGES, rec=rec, q=q,
                              cur=q["currency"], warnings=pages_quote.warnings_of(q), layers=pages_quote.layer_rows(q),
                              reserve_note=pages_quote.reserve_note(q), doc_lang=lang, premium_range=q.get("premium_range"),
                              slip=(q.get("inputs") or {}).get("terms") or {})
        body = re.sub(r"<[^>]+>", " ", html.split("<main", 1)[1])
        assert not RAW_FLOAT.search(body), (path.name, RAW_FLOAT.search(body))
        assert "None" not in body.split(), path.name
        assert html.count('class="num layer"') == max(1, len(q.get("layers") or []))


@pytest.mark.parametrize("lang, again", [("en", "Choose {name} again."), ("ja", "{name} をもう一度選択してください。")])
def test_a_round_trip_without_javascript_names_the_files_to_choose_again(svc, lang, again):
    """Without the terms editor's script, "Add a layer above" posts the form: the page comes back with
    the layer added and every value kept, but a browser cannot be given files back, so the page says
    which to choose again, in a notice at the top and beside each file input. Nothing is quoted."""
    sign_in(svc, "underwriter")
    svc.client.cookies.set("uw_lang", lang)
    files = {"submission_file": ("my <exchange>.json", SUBMISSION.read_bytes()),
             "terms_file": ("", b""),  # no file chosen: not asked for again
             "schedule_file": ("C:\\fakepath\\schedule.toml", b"[nonsense")}  # an old browser's path
    r = svc.client.post("/workbench/quotes", data={"idempotency_key": "rt-1", "action": "add:layers",
                                                   **terms_form([JP_PRIMARY_LAYER])}, files=files)
    assert r.status_code == 200 and 'name="t.layers.1.limit"' in r.text and 'value="5000000000"' in r.text
    notice = r.text[r.text.index('id="refile_notice"'):r.text.index("</div>", r.text.index('id="refile_notice"'))]
    assert notice.count("<li>") == 2 and "my &lt;exchange&gt;.json" in notice and "schedule.toml" in notice
    assert ('<p class="notice" id="submission_file_again">'
            + again.format(name="my &lt;exchange&gt;.json") + "</p>") in r.text
    assert ('<p class="notice" id="schedule_file_again">' + again.format(name="schedule.toml") + "</p>") in r.text
    assert 'id="terms_file_again"' not in r.text
    assert svc.client.get("/v1/quotes", headers=svc.auth("auditor")).json()["quotes"] == []
    # a page sent back with errors asks for them too; a fresh page does not
    r = svc.client.post("/workbench/quotes", data={"idempotency_key": "rt-2", "seed": "-1"}, files=files)
    assert r.status_code == 422 and 'id="submission_file_again"' in r.text
    assert 'id="refile_notice"' not in svc.client.get("/workbench/new").text
    # the questionnaire: adding a vendor row or a layer keeps the answers and asks for the schedule again
    schedule = {"schedule_file": ("schedule.toml", b"x = 1")}
    for action, kept in (("add:vendors", 'name="q.vendors.2.name"'), ("add:layers", 'name="t.layers.1.limit"')):
        r = svc.client.post("/workbench/questionnaire", data=questionnaire_form(action=action), files=schedule)
        assert r.status_code == 200 and kept in r.text and 'id="schedule_file_again"' in r.text, action


def test_a_chosen_files_name_is_shown_printable_and_bounded():
    from underwriting.service.pages_quote import chosen_files

    class Upload:
        def __init__(self, filename):
            self.filename = filename

        def read(self):  # pragma: no cover - never read
            raise AssertionError

    got = chosen_files({"submission_file": Upload("/home/u/sub\x1b[31mmission.json"), "terms_file": Upload(""),
                        "schedule_file": Upload("s" * 500 + ".toml"), "other_file": Upload("x.json")})
    assert got == {"submission_file": "sub[31mmission.json", "schedule_file": "s" * 117 + "..."}


def test_the_terms_editor_script_is_served_from_the_package_and_the_form_works_without_it(svc):
    sign_in(svc, "underwriter")
    page = svc.client.get("/workbench/new").text
    assert '<script src="/workbench/static/terms_editor.js" defer></script>' in page
    assert '<template id="layer_template">' in page and 'name="t.layers.99.limit"' in page
    assert '<noscript><p class="hint" id="layers_nojs_hint">' in page
    js = svc.client.get("/workbench/static/terms_editor.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.headers["cache-control"] == "no-cache" and "add:layers" in js.text
    # the template's inputs are never posted: a form without them is the one-layer editor
    r = svc.client.post("/workbench/quotes", data={"idempotency_key": "t-1", "action": "add:layers",
                                                   **terms_form([JP_PRIMARY_LAYER])})
    assert r.text.count('<fieldset id="layer_') == 3  # two layers and the template's blank one


def _golden_page(name: str, lang: str) -> str:
    """The workbench quote page of a golden quote in ``lang``, rendered without a server."""
    from pathlib import Path

    from underwriting import i18n
    from underwriting.service import pages_quote, views, web

    tpl = web.templates.env.get_template("quote.html")
    q = views.build_up_order(json.loads((Path(__file__).resolve().parents[1] / "golden" / "quotes" / name)
                                        .read_text(encoding="utf-8")))
    rec = {"id": "q", "created_at": "2026-12-07T00:00:00+00:00", "created_by": "k", "ledger_seq": 1}
    with i18n.use_lang(lang):
        return tpl.render(principal=None, lang=lang, here="/workbench", languages=i18n.LANGUAGES, rec=rec, q=q,
                          cur=q["currency"], warnings=pages_quote.warnings_of(q), layers=pages_quote.layer_rows(q),
                          reserve_note=pages_quote.reserve_note(q), doc_lang=lang, premium_range=q.get("premium_range"),
                          slip=(q.get("inputs") or {}).get("terms") or {})


@pytest.mark.parametrize("name", ["hk_exchange_with_incident__policy_jp_primary__frequency.json",
                                  "hk_exchange_with_incident__policy_jp_primary__baseline.json",
                                  "global_large_exchange__tower_usd__frequency.json"])
def test_the_japanese_quote_page_says_the_engine_texts_in_japanese(name):
    """Factor answers and sources, reason details, the fit method, FX basis, methods, versions and assumptions
    of a stored quote come from their messages in the page language; the English page keeps the stored text."""
    import html as H

    from tests.i18n.test_quote_lang import _prose_words

    en, ja = _golden_page(name, "en"), _golden_page(name, "ja")
    assert "parametric bootstrap" in en and "パラメトリック・ブートストラップ" in ja and "parametric bootstrap" not in ja
    if name.endswith("__frequency.json"):
        assert "Poisson-gamma credibility" in en and "Poisson-gamma credibility" not in ja
        assert "ポアソン・ガンマ信頼度" in ja

    def cells(page: str, part: str, columns: tuple[int, ...]) -> list[str]:
        table = page.split(f'id="{part}"', 1)[1].split("</table>", 1)[0]
        rows = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
        return [H.unescape(re.sub(r"<[^>]+>", " ", r[c])) for r in rows if r for c in columns]

    sub = json.loads((Path(__file__).resolve().parents[1] / "golden" / "quotes" / name)
                     .read_text(encoding="utf-8"))["inputs"]["submission"]
    names = [sub["exchange"]["name"], *(v["name"] for v in sub.get("vendors") or [])]
    said = cells(ja, "factors", (1, 4)) + cells(ja, "reasons", (1,))  # answers, sources, reason details
    assert said and cells(en, "factors", (4,))
    assert [w for c in said for w in _prose_words(c, names)] == []
    provenance = re.search(r'<section id="provenance">.*?</section>', ja, re.S).group(0)
    text = H.unescape(re.sub(r"<[^>]+>", " ", provenance))
    assert _prose_words(text, names) == []


def test_the_japanese_quote_page_names_the_factors_by_their_questions():
    """The factor and reason columns: the questionnaire's label of each posture question in Japanese; the
    English page keeps the key's words."""
    name = "hk_exchange_with_incident__policy_jp_primary__frequency.json"
    en, ja = _golden_page(name, "en"), _golden_page(name, "ja")
    factors_ja = ja.split('id="factors"', 1)[1].split("</table>", 1)[0]
    assert "管理者の多要素認証" in factors_ja and "経験料率（信頼度）" in factors_ja
    assert "admin mfa" not in factors_ja and "custody architecture" not in factors_ja
    assert "admin mfa" in en.split('id="factors"', 1)[1].split("</table>", 1)[0]
