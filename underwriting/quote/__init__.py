"""The quote: one typed request, stage modules that pass typed results, one :func:`make_quote`.

Stages, in order (:data:`STAGES`; ``docs/ARCHITECTURE.md``'s data-flow diagram is checked against it):
``request`` (:class:`QuoteRequest`, the one place options and defaults are checked) → ``calibration``
(the public record: base rate, severity, peril and custody mixes) → ``frequency`` (the one risk model
over the term; score block) → ``losses`` (the loss model by peril, built once per quote) → ``layers``
(each layer priced on that loss model, guard rails) → ``defence`` (severity fit, perils, EP points) →
``reserve`` (the regime's requirement and the policy's credit) → ``make`` (composes them into a
:class:`~underwriting.domain.quote.Quote`) → ``document`` (the letter: ``letter``, ``pdf``).

Importing this package is cheap (standard library only); ``make_quote`` and ``QuoteRequest`` are
imported from their modules on first use.
"""

from __future__ import annotations

from typing import Any

__all__ = ["STAGES", "SUPPORT", "make_quote", "QuoteRequest"]

#: The quote's stage modules in data-flow order (the architecture test checks the diagram against it).
STAGES: tuple[str, ...] = ("request", "calibration", "frequency", "losses", "layers", "defence", "reserve", "make",
                           "document")

#: Helper modules of the stages: the option vocabulary (``options``), the quote currency (``currency``), the
#: letter's sections (``letter``, used by ``document``) and its PDF printing (``pdf``).
SUPPORT: tuple[str, ...] = ("options", "currency", "letter", "pdf")

_LAZY = {"make_quote": "underwriting.quote.make", "QuoteRequest": "underwriting.quote.request"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'underwriting.quote' has no attribute {name!r}")
