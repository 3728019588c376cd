"""The upload page keeps the chosen files while the terms editor gains and loses layers, in a real
headless Chromium: with JavaScript the layers change in the page (``service/static/terms_editor.js``)
and a tower is quoted from the files chosen once; without it the form goes to the server and back,
and the page names the files to choose again, in English and in Japanese."""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import POLICY, SUBMISSION, run_cli
from tests.service.test_browser import start_chromium
from tests.service.test_browser_pages import WAIT_S, fill, sign_in
from tests.service.test_workbench_pages import SHARED, TOWER, TOWER_TOML

LEGEND = {"en": "Layer {n}", "ja": "レイヤー{n}"}
REFILE = {"en": "choose these files again", "ja": "もう一度選択してください"}


def chromium(javascript: bool):
    """A headless Chromium, with or without JavaScript for the pages (WebDriver's own calls still run)."""
    import shutil

    driver, profile = start_chromium([] if javascript else ["--blink-settings=scriptEnabled=false"])
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser():
    yield from chromium(javascript=True)


@pytest.fixture
def browser_without_js():
    yield from chromium(javascript=False)


def open_new_quote(browser, server, key: str, lang: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(1366, 900)
    sign_in(browser, server, key)
    browser.get(f"{server.url}/workbench/lang?to={lang}&next=/workbench/new")
    WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.ID, "add_layer")))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang


def click(browser, element_id: str):
    from selenium.webdriver.common.by import By

    btn = browser.find_element(By.ID, element_id)
    browser.execute_script("arguments[0].scrollIntoView()", btn)
    btn.click()


def chosen(browser, element_id: str) -> str:
    """The name of the file an input holds ('' when none)."""
    return browser.execute_script("const f = document.getElementById(arguments[0]).files;"
                                  "return f.length ? f[0].name : '';", element_id)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_adding_and_removing_layers_keeps_the_chosen_files_and_quotes_the_tower(browser, live, tmp_path, lang):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from underwriting.frequency.schedule import DEFAULT_SCHEDULE

    tower = tmp_path / "tower.toml"
    tower.write_text(TOWER_TOML, encoding="utf-8")
    schedule = tmp_path / "my_schedule.toml"
    schedule.write_text(DEFAULT_SCHEDULE.read_text(encoding="utf-8"), encoding="utf-8")
    code, out, err = run_cli("quote", SUBMISSION, "--terms", tower, "--schedule", schedule, "--json")
    assert code == 0, err
    cli = json.loads(out)

    svc, server = live
    open_new_quote(browser, server, svc.keys["underwriter"], lang)
    browser.find_element(By.ID, "submission_file").send_keys(str(SUBMISSION))
    browser.find_element(By.ID, "schedule_file").send_keys(str(schedule))
    browser.execute_script("window.uwSamePage = 'yes'")  # gone if the page is loaded again
    browser.find_element(By.ID, "t_enabled").click()
    for k, v in {**SHARED, "policy_id": "jp-tower-2026"}.items():
        fill(browser, f"t.{k}", v)

    # two layers added; the new top one filled; the empty middle one removed: the top one becomes layer 2
    click(browser, "add_layer")
    WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.NAME, "t.layers.1.limit")))
    assert browser.switch_to.active_element.get_attribute("name") == "t.layers.1.policy_id"  # focus moved there
    click(browser, "add_layer")
    WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.NAME, "t.layers.2.limit")))
    assert browser.find_element(By.NAME, "t.layers").get_attribute("value") == "3"
    assert browser.find_element(By.NAME, "t.layers.2.reinstatements").get_attribute("value") == "0"  # the defaults
    assert browser.find_element(By.NAME, "t.layers.2.coinsurance").get_attribute("value") == "1"
    for k, v in TOWER[1].items():
        fill(browser, f"t.layers.2.{k}", v)
    browser.find_element(By.CSS_SELECTOR, "#layer_1 button[name=action]").click()
    WebDriverWait(browser, WAIT_S).until(
        lambda b: b.find_element(By.NAME, "t.layers").get_attribute("value") == "2")
    assert not browser.find_elements(By.NAME, "t.layers.2.limit")
    assert browser.find_element(By.NAME, "t.layers.1.limit").get_attribute("value") == TOWER[1]["limit"]
    assert browser.find_element(By.CSS_SELECTOR, "#layer_1 legend").text == LEGEND[lang].format(n=2)
    assert browser.find_element(By.CSS_SELECTOR, "label[for=t_layers__1__attachment]")  # labels renumbered too
    for i, lay in enumerate(TOWER[:1]):
        for k, v in lay.items():
            if k.startswith("sublimits."):
                browser.execute_script("arguments[0].open = true",
                                       browser.find_element(By.CSS_SELECTOR, f"#layer_{i} details"))
            fill(browser, f"t.layers.{i}.{k}", v)

    assert browser.execute_script("return window.uwSamePage") == "yes"  # no round trip to the server
    assert chosen(browser, "submission_file") == SUBMISSION.name      # not chosen again
    assert chosen(browser, "schedule_file") == schedule.name
    assert not browser.find_elements(By.ID, "refile_notice")
    click(browser, "make_quote")
    premium = WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.ID, "premium")))

    assert float(premium.get_attribute("data-value")) == cli["premium"]
    heads = browser.find_elements(By.CSS_SELECTOR, "#layers_table th.layer")
    assert [float(h.get_attribute("data-premium")) for h in heads] == [lay["premium"] for lay in cli["layers"]]
    qid = browser.current_url.split("/workbench/quotes/")[1].split("?")[0]
    stored = svc.client.get(f"/v1/quotes/{qid}", headers=svc.auth("auditor")).json()["quote"]
    assert stored["premium"] == cli["premium"] and stored["layers"] == cli["layers"]
    assert stored["inputs"]["schedule"] == cli["inputs"]["schedule"]  # the schedule file went with it


def test_the_editor_stops_at_its_most_layers_and_a_lone_layer_has_no_remove_button(browser, live):
    from selenium.webdriver.common.by import By

    from underwriting.service.form_schema import MAX_EDITOR_LAYERS

    svc, server = live
    open_new_quote(browser, server, svc.keys["underwriter"], "en")
    assert not browser.find_element(By.CSS_SELECTOR, "#layer_0 button[name=action]").is_displayed()
    for _ in range(MAX_EDITOR_LAYERS + 2):
        btn = browser.find_element(By.ID, "add_layer")
        if btn.is_enabled():
            click(browser, "add_layer")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#terms_editor fieldset.layer")) == MAX_EDITOR_LAYERS
    assert not browser.find_element(By.ID, "add_layer").is_enabled()
    assert browser.find_element(By.CSS_SELECTOR, "#layer_0 button[name=action]").is_displayed()
    ids = browser.execute_script("return Array.from(document.querySelectorAll('[id]'), e => e.id)")
    assert len(ids) == len(set(ids))  # every id once
    assert browser.find_element(By.CSS_SELECTOR, "#layer_0 legend").text == "Layer 1 (the lowest)"
    assert browser.find_element(By.CSS_SELECTOR, "#layer_9 legend").text == "Layer 10"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_without_javascript_adding_a_layer_goes_to_the_server_and_asks_for_the_files_again(
        browser_without_js, live, lang):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser = browser_without_js
    svc, server = live
    open_new_quote(browser, server, svc.keys["underwriter"], lang)
    hint = browser.find_element(By.ID, "layers_nojs_hint")  # said before the button is pressed
    assert hint.is_displayed() and hint.text
    browser.find_element(By.ID, "submission_file").send_keys(str(SUBMISSION))
    browser.find_element(By.ID, "terms_file").send_keys(str(POLICY))
    click(browser, "add_layer")
    WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.NAME, "t.layers.1.limit")))
    notice = browser.find_element(By.ID, "refile_notice")
    assert notice.is_displayed() and REFILE[lang] in notice.text
    assert SUBMISSION.name in notice.text and POLICY.name in notice.text
    assert SUBMISSION.name in browser.find_element(By.ID, "submission_file_again").text
    assert POLICY.name in browser.find_element(By.ID, "terms_file_again").text
    assert chosen(browser, "submission_file") == "" and chosen(browser, "terms_file") == ""
