"""The quote's option vocabulary, defined once (standard library only, so the CLI's parsers can read it).

:class:`underwriting.quote.request.QuoteRequest` checks every option against these; the CLI's
``--frequency-model`` choices, the service's form and the API's documentation read them from here.
The default premium principle is defined once, lower down, as
:data:`underwriting.pricing.premium.DEFAULT_PRINCIPLE` (the pricing engine's own default);
``QuoteRequest`` reads it when a request is built.
"""

from __future__ import annotations

__all__ = ["FREQUENCY_MODELS", "DEFAULT_FREQUENCY_MODEL", "DEFAULT_SEED", "MAX_SEED", "DEFAULT_LEVEL"]

#: Breach-frequency methods of the loss model; the first is the default (the one risk model: base ×
#: experience × schedule), then the documented roster baseline and the synthetic landmark survival
#: model (comparisons only).
FREQUENCY_MODELS: tuple[str, ...] = ("frequency", "baseline", "survival")
DEFAULT_FREQUENCY_MODEL: str = FREQUENCY_MODELS[0]
#: Seed of every random step unless the request gives one; seeds run from 0 to MAX_SEED (numpy's range).
DEFAULT_SEED: int = 0
MAX_SEED: int = 2**32 - 1
#: TVaR level of the premium principle and of the reported TVaR.
DEFAULT_LEVEL: float = 0.995
