"""BG/BB: published estimates, agreement with lifetimes, brute-force sums, invariances, the
discrete-opportunity summary and its error paths.

References
----------
Fader, P. S., Hardie, B. G. S. and Shang, J. (2010). Customer-base analysis in a discrete-time
noncontractual setting. Marketing Science 29(6), 1086-1108. Data: the 1995 cohort of 11,104
first-time donors to a non-profit, observed for the six yearly opportunities 1996-2001, published
as 22 recency/frequency patterns with counts; MLE alpha = 1.204, beta = 0.750, gamma = 0.657,
delta = 2.783, LL = -33,225.6.

lifetimes 0.11.3 (Davidson-Pilon), ``BetaGeoBetaBinomFitter``: an independent implementation of
the same paper (likelihood by an explicit sum, autograd optimiser), used here as an oracle. It
ships the same table as ``lifetimes/datasets/donations.csv``.
"""

from __future__ import annotations

import re
import warnings

import mpmath
import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoBetaBinomFitter
from lifetimes.datasets import load_donations as lifetimes_donations
from scipy import stats
from scipy.special import betaln, comb

import clvmodels
from clvmodels import BetaGeoBetaBinomModel
from clvmodels.data import discrete_summary, pattern_counts
from clvmodels.exceptions import (EmptyDataError, ExcludedRowsWarning, InvalidValueError,
                                  MissingColumnError)
from clvmodels.likelihoods import bgbb

PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
PUBLISHED_LL = -33225.6
PARAMS = np.array(list(PUBLISHED.values()))
COLS = dict(customer_id_col="donor", datetime_col="date")


def _printed_precision(value: float, decimals: int = 3) -> float:
    """Half a unit in the last printed decimal (the paper prints three: 0.750 -> 5e-4)."""
    return 0.5 * 10.0**-decimals


def _all_patterns(n: int):
    """Every possible (x, t_x) with n opportunities, and how many purchase strings share it."""
    rows = [(0, 0)] + [(x, t) for t in range(1, n + 1) for x in range(1, t + 1)]
    x, t_x = (np.array(v, dtype=float) for v in zip(*rows))
    return x, t_x, np.full_like(x, n), np.where(x > 0, comb(t_x - 1, x - 1), 1.0)


def _histories():
    """Assorted histories, including long ones, zero-opportunity and last-opportunity buyers."""
    x = np.array([0, 0, 1, 3, 6, 2, 0, 10, 25, 1, 0], dtype=float)
    t_x = np.array([0, 0, 1, 4, 6, 6, 0, 30, 40, 1, 0], dtype=float)
    n = np.array([0, 6, 6, 6, 6, 20, 40, 30, 40, 1, 1], dtype=float)
    return x, t_x, n


@pytest.fixture(scope="module")
def donations():
    return clvmodels.datasets.load_donations()


@pytest.fixture(scope="module")
def fitted(donations):
    return BetaGeoBetaBinomModel().fit(donations, weights="count")


@pytest.fixture(scope="module")
def lifetimes_at_ours(donations, fitted):
    """lifetimes' fitter with its parameters set to ours, so that only formulas are compared."""
    fitter = BetaGeoBetaBinomFitter()
    fitter.params_ = pd.Series(fitted.params_.to_dict())
    return fitter


def donations_log(donations) -> pd.DataFrame:
    """A raw transaction log behind the published patterns: each donor gives in 1995 (twice, to
    check that one period counts once), then in the years of a pattern with x gifts, the last in
    year 1995 + t_x."""
    rows, donor = [], 0
    for x, t_x, count in donations[["frequency", "recency", "count"]].itertuples(index=False):
        years = [1995 + t for t in range(t_x - x + 1, t_x + 1)]
        for _ in range(count):
            rows += [(donor, "1995-03-01"), (donor, "1995-12-24")]
            rows += [(donor, f"{year}-11-15") for year in years]
            donor += 1
    frame = pd.DataFrame(rows, columns=["donor", "date"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


# -- reference values ----------------------------------------------------------------------------

def test_donations_reproduce_fader_hardie_shang_2010(fitted):
    """FHS (2010), section 4: on the 1995 donations cohort (11,104 donors, n = 6) the MLE is
    alpha = 1.204, beta = 0.750, gamma = 0.657, delta = 2.783 with LL = -33,225.6. Checked to the
    printed precision (half a unit in the last printed decimal)."""
    for name, value in PUBLISHED.items():
        assert abs(fitted.params_[name] - value) <= _printed_precision(value), name
    assert abs(fitted.log_likelihood_ - PUBLISHED_LL) <= 0.05
    assert fitted.n_customers_ == 11104 and fitted.n_unique_ == 22
    assert fitted.time_unit_ == "Y"


def test_bundled_donations_are_the_published_table(donations):
    """The bundled file is lifetimes' copy of the paper's table (22 patterns, 11,104 donors,
    n = 6 for everyone), under this library's column names."""
    theirs = lifetimes_donations()
    assert len(donations) == 22 and donations["count"].sum() == 11104
    assert (donations["n_periods"] == 6).all()
    np.testing.assert_array_equal(donations[["frequency", "recency", "n_periods", "count"]].to_numpy(),
                                  theirs[["frequency", "recency", "periods", "weights"]].to_numpy())


def test_log_likelihood_at_published_params_matches_lifetimes(donations):
    """lifetimes 0.11.3 ``BetaGeoBetaBinomFitter._loglikelihood`` (eq. 5 as an explicit sum, plus
    1e-15 inside its log) at the published parameters: per pattern to 1e-9, and in total the
    published LL = -33,225.6 (the paper's parameters are rounded, hence 0.1)."""
    x, t_x, n, w = (donations[c].to_numpy(dtype=float) for c in ("frequency", "recency", "n_periods", "count"))
    theirs = BetaGeoBetaBinomFitter._loglikelihood(PARAMS, x.astype(int), t_x.astype(int), n.astype(int))
    ours = bgbb.loglik(PARAMS, x, t_x, n)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    assert w @ ours == pytest.approx(PUBLISHED_LL, abs=0.1)


def test_fitted_params_agree_with_lifetimes(donations, fitted):
    """lifetimes 0.11.3 ``BetaGeoBetaBinomFitter().fit`` on the same patterns finds the same
    maximum (1e-4 relative)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = BetaGeoBetaBinomFitter().fit(donations["frequency"], donations["recency"],
                                              donations["n_periods"], weights=donations["count"])
    np.testing.assert_allclose(fitted.params_.to_numpy(), theirs.params_[list(PUBLISHED)].to_numpy(), rtol=1e-4)


def test_predictions_agree_with_lifetimes(donations, fitted, lifetimes_at_ours):
    """Given the same parameters, lifetimes' ``conditional_probability_alive`` (m = 1 is eq. 11;
    m = 0 and 3 too), ``conditional_expected_number_of_purchases_up_to_time`` (eq. 13) agree to
    1e-6 relative on the donations patterns and longer histories.

    lifetimes adds 1e-15 to the sum in eq. (5) before its log, which moves L by about
    1e-15 / (B(a,b) B(g,d)): visible for the rare histories with L below about 1e-9 (here two
    long ones with t_x = n). Those are left out of this comparison; the direct sums further down
    check them."""
    x, t_x, n = (donations[c].to_numpy() for c in ("frequency", "recency", "n_periods"))
    hx, ht, hn = (v.astype(int) for v in _histories())
    x, t_x, n = np.r_[x, hx], np.r_[t_x, ht], np.r_[n, hn]
    probable = np.exp(bgbb.loglik(fitted.params_.to_numpy(), x, t_x, n)) > 1e-6
    assert probable.sum() == len(x) - 2
    x, t_x, n = x[probable], t_x[probable], n[probable]
    data = pd.DataFrame({"frequency": x, "recency": t_x, "n_periods": n})
    params = fitted.params_.to_numpy()
    np.testing.assert_allclose(fitted.probability_alive(data),
                               lifetimes_at_ours.conditional_probability_alive(1, x, t_x, n), rtol=1e-6)
    for m in (0, 3):
        np.testing.assert_allclose(bgbb.probability_alive(params, x, t_x, n, ahead=m),
                                   lifetimes_at_ours.conditional_probability_alive(m, x, t_x, n), rtol=1e-6)
    for horizon in (1, 5, 10, 50):
        theirs = lifetimes_at_ours.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, n)
        np.testing.assert_allclose(fitted.expected_purchases(data, horizon), theirs, rtol=1e-6)


def test_new_customer_expectation_is_the_mean_of_lifetimes_pmf(donations, fitted):
    """lifetimes 0.11.3 has no BG/BB ``expected_number_of_purchases_up_to_time``; its
    ``expected_number_of_transactions_in_first_n_periods`` gives P(X(n) = x) (eq. 7) times the
    cohort size for the x seen in the data (0..6), so sum_x x P(X(n) = x) is E[X(n)] (eq. 8)."""
    fitter = BetaGeoBetaBinomFitter()
    fitter.params_ = pd.Series(fitted.params_.to_dict())
    fitter.data = pd.DataFrame({"frequency": donations["frequency"], "weights": donations["count"]})
    for horizon in range(1, 7):
        pmf = fitter.expected_number_of_transactions_in_first_n_periods(horizon)["model"] / 11104
        assert pmf.sum() == pytest.approx(1.0, rel=1e-9)
        mean = float((pmf.index.to_numpy() * pmf).sum())
        assert fitted.expected_purchases_new_customer(horizon) == pytest.approx(mean, rel=1e-6)


# -- the mathematics -----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 6, 15])
@pytest.mark.parametrize("params", [PARAMS, [0.3, 4.0, 1.0, 0.5], [8.0, 2.0, 2.0, 20.0]])
def test_likelihood_is_a_distribution_over_patterns(n, params):
    """Eq. (5) is the probability of one purchase string; C(t_x - 1, x - 1) strings share each
    (x, t_x), and over every pattern the probabilities add up to 1."""
    x, t_x, n_, strings = _all_patterns(n)
    assert strings @ np.exp(bgbb.loglik(np.asarray(params), x, t_x, n_)) == pytest.approx(1.0, rel=1e-12)


def test_simulation_follows_the_likelihood():
    """Pattern counts of 100,000 simulated customers (n = 6, seeded) against the probabilities of
    eq. (5): Pearson chi-square test at the 0.1 % level."""
    rng = np.random.default_rng(7)
    draws = bgbb.simulate(PARAMS, 100_000, 6, rng=rng)
    x, t_x, n, strings = _all_patterns(6)
    expected = 100_000 * strings * np.exp(bgbb.loglik(PARAMS, x, t_x, n))
    observed = pd.Series(1, index=pd.MultiIndex.from_arrays([draws["x"], draws["t_x"]])).groupby(level=[0, 1]).sum()
    observed = observed.reindex(pd.MultiIndex.from_arrays([x, t_x]), fill_value=0).to_numpy()
    assert observed.sum() == 100_000
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def _five_point_derivative(f, params, k, rel_step=1e-3):
    h = rel_step * params[k]

    def at(d):
        shifted = params.copy()
        shifted[k] += d
        return f(shifted)

    return (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)


@pytest.mark.parametrize("params", [PARAMS, np.array([0.3, 4.0, 1.0, 0.5]), np.array([8.0, 2.0, 2.5, 20.0])])
def test_gradient_matches_finite_differences(params):
    """Analytic gradient (digamma sums weighted by each term's share of L) against fourth-order
    central differences of the log-likelihood, on all n = 6 patterns and longer histories."""
    x, t_x, n, _ = _all_patterns(6)
    hx, ht, hn = _histories()
    x, t_x, n = np.r_[x, hx], np.r_[t_x, ht], np.r_[n, hn]
    grad = bgbb.loglik_grad(params, x, t_x, n)
    assert grad.shape == (len(x), 4)
    for k in range(4):
        numeric = _five_point_derivative(lambda p: bgbb.loglik(p, x, t_x, n), params, k)
        np.testing.assert_allclose(grad[:, k], numeric, rtol=1e-7, atol=1e-9)


def test_fused_objective_equals_weighted_sums():
    x, t_x, n, _ = _all_patterns(8)
    w = np.arange(1.0, len(x) + 1)
    total, grad = bgbb.make_objective(x, t_x, n, weights=w)(PARAMS)
    assert total == pytest.approx(w @ bgbb.loglik(PARAMS, x, t_x, n), rel=1e-14)
    np.testing.assert_allclose(grad, w @ bgbb.loglik_grad(PARAMS, x, t_x, n), rtol=1e-13)


def test_lgamma_difference_matches_mpmath():
    """``_lgamma_diff`` (Stirling after shifting, for the removable singularity of eq. 13 at
    gamma = 1) against mpmath's loggamma at 40 digits: within 1e-15 absolute plus 1e-13 relative,
    where the plain difference of gammaln loses up to all digits for tiny steps."""
    for z in (1.0001, 1.5, 3.78, 14.99, 15.0, 44.0, 200.3, 5000.7):
        for h in (-0.9999, -0.5, -1e-7, 1e-12, 2e-3, 0.3, 1.0, 2.5, 40.0):
            with mpmath.workdps(40):
                exact = float(mpmath.loggamma(mpmath.mpf(z) + mpmath.mpf(h)) - mpmath.loggamma(mpmath.mpf(z)))
            assert bgbb._lgamma_diff(z, h) == pytest.approx(exact, rel=1e-13, abs=1e-15), (z, h)


def _p_transaction_at(params, k, x, t_x, n):
    """P(transaction at opportunity n + k | history), straight from the posterior:
    B(a+x+1, b+n-x)/B(a,b) * B(g, d+n+k)/B(g,d) / L."""
    a, b, g, d = params
    return np.exp(betaln(a + x + 1, b + n - x) - betaln(a, b) + betaln(g, d + n + k) - betaln(g, d)
                  - bgbb.loglik(params, x, t_x, n))


@pytest.mark.parametrize("gamma", [0.657, 1.0, 1 + 1e-9, 1 + 1e-4, 1 - 5e-4, 1 + 2e-3, 2.0, 3.5])
def test_expected_purchases_equal_the_sum_over_future_opportunities(gamma):
    """The closed form of eq. (13), including its removable singularity at gamma = 1, equals the
    plain sum of P(transaction at n + k) over k = 1..n* (1e-12 relative)."""
    params = np.array([1.204, 0.750, gamma, 2.783])
    x, t_x, n = _histories()
    cumulative = np.cumsum([_p_transaction_at(params, k, x, t_x, n) for k in range(1, 61)], axis=0)
    horizons = np.array([1, 2, 7, 60])
    np.testing.assert_allclose(bgbb.expected_purchases(params, horizons[:, None], x, t_x, n),
                               cumulative[horizons - 1], rtol=1e-12)
    assert np.all(bgbb.expected_purchases(params, 0, x, t_x, n) == 0)


@pytest.mark.parametrize("gamma", [0.657, 1.0, 2.0, 3.5])
@pytest.mark.parametrize("discount_rate", [0.1, 0.03])
def test_dert_equals_truncated_discounted_sum(gamma, discount_rate):
    """Eq. (14) with the Gauss hypergeometric function against the brute-force sum of discounted
    expected transactions, sum_{k=1}^{K} P(transaction at n + k) / (1 + d)^k. With at most one
    transaction per opportunity the tail after K is below (1 + d)^-K / d < 1e-15 for K = 1500."""
    params = np.array([1.204, 0.750, gamma, 2.783])
    x, t_x, n = _histories()
    k = np.arange(1, 1501)[:, None]
    brute = (_p_transaction_at(params, k, x, t_x, n) / (1 + discount_rate) ** k).sum(axis=0)
    np.testing.assert_allclose(bgbb.DERT(params, x, t_x, n, discount_rate), brute, rtol=1e-10)


# -- estimator -----------------------------------------------------------------------------------

def test_compressed_patterns_equal_exploded_donors(donations, fitted):
    """The 22 weighted patterns and the 11,104 donors one row each give the same fit."""
    exploded = donations.loc[donations.index.repeat(donations["count"])].drop(columns="count")
    assert len(exploded) == 11104
    model = BetaGeoBetaBinomModel().fit(exploded.sample(frac=1.0, random_state=3))
    np.testing.assert_allclose(model.params_.to_numpy(), fitted.params_.to_numpy(), rtol=1e-10)
    assert model.log_likelihood_ == pytest.approx(fitted.log_likelihood_, rel=1e-12)
    pd.testing.assert_frame_equal(pattern_counts(exploded), donations, check_like=True)


def test_raw_donation_log_reproduces_published_table_and_fit(donations, fitted):
    """A transaction log built from the published patterns, summarised by ``discrete_summary``
    (yearly opportunities, cohort 1995, observation to the end of 2001) and collapsed by
    ``pattern_counts``, is the published table again and gives the same fit."""
    summary = discrete_summary(donations_log(donations), **COLS, period="Y", first_period="1995",
                               observation_period_end="2001-12-31")
    assert len(summary) == 11104 and (summary["n_periods"] == 6).all()
    patterns = pattern_counts(summary)
    pd.testing.assert_frame_equal(patterns, donations[patterns.columns])
    model = BetaGeoBetaBinomModel().fit(patterns, weights="count")
    np.testing.assert_allclose(model.params_.to_numpy(), fitted.params_.to_numpy(), rtol=1e-10)
    assert model.time_unit_ == "Y"


def test_prediction_methods(fitted):
    x, t_x, n = (v.astype(int) for v in _histories())
    data = pd.DataFrame({"frequency": x, "recency": t_x, "n_periods": n}, index=[f"c{i}" for i in range(len(x))])
    alive = fitted.probability_alive(data)
    assert alive.name == "p_alive" and alive.index.equals(data.index)
    assert ((alive > 0) & (alive < 1)).all()
    np.testing.assert_allclose(fitted.churn_probability(data), 1 - alive, rtol=1e-15)
    grid = fitted.expected_purchases_grid(data, [0, 1, 5])
    assert grid.shape == (3, len(data)) and np.all(grid[0] == 0) and np.all(np.diff(grid, axis=0) > 0)
    np.testing.assert_allclose(fitted.expected_purchases(data, 5), grid[2], rtol=1e-15)
    np.testing.assert_allclose(fitted.expected_purchases_new_customer([1, 6]),
                               fitted.expected_purchases_grid(pd.DataFrame(
                                   {"frequency": [0], "recency": [0], "n_periods": [0]}), [1, 6])[:, 0])
    dert = fitted.discounted_expected_residual_transactions(data, 0.1)
    assert dert.name == "dert" and (dert > fitted.expected_purchases(data, 1)).all()
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        fitted.expected_purchases(data, 1.5)
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        fitted.expected_purchases_new_customer(-1)
    for bad in (0.0, -0.1, np.nan):
        with pytest.raises(ValueError, match="discount_rate must be a positive number"):
            fitted.discounted_expected_residual_transactions(data, bad)


@pytest.mark.parametrize("rows, column, rule", [
    ([(1, 5, 4)], "recency", "must not exceed n_periods"),
    ([(3, 2, 6)], "frequency", "must not exceed recency"),
    ([(0, 2, 6)], "recency", "must be 0 when frequency is 0"),
    ([(1, 1.5, 6)], "recency", "whole number of transaction opportunities"),
    ([(1, 1, 6.5)], "n_periods", "whole number of transaction opportunities"),
    ([(-1, 0, 6)], "frequency", "must not be negative"),
])
def test_impossible_summaries_are_errors_before_the_maths(fitted, rows, column, rule):
    data = pd.DataFrame([(0, 0, 6), *rows], columns=["frequency", "recency", "n_periods"])
    for call in (lambda: BetaGeoBetaBinomModel().fit(data), lambda: fitted.probability_alive(data)):
        with pytest.raises(InvalidValueError, match=rf"column {column!r}: .*{re.escape(rule)}.*1 of 2 rows"):
            call()


def test_missing_column_points_to_discrete_summary(fitted):
    with pytest.raises(MissingColumnError, match=r"'n_periods'.*discrete_summary"):
        fitted.probability_alive(pd.DataFrame({"frequency": [1], "recency": [1], "T": [6]}))


# -- discrete_summary ----------------------------------------------------------------------------

@pytest.fixture()
def small_log() -> pd.DataFrame:
    rows = [
        ("a", "2019-03-01"), ("a", "2019-09-01"),                       # trial 2019, twice in it
        ("a", "2020-05-01"), ("a", "2020-06-01"), ("a", "2022-12-31"),  # repeats 2020 (once), 2022
        ("b", "2019-07-04"),                                             # trial only
        ("c", "2018-01-10"), ("c", "2019-02-02"),                        # acquired before 2019
        ("d", "2021-08-08"), ("d", "2023-01-05"),                        # acquired 2021
        ("e", "2022-02-02"),                                             # acquired in the last year
    ]
    frame = pd.DataFrame(rows, columns=["donor", "date"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_discrete_summary_on_a_hand_fixture(small_log):
    """Every customer from their own trial year to 2022 (2023 is after the end and counted)."""
    summary = discrete_summary(small_log, **COLS, observation_period_end="2022-12-31")
    expected = pd.DataFrame({"frequency": [2, 0, 1, 0, 0], "recency": [3, 0, 1, 0, 0],
                             "n_periods": [3, 3, 4, 1, 0]},
                            index=pd.Index(list("abcde"), name="donor"))
    pd.testing.assert_frame_equal(summary, expected)
    attrs = summary.attrs
    assert attrs["time_unit"] == "Y" and attrs["first_period"] is None and attrs["last_period"] == "2022"
    assert attrs["exclusions"]["rows"] == {"after_observation_end": 1}
    assert attrs["n_rows_read"] == attrs["n_rows_used"] + 1 == 11


def test_discrete_summary_cohort_and_window(small_log):
    """``first_period`` keeps the 2019 cohort (c acquired in 2018 and d, e later are counted);
    ``n_periods=2`` caps the window at 2021, so a's 2022 gift is left out and counted."""
    summary = discrete_summary(small_log, **COLS, first_period="2019", n_periods=2,
                               observation_period_end="2022-12-31")
    expected = pd.DataFrame({"frequency": [1, 0], "recency": [1, 0], "n_periods": [2, 2]},
                            index=pd.Index(["a", "b"], name="donor"))
    pd.testing.assert_frame_equal(summary, expected)
    excl = summary.attrs["exclusions"]
    assert excl["customers"] == {"first_purchase_before_first_period": 1, "first_purchase_after_first_period": 2}
    assert excl["rows"] == {"after_observation_end": 1, "outside_cohort": 4, "after_n_periods": 1}
    assert summary.attrs["first_period"] == "2019"
    assert summary.attrs["n_rows_read"] == summary.attrs["n_rows_used"] + sum(excl["rows"].values())


def test_discrete_summary_quarters(small_log):
    summary = discrete_summary(small_log, **COLS, period="q", first_period=pd.Period("2019Q1", "Q"),
                               observation_period_end="2020-06-30")
    # a: trial 2019Q1, repeats in 2019Q3 and 2020Q2 (twice, counted once); b (trial 2019Q3) and
    # c (2018Q1) are not in the cohort; later rows are after the end.
    expected = pd.DataFrame({"frequency": [2], "recency": [5], "n_periods": [5]},
                            index=pd.Index(["a"], name="donor"))
    pd.testing.assert_frame_equal(summary, expected)
    assert summary.attrs["last_period"] == "2020Q2"


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(period="fortnight"), ValueError, r"period must be one of 'Y' \(year\)"),
    (dict(n_periods=-1), ValueError, "n_periods must be a whole number"),
    (dict(n_periods=2.5), ValueError, "n_periods must be a whole number"),
    (dict(first_period="2030"), InvalidValueError, "first_period 2030 comes after the observation end"),
    (dict(first_period="2017"), EmptyDataError, r"No customer .* period 2017 .* between 2018 and 2022"),
    (dict(first_period="not a date"), InvalidValueError, "first_period 'not a date' is not a date"),
    (dict(customer_id_col="customer"), MissingColumnError, r"missing column\(s\) 'customer'"),
])
def test_discrete_summary_errors(small_log, kwargs, error, message):
    with pytest.raises(error, match=message):
        discrete_summary(small_log, **{**COLS, **kwargs})


def test_discrete_summary_invalid_rows_raise_or_are_counted(small_log):
    broken = pd.concat([small_log, pd.DataFrame({"donor": ["f", None], "date": [pd.NaT, pd.Timestamp("2020-01-01")]})],
                       ignore_index=True)
    with pytest.raises(InvalidValueError, match=r"'donor': customer id must not be missing; 1 of 13 rows"):
        discrete_summary(broken, **COLS)
    with pytest.warns(ExcludedRowsWarning, match="2 invalid transaction rows"):
        summary = discrete_summary(broken, **COLS, on_invalid="exclude")
    assert summary.attrs["exclusions"]["rows"] == {"missing_customer_id": 1, "missing_date": 1}
    assert "f" not in summary.index


def test_pattern_counts_keeps_every_customer(small_log):
    summary = discrete_summary(small_log, **COLS, observation_period_end="2022-12-31")
    counts = pattern_counts(summary)
    assert list(counts.columns) == ["frequency", "recency", "n_periods", "count"]
    assert counts["count"].sum() == len(summary) and not counts.duplicated(["frequency", "recency", "n_periods"]).any()
    with pytest.raises(MissingColumnError, match="n_periods"):
        pattern_counts(summary.drop(columns="n_periods"))
