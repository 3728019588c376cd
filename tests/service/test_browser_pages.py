"""The workbench pages in a real headless Chromium (issue #28): a quote made entirely in the browser
(questionnaire and terms editor, a two-layer tower) shows the CLI's figures with its terms, defence,
layers and warnings; no page is wider than the window at 390 and 1,366 px; each role lands on its
home; the language switch shows Japanese; the quote letter downloads as a PDF."""

from __future__ import annotations

import json

from tests.service.conftest import SUBMISSION, run_cli
from tests.service.test_browser import browser  # noqa: F401  (the Chromium fixture)
from tests.service.test_workbench import flatten_into
from tests.service.test_workbench_pages import PERILS, SHARED, TOWER, TOWER_TOML

WAIT_S = 180


def sign_in(browser, server, key: str):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{server.url}/workbench/signin")
    browser.find_element(By.ID, "api_key").send_keys(key)
    browser.find_element(By.ID, "signin").click()
    WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.ID, "home_title")))


def fill(browser, name: str, value: str):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    el = browser.find_element(By.NAME, name)
    if el.get_attribute("type") == "hidden":  # sent as it is (the questionnaire's version)
        assert el.get_attribute("value") == value, name
    elif el.tag_name == "select":
        Select(el).select_by_value(value)
    elif el.get_attribute("type") == "date":  # typing into a date field follows the browser's locale
        browser.execute_script("arguments[0].value = arguments[1]", el, value)
    else:
        el.clear()
        el.send_keys(value)


def press(browser, element_id: str, then_present: str):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    btn = browser.find_element(By.ID, element_id)
    browser.execute_script("arguments[0].scrollIntoView()", btn)
    btn.click()
    WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.NAME, then_present)))


def page_fits(browser, width: int) -> tuple[int, int]:  # noqa: F811
    browser.set_window_size(width, 900)
    return browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")


def test_a_tower_quoted_in_the_browser_shows_the_cli_figures_and_fits_the_window(browser, live, tmp_path):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    toml = tmp_path / "tower.toml"
    toml.write_text(TOWER_TOML, encoding="utf-8")
    code, out, err = run_cli("quote", SUBMISSION, "--terms", toml, "--json")
    assert code == 0, err
    cli = json.loads(out)

    svc, server = live
    browser.set_window_size(1366, 900)
    sign_in(browser, server, svc.keys["underwriter"])
    browser.get(f"{server.url}/workbench/questionnaire")
    press(browser, "add_vendors", "q.vendors.1.name")  # the sample has two vendors
    browser.find_element(By.ID, "t_enabled").click()
    press(browser, "add_layer", "t.layers.1.limit")
    assert browser.find_element(By.ID, "t_enabled").is_selected()  # kept across the round trip
    for name, value in flatten_into({}, json.loads(SUBMISSION.read_text(encoding="utf-8"))).items():
        if not name.startswith("rows."):
            fill(browser, name, value)
    for k, v in {**SHARED, "policy_id": "jp-tower-2026"}.items():
        fill(browser, f"t.{k}", v)
    for i, lay in enumerate(TOWER):
        for k, v in lay.items():
            if k.startswith("sublimits."):
                browser.execute_script("arguments[0].open = true",
                                       browser.find_element(By.CSS_SELECTOR, f"#layer_{i} details"))
            fill(browser, f"t.layers.{i}.{k}", v)
    for p in PERILS:
        assert browser.find_element(By.ID, f"t_perils_{p}").is_selected()
    assert browser.find_element(By.ID, "t_exclusions_war_and_state_actor").is_selected()
    browser.find_element(By.ID, "make_quote").click()
    premium = WebDriverWait(browser, WAIT_S).until(ec.presence_of_element_located((By.ID, "premium")))

    assert float(premium.get_attribute("data-value")) == cli["premium"]
    assert premium.text == f"{cli['premium']:,.0f} JPY"
    heads = browser.find_elements(By.CSS_SELECTOR, "#layers_table th.layer")
    assert [float(h.get_attribute("data-premium")) for h in heads] == [lay["premium"] for lay in cli["layers"]]
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#layers_table td.layer_premium")]
    assert cells == [f"{lay['premium']:,.0f} JPY" for lay in cli["layers"]]
    terms = browser.find_element(By.ID, "terms").text
    assert "1 October 2026 – 1 October 2027" in terms and "JPY" in terms
    defence = browser.find_element(By.ID, "defence").text
    assert "P(attach)" in defence and "lognormal" in defence.lower() and "hot wallet theft" in defence
    warnings = browser.find_element(By.ID, "warnings").text
    assert "effective date" in warnings  # the reserve's warning, at the top
    assert browser.execute_script("return document.getElementById('warnings').getBoundingClientRect().top") < \
        browser.execute_script("return document.getElementById('terms').getBoundingClientRect().top")
    quote_url = browser.current_url

    for width in (1366, 390):
        scroll, inner = page_fits(browser, width)
        assert scroll <= inner, (width, scroll, inner, "quote page")
    browser.get(f"{server.url}/workbench/quotes?exchange=sakura")
    assert browser.find_elements(By.CSS_SELECTOR, f"a[href='{quote_url.split(server.url)[1].split('?')[0]}']")
    for width in (390, 1366):
        scroll, inner = page_fits(browser, width)
        assert scroll <= inner, (width, scroll, inner, "history")
    browser.get(f"{server.url}/workbench/questionnaire")
    scroll, inner = page_fits(browser, 390)
    assert scroll <= inner, (scroll, inner, "questionnaire")


def test_role_homes_language_switch_and_pdf(browser, live):  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.service.conftest import POLICY

    svc, server = live
    wait = WebDriverWait(browser, WAIT_S)
    browser.set_window_size(1366, 900)

    sign_in(browser, server, svc.keys["underwriter"])
    browser.find_element(By.ID, "submission_file").send_keys(str(SUBMISSION))
    browser.find_element(By.ID, "terms_file").send_keys(str(POLICY))
    browser.find_element(By.ID, "make_quote").click()
    wait.until(ec.presence_of_element_located((By.ID, "premium")))
    href = browser.find_element(By.ID, "pdf_link").get_attribute("href")
    got = browser.execute_async_script("""
        const done = arguments[arguments.length - 1];
        fetch(arguments[0]).then(async r => {
            const b = new Uint8Array(await r.arrayBuffer());
            done([r.status, r.headers.get('content-type'), String.fromCharCode(...b.slice(0, 5)), b.length]);
        }).catch(e => done([0, String(e), '', 0]));""", href)
    assert got[0] == 200 and got[1] == "application/pdf" and got[2] == "%PDF-" and got[3] > 10_000, got[:2]

    browser.find_element(By.ID, "lang_ja").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "様向け見積"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    assert "保険料" in browser.find_element(By.ID, "headline").text
    assert browser.find_element(By.ID, "premium").text.endswith("円")
    browser.find_element(By.ID, "lang_en").click()
    wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Quote for"))
    browser.find_element(By.XPATH, "//button[text()='Sign out']").click()

    sign_in(browser, server, svc.keys["actuary"])
    assert browser.find_element(By.ID, "home_models")
    browser.find_element(By.LINK_TEXT, "Models").click()
    wait.until(ec.presence_of_element_located((By.ID, "model_frequency")))
    assert "Promotion history" in browser.find_element(By.ID, "model_frequency").text
    browser.find_element(By.XPATH, "//button[text()='Sign out']").click()

    sign_in(browser, server, svc.keys["auditor"])
    browser.find_element(By.ID, "verify").click()
    status = wait.until(ec.presence_of_element_located((By.ID, "verification")))
    assert "chain intact" in status.text
    browser.find_element(By.XPATH, "//button[text()='Sign out']").click()

    sign_in(browser, server, svc.keys["admin"])
    browser.find_element(By.ID, "manage_keys").click()
    wait.until(ec.presence_of_element_located((By.ID, "create_key")))
    fill(browser, "role", "underwriter")
    fill(browser, "label", "new colleague")
    browser.find_element(By.ID, "create_key").click()
    key = wait.until(ec.presence_of_element_located((By.ID, "new_key"))).text
    assert key.startswith("uwk_")
    # the raw JSON API is never where a page sends the browser
    browser.get(f"{server.url}/workbench/models")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Not allowed"
