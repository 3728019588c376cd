"""Compute the held-out references once (not run by the tests): ``python tests/pricing/make_heldout_references.py``.

Each reference VaR/TVaR comes from the FFT of 2**18 to 2**22 buckets (4-64 times the default) with
escalation off whose own moment check passes and whose finest bucket is smallest, and is
cross-checked against a seeded Monte Carlo of up to 4 million terms: the script records the
Monte Carlo figures and their batch-means standard errors next to the reference. For
``geometric_exponential_unlimited`` the reference is the closed form of the compound
geometric-exponential (:math:`P(S > x) = \\frac{\\beta}{1+\\beta} e^{-x/(\\theta(1+\\beta))}`).
Where the layer attaches with probability below 1 - p, VaR_p = 0 and TVaR_p = E[L]/(1 - p) in closed
form. ``python tests/pricing/make_heldout_references.py NAME ...`` recomputes only the named cases.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from heldout_cases import CASES, LEVELS, build  # noqa: E402

from underwriting.losses.aggregate import PricingRefused, compound  # noqa: E402
from underwriting.losses.aggregate.engines import _compound_mc  # noqa: E402
from underwriting.losses.aggregate.terms import _terms  # noqa: E402


def main(only: list[str]) -> None:
    path = Path(__file__).parent / "data" / "heldout_references.json"
    out = json.loads(path.read_text()) if only and path.exists() else {}
    for name in (only or CASES):
        peril, terms = build(name)
        n_mc = int(min(4_000_000, 4e7 / max(peril.frequency.mean(), 1e-9)))
        # the engine's Monte Carlo itself, past the CLI-facing limit on simulated losses (a one-off run)
        mc = _compound_mc((peril,), _terms(terms.get("deductible", 0.0), terms.get("limit", math.inf), None,
                                           terms.get("agg_deductible", 0.0), terms.get("agg_limit", math.inf),
                                           terms.get("share", 1.0)), n_mc, 20261130, 1e-6, 1e-3)
        grid, n_ref, failed = None, None, None
        for n_try in (2**22, 2**21, 2**20, 2**19, 2**18):  # the passing grid with the finest bucket
            try:
                cand = compound(peril, n_buckets=n_try, escalate=False, **terms)
            except PricingRefused:
                continue
            if not cand.moment_check:
                failed = cand
                continue
            if grid is None or cand.bucket < grid.bucket:
                grid, n_ref = cand, n_try
        grid = grid or failed or mc
        ref = grid if grid.moment_check else mc
        how = (f"fft {n_ref:,} buckets (finest bucket {grid.bucket:.6g}), moment check passed" if grid.moment_check else
               f"Monte Carlo {n_mc:,} terms (the 2^18-2^22 grids failed their moment checks)")
        row = {"mean": ref.mean, "std": ref.std, "method": how, "reference_is_mc": ref is mc,
               "mc_terms": n_mc, "mc_mean": mc.mean, "mc_se_mean": mc.se_mean}
        for p in LEVELS:
            v, t = ref.value_at_risk(p), ref.tvar(p)
            if name == "geometric_exponential_unlimited":
                beta, theta = 0.4, 1e6
                q = beta / (1 + beta)
                scale = theta * (1 + beta)
                v = scale * math.log(q / (1 - p)) if 1 - p < q else 0.0
                t = v + scale  # memoryless tail
            p_attach = 1.0 - float(peril.frequency.pgf(float(peril.severity.cdf(terms.get("deductible", 0.0)))).real)
            if p_attach < 1.0 - p and "agg_deductible" not in terms and "agg_limit" not in terms:
                # the layer attaches with probability below 1 - p: VaR_p = 0 and TVaR_p = E[L]/(1 - p), closed forms
                d, lim = terms.get("deductible", 0.0), terms.get("limit", math.inf)
                el = terms.get("share", 1.0) * peril.frequency.mean() * peril.severity.layer_moment(d, lim, 1)
                v, t = 0.0, el / (1.0 - p)
                row["method"] += f"; VaR/TVaR at {p} in closed form (P(attach) = {p_attach:.3g} < 1 - p)"
            row[f"var_{p}"] = v
            row[f"tvar_{p}"] = t
            row[f"mc_var_{p}"] = mc.value_at_risk(p)
            row[f"mc_tvar_{p}"] = mc.tvar(p)
            row[f"mc_se_tvar_{p}"] = mc.se_tvar(p)
        out[name] = row
        print(name, json.dumps({k: (round(x, 6) if isinstance(x, float) else x) for k, x in row.items()}), flush=True)
    path.write_text(json.dumps(out, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main(sys.argv[1:])
