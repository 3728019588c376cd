"""Typed, validated domain objects: submission, policy terms, quote, currency amounts."""

from underwriting.domain.currency import CURRENCIES, FxTable
from underwriting.domain.policy import PolicyTerms
from underwriting.domain.submission import Submission
from underwriting.domain.vocabulary import PERILS

__all__ = ["CURRENCIES", "FxTable", "PERILS", "PolicyTerms", "Submission"]
