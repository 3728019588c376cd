"""Which statutory reserve regime applies to an exchange, by its licensing jurisdiction.

:func:`default_regime` gives the bundled regime id for an ISO 3166-1 alpha-2 code (``None`` where no
regime applies); :func:`regime_note` says in plain words why none applies, distinguishing a
jurisdiction known to have no reserve rule for exchanges (Singapore) from one we have not encoded.
"""

from __future__ import annotations

#: EU member states (ISO alpha-2), where MiCA applies.
EU_MEMBERS = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())

#: Bundled regime by jurisdiction (EU members are added by :func:`default_regime`).
REGIMES = {"JP": "jp-fsa-2026", "HK": "hk-sfc-vatp", "AE": "ae-vara"}

#: Jurisdictions known to set no statutory reserve (or insurance-replaceable capital) for exchanges'
#: customer losses, with the reason shown to the user.
NO_RESERVE_RULE = {
    "SG": "MAS licenses digital payment token services under the Payment Services Act 2019 (customer assets "
          "segregated and held in trust) but sets no statutory reserve for hack losses that insurance could replace",
}


def default_regime(jurisdiction: str) -> str | None:
    """Bundled regime id for a licensing jurisdiction, or ``None`` where none applies.

    Parameters
    ----------
    jurisdiction : str
        ISO 3166-1 alpha-2 code (``"JP"``, ``"AE"``...). Dubai exchanges (``"AE"``) get the VARA
        paid-up capital regime, EU member states MiCA Art. 67.
    """
    code = jurisdiction.strip().upper()
    if code in REGIMES:
        return REGIMES[code]
    if code in EU_MEMBERS:
        return "eu-mica-art67"
    return None


def regime_note(jurisdiction: str) -> str | None:
    """Plain-words note when :func:`default_regime` gives ``None`` (else ``None``).

    ``"no statutory reserve rule for SG: ..."`` for a jurisdiction known to have none; for any other,
    a note that none is encoded and how to give a regime file.
    """
    code = jurisdiction.strip().upper()
    if default_regime(code) is not None:
        return None
    if code in NO_RESERVE_RULE:
        return (f"no statutory reserve rule for {code}: {NO_RESERVE_RULE[code]} (pass --regime to assess against a "
                "regime anyway)")
    return (f"no statutory reserve rule for {code} is encoded in this toolkit; if one applies, give it as a "
            "regime file (--regime path/to/regime.toml)")
