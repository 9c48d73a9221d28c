"""Arguments of the public prediction API are checked (issue 12): a NaN, infinite, negative or absurd
horizon, rate, margin, level or number of draws is refused with one InvalidArgumentError (a
ValueError) naming the argument, the rule and the value, before any work."""
import numpy as np
import pandas as pd
import pytest

from clvmodels import (BetaGeoBetaBinomModel, BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel,
                       ShiftedBetaGeoModel, customer_lifetime_value)
from clvmodels.exceptions import InvalidArgumentError
from clvmodels.uncertainty import clv_interval, parameter_draws, prediction_interval

NAN, INF = float("nan"), float("inf")
DATA = pd.DataFrame({"frequency": [0.0, 2.0, 5.0], "recency": [0.0, 10.0, 30.0], "T": [40.0, 40.0, 40.0],
                     "monetary_value": [0.0, 20.0, 35.0]})
COV4 = np.diag([0.01, 0.1, 0.01, 0.1])


def _purchase(cls):
    params = {"r": 0.24, "alpha": 4.4, "a": 0.79, "b": 2.4} if cls is not ParetoNBDModel else \
        {"r": 0.55, "alpha": 10.6, "s": 0.61, "beta": 11.7}
    return cls.from_params(params, covariance=COV4, time_unit="W")


SPEND = GammaGammaModel.from_params({"p": 6.25, "q": 3.74, "gamma": 15.45}, covariance=np.diag([1.0, 0.1, 1.0]))
PURCHASE = [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel]


def _refused(call, *words):
    with pytest.raises(InvalidArgumentError) as info:
        call()
    for word in words:
        assert word in str(info.value), str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("cls", PURCHASE, ids=lambda c: c.__name__)
@pytest.mark.parametrize("t, shown", [(NAN, "nan"), (INF, "inf"), (-1.0, "-1"), ([1.0, -2.0], "-2"),
                                      ("ten", "'ten'"), (None, "None")])
def test_horizons_must_be_finite_and_not_negative(cls, t, shown):
    model = _purchase(cls)
    for call in (lambda: model.expected_purchases(DATA, t), lambda: model.expected_purchases_new_customer(t),
                 lambda: model.expected_purchases_grid(DATA, np.atleast_1d(np.asarray(t, dtype=object))),
                 lambda: model.probability_of_purchases(t, 1)):
        _refused(call, "t must be finite non-negative times", shown)


@pytest.mark.parametrize("cls", PURCHASE, ids=lambda c: c.__name__)
def test_valid_horizons_still_work(cls):
    model = _purchase(cls)
    assert np.all(model.expected_purchases(DATA, 0) == 0)
    assert model.expected_purchases_grid(DATA, [0, 10, 52]).shape == (3, 3)
    assert np.all(np.isfinite(model.expected_purchases_new_customer([0.0, 1.0, 100.0])))


def test_purchase_counts_and_grid_shape():
    model = _purchase(BetaGeoModel)
    _refused(lambda: model.probability_of_purchases(10.0, -1), "n must be whole numbers", "-1")
    _refused(lambda: model.probability_of_purchases(10.0, 1.5), "n must be whole numbers", "1.5")
    _refused(lambda: model.probability_of_purchases(10.0, NAN), "n must be whole numbers", "nan")
    _refused(lambda: model.expected_purchases_grid(DATA, [[1.0, 2.0]]), "t must be a 1-d sequence")


@pytest.mark.parametrize("rate", [0.0, -0.01, NAN, INF, "0.1"])
def test_pareto_dert_rate(rate):
    _refused(lambda: _purchase(ParetoNBDModel).discounted_expected_residual_transactions(DATA, rate),
             "discount_rate must be a positive, finite continuous rate", repr(rate))


def test_bgbb_arguments():
    model = BetaGeoBetaBinomModel.from_params({"alpha": 1.2, "beta": 0.75, "gamma": 0.66, "delta": 2.8})
    data = pd.DataFrame({"frequency": [0, 2], "recency": [0, 3], "n_periods": [6, 6]})
    for t in (NAN, INF, -1, 1.5):
        _refused(lambda: model.expected_purchases(data, t), "t counts future transaction opportunities")
    for rate in (0.0, NAN, INF):
        _refused(lambda: model.discounted_expected_residual_transactions(data, rate), "discount_rate must be")


def test_sbg_arguments():
    model = ShiftedBetaGeoModel.from_params({"alpha": 0.67, "beta": 3.8})
    for t in (NAN, INF, -1, 1.5):
        _refused(lambda: model.survival([t]), "t must be whole numbers of periods")
    for rate in (NAN, INF, -0.1):
        _refused(lambda: model.discounted_expected_residual_lifetime({"tenure": [1]}, rate), "discount_rate must be")


@pytest.mark.parametrize("kwargs, words", [
    ({"horizon_months": 0}, ["horizon_months must be a whole number of at least 1", "got 0"]),
    ({"horizon_months": 2.5}, ["horizon_months", "2.5"]),
    ({"horizon_months": NAN}, ["horizon_months", "nan"]),
    ({"horizon_months": True}, ["horizon_months", "True"]),
    ({"horizon_months": 1201}, ["horizon_months must be at most 1,200", "1201"]),
    ({"horizon_months": 10**9}, ["at most 1,200"]),
    ({"discount_rate": NAN}, ["discount_rate must be a finite monthly rate of 0 or more", "nan"]),
    ({"discount_rate": INF}, ["discount_rate", "inf"]),
    ({"discount_rate": -0.01}, ["discount_rate", "-0.01"]),
    ({"discount_rate": "1%"}, ["discount_rate", "'1%'"]),
    ({"margin": NAN}, ["margin must be a finite number above 0", "nan"]),
    ({"margin": -INF}, ["margin", "-inf"]),
    ({"margin": -1}, ["margin must be a finite number above 0", "got -1"]),
    ({"margin": 0}, ["margin must be a finite number above 0", "got 0"]),
    ({"month_length": 0.0}, ["month_length must be a positive finite month length"]),
    ({"month_length": NAN}, ["month_length", "nan"]),
])
def test_clv_arguments(kwargs, words):
    _refused(lambda: customer_lifetime_value(_purchase(BetaGeoModel), SPEND, DATA, **kwargs), *words)
    _refused(lambda: clv_interval(_purchase(BetaGeoModel), SPEND, DATA, n_draws=5, random_state=0, **kwargs), *words)


def test_clv_edges_that_are_meaningful():
    """No discounting (0) and the longest horizon are allowed; CLV scales with the margin."""
    purchase = _purchase(BetaGeoModel)
    base = customer_lifetime_value(purchase, SPEND, DATA, discount_rate=0.0, horizon_months=1200)
    assert np.all(np.isfinite(base)) and np.all(base > 0)
    part = customer_lifetime_value(purchase, SPEND, DATA, discount_rate=0.0, horizon_months=1200, margin=0.25)
    np.testing.assert_allclose(part, 0.25 * base)


def test_parameter_draws_refuse_a_covariance_that_is_not_one():
    """A covariance that is not symmetric positive semi-definite is a clear error, not a LinAlgError."""
    params = {"p": 6.25, "q": 3.74, "gamma": 15.45}
    for cov, words in ((np.diag([-1.0, 0.1, 1.0]), ["negative variances", "['p']"]),
                       ([[1.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]], ["not positive semi-definite"]),
                       ([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], ["not symmetric"])):
        with pytest.raises(InvalidArgumentError, match="from_params"):  # refused when given, and ...
            GammaGammaModel.from_params(params, covariance=cov)
        model = GammaGammaModel.from_params(params)
        model.covariance_ = pd.DataFrame(cov, index=model.param_names, columns=model.param_names)  # ... set later
        _refused(lambda: parameter_draws(model, 5, random_state=0), "covariance_", "refit", *words)
    singular = GammaGammaModel.from_params(params, covariance=np.full((3, 3), 0.01))  # semi-definite: drawn
    assert np.all(np.isfinite(parameter_draws(singular, 5, random_state=0).to_numpy()))


@pytest.mark.parametrize("ci_level, words", [(95, ["use 0.95"]), (0.0, ["between 0 and 1"]), (1.0, ["got 1.0"]),
                                             (NAN, ["nan"]), (-0.5, ["-0.5"])])
def test_interval_levels(ci_level, words):
    purchase = _purchase(BetaGeoModel)
    _refused(lambda: prediction_interval(purchase, "probability_alive", DATA, ci_level=ci_level, n_draws=5),
             "ci_level must be a number between 0 and 1", *words)
    _refused(lambda: clv_interval(purchase, SPEND, DATA, ci_level=ci_level, n_draws=5), "ci_level", *words)


@pytest.mark.parametrize("n_draws, words", [(0, ["at least 1"]), (-3, ["-3"]), (2.5, ["2.5"]), (NAN, ["nan"]),
                                            (True, ["True"]), (100_001, ["at most 100,000"]), (10**12, ["at most"])])
def test_interval_draws(n_draws, words):
    purchase = _purchase(BetaGeoModel)
    _refused(lambda: parameter_draws(purchase, n_draws), "n_draws", *words)
    _refused(lambda: prediction_interval(purchase, "probability_alive", DATA, n_draws=n_draws), "n_draws", *words)
    _refused(lambda: clv_interval(purchase, SPEND, DATA, n_draws=n_draws), "n_draws", *words)


def test_prediction_interval_with_a_horizon_checks_it():
    purchase = _purchase(BetaGeoModel)
    _refused(lambda: prediction_interval(purchase, "expected_purchases", DATA, NAN, n_draws=5), "t must be", "nan")
    band = prediction_interval(purchase, "expected_purchases", DATA, 10.0, n_draws=20, random_state=0)
    assert (band["lower 90%"] <= band["estimate"]).all() and (band["estimate"] <= band["upper 90%"]).all()


def test_bayes_draw_and_level_checks():
    """The posterior predictions share the checks (no sampling needed to test them)."""
    from clvmodels.bayes import _predict

    draws = np.ones((10, 2))
    for n_draws, word in ((0, "at least 1"), (2.5, "2.5"), (100_001, "at most 100,000")):
        _refused(lambda: _predict.thin(draws, n_draws, 0), "n_draws", word)
    assert len(_predict.thin(draws, 50, 0)) == 10
    _refused(lambda: _predict.Summary(3, 90), "ci_level", "use 0.9")


def test_ci_level_set_after_building_is_checked_where_it_is_used():
    """summary() refuses a ci_level assigned after construction (95 gave NaN interval columns)."""
    import clvmodels
    from clvmodels.exceptions import InvalidArgumentError

    model = clvmodels.BetaGeoModel().fit(clvmodels.datasets.load_cdnow_summary())
    model.ci_level = 95
    with pytest.raises(InvalidArgumentError, match=r"ci_level must be a number between 0 and 1.*use 0.95"):
        model.summary()
    model.ci_level = 0.9
    assert model.summary().notna().all().all()


def test_from_params_obeys_the_model_file_rules():
    """from_params refuses what a model file may not hold: Gamma-Gamma's q <= 1 gave negative spend."""
    import clvmodels
    from clvmodels.exceptions import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="q <= 1"):
        clvmodels.GammaGammaModel.from_params(p=4.68, q=0.5, gamma=24.39)
    with pytest.raises(InvalidArgumentError, match="from_params"):
        clvmodels.BetaGeoModel.from_params(r=1e300, alpha=4.4, a=0.8, b=2.4)
    with pytest.raises(InvalidArgumentError, match="from_params"):
        clvmodels.BetaGeoModel.from_params(r=0.24, alpha=4.4, a=0.8, b=2.4, covariance=-np.eye(4))
    model = clvmodels.GammaGammaModel.from_params(p=6.25, q=3.74, gamma=15.44, covariance=np.eye(3) * 1e-4)
    assert model.params_["q"] == 3.74
