"""The exchange's submission: identity, exposure, security posture, vendors and incident history.

Everything an insurer asks of an exchange, validated strictly (pydantic v2): unknown fields are
rejected so typos cannot pass silently, amounts must be finite and non-negative, the custody tiers
must add up to the stated total, dates must be consistent with the as-of date. Answers that the
exchange does not know are given as ``"unknown"``, never left out: the features treat them
explicitly instead of imputing.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from underwriting.domain._base import Amount, Share, Strict
from underwriting.domain.currency import CurrencyCode

#: Attack paths (shared with ``datasets/incidents.csv``): re-exported from the vocabulary.
from underwriting.domain.vocabulary import ISO_3166_ALPHA2, VECTORS, Vector, VendorRole  # noqa: F401
from underwriting.i18n import (
    N_,  # marks the field descriptions for the catalogue (the questionnaire's hints)
)

#: A yes / no / unknown questionnaire answer.
Answer = Literal["yes", "no", "unknown"]
CustodyTier = Literal["hot", "warm", "cold", "unknown"]
#: Tolerance when checking that custody tiers add up to the stated total (relative).
TIER_SUM_RTOL = 1e-6


class Exchange(Strict):
    """Identity of the exchange."""

    name: str = Field(min_length=1, max_length=200, description=N_("Legal or trading name."))
    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$", description=N_("ISO 3166-1 alpha-2 code of the licensing country."))
    licence: str | None = Field(default=None, max_length=200, description=N_("Licence or registration number."))
    launch_date: dt.date = Field(description=N_("Date the exchange started serving customers."))

    @field_validator("jurisdiction")
    @classmethod
    def _assigned_country(cls, v: str) -> str:
        # ZZ or XX used to price as an unknown jurisdiction (2.7x the premium): refuse instead
        if v not in ISO_3166_ALPHA2:
            raise ValueError(f"{v!r} is not an assigned ISO 3166-1 alpha-2 country code (e.g. JP, US, HK)")
        return v


class CustomerAssets(Strict):
    """Customer assets held, by custody tier, in the exposure currency."""

    hot: Amount = Field(description=N_("Assets in internet-connected (hot) wallets."))
    warm: Amount = Field(default=0.0, description=N_("Assets in semi-online (warm) wallets."))
    cold: Amount = Field(description=N_("Assets in offline (cold) storage."))
    total: Amount = Field(description=N_("Total customer assets; must equal hot + warm + cold."))

    @model_validator(mode="after")
    def _tiers_add_up(self) -> CustomerAssets:
        s = self.hot + self.warm + self.cold
        if abs(s - self.total) > TIER_SUM_RTOL * max(abs(self.total), 1.0):
            raise ValueError(f"custody tiers add up to {s:,.2f} (hot + warm + cold) but total says {self.total:,.2f}")
        return self


class Exposure(Strict):
    """What is at risk and the size of the business, all in ``currency``."""

    currency: CurrencyCode = Field(description=N_("ISO 4217 currency of every amount in this block."))
    customer_assets: CustomerAssets
    trading_volume_12m: Amount = Field(description=N_("Trading volume over the last 12 months."))
    own_funds: Amount = Field(description=N_("Own funds (equity capital)."))
    fixed_overheads_prior_year: Amount = Field(description=N_("Fixed overheads of the prior financial year."))
    gross_income: Amount | None = Field(default=None, description=N_("Annual gross income (optional; Basel's operational-risk indicator)."))


class Posture(Strict):
    """The security-posture questionnaire. Dates are the most recent occurrence."""

    custody_architecture: Literal["mpc", "multisig", "hsm", "single_key", "unknown"]
    signing_device_verification: Answer = Field(description=N_("Transactions verified on a dedicated signing device."))
    signing_screen_verification: Answer = Field(description=N_("What signers see is checked independently of the UI that built the transaction."))
    withdrawal_allowlist: Answer
    withdrawal_velocity_limits: Answer
    key_ceremony: Answer = Field(description=N_("Keys generated in a documented, witnessed ceremony."))
    geographic_key_split: Answer = Field(description=N_("Key shares held in more than one location."))
    admin_mfa: Literal["hardware_key", "totp", "sms", "none", "unknown"]
    privileged_access_management: Answer
    last_penetration_test: dt.date | Literal["never", "unknown"]
    last_red_team: dt.date | Literal["never", "unknown"]
    bug_bounty: Answer
    soc2_type2: Answer
    iso27001: Answer
    proof_of_reserves: Literal["none", "annual", "quarterly", "monthly", "realtime", "unknown"]
    incident_response_plan_tested: Answer
    security_staff_share: Share | Literal["unknown"] = Field(description=N_("Security staff as a share of all staff (0 to 1)."))


class Vendor(Strict):
    """A third-party vendor with access to the exchange's custody path."""

    name: str = Field(min_length=1, max_length=200)
    role: VendorRole
    registered: Answer = Field(description=N_("Registered with the regulator as a wallet/custody vendor."))


class Incident(Strict):
    """A past security incident of this exchange."""

    date: dt.date
    amount: Amount = Field(description=N_("Loss, in the currency given with it."))
    currency: CurrencyCode
    custody_tier: CustodyTier
    vector: Vector
    customers_reimbursed: Literal["full", "partial", "none", "unknown"]


class Submission(Strict):
    """An exchange's application for hack and theft cover.

    Examples
    --------
    >>> from underwriting.domain.submission import load_submission   # doctest: +SKIP
    >>> sub = load_submission("datasets/examples/jp_small_exchange.json")  # doctest: +SKIP
    """

    schema_version: Literal["1"] = "1"
    exchange: Exchange
    as_of: dt.date = Field(description=N_("Date the answers and amounts refer to."))
    exposure: Exposure
    posture: Posture
    vendors: list[Vendor] = Field(default_factory=list)
    incidents: list[Incident] = Field(default_factory=list)

    @model_validator(mode="after")
    def _dates_consistent(self) -> Submission:
        today = dt.date.today()
        if self.as_of > today:
            raise ValueError(f"as_of {self.as_of} is in the future (today is {today})")
        if self.exchange.launch_date > self.as_of:
            raise ValueError(f"exchange.launch_date {self.exchange.launch_date} is after as_of {self.as_of}")
        for i, inc in enumerate(self.incidents):
            if inc.date < self.exchange.launch_date:
                raise ValueError(f"incidents.{i}.date {inc.date} is before the exchange launched ({self.exchange.launch_date})")
            if inc.date > self.as_of:
                raise ValueError(f"incidents.{i}.date {inc.date} is after as_of {self.as_of}")
        for name in ("last_penetration_test", "last_red_team"):
            d = getattr(self.posture, name)
            if isinstance(d, dt.date) and d > self.as_of:
                raise ValueError(f"posture.{name} {d} is after as_of {self.as_of}")
        names = [v.name.casefold() for v in self.vendors]
        if len(names) != len(set(names)):
            raise ValueError("vendors: the same vendor is listed twice")
        return self

    @property
    def currency(self) -> str:
        """Currency of the exposure block (the quote's currency)."""
        return self.exposure.currency


def load_submission(path: str) -> Submission:
    """Read and validate a submission file (JSON or TOML).

    Raises
    ------
    InputError
        With the field path and the reason, for any invalid content.
    """
    from underwriting.domain.validation import read_validated

    return read_validated(Submission, path)
