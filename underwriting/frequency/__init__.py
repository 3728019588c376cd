"""The breach frequency of the quote: base model on real exchange cohorts × experience × schedule.

- :mod:`.base_model`: the real-data base rate (Poisson regression on dated exchange cohorts);
- :mod:`.experience`: Poisson–gamma credibility on the exchange's own breaches;
- :mod:`.schedule`: the posture schedule (credits and debits from a TOML table, capped);
- :mod:`.model`: :class:`~underwriting.frequency.model.BreachFrequency`, which multiplies them;
- :mod:`.baseline`: the older roster baseline, kept by name for comparison.

Importing the package registers the ``frequency`` model kind with the registry.
"""

from pathlib import Path as _Path

from underwriting.registry.kinds import register_kind as _register_kind


def _load_frequency(folder: _Path):
    from underwriting.frequency.base_model import load_base_model

    return load_base_model(folder)


_register_kind("frequency", _load_frequency,
               "real-data base breach frequency (Poisson regression on exchange cohorts, model.json)")
