"""docs/pricing.md's market check table is what the command line prints today (tests/market_check.py)."""

from __future__ import annotations

import pytest

from tests.market_check import documented, table


@pytest.mark.slow
def test_market_check_table_matches_the_cli():
    assert documented() == table(), ("docs/pricing.md's market check table is stale: "
                                     "run python -m tests.market_check --write")
