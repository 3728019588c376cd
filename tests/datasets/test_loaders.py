"""Loaders: typed frames, user files (CSV and Parquet), and errors naming the line and the column."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from underwriting.caches import static_caches
from underwriting.datasets import loaders
from underwriting.datasets.loaders import DatasetError
from underwriting.errors import InputError

FIX = Path(__file__).parent / "fixtures"
EX_OK = FIX / "exchanges_ok.csv"
INC_OK = FIX / "incidents_ok.csv"


def test_types_of_the_loaded_frames():
    ex = loaders.load_exchanges(EX_OK)
    inc = loaders.load_incidents(INC_OK, exchanges=EX_OK)
    assert str(ex["launch_date"].dtype) == "datetime64[ns]"
    assert ex["closure_date"].isna().sum() == 2
    assert isinstance(ex["closure_reason"].dtype, pd.CategoricalDtype)
    assert ex.loc[ex.exchange_id == "gamma", "launch_date"].iloc[0] == pd.Timestamp("2018-01-01")
    assert str(inc["incident_date"].dtype) == "datetime64[ns]"
    assert inc["amount_usd"].dtype == "float64" and inc["amount_usd"].isna().sum() == 1
    for col in ("vector", "custody_tier", "reimbursed", "event_type"):
        assert isinstance(inc[col].dtype, pd.CategoricalDtype), col
    assert "hot_wallet_key" in list(inc["vector"].cat.categories)
    assert inc["dprk_attributed"].dtype == bool and inc["dprk_attributed"].sum() == 2
    assert inc.loc[0, "amount_native"] == 100.0


def test_parquet_round_trip(tmp_path):
    inc = loaders.load_incidents(INC_OK, exchanges=None)
    p = tmp_path / "inc.parquet"
    inc.to_parquet(p)
    back = loaders.load_incidents(p, exchanges=EX_OK)
    pd.testing.assert_frame_equal(back, inc)


def _mutate(tmp_path, src: Path, line: int, col: str, value: str) -> Path:
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df.loc[line - 2, col] = value
    out = tmp_path / src.name
    df.to_csv(out, index=False)
    return out


INCIDENT_CASES = [
    # (line, column, value, expected message part, column named in the error)
    (3, "vector", "hot wallet", "unknown value 'hot wallet'", "vector"),
    (4, "incident_date", "2018-02-30", "not a valid calendar date", "incident_date"),
    (4, "incident_date", "03/05/2018", "not an ISO date", "incident_date"),
    (5, "source_url", "", "required value is blank", "source_url"),
    (5, "source_url", "www.example.org", "not a URL", "source_url"),
    (2, "amount_usd", "-5", "non-negative", "amount_usd"),
    (2, "amount_usd", "lots", "not a number", "amount_usd"),
    (6, "custody_tier", "warm", "unknown value 'warm'", "custody_tier"),
    (6, "event_type", "theft", "unknown value", "event_type"),
    (3, "dprk_attributed", "no", "not a flag", "dprk_attributed"),
    (3, "incident_id", "alpha-2016-01", "duplicate incident_id", "incident_id"),
    (7, "country", "Japan", "ISO 3166-1", "country"),
]


@pytest.mark.parametrize("line,col,value,msg,named", INCIDENT_CASES, ids=[f"{c[1]}:{c[2]!s:.12}" for c in INCIDENT_CASES])
def test_malformed_incident_names_line_and_column(tmp_path, line, col, value, msg, named):
    bad = _mutate(tmp_path, INC_OK, line, col, value)
    with pytest.raises(DatasetError) as ei:
        loaders.load_incidents(bad, exchanges=EX_OK)
    err = ei.value
    assert isinstance(err, InputError)
    assert err.line == line and err.column == named
    assert f"line {line}" in str(err) and f"column '{named}'" in str(err) and msg in str(err)
    assert str(bad) in str(err)


def test_incident_before_launch_and_after_closure(tmp_path):
    bad = _mutate(tmp_path, INC_OK, 2, "incident_date", "2015-01-01")
    with pytest.raises(DatasetError, match=r"line 2, column 'incident_date': incident on 2015-01-01 is before alpha"):
        loaders.load_incidents(bad, exchanges=EX_OK)
    bad = _mutate(tmp_path, INC_OK, 5, "incident_date", "2019-07-01")
    with pytest.raises(DatasetError, match=r"line 5, column 'incident_date': .*after beta closed"):
        loaders.load_incidents(bad, exchanges=EX_OK)
    bad = _mutate(tmp_path, INC_OK, 5, "exchange_id", "nobody")
    with pytest.raises(DatasetError, match=r"line 5, column 'exchange_id': .*not on the exchange roster"):
        loaders.load_incidents(bad, exchanges=EX_OK)


def test_incident_in_the_month_of_a_month_precision_closure_is_accepted():
    # gamma closed "2020-05" (month precision); its incident of 2020-05-20 is within its life
    inc = loaders.load_incidents(INC_OK, exchanges=EX_OK)
    assert (inc["exchange_id"] == "gamma").sum() == 1


EXCHANGE_CASES = [
    (3, "closure_date", "2015-01-01", "before launch_date", "closure_date"),
    (2, "closure_reason", "hack", "closure_date is blank", "closure_reason"),
    (3, "closure_reason", "", "required when closure_date", "closure_reason"),
    (3, "closure_reason", "hacked", "unknown value 'hacked'", "closure_reason"),
    (4, "launch_date", "2018-13", "not a date", "launch_date"),
    (4, "launch_date_precision", "day", "launch_date is given to the year", "launch_date_precision"),
    (5, "source_url", "", "required value is blank", "source_url"),
    (5, "exchange_id", "alpha", "duplicate exchange_id", "exchange_id"),
    (2, "launch_date", "2999-01-01", "in the future", "launch_date"),
]


@pytest.mark.parametrize("line,col,value,msg,named", EXCHANGE_CASES, ids=[f"{c[1]}:{c[2]}" for c in EXCHANGE_CASES])
def test_malformed_exchange_names_line_and_column(tmp_path, line, col, value, msg, named):
    bad = _mutate(tmp_path, EX_OK, line, col, value)
    with pytest.raises(DatasetError) as ei:
        loaders.load_exchanges(bad)
    assert ei.value.line == line and ei.value.column == named
    assert f"line {line}, column '{named}'" in str(ei.value) and msg in str(ei.value)


def test_missing_column_extra_field_and_quoted_newlines(tmp_path):
    df = pd.read_csv(INC_OK, dtype=str, keep_default_na=False).drop(columns=["reimbursed"])
    p = tmp_path / "nocol.csv"
    df.to_csv(p, index=False)
    with pytest.raises(DatasetError, match=r"line 1, column 'reimbursed': required column is missing"):
        loaders.load_incidents(p, exchanges=None)
    text = INC_OK.read_text(encoding="utf-8").splitlines()
    p2 = tmp_path / "extra.csv"
    p2.write_text("\n".join(text[:3] + [text[3] + ",oops"] + text[4:]) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"line 4: row has 18 fields"):
        loaders.load_incidents(p2, exchanges=None)
    # a note spanning two lines shifts later line numbers: errors still name the file line
    df = pd.read_csv(INC_OK, dtype=str, keep_default_na=False)
    df.loc[0, "notes"] = "first line\nsecond line"
    df.loc[2, "vector"] = "bogus"
    p3 = tmp_path / "multiline.csv"
    df.to_csv(p3, index=False)
    with pytest.raises(DatasetError, match=r"line 5, column 'vector'"):
        loaders.load_incidents(p3, exchanges=None)


def test_parquet_errors_name_the_row(tmp_path):
    inc = loaders.load_incidents(INC_OK, exchanges=None)
    inc["vector"] = inc["vector"].astype(str)
    inc.loc[3, "vector"] = "laser"
    p = tmp_path / "bad.parquet"
    inc.to_parquet(p)
    with pytest.raises(DatasetError, match=r"row 4, column 'vector'"):
        loaders.load_incidents(p, exchanges=None)


def test_missing_and_non_utf8_files(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        loaders.load_incidents(tmp_path / "nope.csv")
    p = tmp_path / "latin1.csv"
    p.write_bytes("incident_id\nZa\xefrich\n".encode("latin-1"))
    with pytest.raises(InputError, match="UTF-8"):
        loaders.load_incidents(p)


def test_fx_loader(tmp_path):
    fx = loaders.load_fx_rates(FIX / "fx_ok.csv")
    assert list(fx["currency"]) == ["JPY", "EUR"] and fx["year"].dtype == "int64"
    bad = _mutate(tmp_path, FIX / "fx_ok.csv", 3, "units_per_usd", "0")
    with pytest.raises(DatasetError, match=r"line 3, column 'units_per_usd'"):
        loaders.load_fx_rates(bad)
    bad = _mutate(tmp_path, FIX / "fx_ok.csv", 3, "currency", "JPY")
    with pytest.raises(DatasetError, match=r"line 3, column 'year': duplicate rate"):
        loaders.load_fx_rates(bad)


def test_shipped_incidents_are_read_once_and_handed_out_as_copies(tmp_path, monkeypatch):
    from underwriting.resources import dataset_path

    for name in ("incidents.csv", "exchanges.csv"):
        (tmp_path / name).write_bytes(dataset_path(name).read_bytes())
    monkeypatch.setattr(loaders, "_resolve", lambda path, name: Path(path) if path is not None else tmp_path / name)
    loaders._SHIPPED_INCIDENTS.clear()
    reads = []
    real = loaders._read_raw
    monkeypatch.setattr(loaders, "_read_raw", lambda p: reads.append(Path(p).name) or real(p))

    first = loaders.load_incidents()
    assert reads == ["incidents.csv", "exchanges.csv"]
    first.loc[first.index[0], "amount_usd"] = -1.0  # a caller's change stays in its copy
    second = loaders.load_incidents()
    assert reads == ["incidents.csv", "exchanges.csv"]  # the second call read nothing
    assert second["amount_usd"].iloc[0] != -1.0
    pd.testing.assert_frame_equal(second, loaders.load_incidents(exchanges=tmp_path / "exchanges.csv"))

    # an edited file is read and checked afresh: a duplicate incident_id is refused
    lines = (tmp_path / "incidents.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (tmp_path / "incidents.csv").write_text("".join(lines + [lines[1]]), encoding="utf-8")
    with pytest.raises(DatasetError, match="incident_id"):
        loaders.load_incidents()
    assert "datasets.loaders.shipped_incidents" in static_caches()
    loaders._SHIPPED_INCIDENTS.clear()
