"""The words of the bundled regime files that a reserve check's reason quotes: marked for the catalogue.

A check's reason quotes some text of the regime file: the requirement's formula, the wording checklist
(``wording_check``) and the declared-coverage labels (``declared_coverage``). The reason passes them as
``data`` parts (:mod:`underwriting.domain.message`), translated where the catalogue has them; they are
listed here so ``pybabel extract -k N_`` puts them in the catalogues. ``tests/i18n/test_reserve_reasons.py``
checks that every such text of every bundled regime is listed (a regime file edited without this list
would fall back to English, never to a wrong text). Regime facts and legal sources are not translated.
"""

from __future__ import annotations

from underwriting.i18n import N_

__all__ = ["REGIME_WORDS"]

#: Formula, wording checklist and declared-coverage labels of each bundled regime file.
REGIME_WORDS: tuple[str, ...] = (
    # ae-vara
    N_('exchange services max(AED 1.5m, 25% x fixed annual overheads) [AED 800k / 15% with a VARA-licensed custodian] + custody services max(AED 600k, 25% x fixed annual overheads) when the exchange holds client assets itself'),
    # basel2-ama
    N_('operational-risk charge = alpha x gross income (BIA proxy for the AMA charge)'),
    # eu-mica-art67
    N_('max(Annex IV permanent minimum for the CASP class, 1/4 x prior-year fixed overheads)'),
    N_('(a) loss of documents'),
    N_('(b) misrepresentations or misleading statements'),
    N_('(c) acts, errors or omissions breaching legal and regulatory duties, the duty to act honestly, fairly and professionally, or confidentiality'),
    N_('(d) failure to establish, implement and maintain procedures preventing conflicts of interest'),
    N_('(e) losses from business disruption or system failures'),
    N_("(f) gross negligence in safeguarding clients' crypto-assets and funds"),
    # hk-sfc-vatp
    N_('100% x (hot + warm) client assets + 50% x cold client assets'),
    N_('the platform monitors daily that client assets in each storage tier stay within the cover'),
    # jp-fsa-2026
    N_('min(max(base_rate x 12-month volume x incident factor, floor), cap); incident factor from losses in the prior 3 years'),
    N_("the policy pays customers' losses from unauthorised outflows of crypto assets held in hot and cold wallets (the reserve's purpose [reported])"),
    N_('claims are paid promptly enough for the exchange to compensate customers without waiting for bankruptcy proceedings'),
    N_('the limit keeps pace with customer assets as they grow during the term'),
)
