"""Synthetic transaction logs: reproducibility, shape, and recovery of the generating parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from clvmodels import BetaGeoModel, GammaGammaModel, rfm_summary
from clvmodels.data.synthetic import CDNOW_BGNBD, CDNOW_GAMMA_GAMMA, simulate_transactions
from clvmodels.likelihoods import bgnbd

START, END = "1997-01-01", "1998-06-30"


def test_same_seed_same_log_and_other_seed_another():
    first = simulate_transactions(2_000, seed=7)
    pd.testing.assert_frame_equal(first, simulate_transactions(2_000, seed=7))
    pd.testing.assert_frame_equal(first, simulate_transactions(2_000, seed=np.random.default_rng(7)))
    assert not first.equals(simulate_transactions(2_000, seed=8))


def test_columns_types_order_and_ranges():
    tx = simulate_transactions(5_000, seed=1)
    assert list(tx.columns) == ["customer_id", "date", "amount"]
    assert tx.dtypes.to_dict() == {"customer_id": np.dtype("int64"), "date": np.dtype("datetime64[ns]"),
                                   "amount": np.dtype("float64")}
    assert tx["customer_id"].unique().tolist() == list(range(1, 5_001))
    assert tx.set_index(["customer_id", "date"]).index.is_monotonic_increasing
    assert (tx["date"] == tx["date"].dt.normalize()).all()
    first = tx.groupby("customer_id")["date"].min()
    assert first.min() >= pd.Timestamp(START) and first.max() < pd.Timestamp(START) + pd.Timedelta(days=84)
    assert tx["date"].max() <= pd.Timestamp(END)
    assert (tx["amount"] > 0).all() and np.isfinite(tx["amount"]).all()


def test_transactions_per_customer_match_the_bgnbd_expectation():
    """Rows per customer average ``1 + E[X(T)]`` (Fader, Hardie & Lee 2005, eq. 9) over the uniform
    acquisition days: about 2.77 at the CDNOW estimates. Dating to the day never drops a row, so
    this holds exactly; the tolerance is four standard errors of the mean."""
    tx = simulate_transactions(20_000, seed=2)
    per_customer = tx.groupby("customer_id").size()
    window_weeks = (pd.Timestamp(END) - pd.Timestamp(START)).days / 7 - np.arange(84) / 7
    expected = 1 + bgnbd.expected_purchases_new_customer(np.array(CDNOW_BGNBD), window_weeks).mean()
    assert expected == pytest.approx(2.77, abs=0.01)
    se = per_customer.std() / np.sqrt(len(per_customer))
    assert abs(per_customer.mean() - expected) < 4 * se


def _wald(model, truth):
    diff = model.params_.to_numpy() - truth
    cov = model.covariance_.to_numpy()
    return diff / np.sqrt(np.diag(cov)), float(diff @ np.linalg.solve(cov, diff))


def test_fits_recover_the_generating_parameters():
    """BG/NBD and Gamma-Gamma fitted to the summary of a simulated log land near the truth: every
    estimate within 4 standard errors and the joint Wald statistic below its 99.9 % chi-square
    quantile.

    Dating purchases to the day merges same-day repeats and rounds recency up by half a day; at the
    CDNOW weekly rates that alone moves ``alpha`` about 1.5 standard errors at 20,000 customers. So
    the story is told in a 7-week time unit over a calendar 7 times longer: the same customers and
    information, with a day 7 times finer relative to their purchase rates. In weeks the rate
    parameter is then ``7 * alpha`` (rescaling time rescales only the rate).
    """
    stretch = 7
    end = (pd.Timestamp(START) + pd.Timedelta(days=545 * stretch)).date().isoformat()
    tx = simulate_transactions(20_000, acquisition_days=84 * stretch, observation_end=end,
                               time_unit_days=7 * stretch, seed=3)
    summary = rfm_summary(tx, customer_id_col="customer_id", datetime_col="date",
                          monetary_value_col="amount", observation_period_end=end)
    r, alpha, a, b = CDNOW_BGNBD
    for model, truth in [(BetaGeoModel().fit(summary), np.array([r, alpha * stretch, a, b])),
                         (GammaGammaModel().fit(summary), np.array(CDNOW_GAMMA_GAMMA))]:
        z, wald = _wald(model, truth)
        assert np.all(np.abs(z) < 4), (type(model).__name__, z)
        assert wald < stats.chi2.ppf(0.999, len(truth)), (type(model).__name__, wald)


def test_no_customers_gives_an_empty_log_with_the_same_columns():
    tx = simulate_transactions(0)
    assert tx.empty and list(tx.columns) == ["customer_id", "date", "amount"]
    assert tx["date"].dtype == np.dtype("datetime64[ns]")


@pytest.mark.parametrize("kwargs, message", [
    ({"n_customers": -1}, "n_customers"),
    ({"n_customers": 2.5}, "n_customers"),
    ({"n_customers": 10, "params_bgnbd": (0.2, 4.0, 0.8)}, "params_bgnbd"),
    ({"n_customers": 10, "params_gamma_gamma": (6.0, -1.0, 15.0)}, "params_gamma_gamma"),
    ({"n_customers": 10, "acquisition_days": 0}, "acquisition_days"),
    ({"n_customers": 10, "observation_end": "1997-02-01"}, "acquisition_days"),
    ({"n_customers": 10, "observation_end": "1996-12-31"}, "observation_end"),
    ({"n_customers": 10, "time_unit_days": 0}, "time_unit_days"),
])
def test_invalid_settings_are_reported(kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate_transactions(**kwargs)
