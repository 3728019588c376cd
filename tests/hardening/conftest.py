"""Fixtures of the hardening tests (re-exported from the lifecycle ones)."""

from tests.lifecycle.conftest import lc_cli, shipped_copy, small_registry  # noqa: F401
