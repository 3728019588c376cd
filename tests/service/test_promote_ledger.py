"""`underwriting promote` records its own `model.promote` ledger entry when it reaches the service
database and ledger key (so `ledger verify` passes without a service restart), and says so on stderr
(exit 0: the registry promotion stands) when it cannot."""

from __future__ import annotations

import json
import os
import shutil

import pytest
from sqlalchemy import create_engine, text

from tests.service.conftest import ROOT, free_port, run_cli
from underwriting.service import ledger_key


def _verify(url: str, *extra: str) -> tuple[int, str]:
    code, out, err = run_cli("ledger", "verify", "--database", url, *extra)
    assert "Traceback" not in err
    return code, out + err


def _sql(url: str, statement: str):
    eng = create_engine(url)
    with eng.begin() as c:
        out = c.execute(text(statement)).all()
    eng.dispose()
    return out


@pytest.fixture
def registry(tmp_path):
    reg = tmp_path / "models"
    shutil.copytree(ROOT / "models", reg)
    return reg


def test_a_cli_promotion_verifies_without_a_restart(make_service, db_url, key_home, registry, monkeypatch):
    from underwriting.registry import Registry

    make_service(db_url, registry=str(registry))
    reg = Registry(registry)
    before = reg.default("risk_scorer")
    version = next(v for v in reg.versions("risk_scorer") if v != before)  # a real change of default
    code, out, err = run_cli("promote", version, "--registry", registry, "--database", db_url)
    assert code == 0, err
    assert reg.default("risk_scorer") == version
    assert "not recorded" not in err
    (seq, actor, action, detail), = _sql(db_url, "SELECT seq, actor, action, detail FROM ledger ORDER BY seq DESC "
                                                 "LIMIT 1")
    assert f"ledger: recorded as entry {seq} (model.promote)" in out, out
    assert (actor, action) == ("cli", "model.promote") and json.loads(detail)["registry"] == str(registry.resolve())
    assert json.loads(detail)["to"] == version and json.loads(detail)["from"] == before
    code, vout = _verify(db_url, "--registry", registry)  # no restart of the service in between
    assert code == 0, vout
    # the rollback too, through $UNDERWRITING_DATABASE
    monkeypatch.setenv("UNDERWRITING_DATABASE", db_url)
    code, out, err = run_cli("promote", "--rollback", "--registry", registry)
    assert code == 0 and "ledger: recorded as entry" in out, err
    assert _verify(db_url, "--registry", registry)[0] == 0


def test_a_cli_promotion_with_the_database_unreachable_says_so(make_service, sqlite_url, key_home, registry):
    from underwriting.registry import Registry

    make_service(sqlite_url, registry=str(registry))
    reg = Registry(registry)
    version = next(v for v in reg.versions("risk_scorer") if v != reg.default("risk_scorer"))
    port = free_port()  # nothing listens there
    code, out, err = run_cli("promote", version, "--registry", registry, "--database",
                             f"postgresql+psycopg://uw:secret@127.0.0.1:{port}/nowhere")
    assert code == 0 and "Traceback" not in err and "secret" not in err
    assert "not recorded in the service ledger yet (the service database is unreachable" in err
    assert "records it (model.reconcile) at its next start" in err
    assert reg.default("risk_scorer") == version  # the registry promotion stands
    code, vout = _verify(sqlite_url, "--registry", registry)
    assert code == 1 and "has no ledger entry" in vout
    make_service(sqlite_url, registry=str(registry))  # ... until the service's next start
    assert _verify(sqlite_url, "--registry", registry)[0] == 0
    # a database that does not exist is not made by promote; a malformed URL is an input error, nothing promoted
    missing = sqlite_url.replace("service.db", "absent.db")
    code, out, err = run_cli("promote", version, "--registry", registry, "--database", missing)
    assert code == 0 and "no service database at" in err and not os.path.exists(missing[len("sqlite:///"):])
    n = len(Registry(registry).history("risk_scorer"))
    code, out, err = run_cli("promote", version, "--registry", registry, "--database", "not a url")
    assert code == 2 and "--database" in err and len(Registry(registry).history("risk_scorer")) == n


def test_a_cli_promotion_records_the_earlier_ones_the_ledger_lacks(make_service, sqlite_url, key_home, registry):
    """A promotion made while the database was unreachable is recorded (model.reconcile) by the next
    promotion that reaches it, as the service's start would."""
    from underwriting.registry import Registry

    make_service(sqlite_url, registry=str(registry))
    reg = Registry(registry)
    version = next(v for v in reg.versions("risk_scorer") if v != reg.default("risk_scorer"))
    code, out, err = run_cli("promote", version, "--registry", registry, "--database",
                             f"postgresql+psycopg://uw@127.0.0.1:{free_port()}/nowhere")
    assert code == 0 and "not recorded in the service ledger yet" in err
    assert _verify(sqlite_url, "--registry", registry)[0] == 1
    code, out, err = run_cli("promote", "--rollback", "--registry", registry, "--database", sqlite_url)
    assert code == 0, err
    rows = _sql(sqlite_url, "SELECT seq, action, detail FROM ledger ORDER BY seq DESC LIMIT 2")
    (seq, action, detail), (rseq, raction, rdetail) = rows
    assert (action, raction) == ("model.promote", "model.reconcile")
    assert json.loads(rdetail)["history_entry"]["to"] == version and json.loads(detail)["action"] == "rollback"
    assert f"ledger: recorded as entry {seq} (model.promote)" in out
    assert f"also recorded 1 earlier promotion(s) of the registry it lacked (model.reconcile, entries {rseq})" in out
    assert _verify(sqlite_url, "--registry", registry)[0] == 0


def test_a_cli_promotion_without_the_ledger_key_says_so(make_service, sqlite_url, key_home, registry, monkeypatch):
    from underwriting.registry import Registry

    make_service(sqlite_url, registry=str(registry))
    monkeypatch.setenv(ledger_key.ENV_KEY, str(key_home.parent / "elsewhere.pem"))
    version = Registry(registry).default("risk_scorer")
    code, out, err = run_cli("promote", version, "--registry", registry, "--database", sqlite_url)
    assert code == 0 and "ledger key is not usable here" in err
    assert not (key_home.parent / "elsewhere.pem").exists()  # never a key of its own


def test_a_cli_promotion_after_a_killed_rotation_settles_it_first(make_service, sqlite_url, key_home, registry):
    """A rotation killed after installing the new key and before its commit is undone (the old key put back)
    before `promote` signs its entry, as a service start does; otherwise the entry would be signed by a key
    that the next start removes, and `ledger verify` would name it for good."""
    from underwriting.registry import Registry
    from underwriting.registry.signing import write_private_key
    from underwriting.service.key_rotation import retiring_path

    make_service(sqlite_url, registry=str(registry))
    old = ledger_key.SigningKey.load(key_home)
    shutil.copy(key_home, retiring_path())
    write_private_key(ledger_key.SigningKey.generate(), key_home, force=True)
    reg = Registry(registry)
    version = next(v for v in reg.versions("risk_scorer") if v != reg.default("risk_scorer"))
    code, out, err = run_cli("promote", version, "--registry", registry, "--database", sqlite_url)
    assert code == 0 and "ledger: recorded as entry" in out, err
    assert ledger_key.SigningKey.load(key_home).key_id == old.key_id and not retiring_path().exists()
    (key_id,), = _sql(sqlite_url, "SELECT key_id FROM ledger ORDER BY seq DESC LIMIT 1")
    assert key_id == old.key_id
    make_service(sqlite_url, registry=str(registry))  # a later start finds nothing to undo
    code, vout = _verify(sqlite_url, "--registry", registry)
    assert code == 0, vout
