from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_BOOK = ROOT / "datasets" / "examples" / "books" / "sample"


@pytest.fixture(scope="session")
def sample_book():
    from underwriting.portfolio import load_book

    return load_book(SAMPLE_BOOK)


@pytest.fixture(scope="session")
def synth():
    from underwriting.portfolio import synthetic_book

    return synthetic_book(150, seed=3, n_vendors=8)
