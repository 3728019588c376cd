"""Property fuzz (issue #17, item 5): generated submissions and policies through ``validate`` and
``quote`` (in-process CLI), and ``reserve``. Exit is 0 or 2, never 1 or a traceback; on 0 every number of the quote is
finite, premium >= expected loss >= 0 and the reserve credit <= the requirement (in the quote and
from ``reserve --json``).

Each example mutates one or two fields of a bundled submission or policy with a hostile value (NaN,
infinities, 1e308, negatives, wrong types, deep nesting, duplicate keys, ...) or drops or adds a
field. Hypothesis is derandomised (same examples every run) and keeps no database.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import tempfile
import time
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EXAMPLES
from underwriting.cli.main import main

SUBMISSIONS = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))]
POLICIES = [tomllib.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("policy_*.toml"))]
N_EXAMPLES = 1000

SUB_FIELDS = [
    ("exposure", "customer_assets", "hot"), ("exposure", "customer_assets", "warm"),
    ("exposure", "customer_assets", "cold"), ("exposure", "customer_assets", "total"),
    ("exposure", "trading_volume_12m"), ("exposure", "own_funds"), ("exposure", "fixed_overheads_prior_year"),
    ("exposure", "currency"), ("posture", "security_staff_share"), ("posture", "admin_mfa"),
    ("posture", "last_penetration_test"), ("as_of",), ("exchange", "launch_date"), ("exchange", "jurisdiction"),
    ("incidents",), ("vendors",), ("schema_version",), ("exchange", "name"),
]
POLICY_FIELDS = [("deductible",), ("limit",), ("aggregate_limit",), ("aggregate_deductible",), ("coinsurance",),
                 ("reinstatements",), ("inception",), ("expiry",), ("currency",), ("cancellation_notice_days",),
                 ("sublimits", "social_engineering"), ("perils",), ("exclusions",), ("insurer_rating",)]

HOSTILE = st.one_of(
    st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -1.0, -1e-300, 0, 0.0, 5e-324, 1e18, 1e19,
                     2**63, 2**64 + 1, 10**400, True, False, None, "", "12", "NaN", "2026-02-30", "9999-12-31",
                     "1900-01-01", [], {}, [1e308], {"x": 1}, "x" * 1000, "\u0000", "JPY", "USD", "BTC",
                     # issue #30: control characters, unassigned country codes, numbers as dates
                     "\x1b[31mred\x1b[0m", "a\u202eb", "\x9b2J", "ZZ", "XX", "0", "1700000000", -0.999999]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=20),
)
INCIDENT = st.fixed_dictionaries({
    "date": st.sampled_from(["2019-05-07", "2026-01-01", "2030-01-01", "bad"]),
    "amount": st.one_of(st.sampled_from([1.0, 1e9, 1e308, -5.0, float("nan")]), st.floats(0, 1e20)),
    "currency": st.sampled_from(["JPY", "USD", "HKD", "XXX"]),
    "custody_tier": st.sampled_from(["hot", "cold", "warm", "lukewarm"]),
    "vector": st.sampled_from(["hot_wallet_key", "insider", "third_party_vendor", "magic"]),
    "customers_reimbursed": st.sampled_from(["full", "partial", "none", "maybe"]),
})


def _set(doc, path, value):
    d = doc
    for k in path[:-1]:
        if not isinstance(d.get(k), dict):
            d[k] = {}
        d = d[k]
    d[path[-1]] = value


def _drop(doc, path):
    d = doc
    for k in path[:-1]:
        d = d.get(k) if isinstance(d, dict) else None
        if not isinstance(d, dict):
            return
    d.pop(path[-1], None)


@st.composite
def documents(draw):
    """(kind, text, fmt): a mutated submission (JSON) or policy (JSON), as text."""
    kind = draw(st.sampled_from(["submission", "policy"]))
    base = json.loads(json.dumps(draw(st.sampled_from(SUBMISSIONS if kind == "submission" else POLICIES)),
                                 default=str))
    fields = SUB_FIELDS if kind == "submission" else POLICY_FIELDS
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(fields))
        op = draw(st.sampled_from(["set", "set", "set", "drop", "extra", "incident"]))
        if op == "set":
            _set(base, path, draw(HOSTILE))
        elif op == "drop":
            _drop(base, path)
        elif op == "extra":
            _set(base, (*path[:-1], "unexpected_" + path[-1]), draw(HOSTILE))
        elif kind == "submission":
            base["incidents"] = [draw(INCIDENT)]
    text = json.dumps(base, default=str)
    wrap = draw(st.sampled_from(["none"] * 12 + ["deep", "duplicate", "truncate", "bigint"]))
    if wrap == "deep":
        text = text[:-1] + ', "nest": ' + "[" * 3000 + "]" * 3000 + "}"
    elif wrap == "duplicate":
        text = text[:-1] + ', "as_of": "2026-09-30", "as_of": "2026-09-29"}'
    elif wrap == "bigint":  # issue #30: a 5,001-digit integer literal (Python refuses over 4,300 digits)
        text = text[:-1] + ', "big": ' + "9" * 5001 + "}"
    elif wrap == "truncate":
        text = text[: draw(st.integers(0, len(text) - 1))]
    return kind, text


#: Characters the CLI must never print raw (issue #30): ESC, NUL, CSI and the bidi overrides.
RAW_CONTROL = ("\x1b", "\x00", "\x9b", "\u202e")
#: Wall-clock bound of one command in the fuzz: anything slower counts as a hang.
HANG_SECONDS = 120.0


def _run(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    t0 = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in argv])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    elapsed = time.monotonic() - t0
    assert elapsed < HANG_SECONDS, f"hang: {argv[:2]} took {elapsed:.0f} s"
    o, e = out.getvalue(), err.getvalue()
    assert not any(c in o or c in e for c in RAW_CONTROL), f"raw control character printed by {argv[:1]}"
    return code, o, e


def _numbers(obj, path=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(obj, float | int) and not isinstance(obj, bool):
        yield path, obj


def check_quote(q: dict) -> None:
    """The quote's own invariants (what a user is promised whenever exit is 0)."""
    bad = [(p, v) for p, v in _numbers(q) if isinstance(v, float) and not math.isfinite(v)]
    assert not bad, bad
    assert q["expected_loss"] >= 0, q["expected_loss"]
    assert q["premium"] >= q["expected_loss"] * (1 - 1e-12), (q["premium"], q["expected_loss"])
    r = q.get("reserve") or {}
    if r.get("credit") is not None and r.get("requirement") is not None:
        assert 0 <= r["credit"] <= r["requirement"] * (1 + 1e-12), r


def check_reserve(r: dict) -> None:
    """A reserve result's invariants: finite, 0 <= credit <= requirement, cash = requirement - credit."""
    bad = [(p, v) for p, v in _numbers(r) if isinstance(v, float) and not math.isfinite(v)]
    assert not bad, bad
    assert 0 <= r["credit"] <= r["requirement"] * (1 + 1e-12), r
    assert math.isclose(r["residual_cash"], r["requirement"] - r["credit"], rel_tol=1e-9, abs_tol=1e-6), r


class Tally:
    def __init__(self):
        self.n, self.valid, self.quoted, self.reserved, self.options = 0, 0, 0, 0, 0


TALLY = Tally()
TMP = Path(tempfile.mkdtemp(prefix="uw-fuzz-"))
BASE_POLICY = sorted(EXAMPLES.glob("policy_*.toml"))[0]
BASE_SUB = EXAMPLES / "jp_small_exchange.json"


@pytest.mark.slow
@settings(max_examples=N_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(documents())
def test_validate_and_quote_exit_0_or_2_and_quotes_keep_their_invariants(doc):
    kind, text = doc
    p = TMP / ("sub.json" if kind == "submission" else "policy.json")
    p.write_text(text, encoding="utf-8")
    TALLY.n += 1
    code, out, err = _run("validate", p, "--kind", kind)
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    valid = code == 0
    if not valid:
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    TALLY.valid += valid
    argv = ("quote", p, "--terms", BASE_POLICY) if kind == "submission" else ("quote", BASE_SUB, "--terms", p)
    code, out, err = _run(*argv, "--json")
    assert code in (0, 2), err
    assert valid or code == 2, "quote accepted what validate refused"
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 0:
        TALLY.quoted += 1
        check_quote(json.loads(out))
    argv = (("reserve", p, "--policy", BASE_POLICY) if kind == "submission" else
            ("reserve", BASE_SUB, "--policy", p))
    code, out, err = _run(*argv, "--regime", "jp-fsa-2026", "--json")
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    assert valid or code == 2, "reserve accepted what validate refused"
    if code == 0:
        TALLY.reserved += 1
        check_reserve(json.loads(out))


def test_the_fuzz_ran_its_examples():
    """Runs after the fuzz (file order): at least 1,000 documents, some valid and quoted."""
    print(f"fuzz: {vars(TALLY)}")
    assert TALLY.n >= N_EXAMPLES, TALLY.n
    assert TALLY.quoted >= 20 and TALLY.reserved >= 20, vars(TALLY)


# --------------------------------------------------------------------------- CLI options (issue #30)

PRICE_OPTIONS = ["--cap", "--limit", "--deductible", "--principle", "--agg-limit", "--share", "--term", "--level",
                 "--seed", "--sims", "--buckets", "--reinstatements", "--minimum-premium"]
OPTION_VALUES = st.one_of(
    st.sampled_from(["5e-324", "1e308", "-1", "0", "nan", "inf", "9" * 5001, "1e-300", "2.5M", "1bn", "", "x" * 5000,
                     "wang:50", "expected_value:1e308", "ph:0", "std:1e9", "variance:1", "cost_of_capital:2",
                     "\x1b[2J", "a\u202eb", "0.5", "3", "100", "65536"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
N_OPTION_EXAMPLES = 200


@settings(max_examples=N_OPTION_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(PRICE_OPTIONS), OPTION_VALUES), min_size=1, max_size=3),
       st.sampled_from(["fft", "panjer", "mc"]))
def test_price_options_exit_0_or_2_never_hang(opts, method):
    argv = ["price", "--frequency", "poisson:0.3", "--severity", "lognormal:mu=11.5,sigma=2", "--method", method]
    for k, v in opts:
        argv += [k, v]
    code, out, err = _run(*argv, "--json")
    assert code in (0, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    assert len(err) < 4_000, "an error message echoed a huge argument"
    TALLY.options += 1
    if code == 0:
        d = json.loads(out)
        bad = [(p, v) for p, v in _numbers(d) if isinstance(v, float) and not math.isfinite(v)
               and not p.startswith((".layer", ".ilf_table", ".ep_curve", ".rate_on_line"))]
        assert not bad, bad
        assert d["premium"] >= d["expected_loss"] * (1 - 1e-12)


def test_the_option_fuzz_ran_its_examples():
    print(f"option fuzz: {TALLY.options} commands")
    assert TALLY.options >= N_OPTION_EXAMPLES
