"""MBG/NBD (Batislam, Denizel & Filiztekin 2007) against an independent implementation and lifetimes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from lifetimes import ModifiedBetaGeoFitter

import clvmodels
from clvmodels import ModifiedBetaGeoModel
from clvmodels.likelihoods import mbgnbd


@pytest.fixture(scope="module")
def cdnow():
    return clvmodels.datasets.load_cdnow_summary()


@pytest.fixture(scope="module")
def fitted(cdnow):
    return ModifiedBetaGeoModel().fit(cdnow)


def test_params_match_btydplus_on_cdnow(fitted):
    """BTYDplus (M. Platzer's R package, https://github.com/mplatzer/BTYDplus), an independent
    implementation, reports r=0.525, alpha=6.183, a=0.891, b=1.614 for MBG/NBD on the CDNOW 1/10
    sample (the values lifetimes' own test suite checks against)."""
    assert fitted.params_.round(3).to_dict() == {"r": 0.525, "alpha": 6.183, "a": 0.891, "b": 1.614}
    # MBG/NBD nests BG/NBD's data story with one more dropout chance: the fit is a little better.
    assert fitted.log_likelihood_ == pytest.approx(-9582.13, abs=0.01)
    assert fitted.log_likelihood_ > clvmodels.BetaGeoModel().fit(clvmodels.datasets.load_cdnow_summary()).log_likelihood_


def test_params_and_likelihood_match_lifetimes(cdnow, fitted):
    """lifetimes 0.11.3 ModifiedBetaGeoFitter on the same inputs: parameters to 1e-4 relative, and
    its likelihood function at our estimate equals our log-likelihood (lifetimes stores its own
    optimum on an internally rescaled time axis, so that attribute is not comparable)."""
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    ref = ModifiedBetaGeoFitter().fit(x, t_x, T)
    np.testing.assert_allclose(fitted.params_.to_numpy(), ref.params_[["r", "alpha", "a", "b"]].to_numpy(), rtol=1e-4)
    theirs = -ModifiedBetaGeoFitter._negative_log_likelihood(
        np.log(fitted.params_.to_numpy()), x, t_x, T, np.ones_like(x), 0.0) * len(x)
    assert fitted.log_likelihood_ == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize("t", [1.0, 10.0, 39.0, 52.0, 104.0])
def test_predictions_match_lifetimes_given_same_params(cdnow, fitted, t):
    """Conditional expected purchases, new-customer purchases and P(alive) to 1e-6 relative."""
    ref = ModifiedBetaGeoFitter()
    ref.params_ = pd.Series(fitted.params_.to_dict())
    x, t_x, T = cdnow["frequency"], cdnow["recency"], cdnow["T"]
    np.testing.assert_allclose(fitted.expected_purchases(cdnow, t),
                               ref.conditional_expected_number_of_purchases_up_to_time(t, x, t_x, T), rtol=1e-6)
    np.testing.assert_allclose(fitted.expected_purchases_new_customer(t),
                               ref.expected_number_of_purchases_up_to_time(t), rtol=1e-6)
    np.testing.assert_allclose(fitted.probability_alive(cdnow), ref.conditional_probability_alive(x, t_x, T), rtol=1e-6)


def test_customers_without_repeats_can_be_dead(fitted, cdnow):
    """Unlike BG/NBD, MBG/NBD lets customers drop out right after the first purchase."""
    one_timers = cdnow[cdnow["frequency"] == 0]
    p = fitted.probability_alive(one_timers)
    assert (p < 1).all() and (p > 0).all()


@given(params=st.tuples(*[st.floats(0.05, 20.0)] * 4),
       x=st.integers(0, 200), frac=st.floats(0.0, 1.0), T=st.floats(0.5, 500.0))
def test_gradient_equals_central_differences(params, x, frac, T):
    point = (np.array([float(x)]), np.array([frac * T]), np.array([T]))
    grad = mbgnbd.loglik_grad(params, *point)[0] * np.array(params)
    theta = np.log(params)
    for k in range(4):
        step = np.zeros(4)
        step[k] = 1e-6
        numeric = (mbgnbd.loglik(np.exp(theta + step), *point) - mbgnbd.loglik(np.exp(theta - step), *point))[0] / 2e-6
        assert grad[k] == pytest.approx(numeric, rel=1e-5, abs=1e-6)


@given(params=st.tuples(*[st.floats(0.05, 20.0)] * 4), x=st.integers(0, 100),
       frac=st.floats(0.0, 1.0), T=st.floats(0.5, 300.0))
def test_p_alive_in_unit_interval_and_purchases_grow_with_t(params, x, frac, T):
    history = (np.array([float(x)]), np.array([frac * T]), np.array([T]))
    p = mbgnbd.probability_alive(params, *history)
    assert ((p >= 0) & (p <= 1)).all()
    horizons = np.array([0.5, 1.0, 5.0, 20.0, 100.0])[:, None]
    e = mbgnbd.expected_purchases(params, horizons, *history)[:, 0]
    assert np.all(np.isfinite(e)) and np.all(np.diff(e) >= -1e-9 * np.abs(e[1:]))
