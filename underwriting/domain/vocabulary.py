"""The project's vocabulary and constants, defined once.

Every stage (data, features, frequency, losses, pricing, reserve, quote) imports these names from
here; no other module declares its own copy.

Constants
---------
PERILS : tuple of str
    Perils a policy can cover and the loss model prices.
VECTORS : tuple of str
    Attack vectors recorded for an incident (the incident table's ``vector`` column).
EXCLUSIONS : tuple of str
    Policy exclusions a reserve regime may look at.
VECTOR_TO_PERIL : dict
    Incident vector → the peril it is a loss of; ``other``/``unknown`` are spread pro rata.
EXCLUSION_TO_PERIL : dict
    Policy exclusion → the peril it removes from cover.
BREACH_EVENT_TYPES : tuple of str
    Incident event types that count as a breach (a claim under a hack-and-theft policy).
DATA_CUTOFF : datetime.date
    Last day covered by the shipped incident and exchange tables.
DAYS_PER_YEAR : float
    Day count: years are actual days / 365.25 everywhere.
ISO_3166_ALPHA2 : frozenset of str
    Officially assigned ISO 3166-1 alpha-2 country codes (a submission's jurisdiction must be one).
REPORTING_THRESHOLD_USD : float
    Losses below this (USD) were not reliably reported; severities are fitted left-truncated here.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

PERILS: tuple[str, ...] = ("hot_wallet_theft", "cold_wallet_theft", "third_party_vendor", "insider",
                           "social_engineering")
Peril = Literal["hot_wallet_theft", "cold_wallet_theft", "third_party_vendor", "insider", "social_engineering"]

VECTORS: tuple[str, ...] = (
    "hot_wallet_key", "cold_wallet_key", "multisig_signing", "third_party_vendor", "insider",
    "api_or_account_takeover", "exit_scam_or_fraud", "other", "unknown",
)
Vector = Literal[
    "hot_wallet_key", "cold_wallet_key", "multisig_signing", "third_party_vendor", "insider",
    "api_or_account_takeover", "exit_scam_or_fraud", "other", "unknown",
]

EXCLUSIONS: tuple[str, ...] = ("supervisory_action", "insolvency_of_insured", "cold_wallet", "third_party_vendor",
                               "insider", "social_engineering", "war_and_state_actor", "gross_negligence",
                               "management_crime", "credential_theft")
Exclusion = Literal["supervisory_action", "insolvency_of_insured", "cold_wallet", "third_party_vendor",
                    "insider", "social_engineering", "war_and_state_actor", "gross_negligence",
                    "management_crime", "credential_theft"]

VECTOR_TO_PERIL: dict[str, str] = {
    "hot_wallet_key": "hot_wallet_theft",
    "cold_wallet_key": "cold_wallet_theft",
    "multisig_signing": "cold_wallet_theft",
    "third_party_vendor": "third_party_vendor",
    "insider": "insider",
    "api_or_account_takeover": "social_engineering",
}
EXCLUSION_TO_PERIL: dict[str, str] = {
    "cold_wallet": "cold_wallet_theft",
    "third_party_vendor": "third_party_vendor",
    "insider": "insider",
    "social_engineering": "social_engineering",
}

BREACH_EVENT_TYPES: tuple[str, ...] = ("hack", "insider")
DATA_CUTOFF = dt.date(2025, 11, 30)
DAYS_PER_YEAR = 365.25
REPORTING_THRESHOLD_USD = 100_000.0
#: Largest plausible amount in USD: 10 trillion, over twice the all-time high of the whole crypto market's
#: capitalisation (about USD 4.3 trillion, CoinGecko global market-cap chart, October 2025). No exchange's
#: assets, loss, limit or income can exceed it; larger inputs are typing mistakes (and overflow derived sums).
MAX_AMOUNT_USD = 1e13
#: Units of the weakest currency per USD allowed for, so the bound holds in any currency (the Iranian rial
#: trades at about 42,000 per USD officially and far more on the open market).
MAX_UNITS_PER_USD = 1e5
#: Bound of any amount field, in its own currency's units (:data:`MAX_AMOUNT_USD` x :data:`MAX_UNITS_PER_USD`).
MAX_AMOUNT = MAX_AMOUNT_USD * MAX_UNITS_PER_USD

#: Roles a vendor plays for the exchange (the submission's ``vendors[].role``; the posture schedule's
#: ``custody_path`` rule lists some of them; features.vendors counts them).
VENDOR_ROLES: tuple[str, ...] = ("wallet_software", "custody_technology", "cloud", "signing_ui", "other")
VendorRole = Literal[VENDOR_ROLES]  # type: ignore[valid-type]

__all__ = [
    "VENDOR_ROLES", "VendorRole", "BREACH_EVENT_TYPES", "DATA_CUTOFF", "DAYS_PER_YEAR", "EXCLUSIONS", "EXCLUSION_TO_PERIL", "Exclusion",
    "ISO_3166_ALPHA2",
    "MAX_AMOUNT", "MAX_AMOUNT_USD", "MAX_UNITS_PER_USD", "PERILS", "Peril", "REPORTING_THRESHOLD_USD", "VECTORS", "VECTOR_TO_PERIL", "Vector",
]


#: The 249 officially assigned ISO 3166-1 alpha-2 country codes (ISO 3166 Maintenance Agency, "Online
#: Browsing Platform", https://www.iso.org/obp/ui/#search/code/; the list as of 2024, South Sudan ``SS``
#: the latest addition in 2011). User-assigned codes (``XX``, ``ZZ``, ``XK``, ``AA``, ``QM``-``QZ``) and
#: exceptional reservations (``EU``, ``UK``, ``AC``) are not countries: a submission naming one is refused
#: rather than priced as an unknown jurisdiction.
ISO_3166_ALPHA2: frozenset[str] = frozenset({
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD", "BE",
    "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD",
    "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU",
    "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME",
    "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI",
    "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK",
    "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
})
