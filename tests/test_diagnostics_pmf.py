"""P(X(t) = n) of BG/NBD and MBG/NBD: lifetimes as an oracle, normalisation, mean, edge cases.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284, eq. (8): P(X(t) = x).

Batislam, E. P., Denizel, M. and Filiztekin, A. (2007). Empirical validation and comparison of
models for customer base analysis. IJRM 24(3), 201-209: the MBG/NBD analogue.

lifetimes 0.11.3, ``BetaGeoFitter.probability_of_n_purchases_up_to_time`` and
``ModifiedBetaGeoFitter.probability_of_n_purchases_up_to_time``: independent implementations (the
explicit finite sum of the paper, for scalar ``t`` and ``n``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoFitter, ModifiedBetaGeoFitter

from clvmodels import BetaGeoModel, ModifiedBetaGeoModel
from clvmodels.exceptions import NotFittedError
from clvmodels.likelihoods import bgnbd, mbgnbd

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005, CDNOW, weeks
PARAMS = tuple(PUBLISHED.values())
MODELS = [(bgnbd, BetaGeoFitter, BetaGeoModel), (mbgnbd, ModifiedBetaGeoFitter, ModifiedBetaGeoModel)]


def _lifetimes(fitter_class, params):
    fitter = fitter_class()
    fitter.params_ = pd.Series(dict(zip(("r", "alpha", "a", "b"), params)))
    return fitter


@pytest.mark.parametrize("maths, fitter_class, _", MODELS)
@pytest.mark.parametrize("params", [PARAMS, (2.0, 10.0, 3.0, 1.5), (0.5, 0.7, 1.0, 4.0)])
def test_pmf_matches_lifetimes(maths, fitter_class, _, params):
    """Agreement with lifetimes to 1e-6 (absolute) on a grid of t and n, at the published CDNOW
    estimates and two other points (one with a = 1)."""
    fitter = _lifetimes(fitter_class, params)
    t = np.array([0.1, 1.0, 10.0, 38.86, 78.0, 200.0])
    n = np.arange(0, 16)
    ours = maths.probability_of_purchases(params, t[None, :], n[:, None])
    theirs = np.array([[fitter.probability_of_n_purchases_up_to_time(tt, int(k)) for tt in t] for k in n])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-15)  # in fact to rounding


@pytest.mark.parametrize("maths, _, __", MODELS)
@pytest.mark.parametrize("params", [PARAMS, (2.0, 10.0, 3.0, 1.5)])
def test_pmf_sums_to_one_and_has_the_model_mean(maths, _, __, params):
    """sum_n P(X(t) = n) = 1 and sum_n n P(X(t) = n) = E[X(t)] (eq. 9, expected_purchases_new_customer)."""
    t = np.array([0.0, 0.5, 1.0, 39.0, 78.0, 520.0])
    n = np.arange(0, 50_000, dtype=float)[:, None]
    pmf = maths.probability_of_purchases(params, t, n)
    assert np.all(pmf >= 0)
    np.testing.assert_allclose(pmf.sum(axis=0), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose((n * pmf).sum(axis=0), maths.expected_purchases_new_customer(params, t),
                               rtol=1e-10, atol=1e-13)


def test_pmf_at_time_zero_and_the_mbgnbd_immediate_dropout():
    """Nothing happens in no time: P(X(0) = 0) = 1. Under MBG/NBD a customer may drop out right
    after the first purchase, so P(X(t) = 0) >= a/(a+b) for every t; under BG/NBD it tends to 0."""
    n = np.arange(4)
    np.testing.assert_array_equal(bgnbd.probability_of_purchases(PARAMS, 0.0, n), [1, 0, 0, 0])
    np.testing.assert_allclose(mbgnbd.probability_of_purchases(PARAMS, 0.0, n), [1, 0, 0, 0], rtol=0, atol=1e-15)
    r, alpha, a, b = PARAMS
    assert mbgnbd.probability_of_purchases(PARAMS, 1e40, 0) == pytest.approx(a / (a + b), rel=1e-6)
    assert mbgnbd.probability_of_purchases(PARAMS, 1e40, 0) > bgnbd.probability_of_purchases(PARAMS, 1e40, 0)


@pytest.mark.parametrize("model_class", [BetaGeoModel, ModifiedBetaGeoModel])
def test_model_method_broadcasts_and_checks_n(model_class):
    model = model_class.from_params(PUBLISHED, time_unit="W")
    grid = model.probability_of_purchases(np.array([1.0, 39.0]), np.arange(3)[:, None])
    assert grid.shape == (3, 2)
    np.testing.assert_array_equal(grid, model.maths.probability_of_purchases(PARAMS, np.array([1.0, 39.0]),
                                                                            np.arange(3)[:, None]))
    with pytest.raises(ValueError, match="whole numbers"):
        model.probability_of_purchases(1.0, 1.5)
    with pytest.raises(ValueError, match="whole numbers"):
        model.probability_of_purchases(1.0, -1)
    with pytest.raises(NotFittedError, match="call fit"):
        model_class().probability_of_purchases(1.0, 0)
