"""Policy terms: the insurance contract a quote prices and a reserve regime assesses.

One flat, validated object serves both the pricing engine (layer terms) and the reserve engine
(insurer, term and cancellation tests). Amounts are in ``currency``. ``limit`` is the width of
per-occurrence cover above the layer's attachment point ("9M xs 1M" is ``deductible = 1e6, limit = 9e6``).

Primary and excess layers. A primary layer attaches at the insured's ``deductible`` (its retention):
``limit xs deductible``, the deductible below the limit. An excess layer gives ``attachment``, the
ground-up loss per occurrence above which it pays (``attachment = 200e6, limit = 50e6`` is "50m xs
200m"; the attachment may exceed the limit). The insured's ``deductible`` then stays its retention at
the bottom of the programme, part of what lies below the attachment (the retention plus the
underlying layers), so it must not exceed the attachment and does not move the layer: the layer pays
``min((X - attachment)+, limit)`` for an occurrence ``X``. :attr:`PolicyTerms.attachment_point` is the
one attachment both engines use (pricing and the reserve tower). ``attachment = 0`` (the default)
leaves a policy exactly as before.

A programme (tower) of several layers in one file is a :class:`Programme`: the shared fields at the
top and one ``[[layers]]`` table per layer with the fields that differ (at least ``limit``).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_serializer, model_validator

from underwriting.domain._base import Amount, Count, Flag, Share, Strict
from underwriting.domain.currency import CurrencyCode, FxTable

#: Perils and exclusions: re-exported from the vocabulary for compatibility.
from underwriting.domain.vocabulary import DAYS_PER_YEAR, Exclusion, Peril  # noqa: F401
from underwriting.errors import InputError
from underwriting.fileio import read_document

#: Insurer financial-strength ratings, best first (S&P / Fitch scale).
RATINGS = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
           "B+", "B", "B-", "CCC", "NR")
Rating = Literal["AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
                 "B+", "B", "B-", "CCC", "NR"]


class DeclaredCoverage(Strict):
    """Coverage a regime needs to see declared in the wording (each ``True`` only if the policy covers it).

    The first six are the MiCA Art. 67(6)(a)-(f) risks; a hack-and-theft policy declares none of them.
    """

    loss_of_documents: Flag = Field(default=False, description="MiCA Art. 67(6)(a).")
    misrepresentation: Flag = Field(default=False, description="MiCA Art. 67(6)(b): misrepresentations or misleading statements.")
    breach_of_duties: Flag = Field(default=False, description="MiCA Art. 67(6)(c): acts, errors or omissions breaching legal or regulatory duties, honesty, fairness, confidentiality.")
    conflicts_of_interest: Flag = Field(default=False, description="MiCA Art. 67(6)(d): failure to maintain conflict-of-interest procedures.")
    business_disruption: Flag = Field(default=False, description="MiCA Art. 67(6)(e): business disruption or system failures.")
    gross_negligence_safeguarding: Flag = Field(default=False, description="MiCA Art. 67(6)(f): gross negligence in safeguarding clients' crypto-assets and funds.")


class PolicyTerms(Strict):
    """Terms of one hack-and-theft policy (one layer of a programme).

    Attributes
    ----------
    deductible : float
        The insured's per-occurrence retention, in ``currency``; a primary layer attaches there.
    attachment : float
        Ground-up per-occurrence attachment of an excess layer (0: a primary layer, attaching at the
        deductible); may exceed the limit; the deductible must not exceed it.
    limit : float
        Width of per-occurrence cover above the attachment point.
    minimum_premium : float
        Floor on the upfront premium of this layer, in ``currency`` (0: none).
    aggregate_deductible, aggregate_limit : float
        Annual aggregate retention and cap on the insurer's payments (``None``: no cap).
    coinsurance : float
        The insurer's share of each covered loss (1.0: all of it).
    """

    policy_id: str = Field(default="policy", min_length=1, max_length=100)
    insurer: str = Field(min_length=1, max_length=200)
    insurer_rating: Rating
    insurer_authorised: Flag = Field(description="Insurer authorised in the relevant jurisdiction.")
    captive: Flag = Field(default=False, description="Insurer is a captive of the insured's group.")
    reinsured_out: Flag = Field(default=False, description="A captive's risk is reinsured to a third party.")
    inception: dt.date
    expiry: dt.date
    cancellation_notice_days: Count = Field(ge=0, le=3650)
    claims_payment_days: Count = Field(default=30, ge=0, le=3650, description="Days to pay a valid claim.")
    currency: CurrencyCode
    deductible: Amount = 0.0
    attachment: Amount = Field(default=0.0, description="Ground-up per-occurrence attachment of an excess layer "
                               "('limit xs attachment'; 0: a primary layer attaching at the deductible). May exceed the "
                               "limit; the deductible (the insured's retention) must not exceed it.")
    limit: Amount
    minimum_premium: Amount = Field(default=0.0, description="Floor on the layer's upfront premium (policy currency).")
    aggregate_deductible: Amount = 0.0
    aggregate_limit: Amount | None = None
    coinsurance: Share = 1.0
    reinstatements: Count = Field(default=0, ge=0, le=100)
    reinstatement_premium_pct: Share = 1.0
    reinstatement_premium_basis: Literal["pro_rata_amount", "in_full"] = Field(
        default="pro_rata_amount",
        description="How each reinstatement is charged: 'pro_rata_amount' (the default: reinstatement_premium_pct of "
                    "the upfront premium times the fraction of the limit reinstated) or 'in_full' (the whole "
                    "reinstatement_premium_pct as soon as the reinstated limit is used at all, regardless of amount).")
    perils: list[Peril] = Field(min_length=1)
    sublimits: dict[Peril, Amount] = Field(default_factory=dict)
    exclusions: list[Exclusion] = Field(default_factory=list)
    declared_coverage: DeclaredCoverage = Field(default_factory=DeclaredCoverage,
                                                description="Coverage declared for reserve regimes (MiCA Art. 67(6)).")

    @model_validator(mode="after")
    def _consistent(self) -> PolicyTerms:
        if self.limit <= 0:
            raise ValueError("limit: must be positive")
        if self.attachment > 0:
            if self.deductible > self.attachment:
                raise ValueError(f"deductible {self.deductible:,.2f} (the insured's retention) must not exceed the "
                                 f"attachment {self.attachment:,.2f} of the excess layer")
        elif self.deductible >= self.limit:
            raise ValueError(f"deductible {self.deductible:,.2f} must be below the per-occurrence limit {self.limit:,.2f} "
                             "(for an excess layer 'limit xs attachment' give attachment instead)")
        if self.expiry <= self.inception:
            raise ValueError(f"expiry {self.expiry} must be after inception {self.inception}")
        if self.aggregate_limit is not None and self.aggregate_limit < self.limit:
            raise ValueError(f"aggregate_limit {self.aggregate_limit:,.2f} is below the per-occurrence limit {self.limit:,.2f}")
        if len(set(self.perils)) != len(self.perils):
            raise ValueError("perils: a peril is listed twice")
        for peril, amount in self.sublimits.items():
            if peril not in self.perils:
                raise ValueError(f"sublimits.{peril}: sub-limit for a peril the policy does not cover")
            if amount > self.limit:
                raise ValueError(f"sublimits.{peril}: {amount:,.2f} exceeds the limit {self.limit:,.2f}")
        if self.reinsured_out and not self.captive:
            raise ValueError("reinsured_out: only meaningful for a captive (set captive = true)")
        return self

    @model_serializer(mode="wrap")
    def _drop_new_defaults(self, handler):
        # fields added after policies were archived (attachment, minimum_premium, the reinstatement
        # premium basis) are left out at their
        # defaults, so an existing policy dumps, hashes and quotes exactly as before
        d = handler(self)
        for k in ("attachment", "minimum_premium"):
            if k in d and not d[k]:
                del d[k]
        if d.get("reinstatement_premium_basis") == "pro_rata_amount":
            del d["reinstatement_premium_basis"]
        return d

    @property
    def attachment_point(self) -> float:
        """Ground-up per-occurrence loss above which the layer pays: ``attachment`` if given, else ``deductible``."""
        return self.attachment if self.attachment > 0 else self.deductible

    @property
    def term_years(self) -> float:
        """Policy term in years (actual days / 365.25)."""
        return (self.expiry - self.inception).days / DAYS_PER_YEAR

    def to_layer(self, fx: float | FxTable = 1.0, *, year: int | None = None):
        """The pricing engine's :class:`~underwriting.pricing.layers.Layer` for these terms.

        Parameters
        ----------
        fx : float or FxTable
            Units of the policy currency per unit of the pricing currency (per USD when pricing
            in USD); every amount is divided by it. An :class:`FxTable` gives the policy currency's
            rate per USD in ``year``.
        year : int, optional
            Year of the rate, required with an :class:`FxTable`.

        Returns
        -------
        Layer
            Per-occurrence attachment point (:attr:`attachment_point`) and limit, aggregate deductible and limit, share
            (coinsurance), reinstatements, their premium and its basis (pro rata to amount or in full),
            sub-limits and the term in years.
        """
        from underwriting.pricing.layers import Layer

        if isinstance(fx, FxTable):
            if year is None:
                raise InputError("year is required to take a rate from an FxTable", field="year")
            rate = fx.rate(self.currency, year).units_per_usd
        else:
            rate = float(fx)
        if not (rate > 0 and rate < float("inf")):
            raise InputError(f"must be a positive rate, got {fx!r}", field="fx")

        def conv(x: float | None) -> float | None:
            return None if x is None else x / rate

        return Layer(deductible=conv(self.attachment_point), limit=conv(self.limit),
                     agg_deductible=conv(self.aggregate_deductible), agg_limit=conv(self.aggregate_limit),
                     share=self.coinsurance, reinstatements=self.reinstatements,
                     reinstatement_premium=self.reinstatement_premium_pct,
                     pro_rata_amount=self.reinstatement_premium_basis == "pro_rata_amount",
                     sublimits={k: v / rate for k, v in self.sublimits.items()}, term_years=self.term_years)


#: Most layers one programme file may hold (a real crypto tower has a handful).
MAX_LAYERS = 20


class Programme(Strict):
    """A tower of layers written in one file, priced together with the same loss model.

    The file has the fields every layer shares at the top (insurer, dates, currency, perils...) and one
    ``[[layers]]`` table per layer with the fields that differ (at least ``limit``; usually
    ``attachment``, and ``policy_id``, default ``<programme_id>-L<n>``). Each layer is validated as a
    full :class:`PolicyTerms` (errors name ``layers.<i>.<field>``, counting from 0). Every layer must
    share the currency and the policy period (one loss model serves them all).

    Attributes
    ----------
    programme_id : str
        Name of the programme (the top-level ``policy_id`` or ``programme_id``).
    layers : list of PolicyTerms
        The layers, bottom first as written.
    """

    programme_id: str = Field(default="programme", min_length=1, max_length=100)
    layers: list[PolicyTerms] = Field(min_length=1, max_length=MAX_LAYERS)

    @model_validator(mode="before")
    @classmethod
    def _merge_shared(cls, data):
        if not isinstance(data, dict) or "layers" not in data:
            return data
        shared = {k: v for k, v in data.items() if k not in ("layers", "programme_id")}
        pid = data.get("programme_id", shared.get("policy_id", "programme"))
        shared.pop("policy_id", None)
        raw = data["layers"]
        if not isinstance(raw, list):
            return {"programme_id": pid, "layers": raw}
        layers = []
        for i, lay in enumerate(raw):
            if isinstance(lay, dict):
                lay = {**shared, "policy_id": f"{pid}-L{i + 1}", **lay}
            layers.append(lay)
        return {"programme_id": pid, "layers": layers}

    @model_validator(mode="after")
    def _one_period(self) -> Programme:
        first = self.layers[0]
        for i, lay in enumerate(self.layers[1:], start=1):
            for f in ("currency", "inception", "expiry"):
                if getattr(lay, f) != getattr(first, f):
                    raise ValueError(f"layers.{i}.{f}: every layer of a programme shares the {f} of the first "
                                     f"({getattr(first, f)}); got {getattr(lay, f)}")
        ids = [lay.policy_id for lay in self.layers]
        if len(set(ids)) != len(ids):
            raise ValueError("layers: two layers have the same policy_id")
        return self


def load_policy(path: str) -> PolicyTerms:
    """Read and validate a policy terms file (TOML or JSON) of one layer."""
    from underwriting.domain.validation import read_validated

    return read_validated(PolicyTerms, path)


def load_terms(path: str) -> PolicyTerms | Programme:
    """Read a policy file: a :class:`Programme` when it has ``[[layers]]``, else one :class:`PolicyTerms`."""
    from underwriting.domain.validation import validate_model

    data = read_document(path)
    model = Programme if isinstance(data, dict) and "layers" in data else PolicyTerms
    return validate_model(model, data, source=str(path))
