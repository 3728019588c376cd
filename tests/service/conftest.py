"""Fixtures of the service tests: a database per test on SQLite (always) and PostgreSQL (when
``$UNDERWRITING_TEST_POSTGRES_URL`` names a server, as ``.ci/run`` sets it), keys of every role, the
Japanese sample as a request body, the CLI's own quote of it, and a live server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import os
import socket
import threading
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "datasets" / "examples"
SUBMISSION = EXAMPLES / "jp_small_exchange.json"
POLICY = EXAMPLES / "policy_jp_primary.toml"
POSTGRES_ENV = "UNDERWRITING_TEST_POSTGRES_URL"


def jsonable(o):
    """TOML values (dates) as JSON values."""
    if isinstance(o, dict):
        return {k: jsonable(v) for k, v in o.items()}
    if isinstance(o, list):
        return [jsonable(v) for v in o]
    if isinstance(o, dt.date):
        return o.isoformat()
    return o


def quote_body(**extra) -> dict:
    """The Japanese sample and its primary policy as a ``POST /v1/quotes`` body."""
    return {"submission": json.loads(SUBMISSION.read_text(encoding="utf-8")),
            "terms": jsonable(tomllib.loads(POLICY.read_text(encoding="utf-8"))), **extra}


def run_cli(*args: str) -> tuple[int, str, str]:
    """``underwriting ARGS`` in-process: ``(exit code, stdout, stderr)``."""
    from underwriting.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="session")
def cli_quote() -> dict:
    """``underwriting quote jp_small_exchange.json --terms policy_jp_primary.toml --json``, parsed."""
    code, out, err = run_cli("quote", SUBMISSION, "--terms", POLICY, "--json")
    assert code == 0, err
    return json.loads(out)


def _postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh, empty database URL: a SQLite file, or a new database on the test PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
        return
    base = _postgres_url()
    if base is None:
        pytest.skip(f"no PostgreSQL server: ${POSTGRES_ENV} is not set (.ci/run starts one and sets it)")
    from underwriting.service.db import scratch_postgres_database

    with scratch_postgres_database(base, "uw_test_") as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'service.db'}"


class Service:
    """An app on a database, with one key of each role and a TestClient."""

    def __init__(self, url: str, **kw):
        from fastapi.testclient import TestClient

        from underwriting.service.app import create_app
        from underwriting.service.keys import create_key

        self.url = url
        self.app = create_app(url, **kw)
        self.keys: dict[str, str] = {}
        with self.app.state.store.sessions.begin() as s:
            for role in ("underwriter", "actuary", "auditor", "admin"):
                self.keys[role] = create_key(s, role, label=f"test {role}")[1]
        # a browser sends its page's origin with every form POST; the workbench refuses POSTs without it
        self.client = TestClient(self.app, headers={"Origin": "http://testserver"})

    def auth(self, role: str, **extra) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}", **extra}

    def close(self):
        self.client.close()
        self.app.state.db_engine.dispose()
        self.app.state.limiter_engine.dispose()


@pytest.fixture
def service(db_url):
    svc = Service(db_url)
    yield svc
    svc.close()


@pytest.fixture
def make_service():
    made = []

    def make(url: str, **kw) -> Service:
        svc = Service(url, **kw)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


@pytest.fixture
def key_home(tmp_path, monkeypatch):
    """A ledger key of this test's own (``$UNDERWRITING_LEDGER_KEY``; made by the service's first start),
    for tests that rotate it or move it away: the session's key is shared by the other service tests."""
    from underwriting.service import ledger_key

    path = tmp_path / "ledger-keys" / "ledger_key.pem"
    monkeypatch.setenv(ledger_key.ENV_KEY, str(path))
    monkeypatch.delenv(ledger_key.ENV_CHECKPOINTS, raising=False)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn serving ``app`` on 127.0.0.1 in a thread (stopped by :meth:`stop`)."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def live(sqlite_url):
    """A :class:`Service` on a fresh SQLite database served over HTTP (``(service, server)``), for the browser tests."""
    svc = Service(sqlite_url)
    server = LiveServer(svc.app)
    try:
        yield svc, server
    finally:
        server.stop()
        svc.close()
