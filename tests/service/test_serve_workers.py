"""``underwriting serve --workers N``: each worker process builds the app from the same settings."""

from __future__ import annotations

import json

import pytest

from tests.service.conftest import run_cli
from underwriting.service.app import SERVE_CONFIG_ENV, app_from_env


def test_a_worker_builds_the_app_from_the_serve_settings(sqlite_url, monkeypatch):
    monkeypatch.setenv(SERVE_CONFIG_ENV, json.dumps({"database_url": sqlite_url, "rate_limit_per_minute": 300.0,
                                                     "max_body_bytes": 5000, "workbench": False}))
    app = app_from_env()
    try:
        assert app.state.limiter.per_minute == 300.0
        assert app.state.max_body_bytes == 5000
        assert str(app.state.db_engine.url) == sqlite_url
        assert not any(getattr(r, "path", "").startswith("/workbench") for r in app.routes)
    finally:
        app.state.db_engine.dispose()


def test_bad_worker_counts_are_input_errors():
    for bad in ("0", "two", "65"):
        code, _, err = run_cli("serve", "--workers", bad)
        assert code == 2 and "--workers" in err and "Traceback" not in err


def test_a_warm_app_loads_the_models_before_its_first_request_and_stores_nothing(sqlite_url, monkeypatch):
    from fastapi.testclient import TestClient
    from sqlalchemy import func, select

    from underwriting.service import engine
    from underwriting.service.app import create_app
    from underwriting.service.db import LedgerEntry, QuoteRecord

    calls = []
    real = engine.warm_up
    monkeypatch.setattr(engine, "warm_up", lambda: calls.append(real()))
    for warm, expected in ((False, 0), (True, 1)):
        calls.clear()
        app = create_app(sqlite_url, warm=warm)
        try:
            with TestClient(app) as c:  # the lifespan runs on entering
                assert len(calls) == expected
                assert c.get("/health").status_code == 200
            with app.state.store.sessions() as s:
                assert s.execute(select(func.count()).select_from(QuoteRecord)).scalar_one() == 0
                assert s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one() == 0
        finally:
            app.state.db_engine.dispose()


def test_serve_warms_every_worker_unless_told_not_to(monkeypatch):
    import argparse

    from underwriting.cli import serve

    p = argparse.ArgumentParser()
    serve.add_arguments(p)
    monkeypatch.setenv(SERVE_CONFIG_ENV, "")  # serve.run sets it; restored after the test
    seen = {}
    monkeypatch.setattr("uvicorn.run", lambda *a, **k: seen.update(json.loads(__import__("os").environ.get(
        SERVE_CONFIG_ENV, "{}")), workers=k.get("workers")))
    assert serve.run(p.parse_args(["--workers", "2", "--database", "sqlite://"])) == 0
    assert seen["warm"] is True and seen["workers"] == 2
    assert serve.run(p.parse_args(["--workers", "2", "--no-warm", "--database", "sqlite://"])) == 0
    assert seen["warm"] is False


@pytest.mark.parametrize("env, named", [("UNDERWRITING_RATE_LIMIT=-3", "$UNDERWRITING_RATE_LIMIT"),
                                        ("UNDERWRITING_SESSION_HOURS=soon", "$UNDERWRITING_SESSION_HOURS"),
                                        ("UNDERWRITING_ALLOWED_ORIGINS=[oops", "$UNDERWRITING_ALLOWED_ORIGINS"),
                                        ("UNDERWRITING_SERVE_CONFIG={", "$UNDERWRITING_SERVE_CONFIG")])
def test_bad_settings_are_input_errors_naming_the_variable(monkeypatch, env, named):
    name, value = env.split("=", 1)
    monkeypatch.setenv(name, value)
    code, _, err = run_cli("serve", "--database", "sqlite://")
    assert code == 2 and named in err and "Traceback" not in err


def test_the_settings_object_reads_every_service_variable(monkeypatch):
    from underwriting.service.settings import ServiceSettings

    for name, value in {"UNDERWRITING_DATABASE": "sqlite:///x.db", "UNDERWRITING_REGISTRY": "/r",
                        "UNDERWRITING_RATE_LIMIT": "7", "UNDERWRITING_MAX_BODY": "5000",
                        "UNDERWRITING_SIGNIN_PER_MINUTE": "3", "UNDERWRITING_SESSION_HOURS": "2",
                        "UNDERWRITING_ALLOWED_ORIGINS": "https://a.example, https://b.example",
                        "UNDERWRITING_WORKBENCH": "false"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(SERVE_CONFIG_ENV, json.dumps({"rate_limit_per_minute": 9}))
    s = ServiceSettings.from_env()
    assert (s.database_url, s.registry, s.max_body_bytes, s.signin_per_minute, s.session_hours, s.workbench) == (
        "sqlite:///x.db", "/r", 5000, 3.0, 2.0, False)
    assert s.allowed_origins == ["https://a.example", "https://b.example"]
    assert s.rate_limit_per_minute == 9  # serve's options win over the environment
