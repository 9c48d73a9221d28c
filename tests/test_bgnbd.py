"""BG/NBD: published estimates, agreement with lifetimes and mpmath, invariances and error paths."""

from __future__ import annotations

import re

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from lifetimes import BetaGeoFitter

import clvmodels
from clvmodels import BetaGeoModel
from clvmodels.exceptions import BoundaryWarning, ConvergenceError, InvalidValueError
from clvmodels.likelihoods import bgnbd

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_LL = -9582.4
SEEDED = settings(derandomize=True, database=None, deadline=None, max_examples=60)


def _five_point_derivative(f, params, k, rel_step=1e-3):
    """Fourth-order central difference of ``f`` in parameter ``k``; returns (derivative, f, step).

    Truncation error O(step^4); rounding error about 1e-16 times the largest intermediate term
    of ``f`` divided by the step, so a relatively large step is the accurate choice."""
    h = rel_step * params[k]

    def at(d):
        shifted = params.copy()
        shifted[k] += d
        return f(shifted)

    derivative = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
    return derivative, f(params), h


def _printed_precision(value: float) -> float:
    """Half a unit in the last printed decimal of a number as a paper prints it (0.243 -> 5e-4)."""
    decimals = len(repr(value).split(".")[1])
    return 0.5 * 10.0**-decimals


@pytest.fixture(scope="module")
def cdnow():
    return clvmodels.datasets.load_cdnow_summary()


@pytest.fixture(scope="module")
def cdnow_raw_summary():
    tx = clvmodels.datasets.load_cdnow_transactions()
    return clvmodels.rfm_summary(tx, customer_id_col="customer_id", datetime_col="date",
                                 monetary_value_col="amount",
                                 observation_period_end=clvmodels.datasets.CDNOW_CALIBRATION_END)


@pytest.fixture(scope="module")
def fitted(cdnow):
    return BetaGeoModel().fit(cdnow)


@pytest.fixture(scope="module")
def lifetimes_at_ours(cdnow, fitted):
    """A lifetimes ``BetaGeoFitter`` whose parameters are set to ours, so only the prediction
    formulas are compared. It is fitted first because lifetimes attaches ``predict`` in ``fit``."""
    bgf = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    bgf.params_ = pd.Series(fitted.params_.to_dict())
    return bgf


# -- reference values ----------------------------------------------------------------------------

def test_cdnow_summary_reproduces_fader_hardie_lee_2005(fitted):
    """Fader, Hardie & Lee (2005), "Counting your customers the easy way", Marketing Science 24(2),
    275-284: on the CDNOW 1/10 sample (2,357 customers, 39-week calibration) the MLE is
    r = 0.243, alpha = 4.414, a = 0.793, b = 2.426 with LL = -9582.4. Checked to the printed
    precision (half a unit in the last printed decimal)."""
    for name, value in PUBLISHED.items():
        assert abs(fitted.params_[name] - value) <= _printed_precision(value), name
    assert abs(fitted.log_likelihood_ - PUBLISHED_LL) <= 0.05
    assert fitted.n_customers_ == 2357
    assert fitted.time_unit_ == "W"


def test_raw_cdnow_transactions_reproduce_fader_hardie_lee_2005(cdnow_raw_summary):
    """Same reference (FHL 2005, r = 0.243, alpha = 4.414, a = 0.793, b = 2.426, LL = -9582.4),
    starting from the raw CDNOW 1/10 transaction log through ``rfm_summary`` (days / 7, calibration
    end 1997-09-30) instead of the published, 2-decimal summary."""
    model = BetaGeoModel().fit(cdnow_raw_summary)
    assert model.n_customers_ == 2357
    for name, value in PUBLISHED.items():
        assert abs(model.params_[name] - value) <= _printed_precision(value), name
    assert abs(model.log_likelihood_ - PUBLISHED_LL) <= 0.05


def test_log_likelihood_at_published_params_matches_lifetimes(cdnow):
    """Independent oracle: lifetimes 0.11.3 ``BetaGeoFitter._negative_log_likelihood`` (its own
    implementation of FHL 2005 eq. 6, returning the mean) at the published parameters."""
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    params = np.array(list(PUBLISHED.values()))
    theirs = -BetaGeoFitter._negative_log_likelihood(np.log(params), x, t_x, T, np.ones_like(x), 0.0) * len(x)
    ours = bgnbd.loglik(params, x, t_x, T).sum()
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert ours == pytest.approx(PUBLISHED_LL, abs=0.1)


@pytest.mark.parametrize("source", ["published", "raw_days"])
def test_fitted_params_agree_with_lifetimes(source, cdnow):
    """lifetimes 0.11.3 ``BetaGeoFitter().fit`` on the same data finds the same maximum (1e-4
    relative): the published weekly summary, and the raw log summarised in days."""
    if source == "published":
        data = cdnow
    else:
        tx = clvmodels.datasets.load_cdnow_transactions()
        data = clvmodels.rfm_summary(tx, customer_id_col="customer_id", datetime_col="date",
                                     observation_period_end="1997-09-30", time_unit="D")
    ours = BetaGeoModel().fit(data)
    theirs = BetaGeoFitter().fit(data["frequency"], data["recency"], data["T"])
    np.testing.assert_allclose(ours.params_.to_numpy(), theirs.params_[list(ours.param_names)].to_numpy(),
                               rtol=1e-4)


def test_standard_errors_agree_with_lifetimes(cdnow, fitted):
    """lifetimes 0.11.3 ``BetaGeoFitter.summary['se(coef)']`` (inverse Hessian of its own likelihood,
    by automatic differentiation) on the same data: 1e-3 relative."""
    theirs = BetaGeoFitter().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"]).summary["se(coef)"]
    np.testing.assert_allclose(fitted.summary()["std_error"].to_numpy(), theirs[["r", "alpha", "a", "b"]].to_numpy(), rtol=1e-3)

# -- predictions against lifetimes, given the same parameters ------------------------------------

@pytest.mark.parametrize("t", [0.5, 1, 10, 39, 52, 104, 520])
def test_conditional_expected_purchases_agree_with_lifetimes(t, cdnow, fitted, lifetimes_at_ours):
    """lifetimes 0.11.3 ``conditional_expected_number_of_purchases_up_to_time`` (FHL 2005 eq. 10,
    without Euler's transformation) at our parameters, every CDNOW customer, 1e-6 relative."""
    theirs = lifetimes_at_ours.conditional_expected_number_of_purchases_up_to_time(
        t, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    ours = fitted.expected_purchases(cdnow, t)
    assert ours.index.equals(cdnow.index)
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(theirs), rtol=1e-6)


def test_expected_purchases_grid_matches_single_horizons(cdnow, fitted):
    grid = fitted.expected_purchases_grid(cdnow, [1.0, 39.0, 78.0])
    for row, t in zip(grid, [1.0, 39.0, 78.0]):
        np.testing.assert_allclose(row, fitted.expected_purchases(cdnow, t).to_numpy(), rtol=1e-13)


def test_probability_alive_agrees_with_lifetimes(cdnow, fitted, lifetimes_at_ours):
    """lifetimes 0.11.3 ``conditional_probability_alive`` (Fader, Hardie & Lee, "Computing
    P(alive) using the BG/NBD model", http://www.brucehardie.com/notes/021/) at our parameters,
    1e-6 relative."""
    theirs = lifetimes_at_ours.conditional_probability_alive(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    ours = fitted.probability_alive(cdnow)
    np.testing.assert_allclose(ours.to_numpy(), np.asarray(theirs), rtol=1e-6)
    np.testing.assert_allclose(fitted.churn_probability(cdnow).to_numpy(), 1 - ours.to_numpy())
    assert (ours[cdnow["frequency"] == 0] == 1).all()


def test_new_customer_expectation_agrees_with_lifetimes(fitted, lifetimes_at_ours):
    """lifetimes 0.11.3 ``expected_number_of_purchases_up_to_time`` (FHL 2005 eq. 9) at our
    parameters, 1e-6 relative."""
    t = np.array([0.1, 1.0, 13.0, 39.0, 78.0, 520.0])
    theirs = lifetimes_at_ours.expected_number_of_purchases_up_to_time(t)
    np.testing.assert_allclose(fitted.expected_purchases_new_customer(t), theirs, rtol=1e-6)


def _eq10_mpmath(params, t, x, t_x, T, dps=60):
    """FHL 2005 eq. (10) exactly as printed, in mpmath at ``dps`` digits (no Euler transformation)."""
    with mpmath.workdps(dps):
        r, alpha, a, b = (mpmath.mpf(v) for v in params)
        t, x, t_x, T = (mpmath.mpf(v) for v in (t, x, t_x, T))
        z = t / (alpha + T + t)
        head = (a + b + x - 1) / (a - 1)
        body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * mpmath.hyp2f1(r + x, b + x, a + b + x - 1, z)
        dead_odds = a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x) if x > 0 else 0
        return float(head * body / (1 + dead_odds))


@pytest.mark.parametrize("x", [200, 350, 500, 750, 1000])
@pytest.mark.parametrize("params", [(0.243, 4.414, 0.793, 2.426), (2.0, 10.0, 3.0, 5.0)])
def test_heavy_buyers_match_mpmath(x, params):
    """Expected purchases of heavy buyers (x = 200..1000) against FHL 2005 eq. (10) evaluated in
    60-digit mpmath: the Euler-transformed 2F1 keeps double precision (1e-10 relative) where the
    printed form's 2F1(r+x, b+x; a+b+x-1; z) grows like (1-z)^-(r+x)."""
    T = 39.0
    t_x = T * x / (x + 1)  # a regular buyer: the last of x purchases shortly before T
    for t in (1.0, 39.0, 156.0):
        expected = _eq10_mpmath(params, t, x, t_x, T)
        assert bgnbd.expected_purchases(params, t, x, t_x, T) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("params", [
    (0.5, 5.0, 0.5, 2.0),      # r - a = 0
    (3.0, 10.0, 1.0 + 0.5, 4.0),  # r - a = 1.5 (control)
    (2.5, 8.0, 0.5, 1.2),      # r - a = 2
])
def test_long_horizons_for_heavy_buyers_match_mpmath(params):
    """Regression: scipy's hyp2f1 returns inf/nan for z > 0.9 when c - a - b is an integer >= ~98,
    which in the Euler form means a whole-number r - a and x >= ~97. Reference: FHL 2005 eq. (10)
    in mpmath. Horizon t = 20 (alpha + T) gives z = 0.95."""
    r, alpha, a, b = params
    T, x = 40.0, 150.0
    t_x = 39.0
    t = 20 * (alpha + T)
    expected = _eq10_mpmath(params, t, x, t_x, T)
    assert bgnbd.expected_purchases(params, t, x, t_x, T) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("a", [1.0, 1 + 1e-12, 1 - 1e-7, 1 + 4e-4, 1 - 9e-4, 1 + 1.5e-3, 1 + 2.5e-3])
@pytest.mark.parametrize("x, t", [(0, 0.5), (0, 52.0), (4, 10.0), (100, 5000.0)])
def test_expected_purchases_is_continuous_through_a_equal_one(a, x, t):
    """Eq. (10) has a removable singularity at a = 1 ((a+b+x-1)/(a-1) times a factor that
    vanishes there). Reference: mpmath at a = 1 + 1e-40 (80 digits) for a = 1, else a itself."""
    params = (0.5, 5.0, a, 2.0)
    t_x, T = (20.0 if x else 0.0), 40.0
    with mpmath.workdps(80):
        reference_a = mpmath.mpf(1) + mpmath.mpf(10) ** -40 if a == 1.0 else a
        expected = _eq10_mpmath((0.5, 5.0, reference_a, 2.0), t, x, t_x, T, dps=80)
    ours = bgnbd.expected_purchases(params, t, x, t_x, T)
    assert np.isfinite(ours)
    assert ours == pytest.approx(expected, rel=1e-9)


# -- properties ----------------------------------------------------------------------------------

positive = st.floats(min_value=np.log(0.02), max_value=np.log(50.0)).map(np.exp)
params_st = st.tuples(positive, positive, positive, positive)


@st.composite
def histories(draw, max_size=6):
    n = draw(st.integers(1, max_size))
    x = np.array(draw(st.lists(st.integers(0, 80), min_size=n, max_size=n)), dtype=float)
    T = np.array(draw(st.lists(st.floats(0.5, 200.0), min_size=n, max_size=n)))
    u = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    return x, np.where(x > 0, u * T, 0.0), T


@SEEDED
@given(params=params_st, data=histories())
def test_probability_alive_is_a_probability(params, data):
    p = bgnbd.probability_alive(params, *data)
    assert np.all((p >= 0) & (p <= 1))
    assert np.all(p[data[0] == 0] == 1)


@SEEDED
@given(params=params_st, data=histories(),
       t=st.lists(st.floats(0.0, 1000.0), min_size=2, max_size=6).map(sorted))
def test_expected_purchases_non_decreasing_in_t(params, data, t):
    x, t_x, T = data
    grid = bgnbd.expected_purchases(params, np.asarray(t)[:, None], x, t_x, T)
    assert np.all(np.isfinite(grid))
    assert np.all(grid >= -1e-12)
    scale = np.maximum(np.abs(grid).max(axis=0), 1e-300)
    assert np.all(np.diff(grid, axis=0) >= -1e-9 * scale)


@SEEDED
@given(params=params_st, data=histories())
def test_bgnbd_gradient_equals_central_differences(params, data):
    """``loglik_grad`` against central differences of ``loglik`` (five-point stencil)."""
    x, t_x, T = data
    params = np.array(params)
    analytic = bgnbd.loglik_grad(params, x, t_x, T)
    for k in range(4):
        numeric, f, h = _five_point_derivative(lambda q: bgnbd.loglik(q, x, t_x, T), params, k)
        tol = 1e-7 * np.abs(analytic[:, k]) + 1e-12 * (1 + np.abs(f)) / h
        assert np.all(np.abs(numeric - analytic[:, k]) <= tol), k


@pytest.fixture(scope="module")
def cdnow_rows(cdnow):
    """600 distinct CDNOW histories (unique rows, so weights are the only source of duplicates)."""
    unique = cdnow[["frequency", "recency", "T"]].drop_duplicates()
    return unique.sample(600, random_state=0).reset_index(drop=True)


@settings(derandomize=True, database=None, deadline=None, max_examples=8,
          phases=(Phase.explicit, Phase.generate))  # shrinking long weight lists takes minutes
@given(counts=st.lists(st.integers(0, 4), min_size=600, max_size=600).filter(lambda c: sum(c) > 100))
def test_weighted_rows_equal_exploded_rows(cdnow_rows, counts):
    """Fitting unique rows with weights = fitting the rows repeated that many times (zero weight
    drops a row), with weights given as an array and as a column name."""
    w = np.asarray(counts, dtype=float)
    exploded = cdnow_rows.loc[cdnow_rows.index.repeat(counts)].sample(frac=1.0, random_state=1)
    by_rows = BetaGeoModel().fit(exploded)
    by_array = BetaGeoModel().fit(cdnow_rows, weights=w)
    by_column = BetaGeoModel().fit(cdnow_rows.assign(n=w), weights="n")
    for model in (by_array, by_column):
        np.testing.assert_allclose(model.params_.to_numpy(), by_rows.params_.to_numpy(), rtol=1e-10)
        assert model.log_likelihood_ == pytest.approx(by_rows.log_likelihood_, rel=1e-12)
        assert model.n_customers_ == len(exploded)
    # and the stored log-likelihood is the weighted sum of eq. (6) at the estimates
    direct = w @ bgnbd.loglik(by_array.params_.to_numpy(), *(cdnow_rows[c].to_numpy() for c in
                                                              ("frequency", "recency", "T")))
    assert by_array.log_likelihood_ == pytest.approx(direct, rel=1e-12)


def test_compression_is_used(cdnow, fitted):
    """Customers with identical histories collapse to one row (FHL's 2,357 customers have far
    fewer distinct (x, t_x, T))."""
    distinct = len(cdnow[["frequency", "recency", "T"]].drop_duplicates())
    assert fitted.n_unique_ == distinct < len(cdnow)


@pytest.mark.parametrize("factor", [7.0, 1 / 7, 24 * 7.0])
def test_rescaling_time_rescales_alpha_and_shifts_loglik_by_frequency(cdnow, fitted, factor):
    """Measuring time in units c times smaller (weeks -> days: c = 7) multiplies alpha by c and
    leaves r, a, b alone. Eq. (6) is a density of the x repeat-purchase times (the factor
    lambda^x), so with lambda' = lambda / c every customer's likelihood gains c^-x:
    LL' = LL - log(c) * sum_i x_i. (Not -n_repeaters * log(c): each repeat purchase contributes
    one time density.) Checked on the pure function exactly and on the refitted model."""
    x, t_x, T = (cdnow[c].to_numpy() for c in ("frequency", "recency", "T"))
    params = fitted.params_.to_numpy()
    scaled_params = params * np.array([1.0, factor, 1.0, 1.0])
    shift = bgnbd.loglik(scaled_params, x, factor * t_x, factor * T) - bgnbd.loglik(params, x, t_x, T)
    np.testing.assert_allclose(shift, -np.log(factor) * x, atol=1e-9)

    rescaled = cdnow.assign(recency=factor * cdnow["recency"], T=factor * cdnow["T"])
    refit = BetaGeoModel().fit(rescaled)
    np.testing.assert_allclose(refit.params_.to_numpy(), scaled_params, rtol=1e-5)
    assert refit.log_likelihood_ - fitted.log_likelihood_ == pytest.approx(-np.log(factor) * x.sum(), abs=1e-6)
    # predictions are unit-free once the horizon is converted too
    np.testing.assert_allclose(refit.expected_purchases(rescaled, factor * 39.0).to_numpy(),
                               fitted.expected_purchases(cdnow, 39.0).to_numpy(), rtol=1e-4)


# -- error paths ---------------------------------------------------------------------------------

def _summary(**columns):
    base = {"frequency": [0.0, 2.0, 1.0, 3.0, 0.0, 5.0],
            "recency": [0.0, 10.0, 4.0, 20.0, 0.0, 30.0],
            "T": [40.0, 40.0, 35.0, 30.0, 20.0, 38.0]}
    base.update(columns)
    return pd.DataFrame(base, index=pd.Index(list("abcdef"), name="customer_id"))


@pytest.mark.parametrize("columns, column, count", [
    ({"recency": [0.0, 50.0, 4.0, 31.0, 0.0, 30.0]}, "recency", 2),        # recency > T
    ({"frequency": [0.0, -2.0, 1.0, 3.0, 0.0, 5.0]}, "frequency", 1),      # negative
    ({"T": [40.0, np.nan, 35.0, np.nan, np.nan, 38.0]}, "T", 3),           # missing
    ({"frequency": [0.0, 2.5, 1.0, 3.0, 0.0, 5.2]}, "frequency", 2),       # not whole
    ({"recency": [0.0, 10.0, 4.0, 20.0, 1.0, 30.0]}, "recency", 1),        # recency without repeat
    ({"T": [40.0, np.inf, 35.0, 30.0, 20.0, 38.0]}, "T", 1),               # infinite
])
@pytest.mark.parametrize("call", ["fit", "predict"])
def test_impossible_data_is_an_error_naming_column_and_count(columns, column, count, call, fitted):
    data = _summary(**columns)
    with pytest.raises(InvalidValueError) as err:
        if call == "fit":
            BetaGeoModel().fit(data)
        else:
            fitted.expected_purchases(data, 10)
    message = str(err.value)
    assert f"column {column!r}" in message
    assert re.search(rf"\b{count} of 6 rows\b", message), message
    assert "rfm_summary" in message  # says what to do


def test_missing_column_is_named():
    with pytest.raises(clvmodels.exceptions.MissingColumnError, match="'T'"):
        BetaGeoModel().fit(_summary().drop(columns="T"))


@pytest.mark.parametrize("weights", [np.ones(5), np.array([1, 1, -1, 1, 1, 1.0]), "nope"])
def test_bad_weights_are_rejected(weights):
    with pytest.raises(ValueError):
        BetaGeoModel().fit(_summary(), weights=weights)


def test_too_few_iterations_raise_convergence_error_with_numbered_remedies(cdnow):
    with pytest.raises(ConvergenceError) as err:
        BetaGeoModel(max_iter=1).fit(cdnow)
    message = str(err.value)
    assert "BetaGeoModel.fit did not converge" in message
    remedies = re.findall(r"^\s+(\d)\. ", message, flags=re.M)
    assert remedies == ["1", "2", "3", "4"]
    assert "max_iter" in message


@pytest.fixture(scope="module")
def nbd_counts():
    """Gamma-Poisson (NBD) purchase counts over T = 52 with no dropout at all."""
    rng = np.random.default_rng(20050301)
    T = np.full(2000, 52.0)
    x = rng.poisson(rng.gamma(0.5, 1 / 5.0, T.size) * T).astype(float)
    return x, T


def test_no_sign_of_dropout_warns_a_at_boundary(nbd_counts):
    """Every repeat customer bought last at T (t_x = T): then the two terms of eq. (6) share
    (alpha + T)^-(r+x) and their beta parts add up to B(a, b+x-1)/B(a, b), which rises to 1 as
    a -> 0. The MLE is on the boundary a = 0 (nobody drops out) and the fit must say so."""
    x, T = nbd_counts
    data = pd.DataFrame({"frequency": x, "recency": np.where(x > 0, T, 0.0), "T": T})
    with pytest.warns(BoundaryWarning) as record:
        model = BetaGeoModel().fit(data)
    assert any(re.search(r"a = .* drops out", str(w.message)) for w in record)
    assert model.params_["a"] < 1e-4
    # r and alpha are still identified: the NBD part of the likelihood is interior
    assert 0.3 < model.params_["r"] < 0.8


def test_identical_purchase_rates_warn_r_at_boundary():
    """Every customer buys at exactly the same rate (x = T / 10, last purchase at T): counts are
    under-dispersed, so the gamma mixing collapses, r, alpha -> infinity at fixed r / alpha, and
    (as above) a -> 0. Both limits are reported."""
    T = np.tile([20.0, 30.0, 40.0, 50.0], 75)
    data = pd.DataFrame({"frequency": T / 10, "recency": T, "T": T})
    with pytest.warns(BoundaryWarning) as record:
        model = BetaGeoModel().fit(data)
    messages = " ".join(str(w.message) for w in record)
    assert "r = " in messages and "heterogeneity" in messages
    assert "a = " in messages
    assert model.params_["r"] / model.params_["alpha"] == pytest.approx(0.1, rel=1e-3)


def test_interior_fit_does_not_warn(fitted):
    """CDNOW is an interior solution: the module fixture fitted it under pytest's
    warnings-as-errors setting for ClvModelsWarning; its covariance is finite and positive
    definite."""
    cov = fitted.covariance_.to_numpy()
    assert np.all(np.isfinite(cov))
    assert np.linalg.eigvalsh(cov).min() > 0


def test_simulate_matches_the_model_moments():
    """Simulated summaries reproduce eq. (9): the mean repeat count over (0, T] equals the
    expected purchases of a new customer (5 standard errors over 40,000 customers)."""
    params = dict(r=0.243, alpha=4.414, a=0.793, b=2.426)
    T = np.full(40_000, 39.0)
    sim = BetaGeoModel.simulate(params, T, rng=np.random.default_rng(7))
    assert list(sim.columns) == ["frequency", "recency", "T"]
    assert np.all(sim["recency"] <= sim["T"]) and np.all(sim.loc[sim["frequency"] == 0, "recency"] == 0)
    expected = bgnbd.expected_purchases_new_customer(list(params.values()), 39.0)
    se = sim["frequency"].std() / np.sqrt(len(sim))
    assert abs(sim["frequency"].mean() - expected) < 5 * se
