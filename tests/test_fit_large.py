"""The machinery of fits on many distinct rows: compression and the warm start.

``compress`` numbers the columns into one integer key (or sorts a nearly continuous last column)
instead of a pandas group-by; it must give exactly what ``groupby(sort=True)`` gives on every path.
Fits on more than ``_WARM_START_ROWS`` distinct rows start from a fit on a sample of the customers;
the answer must be the full data's optimum, the same as a cold start.
"""

import numpy as np
import pandas as pd
import pytest

from clvmodels import MODELS, datasets
from clvmodels.models import base
from clvmodels.models.base import compress


def _groupby(columns, weights):
    frame = pd.DataFrame(columns).assign(_w=weights)
    grouped = frame.groupby(list(columns), sort=True)["_w"].sum()
    unique = grouped.index.to_frame(index=False)
    return {c: unique[c].to_numpy(dtype=float) for c in columns}, grouped.to_numpy(dtype=float)


def _assert_same(columns, weights):
    got, counts = compress(columns, weights)
    want, want_counts = _groupby(columns, weights)
    assert list(got) == list(columns)
    for name in columns:
        np.testing.assert_array_equal(got[name], want[name])
    np.testing.assert_allclose(counts, want_counts, rtol=1e-12)
    return got, counts


@pytest.mark.parametrize("seed", range(6))
def test_compress_equals_groupby_on_mixed_columns(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5000))
    kinds = [lambda: rng.integers(0, 5, n).astype(float),          # few levels (frequency)
             lambda: np.round(rng.random(n) * 50) / 7,             # a calendar grid (recency, T)
             lambda: rng.random(n)]                                # continuous (spend)
    columns = {f"c{j}": kinds[int(rng.integers(0, 3))]() for j in range(int(rng.integers(1, 4)))}
    weights = rng.integers(0, 4, n).astype(float)
    got, counts = _assert_same(columns, weights)
    # a table that is already compressed comes back as it is
    again, again_counts = compress(got, counts)
    for name in columns:
        np.testing.assert_array_equal(again[name], got[name])
    np.testing.assert_array_equal(again_counts, counts)


def test_compress_sorts_a_mostly_distinct_last_column():
    """Gamma-Gamma's (frequency, monetary_value) on 40,000 rows: the sorting path."""
    rng = np.random.default_rng(1)
    x = rng.integers(1, 40, 40_000).astype(float)
    spend = rng.gamma(2.0, 20.0, 40_000)
    spend[:3000] = spend[3000:6000]
    x[:3000] = x[3000:6000]
    assert base._mostly_distinct(spend)
    _, counts = _assert_same({"frequency": x, "monetary_value": spend}, rng.integers(1, 3, 40_000).astype(float))
    assert len(counts) == 37_000


def test_compress_falls_back_to_groupby_when_the_key_would_overflow():
    rng = np.random.default_rng(2)
    columns = {name: rng.random(30_000) for name in "abcdef"}  # 30,000^5 key values exceed 2^62
    for name in columns:
        columns[name][:500] = columns[name][500:1000]
    _, counts = _assert_same(columns, np.ones(30_000))
    assert len(counts) == 29_500


@pytest.mark.parametrize("name", ["bgnbd", "mbgnbd", "pareto_nbd", "gamma_gamma"])
def test_warm_start_reaches_the_cold_start_optimum(name, monkeypatch):
    cls = MODELS[name]
    truth = cls().fit(datasets.load_cdnow_summary()).params_.to_dict()
    data = cls.simulate_summary(truth, 12_000, rng=np.random.default_rng(4))
    monkeypatch.setattr(base, "_WARM_START_ROWS", 10**12)
    cold = cls().fit(data)
    calls = []
    warm_start = base.MLEModel._warm_start

    def spy(self, *args):
        calls.append(1)
        return warm_start(self, *args)

    monkeypatch.setattr(base, "_WARM_START_ROWS", 1000)
    monkeypatch.setattr(base, "_WARM_START_CUSTOMERS", 2000)
    monkeypatch.setattr(base.MLEModel, "_warm_start", spy)
    warm = cls().fit(data)
    assert calls, "the warm start was not used"
    np.testing.assert_allclose(warm.params_, cold.params_, rtol=1e-8)
    np.testing.assert_allclose(warm.covariance_, cold.covariance_, rtol=1e-6)
    assert warm.log_likelihood_ == pytest.approx(cold.log_likelihood_, rel=1e-12)
