"""Fit the base frequency model on the shipped cohorts and publish it as plain JSON in the registry.

``python -m underwriting.frequency.base_build [MODELS_DIR]`` writes ``frequency/<VERSION>``
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

from underwriting.errors import InputError
from underwriting.registry import Registry
from underwriting.resources import dataset_path

NAME = "frequency"
VERSION = "0.2.1"
#: Published versions are never rewritten: 0.1.0 (all cohort rows, aggregator-grade terms) and 0.2.0 stay in the
#: registry for reproducing old quotes. 0.2.0 is the recorded-population recipe without data-source terms; 0.2.1 is
#: the same recipe rebuilt after Bit Station's insider theft (2018-03-08) joined incidents.csv (its Japanese-cohort
#: validation row counts 6 breaches, its data hashes are today's files) and stores the bounded cross-validated
#: experience prior in model.json (0.2.0's is in experience_fitted.json).


PROMOTION_NOTE = ("base frequency model on the recorded population of the real cohorts, no data-source terms "
                  "(issue #24), rebuilt on incidents.csv with Bit Station's insider theft of 2018-03-08; "
                  "out-of-time segments inside their bands")


def register() -> None:
    """Make the registry know the ``frequency`` kind (idempotent)."""


def _data_fingerprint() -> dict[str, str]:

    return {f: hashlib.sha256(dataset_path(f).read_bytes()).hexdigest()
            for f in ("cohorts.csv", "exchange_aliases.csv", "exchanges.csv", "incidents.csv")}


def experience_prior(model: Any, panel: Any) -> dict[str, Any]:
    """The unbounded marginal-likelihood estimate of the experience prior strength ``α`` (information only).

    The marginal (negative binomial) likelihood of each cohort exchange's breach count around the
    base model's expectation (:func:`underwriting.frequency.experience.estimate_prior_strength` on
    :func:`underwriting.frequency.model.exchange_totals`). Kept in ``training.json`` as
    ``experience_prior_marginal``; the quote uses the bounded cross-validated choice
    (:func:`underwriting.frequency.experience_prior.fit_experience_prior`), stored in ``model.json``.
    Its 90% interval is very wide (22 breaches).
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


def _jp_frame() -> Any:
    """The Japanese registered-exchange cohort (``datasets/jp_exchanges.csv``) as a follow-up frame: every
    FSA-registered or deemed operator offering exchange to customers from max(entry, 2018-01-01) to exit, last sighting or the cut-off,
    country JP, size unknown (the rate is averaged over the reference list's sizes)."""
    from underwriting.datasets.jp_cohort import jp_followup

    return jp_followup(exchange_only=True).assign(country="JP")


def validation_report() -> tuple[Any, Any, dict[str, Any]]:
    """Fit the shipped model and run every validation; returns ``(model, panel, report)``."""
    from underwriting.frequency.base_panel import cohort_panel
    from underwriting.frequency.base_survival import (
        breach_dates,
        fit_insured,
        panel_with_dates,
        recorded_mask,
        survival_check,
    )
    from underwriting.frequency.base_validation import (
        by_calendar_year,
        ever_breached,
        segment_table,
    )
    from underwriting.frequency.experience_prior import fit_experience_prior

    full = cohort_panel()
    model, panel = fit_insured(panel=full)
    # what the quote reads (model.json "experience_prior"): bounded, chosen by cross-validated predictive
    # likelihood, as `train --name frequency` stores it; the unbounded estimate is kept for information
    model.experience_prior_ = fit_experience_prior(model, panel)
    marginal = experience_prior(model, panel)
    tail = full[~recorded_mask(full)]

    def part(d: Any) -> dict[str, Any]:
        return {"exchanges": int(d["exchange_id"].nunique()), "rows": int(len(d)),
                "exposure_years": float(d["exposure_years"].sum()), "breaches": int(d["breaches"].sum())}

    from underwriting.frequency.base_validation import jp_expected, oe_row

    jp = _jp_frame()
    seg = segment_table(jp=jp)
    j = jp_expected(model, jp, "2018-01-01")
    seg["rows"].append(oe_row("Japanese registered exchanges 2018-01-01 on (shipped model; in its fit window)",
                              j["observed"], j["expected"], exchanges=j["exchanges"], exposure_years=j["exposure_years"]))
    seg["all_inside"] = all(r["inside"] for r in seg["rows"])
    whole = seg["rows"][0]
    report = {
        "recipe": {"population": "recorded: exchanges with a CryptoCompare country (base_survival.recorded_mask)",
                   "covariates": list(model.covariates), "data_source_terms": []},
        "population": {"kept": part(panel), "removed_tail": part(tail)},
        "survival_check": survival_check(panel_with_dates(panel, breach_dates()), model),
        "segments_out_of_time": seg,
        "segments_sensitivity_2021": segment_table("2021-12-31", jp=jp),
        "effects": {t: {k: float(v) for k, v in row.items()} for t, row in model.effects_.iterrows()},
        "trend_test": model.trend_test_,
        "in_sample": {"observed": model.events_, "fitted": float(model.fitted_.sum()),
                      "exposure_years": model.exposure_years_, "rows": model.n_obs_,
                      "exchanges": int(panel["exchange_id"].nunique())},
        "by_calendar_year": by_calendar_year(panel),
        "out_of_time": {"fit_window": seg["fit_window"], "predict_window": seg["predict_window"],
                        "fit_events": seg["fit_events"], "observed": whole["observed"], "expected": whole["expected"],
                        "oe": whole["oe"], "oe_interval": whole["interval"], "level": whole["level"]},
        "ever_breached": ever_breached(model, panel),
        "experience_prior": model.experience_prior_,
        "experience_prior_marginal": marginal,
        "example_rates": example_rates(model),
        "exit_effect": exit_effect(),
    }
    return model, panel, report


def exit_effect() -> list[dict[str, Any]]:
    """Exposure and breaches of the recorded population by volume third under each exit rule
    (:data:`underwriting.frequency.base_panel.EXIT_RULES`): what exits remove, by size."""
    from underwriting.frequency.base_panel import EXIT_RULES, cohort_panel
    from underwriting.frequency.base_survival import recorded_mask

    out = []
    for rule in EXIT_RULES:
        p = cohort_panel(exit_rule=rule)
        p = p[recorded_mask(p)]
        for i in range(3):
            s = p[(p["volume_pct"] >= i / 3) & ((p["volume_pct"] < (i + 1) / 3) | (i == 2))]
            out.append({"exit_rule": rule, "volume_third": i + 1, "exposure_years": float(s["exposure_years"].sum()),
                        "breaches": int(s["breaches"].sum())})
    return out


def example_rates(model: Any) -> list[dict[str, Any]]:
    """Base rates (90% parameter interval) at a few daily volumes, licensed (JP) and offshore (SC)."""
    import numpy as np
    import pandas as pd

    vols = [1e5, 1e7, 1e8, 1e9, np.nan]
    X = pd.DataFrame({"volume_24h_usd": vols * 2, "country": ["JP"] * 5 + ["SC"] * 5, "security_points": np.nan})
    iv = model.predict_interval(X, 0.9)
    return [{"volume_24h_usd": None if not np.isfinite(v) else float(v), "country": c, "annual_rate": float(r.annual_rate),
             "lo": float(r.lo), "hi": float(r.hi)} for v, c, r in zip(X["volume_24h_usd"], X["country"], iv.itertuples(), strict=True)]


def _fmt_alpha(a: float | None) -> str:
    return "∞" if a is None else f"{a:.3f}"


def _fmt_interval(iv: list[float | None]) -> str:
    return f"{_fmt_alpha(iv[0])} to {_fmt_alpha(iv[1])}"


def _card(model: Any, rep: dict[str, Any]) -> str:
    eff = "\n".join(f"| {t} | {e['coef']:+.3f} | {e['se']:.3f} | {e['rate_ratio']:.3f} | {e['lo']:.3f}–{e['hi']:.3f} |"
                    for t, e in rep["effects"].items())
    seg = rep["segments_out_of_time"]
    rows = "\n".join(f"| {r['segment']} | {r['observed']} | {r['expected']:.2f} | {r['oe']:.2f} | "
                     f"{r['interval'][0]:.2f}–{r['interval'][1]:.2f} | {'yes' if r['inside'] else 'NO'} |"
                     for r in seg["rows"])
    tt = rep["trend_test"]
    pop = rep["population"]
    sc = rep["survival_check"]
    tol = sc["time_on_list"]
    return f"""# Frequency (base model) {VERSION} — model card

**Intended use.** The base annual breach rate of a centralised exchange that buys cover, from its size
(24-hour volume in USD, ranked against the CryptoCompare 2020 list) and whether it is registered outside the
licensed regimes: the factor the experience rating and the posture schedule multiply. No term describes a data
source: no aggregator grade, no "country blank in the aggregator" level (a blank country is priced as offshore).

**Data (REAL).** The exchanges alive on two aggregator lists not chosen by hacks (CoinPaprika 2019-09-07,
CryptoCompare 2020-12-10; `datasets/cohorts.csv`), followed to exit or 2025-11-30 (sourced closure, or halfway
between the last sighting and the first comprehensive list that omits the exchange: `datasets/cohort_exits.csv`,
exit rule "evidence"), breaches from `datasets/incidents.csv` (hack or insider, recurrent counted). Fitted on the
**recorded population**: the exchanges
with a country on CryptoCompare's list ({pop['kept']['exchanges']} exchanges, {pop['kept']['exposure_years']:,.1f}
exchange-years, {pop['kept']['breaches']} breaches). Removed: the CoinPaprika-only tail ({pop['removed_tail']['exchanges']}
exchanges, {pop['removed_tail']['exposure_years']:,.1f} exchange-years, {pop['removed_tail']['breaches']} breaches), venues
whose breaches and closures are rarely recorded. No synthetic data.

**Model.** Piecewise-exponential proportional hazards (Poisson regression with log-exposure offset on exchange ×
calendar-piece rows), Newton-Raphson, covariance = inverse observed information. Calendar trend by likelihood ratio:
{tt['coef']:+.3f}/year (SE {tt['se']:.3f}), p = {tt['p']:.2f}: {'kept' if tt['kept'] else 'not kept: a flat rate'}.
Checked as a survival model of time to first breach with lifelines ({sc['exchanges']} exchanges, {sc['events']} first
breaches): hazard by time on the list, piecewise vs constant, LR {tol['lr']:.2f} on {tol['df']} df, p = {tol['p']:.2f};
Weibull shape {sc['weibull']['rho']:.2f} (90% {sc['weibull']['rho_interval'][0]:.2f}–{sc['weibull']['rho_interval'][1]:.2f});
so the quote uses a constant hazard over the term, S(t) = exp(−rate·t), median time to breach ln 2 / rate.

| term | coef | SE | rate ratio | 90% Wald |
| --- | --- | --- | --- | --- |
{eff}

**Validation, out of time** (the recipe refitted on follow-up to {seg['fit_window'][1]}, {seg['fit_events']} breaches;
predicting {seg['predict_window'][0]} to {seg['predict_window'][1]}; exact Poisson 90% interval of O/E):

| segment | observed | expected | O/E | 90% interval | inside |
| --- | --- | --- | --- | --- | --- |
{rows}

**Experience prior (REAL method, REAL data).** α = {rep['experience_prior']['alpha']:.3f}, chosen inside the bounds
{rep['experience_prior']['bounds'][0]:g}–{rep['experience_prior']['bounds'][1]:g} of `underwriting/frequency/experience.toml` by cross-validated
predictive likelihood on the same rows (stored in `model.json`, `experience_prior`; the quote uses it); 90% profile
interval {_fmt_interval(rep['experience_prior']['interval'])}. The unbounded marginal-likelihood estimate is
{_fmt_alpha(rep['experience_prior_marginal']['alpha'])} (`training.json`, `experience_prior_marginal`; information only).
The posture schedule that multiplies this rate in the quote is an ASSUMPTION (`underwriting/frequency/schedule.toml`).

**Limits.** {rep['in_sample']['observed']} breaches support two covariates: intervals are wide. Breaches of small
exchanges are under-recorded even inside the recorded population, so the volume effect is partly a reporting
effect. The exit table is partial after 2022 (an exchange seen on the latest comprehensive list stays at risk).
Details: `docs/frequency_validation.md`. Plain data
(`model.json`); no pickle.
"""


def build(root: str | Path | None = None, *, promote: bool = True) -> dict[str, Any]:
    """Fit, validate and publish ``frequency`` {VERSION} into the registry ``root``."""

    register()
    if root is None:
        root = Path(__file__).resolve().parents[2] / "models"
    reg = Registry(root)
    model, _panel, rep = validation_report()
    bad = [r for r in rep["segments_out_of_time"]["rows"] if not r["inside"]]
    if bad:

        raise InputError("out-of-time O/E outside its 90% Poisson interval, not published: " + "; ".join(
            f"{r['segment']} {r['observed']}/{r['expected']:.2f} = {r['oe']:.2f} "
            f"[{r['interval'][0]:.2f}, {r['interval'][1]:.2f}]" for r in bad), field="frequency")
    doc = model.to_dict()
    with reg.stage(NAME, VERSION, replace=True) as st:
        (st.dir / "model.json").write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        (st.dir / "training.json").write_text(json.dumps(rep, indent=1, sort_keys=True, default=float) + "\n",
                                              encoding="utf-8")
        (st.dir / "MODEL_CARD.md").write_text(_card(model, rep), encoding="utf-8")
        st.manifest.update({
            "data": {
                "description": "REAL: exchange cohorts (CoinPaprika 2019-09-07, CryptoCompare 2020-12-10) followed to "
                               "2025-11-30, recorded population (exchanges with a CryptoCompare country)",
                "events": model.events_, "rows": model.n_obs_, "exposure_years": model.exposure_years_,
                "fingerprint_sha256": model.fingerprint_, "files_sha256": _data_fingerprint(),
                "parts": {"real": ["every exchange, covariate and breach"], "synthetic": []},
            },
            "metrics": {"summary": {"events": model.events_, "oe_out_of_time": rep["out_of_time"]["oe"],
                                    "trend_p": rep["trend_test"]["p"]},
                        "out_of_time": {
                            "calibration": {"oe": rep["out_of_time"]["oe"], "interval": rep["out_of_time"]["oe_interval"],
                                            "level": rep["out_of_time"]["level"]},
                            "segments": [{k: r[k] for k in ("segment", "observed", "expected", "oe", "interval", "level",
                                                            "inside")} for r in rep["segments_out_of_time"]["rows"]]}},
        })
    if promote and reg.default(NAME) != VERSION:
        reg.promote(NAME, VERSION, note=PROMOTION_NOTE)
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
