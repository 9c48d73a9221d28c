"""Evaluating on distinct (x, T) pairs is an exact shortcut: same numbers as the direct path."""

import numpy as np

from clvmodels.likelihoods import bgnbd
from clvmodels.likelihoods._unique import on_unique_pairs

PARAMS = (0.243, 4.414, 0.793, 2.426)  # Fader, Hardie & Lee (2005), CDNOW


def test_unique_path_equals_direct_path():
    rng = np.random.default_rng(3)
    n = 20_000
    x = rng.poisson(2.0, n).astype(float)
    T = rng.integers(200, 273, n) / 7
    t_x = np.where(x > 0, T * rng.uniform(0, 1, n), 0.0)
    t = np.array([4.345, 26.0, 52.0])[:, None]
    shortcut = bgnbd.expected_purchases(PARAMS, t, x, t_x, T)
    calls = []

    def direct(u, v):
        calls.append(len(u))
        return (PARAMS[2] + PARAMS[3] + u - 1) * bgnbd._growth(PARAMS[2], PARAMS[3] - PARAMS[0], PARAMS[3] + u - 1,
                                                              t / (PARAMS[1] + v + t))

    expected = direct(x, T) * bgnbd.probability_alive(PARAMS, x, t_x, T)
    np.testing.assert_array_equal(shortcut, expected)
    on_unique_pairs(direct, x, T)
    assert calls[-1] < n // 10  # the shortcut really evaluated far fewer rows


def test_unique_path_skipped_when_rows_are_distinct():
    u = np.arange(5000.0)
    seen = []
    out = on_unique_pairs(lambda a, b: seen.append(len(a)) or a + b, u, u)
    assert seen == [5000] and np.array_equal(out, 2 * u)
