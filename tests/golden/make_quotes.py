"""Quote every bundled example and write the canonical JSON and the printed report.

Run ``python -m tests.golden.make_quotes`` to regenerate ``tests/golden/quotes/`` after an intended
change of a quote; ``tests/test_golden_quotes.py`` checks that the code still produces these bytes.
Cases: each bundled submission with default terms and with each bundled policy (the one risk model: base x experience x schedule),
the same with the baseline frequency, the excess layer and the tower examples (issue #16), and the JP sample with each candidate programme of
``underwriting/reserve/examples/quotes_jp_small.toml`` (its defaults merged in, premium fields dropped).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "datasets" / "examples"
OUT = Path(__file__).resolve().parent / "quotes"
SUBMISSIONS = ("global_large_exchange.json", "hk_exchange_with_incident.json", "jp_small_exchange.json")
POLICIES = (None, "policy_jp_primary.toml", "policy_usd_excess.toml")
#: Policy structures of issue #16 (the one risk model): an excess layer 50m xs 200m and a two-layer
#: tower. The JP sample is not quoted on the excess layer: only a breach of all its custodied assets (JPY 30bn,
#: about 200.5m USD) reaches 200m USD, so the price would rest on that edge alone (an attachment above the
#: assets is refused, tests/test_quote_structure.py).
STRUCTURES = (("excess_usd_50m_xs_200m.toml", SUBMISSIONS[:2]), ("tower_usd.toml", SUBMISSIONS))


def cases():
    """``(name, submission file, PolicyTerms or None, frequency model)`` for every golden quote."""
    from underwriting.domain.policy import PolicyTerms, load_policy, load_terms

    for model in ("frequency", "baseline"):
        for s in SUBMISSIONS:
            for p in POLICIES:
                terms = None if p is None else load_policy(str(EXAMPLES / p))
                yield f"{Path(s).stem}__{Path(p).stem if p else 'default'}__{model}", EXAMPLES / s, terms, model
    for p, subs in STRUCTURES:
        for s in subs:
            yield (f"{Path(s).stem}__{Path(p).stem}__frequency", EXAMPLES / s, load_terms(str(EXAMPLES / p)),
                   "frequency")
    spec = tomllib.loads((ROOT / "underwriting/reserve/examples/quotes_jp_small.toml").read_text(encoding="utf-8"))
    for q in spec["quote"]:
        fields = {**spec["defaults"], **{k: v for k, v in q.items() if k not in ("premium", "expected_loss")}}
        yield (f"jp_small_exchange__{q['policy_id']}__frequency", EXAMPLES / "jp_small_exchange.json",
               PolicyTerms.model_validate(fields), "frequency")


def render(sub_path, terms, model) -> tuple[str, str]:
    """(canonical JSON, printed report) of one quote."""
    from underwriting.domain.report import format_quote
    from underwriting.domain.submission import load_submission
    from underwriting.quote.make import make_quote

    q = make_quote(load_submission(str(sub_path)), terms, seed=0, frequency_model=model)
    return q.to_json(), format_quote(q) + "\n"


def main() -> int:
    OUT.mkdir(exist_ok=True)
    for name, sub, terms, model in cases():
        js, txt = render(sub, terms, model)
        (OUT / f"{name}.json").write_text(js, encoding="utf-8")
        (OUT / f"{name}.txt").write_text(txt, encoding="utf-8")
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
