"""The workbench in a real headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium; nothing is downloaded): sign in, upload the Japanese sample and its policy, see the CLI's
premium, open the quote document. `.ci/run` installs chromium where it is absent; elsewhere the test
skips with the reason."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from tests.service.conftest import POLICY, SUBMISSION, LiveServer, Service

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-dev-shm-usage"]


def start_chromium(extra: list[str] | tuple[str, ...] = ()):
    """A headless Chromium driven by Selenium, with a throwaway profile: ``(driver, profile folder)``
    (skips with the reason where selenium or Debian's chromium is missing)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("Debian's chromium and chromium-driver are not installed (.ci/run installs them: "
                    "apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service as DriverService

    os.environ.setdefault("SE_AVOID_STATS", "true")
    profile = tempfile.mkdtemp(prefix="uw-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for f in [*FLAGS, *extra, f"--user-data-dir={profile}"]:
        opts.add_argument(f)
    driver = webdriver.Chrome(service=DriverService(executable_path=CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(120)
    return driver, profile


@pytest.fixture
def browser():
    driver, profile = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_sign_in_upload_quote_and_open_the_document(browser, sqlite_url, cli_quote):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from underwriting.service.views import format_document

    svc = Service(sqlite_url)
    server = LiveServer(svc.app)
    wait = WebDriverWait(browser, 120)
    try:
        browser.get(f"{server.url}/workbench")
        assert browser.current_url.endswith("/workbench/signin")
        key_field = browser.find_element(By.ID, "api_key")
        assert browser.find_element(By.CSS_SELECTOR, "label[for=api_key]").text == "API key"
        key_field.send_keys(svc.keys["underwriter"])
        browser.find_element(By.ID, "signin").click()
        wait.until(ec.presence_of_element_located((By.ID, "submission_file")))  # the underwriter's home
        browser.find_element(By.ID, "submission_file").send_keys(str(SUBMISSION))
        browser.find_element(By.ID, "terms_file").send_keys(str(POLICY))
        browser.find_element(By.ID, "make_quote").click()
        premium = wait.until(ec.presence_of_element_located((By.ID, "premium")))
        assert float(premium.get_attribute("data-value")) == cli_quote["premium"]
        assert premium.text == f"{cli_quote['premium']:,.0f} JPY"  # money to the yen, with its currency
        browser.find_element(By.ID, "document_link").click()
        wait.until(ec.url_contains("/document.txt"))
        text = browser.find_element(By.TAG_NAME, "body").text
        assert text.strip() == format_document(cli_quote).strip()
    finally:
        server.stop()
        svc.close()
