"""A dot product whose summation order does not depend on the machine's BLAS threads.

``numpy.dot`` on long float vectors goes to BLAS (OpenBLAS ``ddot``), which splits the sum across
threads: the last digits then depend on how many cores the machine has. Quotes must be the same to the
last digit on any machine (same inputs, seed and model versions), so the engine's means, variances and
premium integrals use ``einsum``, which sums in one fixed order without BLAS.
"""

from __future__ import annotations

import numpy as np


def fixed_order_dot(a, b) -> np.floating:
    """``sum(a * b)`` over 1-D arrays in a fixed order (no BLAS threads)."""
    return np.einsum("i,i->", np.asarray(a, dtype=float), np.asarray(b, dtype=float))
