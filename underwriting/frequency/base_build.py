"""Fit the base frequency model on the shipped cohorts and publish it as plain JSON in the registry.

``python -m underwriting.frequency.base_build [MODELS_DIR]`` writes ``frequency/0.1.0``
(``model.json``: coefficients, covariance, covariate spec, data fingerprint; ``training.json``:
the validation runs; ``MODEL_CARD.md``) with a registry manifest, and makes it the default.
The registry loads it with :func:`underwriting.frequency.base_model.load_base_model` once the
``frequency`` kind is registered (:func:`register`).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path
from typing import Any

NAME = "frequency"
VERSION = "0.1.0"


def register() -> None:
    """Make the registry know the ``frequency`` kind (idempotent)."""
    import underwriting.frequency  # noqa: F401  (the package registers its kind on import)


def _data_fingerprint() -> dict[str, str]:
    from underwriting.resources import dataset_path

    return {f: hashlib.sha256(dataset_path(f).read_bytes()).hexdigest()
            for f in ("cohorts.csv", "exchange_aliases.csv", "exchanges.csv", "incidents.csv")}


def experience_prior(model: Any, panel: Any) -> dict[str, Any]:
    """Prior strength ``α`` of the experience rating, estimated on the same cohorts.

    The marginal (negative binomial) likelihood of each cohort exchange's breach count around the
    base model's expectation (:func:`underwriting.frequency.experience.estimate_prior_strength` on
    :func:`underwriting.frequency.model.exchange_totals`); stored in ``model.json`` so the quote
    uses the shipped estimate. Its 90% interval is very wide (27 breaches).
    """
    from underwriting.frequency.experience import estimate_prior_strength
    from underwriting.frequency.model import exchange_totals

    tot = exchange_totals(panel, model)
    pf = estimate_prior_strength(tot["breaches"].to_numpy(float), tot["exposure_years"].to_numpy(float),
                                 tot["expected"].to_numpy(float))

    def fin(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    return {"alpha": fin(pf.alpha), "alpha_moments": fin(pf.alpha_moments), "se_log_alpha": fin(pf.se_log_alpha),
            "interval": [fin(pf.interval[0]), fin(pf.interval[1])], "level": 0.9,
            "method": "marginal likelihood (negative binomial) of cohort counts around the base model",
            "n_exchanges": int(pf.n_exchanges), "breaches": float(pf.breaches), "expected": float(pf.expected)}


def validation_report() -> tuple[Any, Any, dict[str, Any]]:
    """Fit the shipped model and run every validation; returns ``(model, panel, report)``."""
    from underwriting.frequency.base_model import fit_shipped
    from underwriting.frequency.base_validation import (
        attrition_check,
        by_calendar_year,
        ever_breached,
        out_of_time,
    )

    model, panel = fit_shipped()
    model.experience_prior_ = experience_prior(model, panel)
    report = {
        "effects": {t: {k: float(v) for k, v in row.items()} for t, row in model.effects_.iterrows()},
        "trend_test": model.trend_test_,
        "in_sample": {"observed": model.events_, "fitted": float(model.fitted_.sum()),
                      "exposure_years": model.exposure_years_, "rows": model.n_obs_,
                      "exchanges": int(panel["exchange_id"].nunique())},
        "by_calendar_year": by_calendar_year(panel),
        "attrition": attrition_check(),
        "out_of_time": out_of_time(),
        "ever_breached": ever_breached(model, panel),
        "experience_prior": model.experience_prior_,
    }
    return model, panel, report


def _card(model: Any, rep: dict[str, Any]) -> str:
    eff = "\n".join(f"| {t} | {e['coef']:+.3f} | {e['se']:.3f} | {e['rate_ratio']:.3f} | {e['lo']:.3f}–{e['hi']:.3f} |"
                    for t, e in rep["effects"].items())
    oot = rep["out_of_time"]
    tt = rep["trend_test"]
    return f"""# Frequency (base model) {VERSION} — model card

**Intended use.** The base annual breach rate of a centralised exchange from its size (24-hour volume in
USD), jurisdiction group and CryptoCompare security grade: the factor the experience rating and the posture
schedule multiply.

**Data (REAL).** The exchanges alive on two aggregator lists not chosen by hacks (CoinPaprika 2019-09-07,
CryptoCompare 2020-12-10; `datasets/cohorts.csv`), followed to closure (roster) or 2025-11-30, breaches from
`datasets/incidents.csv` (hack or insider, recurrent counted): {rep['in_sample']['exchanges']} exchanges,
{rep['in_sample']['exposure_years']:,.1f} exchange-years, {rep['in_sample']['observed']} breaches. No synthetic data.

**Model.** Poisson regression with log-exposure offset on exchange × calendar-piece rows (piecewise
exponential), Newton-Raphson, covariance = inverse observed information. Calendar trend tested by likelihood
ratio: coefficient {tt['coef']:+.3f}/year (SE {tt['se']:.3f}), p = {tt['p']:.2f}: {'kept' if tt['kept'] else 'not kept: forecasts use a flat rate'}.
No age term (launch dates exist only for exchanges on the incident-built roster: outcome-dependent).

| term | coef | SE | rate ratio | 90% Wald |
| --- | --- | --- | --- | --- |
{eff}

**Validation.** Sum of fitted = observed ({rep['in_sample']['fitted']:.6f} vs {rep['in_sample']['observed']}).
Out of time (fit 2019 cohort to 2020-12-31, {oot['fit_events']} breaches; predict 2021-01-01 to 2025-11-30):
observed {oot['observed']}, expected {oot['expected']:.2f}, O/E {oot['oe']:.2f} (90% Poisson {oot['oe_interval'][0]:.2f}–{oot['oe_interval'][1]:.2f}).
Implied share ever breached over 67.8 months: {rep['ever_breached']['implied_share_2020_cohort']:.1%} (2020 cohort),
{rep['ever_breached']['implied_share_2020_top_third']:.1%} (top third by volume); published 22.5%, 31%, 28%.
Details: `docs/frequency_validation.md`.

**Experience prior (REAL method, REAL data).** The quote's experience rating (Poisson–gamma credibility) uses
the prior strength α estimated here by marginal likelihood on the same cohorts: α = {rep['experience_prior']['alpha']:.3f}
(90% interval {rep['experience_prior']['interval'][0]:.3g}–{rep['experience_prior']['interval'][1]:.3g}: barely identified;
method of moments {rep['experience_prior']['alpha_moments']:.2f}). Stored in `model.json` (`experience_prior`).
The posture schedule that multiplies this rate in the quote is an ASSUMPTION (`underwriting/frequency/schedule.toml`).

**Limits.** Hacks of small exchanges are under-recorded (the volume effect is partly a reporting effect);
closures are known only for roster exchanges; {rep['in_sample']['observed']} events support few covariates (wide intervals).
Plain data (`model.json`); no pickle.
"""


def build(root: str | Path | None = None, *, promote: bool = True) -> dict[str, Any]:
    """Fit, validate and publish ``frequency`` {VERSION} into the registry ``root``."""
    from underwriting.registry import Registry

    register()
    if root is None:
        root = Path(__file__).resolve().parents[2] / "models"
    reg = Registry(root)
    model, _panel, rep = validation_report()
    doc = model.to_dict()
    with reg.stage(NAME, VERSION, replace=True) as st:
        (st.dir / "model.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        (st.dir / "training.json").write_text(json.dumps(rep, indent=1, sort_keys=True, default=float) + "\n",
                                              encoding="utf-8")
        (st.dir / "MODEL_CARD.md").write_text(_card(model, rep), encoding="utf-8")
        st.manifest.update({
            "data": {
                "description": "REAL: exchange cohorts (CoinPaprika 2019-09-07, CryptoCompare 2020-12-10) followed to 2025-11-30",
                "events": model.events_, "rows": model.n_obs_, "exposure_years": model.exposure_years_,
                "fingerprint_sha256": model.fingerprint_, "files_sha256": _data_fingerprint(),
                "parts": {"real": ["every exchange, covariate and breach"], "synthetic": []},
            },
            "metrics": {"summary": {"events": model.events_, "oe_out_of_time": rep["out_of_time"]["oe"],
                                    "trend_p": rep["trend_test"]["p"]}},
        })
    if promote and reg.default(NAME) != VERSION:
        reg.promote(NAME, VERSION, note="base frequency model on real cohorts")
    return rep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m underwriting.frequency.base_build")
    ap.add_argument("root", nargs="?", help="registry folder (default: models/ of the checkout)")
    args = ap.parse_args(argv)
    rep = build(args.root)
    print(json.dumps({"out_of_time": rep["out_of_time"]["oe"], "trend_p": rep["trend_test"]["p"]}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
