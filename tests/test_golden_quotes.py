"""Every bundled example quotes byte for byte as recorded in ``tests/golden/quotes/``.

The files were written by ``python -m tests.golden.make_quotes`` before the structural refactor
(issue #12); a refactor must leave every quote's JSON and its printed report unchanged. An intended
change of a quote regenerates them with that command and says why in its commit.
"""

from __future__ import annotations

import pytest

from tests.golden.make_quotes import OUT, cases, render

CASES = list(cases())


def test_every_case_has_a_golden_file():
    names = {n for n, *_ in CASES}
    on_disk = {p.stem for p in OUT.glob("*.json")}
    assert names == on_disk and len(names) == 23


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_quote_is_byte_identical_to_golden(case):
    name, sub, terms, model = case
    js, txt = render(sub, terms, model)
    assert js == (OUT / f"{name}.json").read_text(encoding="utf-8")
    assert txt == (OUT / f"{name}.txt").read_text(encoding="utf-8")
