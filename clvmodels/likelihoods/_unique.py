"""Evaluate an expensive function once per distinct input row and scatter the results back."""

from __future__ import annotations

import numpy as np
import pandas as pd

_MIN_SIZE = 2048  # below this, finding duplicates costs more than it saves


def on_unique_pairs(func, u, v):
    """``func(u, v)`` evaluated on the distinct ``(u, v)`` pairs only.

    ``u`` and ``v`` are 1-d arrays of equal length; ``func`` must broadcast over its trailing
    axis (it may return shape ``(..., n)``). Exact: the same values as ``func(u, v)``.
    """
    u, v = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(v, dtype=float))
    if u.ndim != 1 or u.size < _MIN_SIZE:
        return func(u, v)
    codes, pairs = pd.factorize(u + 1j * v)  # hash-based: O(n)
    if len(pairs) > u.size // 2:
        return func(u, v)
    return func(pairs.real, pairs.imag)[..., codes]
