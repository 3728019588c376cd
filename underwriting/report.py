"""Compatibility alias: the quote report lives in :mod:`underwriting.domain.report` (``Quote.summary()``)."""

from __future__ import annotations

from underwriting.domain.report import format_quote, table

__all__ = ["format_quote", "table"]
