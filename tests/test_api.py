"""The public façade ``underwriting.api``: same numbers as the modules it fronts."""

from __future__ import annotations

import io

import pytest

from tests.conftest import EXAMPLES

JP = EXAMPLES / "jp_small_exchange.json"
POLICY = EXAMPLES / "policy_jp_primary.toml"


def test_reserve_is_the_assessment_of_the_loaded_inputs():
    import underwriting.api as uw
    from underwriting.domain.currency import FxTable
    from underwriting.domain.policy import load_policy
    from underwriting.domain.submission import load_submission
    from underwriting.quote.reserve import assess_reserve

    got = uw.reserve(JP, POLICY, regime="jp-fsa-2026").to_dict()
    want = assess_reserve(load_submission(str(JP)), [load_policy(str(POLICY))], "jp-fsa-2026",
                          FxTable.bundled()).to_dict()
    assert got["risk_sizing"]["tvar"] > 0  # the risk-based scenario is built from the quote's loss model
    assert got == want and got["requirement"] > 0
    # a mapping, a list and the jurisdiction's default regime give the same assessment
    import json
    import tomllib

    sub = json.loads(JP.read_text(encoding="utf-8"))
    pol = tomllib.loads(POLICY.read_text(encoding="utf-8"))
    assert uw.reserve(sub, [pol]).to_dict() == want


def test_reserve_without_a_regime_for_the_jurisdiction_names_the_field():
    import underwriting.api as uw
    from underwriting.errors import InputError

    with pytest.raises(InputError) as e:
        uw.reserve(EXAMPLES / "global_large_exchange.json", [])
    assert e.value.field == "regime"


def test_quote_matches_make_quote_and_summary_prints_the_report():
    import underwriting.api as uw
    from underwriting.domain.report import format_quote
    from underwriting.quote.make import make_quote

    q = uw.quote(JP, POLICY, regime="jp-fsa-2026")
    ref = make_quote(uw.load_submission(JP), uw.load_policy(POLICY), regime="jp-fsa-2026")
    assert q.to_json() == ref.to_json()
    buf = io.StringIO()
    q.summary(file=buf)
    assert buf.getvalue() == format_quote(q) + "\n"


def test_loaders_refuse_other_types_naming_the_argument():
    import underwriting.api as uw
    from underwriting.errors import InputError

    with pytest.raises(InputError) as e:
        uw.load_policy(42)
    assert e.value.field == "policy"


def test_lazy_names():
    import underwriting.api as uw
    from underwriting.pricing.layers import Layer
    from underwriting.registry import Registry

    assert uw.Layer is Layer and uw.Registry is Registry
    with pytest.raises(AttributeError):
        uw.NoSuchThing  # noqa: B018


def test_top_level_package_reaches_the_api_lazily():
    import subprocess
    import sys

    code = ("import sys, underwriting as u; assert 'underwriting.api' not in sys.modules; "
            "import underwriting.api as a; assert u.price_layer is a.price_layer and u.api is a and u.Layer is a.Layer; "
            # underwriting.quote is the quote package (issue #25); the function is underwriting.api.quote
            "import underwriting.quote; assert u.quote.__name__ == 'underwriting.quote' and callable(a.quote); "
            "print('ok')")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "ok"
