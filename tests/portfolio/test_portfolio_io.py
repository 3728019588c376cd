"""Reading books and the CLI: bad books are InputErrors naming the row and field (exit 2)."""

from __future__ import annotations

import json
import shutil

import pytest

from underwriting.errors import InputError
from underwriting.portfolio import load_book, read_book_entries

from .conftest import ROOT, SAMPLE_BOOK

EX = ROOT / "datasets" / "examples"


def test_folder_csv_and_json_books_agree(tmp_path):
    entries, dep, label, _ = read_book_entries(SAMPLE_BOOK)
    assert [e["exchange_id"] for e in entries] == ["sakura-jp", "harbour-hk", "meridian-global"]
    assert dep.market_variance == 0.10
    csv_entries, *_ = read_book_entries(EX / "books" / "sample.csv")
    assert [e["submission"] for e in csv_entries] == [e["submission"] for e in entries]
    j = tmp_path / "b.json"
    j.write_text(json.dumps([{"submission": str(EX / "jp_small_exchange.json"),
                              "policy": str(EX / "policy_jp_primary.toml")}]))
    assert load_book(j).ids == ("jp_small_exchange",)


def test_folder_of_submissions_with_book_csv(tmp_path):
    for f in ("jp_small_exchange.json", "hk_exchange_with_incident.json"):
        shutil.copy(EX / f, tmp_path / f)
    (tmp_path / "book.csv").write_text(f"submission,policy\njp_small_exchange.json,{EX / 'policy_jp_primary.toml'}\n")
    with pytest.raises(InputError, match="hk_exchange_with_incident.json .*not mapped"):
        read_book_entries(tmp_path)
    with open(tmp_path / "book.csv", "a") as fh:
        fh.write(f"hk_exchange_with_incident.json,{EX / 'policy_usd_excess.toml'}\n")
    assert load_book(tmp_path).n == 2


@pytest.mark.parametrize("csv_text, match", [
    ("submission\nx.json\n", "missing column"),
    ("submission,policy\n{jp},\n", r"line 2\.policy: missing policy"),
    ("submission,policy\n{jp},nope.toml\n", r"line 2\.policy: file not found"),
    ("submission,policy,exchange_id\n{jp},{pol},a\n{jp},{pol},a\n", r"line 3\.exchange_id"),
    ("submission,policy,colour\n{jp},{pol},red\n", "unknown column"),
])
def test_bad_csv_books(tmp_path, csv_text, match):
    p = tmp_path / "book.csv"
    p.write_text(csv_text.format(jp=EX / "jp_small_exchange.json", pol=EX / "policy_jp_primary.toml"))
    with pytest.raises(InputError, match=match):
        load_book(p)


def test_bad_toml_books(tmp_path):
    p = tmp_path / "book.toml"
    p.write_text(f'[dependence]\nmarket_variance = -1\n[[exchanges]]\nsubmission = "{EX / "jp_small_exchange.json"}"\n'
                 f'policy = "{EX / "policy_jp_primary.toml"}"\n')
    with pytest.raises(InputError, match="dependence.market_variance"):
        load_book(p)
    p.write_text(f'[[exchanges]]\nsubmission = "{EX / "policy_jp_primary.toml"}"\npolicy = "{EX / "policy_jp_primary.toml"}"\n')
    with pytest.raises(InputError, match=r"exchanges\[0\]\.submission"):
        load_book(p)
    p.write_text(f'[dependence]\nvendor_rates = {{"Unknown Vendor" = 0.1}}\n[[exchanges]]\n'
                 f'submission = "{EX / "jp_small_exchange.json"}"\npolicy = "{EX / "policy_jp_primary.toml"}"\n')
    with pytest.raises(InputError, match="not used by any exchange"):
        load_book(p)


def test_cli_json(cli, tmp_path):
    code, out, err = cli("portfolio", SAMPLE_BOOK, "--years", "2000", "--json", "--seed", "3", "--quiet",
                          "--out", tmp_path / "p.json", "--plot", tmp_path / "plots")
    assert code == 0, err
    d = json.loads(out)
    for k in ("aal", "aal_se", "oep", "aep", "tvar", "by_vendor", "allocation", "convergence", "scenarios"):
        assert k in d
    assert json.loads((tmp_path / "p.json").read_text()) == d
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == [
        "allocation.png", "by_vendor.png", "convergence.png", "ep_curves.png"]
    alloc = d["allocation"]["0.995"]
    assert sum(r["co_tvar"] for r in alloc) == pytest.approx(d["tvar"]["0.995"]["tvar"], rel=1e-9)
    assert all("capital_load" in r for r in alloc)


def test_cli_text_and_bad_input(cli, tmp_path):
    code, out, _ = cli("portfolio", EX / "books" / "sample.csv", "--years", "1000", "--quiet")
    assert code == 0 and "AAL" in out and "Sigil Custody Tech" in out
    code, _, err = cli("portfolio", tmp_path / "missing", "--years", "1000")
    assert code == 2 and "no such book" in err
    code, _, err = cli("portfolio", SAMPLE_BOOK, "--years", "1000", "--scheduler", "tcp://x:1")
    assert code == 2 and "--scheduler" in err
    code, _, err = cli("portfolio", SAMPLE_BOOK, "--years", "1000", "--level", "1.5")
    assert code == 2 and "--level" in err
