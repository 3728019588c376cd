"""The workbench in headless Chromium against ``underwriting serve --workers 2`` (issue 28 item 1, issue 30
item 5): signed in across workers and past the keep-alive, sign-out and key revocation effective on
every worker, a form posted from another origin refused, and ``/docs`` and ``/redoc`` rendered with
the network blocked (everything but the server's own address)."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.service.conftest import POLICY, ROOT, SUBMISSION, free_port
from tests.service.test_browser import start_chromium

KEEP_ALIVE_PAST = 6.5  # uvicorn closes an idle keep-alive connection after 5 s


def _driver(extra: list[str] = ()):
    return start_chromium([*extra, "--window-size=1280,900"])


@pytest.fixture
def chromium():
    driver, profile = _driver()
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


class Served:
    """``underwriting serve --workers 2`` on a fresh SQLite database, with one key of each role."""

    def __init__(self, tmp: Path):
        from underwriting.service.db import open_database
        from underwriting.service.keys import create_key

        self.db = f"sqlite:///{tmp / 'served.db'}"
        engine, sessions = open_database(self.db)
        self.keys = {}
        with sessions.begin() as s:
            for role in ("underwriter", "auditor", "admin"):
                self.keys[role] = create_key(s, role)[1]
        engine.dispose()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "UNDERWRITING_SIGNIN_PER_MINUTE": "600"}
        self.log = open(tmp / "serve.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen([sys.executable, "-m", "underwriting", "serve", "--workers", "2", "--port",
                                      str(self.port), "--database", self.db, "--no-warm"], cwd=tmp, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("the server did not start: " + (tmp / "serve.log").read_text()[-2000:])
            time.sleep(0.3)

    def fresh_get(self, path: str, cookie: str | None) -> int:
        """GET on a new connection (the kernel hands new connections to either worker)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request("GET", path, headers={"Cookie": f"uw_session={cookie}"} if cookie else {})
            r = c.getresponse()
            r.read()
            return r.status
        finally:
            c.close()

    def api(self, method: str, path: str, role: str) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"Bearer {self.keys[role]}"})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture
def served(tmp_path):
    s = Served(tmp_path)
    yield s
    s.stop()


def _sign_in(browser, served, role="underwriter"):
    from selenium.webdriver.common.by import By

    browser.get(f"{served.url}/workbench")
    assert browser.current_url.endswith("/workbench/signin")
    browser.find_element(By.ID, "api_key").send_keys(served.keys[role])
    browser.find_element(By.ID, "signin").click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60).until(lambda d: any(c["name"] == "uw_session" for c in d.get_cookies()))
    return next(c["value"] for c in browser.get_cookies() if c["name"] == "uw_session")


def _signed_in(browser) -> bool:
    return not browser.current_url.endswith("/signin") and "Sign out" in browser.page_source


def test_signed_in_on_every_worker_past_the_keep_alive_then_signed_out_everywhere(chromium, served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(chromium, 180)
    cookie = _sign_in(chromium, served)
    wait.until(ec.presence_of_element_located((By.ID, "submission_file")))
    time.sleep(KEEP_ALIVE_PAST)
    pages = ["/workbench", "/workbench/quotes", "/workbench/questionnaire"]
    seen = []
    for i in range(20):
        chromium.get(served.url + pages[i % len(pages)])
        seen.append(_signed_in(chromium))
    assert all(seen), seen
    fresh = [served.fresh_get("/workbench/quotes", cookie) for _ in range(20)]
    assert fresh == [200] * 20
    # a form submitted after the keep-alive has closed the connection
    chromium.get(served.url + "/workbench")
    time.sleep(KEEP_ALIVE_PAST)
    chromium.find_element(By.ID, "submission_file").send_keys(str(SUBMISSION))
    chromium.find_element(By.ID, "terms_file").send_keys(str(POLICY))
    chromium.find_element(By.ID, "make_quote").click()
    premium = wait.until(ec.presence_of_element_located((By.ID, "premium")))
    assert float(premium.get_attribute("data-value")) > 0
    # sign out in the browser: the old cookie is refused on every new connection, whichever worker
    chromium.find_element(By.CSS_SELECTOR, "form[action='/workbench/signout'] button").click()
    wait.until(ec.url_contains("/workbench/signin"))
    after = [served.fresh_get("/workbench/quotes", cookie) for _ in range(20)]
    assert after == [303] * 20


def test_a_revoked_keys_browser_session_ends_on_its_next_request(chromium, served):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    _sign_in(chromium, served)
    WebDriverWait(chromium, 60).until(ec.presence_of_element_located((By.ID, "submission_file")))
    key_id = served.keys["underwriter"].split("_")[1]
    status, body = served.api("DELETE", f"/v1/keys/{key_id}", "admin")
    assert status == 204 and body == b""
    chromium.get(served.url + "/workbench/questionnaire")
    assert chromium.current_url.endswith("/workbench/signin")


def test_a_form_auto_submitted_from_another_origin_is_refused(chromium, served, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait

    _sign_in(chromium, served)
    evil = tmp_path / "evil"
    evil.mkdir()
    (evil / "index.html").write_text(
        f'<form id="f" method="post" action="{served.url}/workbench/questionnaire">'
        '<input name="q.exchange.name" value="Forged"><input name="seed" value="0"></form>'
        '<script>document.getElementById("f").submit()</script>', encoding="utf-8")
    port = free_port()
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(evil), **k)  # noqa: E731
    site = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        chromium.get(f"http://127.0.0.1:{port}/index.html")
        WebDriverWait(chromium, 60).until(lambda d: d.current_url.startswith(served.url))
        assert "Cross-origin request refused" in chromium.page_source
    finally:
        site.shutdown()
        site.server_close()
    status, body = served.api("GET", "/v1/quotes", "auditor")
    assert status == 200 and json.loads(body)["quotes"] == []


def test_docs_and_redoc_render_with_the_network_blocked(served, tmp_path):
    from PIL import Image
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # every host name fails to resolve except the server's own address: no CDN can be reached
    driver, profile = _driver(["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"])
    try:
        driver.get(served.url + "/docs")
        WebDriverWait(driver, 120).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock")) >= 10)
        assert "underwriting service" in driver.find_element(By.CSS_SELECTOR, ".swagger-ui .info").text
        shot = tmp_path / "docs.png"
        driver.save_screenshot(str(shot))
        colours = Image.open(shot).convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50  # not a blank page
        driver.get(served.url + "/redoc")
        WebDriverWait(driver, 120).until(
            lambda d: "underwriting service" in d.find_element(By.TAG_NAME, "body").text
            and len(d.find_elements(By.CSS_SELECTOR, "[role=menuitem], li[data-item-id]")) > 5)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
