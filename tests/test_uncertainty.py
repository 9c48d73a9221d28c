"""Prediction intervals from MLE parameter uncertainty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import BetaGeoModel, GammaGammaModel
from clvmodels.uncertainty import clv_interval, parameter_draws, prediction_interval

TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # Fader, Hardie & Lee (2005), CDNOW


@pytest.fixture(scope="module")
def cdnow():
    return clvmodels.datasets.load_cdnow_summary()


@pytest.fixture(scope="module")
def models(cdnow):
    return BetaGeoModel().fit(cdnow), GammaGammaModel().fit(cdnow)


def test_draws_follow_the_fitted_log_scale_normal(models):
    bg, _ = models
    draws = parameter_draws(bg, 20_000, random_state=1)
    logs = np.log(draws.to_numpy())
    params = bg.params_.to_numpy()
    expected_cov = bg.covariance_.to_numpy() / np.outer(params, params)
    np.testing.assert_allclose(logs.mean(axis=0), np.log(params), atol=0.01)
    sd = np.sqrt(np.diag(expected_cov))
    # 20,000 draws: a correlation's sampling error is below 0.01, a variance's about 1 %.
    np.testing.assert_allclose(np.corrcoef(logs.T), expected_cov / np.outer(sd, sd), atol=0.03)
    np.testing.assert_allclose(logs.std(axis=0), sd, rtol=0.03)
    assert (draws.to_numpy() > 0).all()


def test_intervals_bracket_the_estimate_and_are_reproducible(models, cdnow):
    bg, gg = models
    for method, args in (("probability_alive", ()), ("expected_purchases", (52.0,))):
        band = prediction_interval(bg, method, cdnow, *args, random_state=3)
        assert list(band.columns) == ["estimate", "lower 90%", "upper 90%"]
        assert (band["lower 90%"] <= band["estimate"] + 1e-12).all()
        assert (band["estimate"] <= band["upper 90%"] + 1e-12).all()
        pd.testing.assert_frame_equal(band, prediction_interval(bg, method, cdnow, *args, random_state=3))
    spend = prediction_interval(gg, "expected_spend", cdnow, ci_level=0.5, random_state=3)
    assert (spend["upper 50%"] > spend["lower 50%"]).all()
    clv = clv_interval(bg, gg, cdnow, random_state=3)
    np.testing.assert_allclose(clv["estimate"], clvmodels.customer_lifetime_value(bg, gg, cdnow))
    assert (clv["upper 90%"] > clv["lower 90%"]).all()


def test_clv_interval_is_wider_than_either_source_alone(models, cdnow):
    """CLV carries both the purchase and the spend uncertainty: its interval is wider than with
    either model's parameters held fixed, and the two sources add roughly in quadrature."""
    bg, gg = models
    fixed_spend = GammaGammaModel.from_params(gg.params_.to_dict(), covariance=1e-30 * np.eye(3))
    fixed_purchase = BetaGeoModel.from_params(bg.params_.to_dict(), covariance=1e-30 * np.eye(4), time_unit="W")
    width = lambda band: (band["upper 90%"] - band["lower 90%"]).mean()  # noqa: E731
    both = width(clv_interval(bg, gg, cdnow, n_draws=1000, random_state=5))
    purchase_only = width(clv_interval(bg, fixed_spend, cdnow, n_draws=1000, random_state=5))
    spend_only = width(clv_interval(fixed_purchase, gg, cdnow, n_draws=1000, random_state=5))
    assert both > purchase_only and both > spend_only
    assert both == pytest.approx(np.hypot(purchase_only, spend_only), rel=0.1)


def test_more_data_narrows_the_interval():
    rng = np.random.default_rng(8)
    small = BetaGeoModel.simulate_summary(TRUTH, 2_000, rng=rng)
    large = BetaGeoModel.simulate_summary(TRUTH, 32_000, rng=rng)
    profile = pd.DataFrame({"frequency": [2.0], "recency": [30.0], "T": [39.0]})
    widths = []
    for data in (small, large):
        band = prediction_interval(BetaGeoModel().fit(data), "expected_purchases", profile, 52.0, random_state=0)
        widths.append(float(band["upper 90%"].iloc[0] - band["lower 90%"].iloc[0]))
    assert widths[1] < 0.4 * widths[0]  # 16x the data: about a quarter of the width


def test_coverage_of_the_true_prediction():
    """Seeded repeated-sampling check: the 90 % interval of a customer's expected purchases
    contains the value at the true parameters in roughly 90 % of 40 simulated datasets."""
    rng = np.random.default_rng(2024)
    profile = pd.DataFrame({"frequency": [3.0], "recency": [25.0], "T": [39.0]})
    truth = BetaGeoModel.from_params(TRUTH).expected_purchases(profile, 39.0).iloc[0]
    hits = 0
    for _ in range(40):
        data = BetaGeoModel.simulate_summary(TRUTH, 3_000, rng=rng)
        band = prediction_interval(BetaGeoModel().fit(data), "expected_purchases", profile, 39.0,
                                   n_draws=400, random_state=rng)
        hits += band["lower 90%"].iloc[0] <= truth <= band["upper 90%"].iloc[0]
    assert 30 <= hits <= 40  # binomial(40, 0.9): P(hits < 30) is about 0.5 %


def test_missing_covariance_is_a_clear_error(cdnow):
    model = BetaGeoModel.from_params(TRUTH)
    with pytest.raises(ValueError, match="no finite covariance"):
        prediction_interval(model, "probability_alive", cdnow)
