"""Long-horizon CLV from posteriors: the Chebyshev plan equals month-by-month evaluation.

:mod:`clvmodels.bayes._horizons` replaces ``H`` month boundaries and every distinct ``(x, T)``
pair by a few interpolation points per axis; these tests hold it to direct evaluation (the MLE
formula at each joint draw) where the interpolation is actually used, including daily time
units, tiny scale parameters and draws near ``a = 1``.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("pymc")

import clvmodels  # noqa: E402
from clvmodels import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel, datasets  # noqa: E402
from clvmodels.bayes import (BayesBetaGeoModel, BayesGammaGammaModel,  # noqa: E402
                             BayesModifiedBetaGeoModel, BayesParetoNBDModel, customer_lifetime_value,
                             value_stream)
from clvmodels.bayes import _horizons  # noqa: E402
from clvmodels.bayes.clv import _joint_draws, _month_weights, _prepare  # noqa: E402
from clvmodels.likelihoods import bgnbd, mbgnbd  # noqa: E402


@pytest.fixture(scope="module")
def cdnow():
    return datasets.load_cdnow_summary()


def _advi(model, data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(data)


@pytest.fixture(scope="module")
def gg(cdnow):
    return _advi(BayesGammaGammaModel(method="advi", draws=100, chains=1, advi_steps=3000, random_seed=2), cdnow)


@pytest.fixture(scope="module", params=[(BayesBetaGeoModel, BetaGeoModel), (BayesModifiedBetaGeoModel,
                                                                             ModifiedBetaGeoModel)])
def purchase(request, cdnow):
    bayes_class, mle_class = request.param
    model = _advi(bayes_class(method="advi", draws=100, chains=1, advi_steps=3000, random_seed=2), cdnow)
    return model, mle_class


def _direct(mle_class, purchase, spend, joint, k, data, **options):
    """The MLE CLV (month by month) at each joint draw: ``(draws, customers)``."""
    rows = []
    for draw in joint:
        p = mle_class.from_params(dict(zip(purchase.param_names, draw[:k])), time_unit=purchase.time_unit_)
        g = GammaGammaModel.from_params(dict(zip(spend.param_names, draw[k:])))
        rows.append(clvmodels.customer_lifetime_value(p, g, data, **options).to_numpy())
    return np.array(rows)


def test_ten_year_clv_equals_month_by_month(purchase, gg, cdnow):
    model, mle_class = purchase
    subset = cdnow.sample(600, random_state=1)
    options = {"horizon_months": 120, "discount_rate": 0.01, "margin": 0.3}
    # the plan really interpolates: fewer times than months, fewer points than (x, T) pairs
    _, _, plan = _prepare(model, gg, subset, horizon_months=120, discount_rate=0.01, month_length=None,
                          n_draws=25, random_state=4)
    assert len(plan.times.times) < 60
    assert len(plan.grid.T) < 0.5 * len(subset[["frequency", "T"]].drop_duplicates())
    draws = customer_lifetime_value(model, gg, subset, n_draws=25, random_state=4, return_draws=True, **options)
    joint, k = _joint_draws(model, gg, 25, 4)
    np.testing.assert_allclose(draws.to_numpy(), _direct(mle_class, model, gg, joint, k, subset, **options),
                               rtol=1e-10, atol=1e-12)


def test_pareto_nbd_clv_is_evaluated_draw_by_draw(gg, cdnow):
    """Pareto/NBD's maths takes scalar parameters: the plan loops over draws, same numbers."""
    model = _advi(BayesParetoNBDModel(method="advi", draws=8, chains=1, advi_steps=1500, random_seed=2), cdnow)
    subset = cdnow.sample(300, random_state=3)
    options = {"horizon_months": 120, "discount_rate": 0.01}
    draws = customer_lifetime_value(model, gg, subset, random_state=1, return_draws=True, **options)
    joint, k = _joint_draws(model, gg, 8, 1)
    np.testing.assert_allclose(draws.to_numpy(), _direct(ParetoNBDModel, model, gg, joint, k, subset, **options),
                               rtol=1e-10, atol=1e-12)


def test_summary_and_draws_agree(purchase, gg, cdnow):
    model, _ = purchase
    band = customer_lifetime_value(model, gg, cdnow, horizon_months=60, n_draws=50, random_state=0)
    draws = customer_lifetime_value(model, gg, cdnow, horizon_months=60, n_draws=50, random_state=0,
                                    return_draws=True)
    np.testing.assert_allclose(band["mean"], draws.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(band["upper 90%"], draws.quantile(0.95, axis=0), rtol=1e-12)


def test_value_stream_sums_to_clv_and_matches_monthly_increments(purchase, gg, cdnow):
    model, mle_class = purchase
    subset = cdnow.sample(200, random_state=2)
    stream = value_stream(model, gg, subset, months=36, discount_rate=0.02, margin=0.5, n_draws=30, random_state=5)
    assert stream.shape == (200, 36) and list(stream.columns) == list(range(1, 37))
    band = customer_lifetime_value(model, gg, subset, horizon_months=36, discount_rate=0.02, margin=0.5,
                                   n_draws=30, random_state=5)
    np.testing.assert_allclose(stream.sum(axis=1), band["mean"], rtol=1e-10)
    # month by month at each draw: margin * spend * (E[X(k m)] - E[X((k-1) m)]) / 1.02^k
    joint, k = _joint_draws(model, gg, 30, 5)
    expected = np.zeros((200, 36))
    for draw in joint:
        p = mle_class.from_params(dict(zip(model.param_names, draw[:k])), time_unit="W")
        g = GammaGammaModel.from_params(dict(zip(gg.param_names, draw[k:])))
        cumulative = np.column_stack([p.expected_purchases(subset, 4.345 * month) for month in range(1, 37)])
        increments = np.diff(cumulative, axis=1, prepend=0.0) * 1.02 ** -np.arange(1, 37)
        expected += 0.5 * g.expected_spend(subset).to_numpy()[:, None] * increments / len(joint)
    np.testing.assert_allclose(stream.to_numpy(), expected, rtol=1e-9, atol=1e-12)


def test_short_horizons_evaluate_the_months_themselves():
    grid = _horizons.TimeGrid.for_months(6, 4.345, 4.4)
    np.testing.assert_array_equal(grid.times, 4.345 * np.arange(1, 7))
    np.testing.assert_array_equal(grid.to_months, np.eye(6))


def test_month_weights_are_the_discounted_increments():
    cumulative = np.cumsum(np.random.default_rng(0).random(10))
    discount = 1.03 ** -np.arange(1, 11)
    assert _month_weights(10, 0.03) @ cumulative == pytest.approx(discount @ np.diff(cumulative, prepend=0.0))


@pytest.mark.parametrize("maths, params", [
    (bgnbd, (0.243, 0.05, 0.793, 2.426)),        # tiny scale: the widest interval in log time
    (bgnbd, (2.5, 90.0, 0.9995, 14.0)),          # a next to 1 (the interpolated branch of the maths)
    (bgnbd, (0.05, 3.0, 3.0, 0.4)),
    (mbgnbd, (0.525, 0.4, 0.891, 1.614)),
])
def test_grids_match_direct_evaluation_in_days(maths, params):
    """Daily units, 10 years of months, T from 0 to 3 years: interpolated sums equal direct ones."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 20, 20_000).astype(float)
    T = rng.integers(0, 3 * 365, 20_000).astype(float)
    pairs = pd.DataFrame({"frequency": x, "T": T}).drop_duplicates().sort_values(["frequency", "T"])
    x, T = pairs["frequency"].to_numpy(), pairs["T"].to_numpy()
    months, month, weights = 120, 30.0, _month_weights(120, 0.01)
    theta = tuple(np.array([[v]]) for v in params)
    shift = params[1]

    def given_alive(times, px, pT):
        purchases = maths.expected_purchases(theta, times[:, None, None], px, pT, pT)[:, 0, :]
        return purchases / maths.probability_alive(theta, px, pT, pT)[0]

    direct = weights @ given_alive(np.arange(1, months + 1) * month, x, T)
    times = _horizons.TimeGrid.for_months(months, month, shift + T.min())
    grid = _horizons.PairGrid.for_pairs(x, T, shift, max_points=500)
    assert len(times.times) < months and len(grid.T) < len(T) / 4
    at_points = (weights @ times.to_months) @ given_alive(times.times, grid.frequency, grid.T)
    interpolated = np.concatenate([w @ at_points[q] for _, q, w in grid.blocks])
    np.testing.assert_allclose(interpolated, direct, rtol=1e-10)


def test_node_count_grows_with_the_interval_in_log_time():
    narrow = _horizons.node_count(0.0, 10.0, 5.0)
    wide = _horizons.node_count(0.0, 10_000.0, 0.5)
    assert 3 <= narrow < wide < 80
    points = _horizons.nodes(2.0, 50.0, 1.0, 9)
    assert points[0] == 2.0 and points[-1] == 50.0 and np.all(np.diff(points) > 0)
    # exact on polynomials of log(shift + v) up to the degree the points allow
    u = np.log(1.0 + points)
    targets = np.linspace(2.0, 50.0, 17)
    matrix = _horizons.interpolation_matrix(points, 1.0, targets)
    np.testing.assert_allclose(matrix @ (u ** 5 - 3 * u), np.log1p(targets) ** 5 - 3 * np.log1p(targets),
                               rtol=1e-11)
