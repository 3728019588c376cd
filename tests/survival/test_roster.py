"""The real-roster analysis runs on the bundled curated tables and gives coherent figures."""

from __future__ import annotations

import numpy as np


def test_roster_analysis_runs():
    from underwriting.survival.roster import analyse, to_markdown

    res = analyse()
    assert 0 < res["n_ever_hacked"] <= res["n_exchanges"]
    assert 0 < res["n_first_breaches"] <= res["n_with_launch"] <= res["n_exchanges"]
    km = np.array(list(res["km_first_breach"].values()))
    assert np.all(np.diff(km) <= 0) and np.all((km > 0) & (km <= 1))
    assert len(res["cox"]) == 5 and np.isfinite(res["cox"]["coef"]).all()
    assert 0 < res["crude_annual_rate"] < 1
    assert "| n_exchanges |" in to_markdown(res)
