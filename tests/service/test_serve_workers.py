"""``underwriting serve --workers N``: each worker process builds the app from the same settings."""

from __future__ import annotations

import json

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
