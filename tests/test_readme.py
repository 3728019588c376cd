"""The README's Python example runs as printed (extracted from the README, not copied)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def _readme_python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.slow
def test_readme_example_quotes_and_prices_a_custom_layer():
    blocks = [b for b in _readme_python_blocks() if "underwriting.api" in b]
    assert len(blocks) == 1
    script = blocks[0]
    assert len(script.strip().splitlines()) <= 11  # the promised ten-line script (plus the import)
    run = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Loss and premium" in out and "Reserve" in out  # the summary table was printed
    premium_line = [ln for ln in out.splitlines() if " JPY for " in ln]
    assert len(premium_line) == 1
    premium = float(premium_line[0].split(" JPY")[0].replace(",", ""))
    assert premium > 0


def test_price_layer_equals_quoting_the_same_terms():
    """Second route to the same number: the façade's custom layer is the quote of the equivalent terms."""
    import underwriting.api as uw
    from underwriting.quote.losses import default_terms
    from underwriting.quote.make import make_quote

    sub = uw.load_submission(ROOT / "datasets/examples/jp_small_exchange.json")
    layer = uw.Layer(deductible=20e6, limit=200e6, reinstatements=1)
    a = uw.price_layer(sub, layer, regime="jp-fsa-2026")
    # the layer's aggregate limit is derived: (reinstatements + 1) x the occurrence limit
    terms = default_terms(sub).with_(policy_id="custom-layer", deductible=20e6, limit=200e6, reinstatements=1,
                                     aggregate_limit=400e6)
    b = make_quote(sub, terms, regime="jp-fsa-2026")
    assert a.to_json() == b.to_json()
    assert a.terms["limit"] == 200e6 and a.currency == "JPY"


def test_quote_in_another_currency_scales_amounts_by_the_rate():
    """Positive homogeneity: quoting the JPY exchange in USD divides every amount by the JPY rate."""
    import pytest

    import underwriting.api as uw

    sub = uw.load_submission(ROOT / "datasets/examples/jp_small_exchange.json")
    fx = {"JPY": 150.0}
    jpy = uw.quote(sub, fx=fx, frequency_model="baseline")
    usd = uw.quote(sub, fx=fx, currency="USD", frequency_model="baseline")
    assert usd.currency == "USD"
    assert usd.expected_loss == pytest.approx(jpy.expected_loss / 150.0, rel=1e-6)
    assert usd.premium == pytest.approx(jpy.premium / 150.0, rel=1e-6)


def test_api_import_is_light():
    code = ("import sys, underwriting.api as uw; heavy = {'pandas', 'numpy', 'scipy', 'sklearn', 'pydantic'}; "
            "print(sorted(heavy & set(sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"
