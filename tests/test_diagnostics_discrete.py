"""BG/BB diagnostics: hand-computed tables, the donations data of Fader, Hardie & Shang (2010),
lifetimes 0.11.3 as an oracle, a simulated calibration/holdout log, invariances and errors.

Hand values use alpha = beta = gamma = delta = 1 (p and theta uniform), where E[p^k] =
E[(1-theta)^k] = 1/(k+1): E[X(n)] = 1/2 sum_{k=1..n} 1/(k+1), so E[X(1)] = 1/4, E[X(2)] = 5/12,
E[X(3)] = 13/24; P(X(1) = .) = (3/4, 1/4); P(X(2) = .) = (25/36, 7/36, 4/36).

Donations: 1995 cohort of 11,104 first-time donors, 6 yearly repeat opportunities 1996-2001
(FHS 2010, published as 22 pattern counts); the bundled table has no holdout (2002-2006), so the
holdout checks simulate a log per opportunity at the published estimates.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifetimes import BetaGeoBetaBinomFitter
from scipy.stats import chi2

from clvmodels import BetaGeoBetaBinomModel, BetaGeoModel, datasets
from clvmodels.diagnostics import (discrete_conditional_expectations, discrete_frequency_distribution,
                                   discrete_tracking)
from clvmodels.exceptions import InvalidValueError, MissingColumnError, NotFittedError

PUBLISHED = {"alpha": 1.204, "beta": 0.750, "gamma": 0.657, "delta": 2.783}
UNIFORM = {"alpha": 1.0, "beta": 1.0, "gamma": 1.0, "delta": 1.0}


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return datasets.load_donations()


@pytest.fixture(scope="module")
def fitted(donations) -> BetaGeoBetaBinomModel:
    return BetaGeoBetaBinomModel().fit(donations, weights="count")


@pytest.fixture
def uniform() -> BetaGeoBetaBinomModel:
    return BetaGeoBetaBinomModel.from_params(UNIFORM)


def simulate_log(n_customers: int, opportunities: int, *, rng) -> np.ndarray:
    """Transactions per customer and opportunity (boolean matrix) from the BG/BB story at the
    published estimates: p ~ Beta(alpha, beta), theta ~ Beta(gamma, delta); at each opportunity a
    living customer first drops out with probability theta, then transacts with probability p.
    Written here, independently of ``bgbb.simulate``, to keep the per-opportunity record."""
    p = rng.beta(PUBLISHED["alpha"], PUBLISHED["beta"], n_customers)
    theta = rng.beta(PUBLISHED["gamma"], PUBLISHED["delta"], n_customers)
    alive = np.ones(n_customers, dtype=bool)
    buys = np.zeros((n_customers, opportunities), dtype=bool)
    for t in range(opportunities):
        alive &= rng.random(n_customers) >= theta
        buys[:, t] = alive & (rng.random(n_customers) < p)
    return buys


def calibration_summary(buys: np.ndarray, n_calibration: int) -> pd.DataFrame:
    """Discrete summary of the first ``n_calibration`` opportunities plus ``frequency_holdout``."""
    cal = buys[:, :n_calibration]
    x = cal.sum(axis=1)
    recency = np.where(x > 0, n_calibration - np.argmax(cal[:, ::-1], axis=1), 0)
    return pd.DataFrame({"frequency": x, "recency": recency, "n_periods": n_calibration,
                         "frequency_holdout": buys[:, n_calibration:].sum(axis=1)})


@pytest.fixture(scope="module")
def simulated():
    """20,000 customers, 11 opportunities (6 calibration + 5 holdout, as 1996-2006), seeded."""
    buys = simulate_log(20_000, 11, rng=np.random.default_rng(2010))
    summary = calibration_summary(buys, 6)
    return buys, summary, BetaGeoBetaBinomModel().fit(summary)


# -- frequency distribution ----------------------------------------------------------------------

def test_frequency_distribution_by_hand(uniform):
    """Four customers with n = 2 (x = 0, 1, 2, 0) and one with n = 1 (x = 1), uniform mixing:
    expected = 4 (25, 7, 4)/36 + (27, 9, 0)/36 = (127, 37, 16)/36, adding up to 5 customers;
    actual = (2, 2, 1); chi-square = sum (a - e)^2 / e; 3 bins - 1 - 4 parameters < 1 df."""
    summary = pd.DataFrame({"frequency": [0, 1, 2, 0, 1], "recency": [0, 2, 2, 0, 1],
                            "n_periods": [2, 2, 2, 2, 1]})
    table = discrete_frequency_distribution(uniform, summary)
    expected = np.array([127, 37, 16]) / 36
    assert table.index.tolist() == ["0", "1", "2"] and table.index.name == "frequency"
    assert table["actual"].tolist() == [2, 2, 1]
    np.testing.assert_allclose(table["expected"], expected, rtol=1e-13)
    assert table["expected"].sum() == pytest.approx(5.0, abs=1e-12)
    np.testing.assert_allclose(table["chi_square"], (np.array([2, 2, 1]) - expected) ** 2 / expected, rtol=1e-12)
    assert table.attrs["df"] == -2 and np.isnan(table.attrs["p_value"])
    assert table.attrs["n_customers"] == 5 and table.attrs["n_periods"] == 2


def test_frequency_distribution_of_the_donations(donations, fitted):
    """FHS (2010): actual donors with 0..6 repeat donations 1996-2001 counted from the published
    patterns (3,464 with none; 1,823 = 1,091 + 277 + 129 + 78 + 119 + 129 with one; 1,203 with
    six); expected equal to lifetimes 0.11.3's own code of eq. (7)
    (``expected_number_of_transactions_in_first_n_periods(6)``) at our estimates; both columns
    add up to 11,104; 7 bins - 1 - 4 parameters = 2 df."""
    table = discrete_frequency_distribution(fitted, donations, weights="count")
    assert table["actual"].tolist() == [3464, 1823, 1430, 1085, 1036, 1063, 1203]
    fitter = BetaGeoBetaBinomFitter()
    fitter.params_ = pd.Series(fitted.params_.to_dict())
    fitter.data = donations.rename(columns={"count": "weights"})
    theirs = fitter.expected_number_of_transactions_in_first_n_periods(6)["model"].to_numpy()
    np.testing.assert_allclose(table["expected"], theirs, rtol=1e-10)
    assert table["actual"].sum() == 11104 and table["expected"].sum() == pytest.approx(11104, rel=1e-12)
    assert table.attrs["df"] == 2
    assert table.attrs["chi_square"] == pytest.approx(table["chi_square"].sum())
    assert table.attrs["p_value"] == pytest.approx(chi2.sf(table.attrs["chi_square"], 2))


def test_pooled_last_bin_and_weights_equal_exploded_rows(donations, fitted):
    """max_frequency=3 pools 3..6 into "3+" (1,085 + 1,036 + 1,063 + 1,203 = 4,387 donors), the
    model's last bin the rest of the 11,104; the pattern counts with weights give the table of the
    exploded customers."""
    pooled = discrete_frequency_distribution(fitted, donations, weights="count", max_frequency=3)
    full = discrete_frequency_distribution(fitted, donations, weights="count")
    assert pooled.index.tolist() == ["0", "1", "2", "3+"]
    assert pooled["actual"].tolist() == [3464, 1823, 1430, 4387]
    np.testing.assert_allclose(pooled["expected"].iloc[3], full["expected"].iloc[3:].sum(), rtol=1e-12)
    assert pooled.attrs["df"] == -1
    exploded = donations.loc[donations.index.repeat(donations["count"])].drop(columns="count")
    pd.testing.assert_frame_equal(discrete_frequency_distribution(fitted, exploded), full)


def test_frequency_distribution_of_mixed_cohorts_weights_each_n(fitted):
    """Customers observed for different numbers of opportunities: expected = sum over customers
    of P(X(n_i) = x) (checked against the pmf at n = 2 and n = 4 directly)."""
    from clvmodels.likelihoods import bgbb

    summary = pd.DataFrame({"frequency": [0, 2, 1, 4], "recency": [0, 2, 3, 4], "n_periods": [2, 2, 4, 4]})
    table = discrete_frequency_distribution(fitted, summary)
    params = fitted.params_.to_numpy()
    expected = 2 * bgbb.probability_of_purchases(params, 2, np.arange(5)) \
        + 2 * bgbb.probability_of_purchases(params, 4, np.arange(5))
    np.testing.assert_allclose(table["expected"], expected, rtol=1e-12)
    assert table["actual"].tolist() == [1, 1, 1, 0, 1]


# -- tracking ------------------------------------------------------------------------------------

def test_tracking_by_hand_with_staggered_trials(uniform):
    """Customer A observed for 2 opportunities, B for 1 (B's trial one opportunity later), both
    without repeat transactions, horizon 3, uniform mixing. Ages at opportunity 1, 2, 3: A 1, 2, 3;
    B 0, 1, 2. Expected cumulative: 1/4, 5/12 + 1/4 = 2/3, 13/24 + 5/12 = 23/24; increments
    1/4, 5/12, 7/24."""
    summary = pd.DataFrame({"frequency": [0, 0], "recency": [0, 0], "n_periods": [2, 1]})
    table = discrete_tracking(uniform, summary, horizon=3)
    np.testing.assert_allclose(table["expected_cumulative"], [1 / 4, 2 / 3, 23 / 24], rtol=1e-13)
    np.testing.assert_allclose(table["expected_incremental"], [1 / 4, 5 / 12, 7 / 24], rtol=1e-13)
    assert table["period"].tolist() == ["calibration", "calibration", "holdout"]
    assert table.index.name == "opportunity" and table.index.tolist() == [1, 2, 3]
    assert table["actual_incremental"].isna().all() and "calendar_period" not in table
    assert table.attrs["calibration_periods"] == 2 and table.attrs["n_customers"] == 2


def test_tracking_of_the_donations_adds_up(donations, fitted):
    """One cohort: expected cumulative at opportunity k is 11,104 E[X(k)] (eq. 8), and at the
    calibration end (2001) it equals the mean of the frequency histogram's expected counts; the
    opportunities are labelled 1996..2006 from the dataset's attrs (last_period 2001)."""
    table = discrete_tracking(fitted, donations, weights="count", horizon=11)
    np.testing.assert_allclose(table["expected_cumulative"],
                               11104 * fitted.expected_purchases_new_customer(np.arange(1, 12)), rtol=1e-12)
    histogram = discrete_frequency_distribution(fitted, donations, weights="count")
    assert table.loc[6, "expected_cumulative"] == pytest.approx(histogram["expected"].to_numpy() @ np.arange(7),
                                                                rel=1e-12)
    assert table["calendar_period"].tolist() == [str(year) for year in range(1996, 2007)]
    assert (table["period"] == "calibration").sum() == 6
    np.testing.assert_allclose(table["expected_incremental"].cumsum(), table["expected_cumulative"], rtol=1e-12)


def test_tracking_follows_a_simulated_log(simulated):
    """Simulated 6 + 5 opportunities: the model fitted on the 6 calibration opportunities tracks
    the actual transactions at every opportunity within 3 % (about 4,000-10,000 per opportunity),
    the holdout included; the actual running total at opportunity 6 is the summary's total."""
    buys, summary, model = simulated
    table = discrete_tracking(model, summary, actual=buys.sum(axis=0))
    assert len(table) == 11 and table.attrs["calibration_periods"] == 6
    assert table["actual_incremental"].tolist() == buys.sum(axis=0).tolist()
    assert table.loc[6, "actual_cumulative"] == summary["frequency"].sum()
    np.testing.assert_allclose(table["expected_incremental"], table["actual_incremental"], rtol=0.03)


def test_tracking_with_partial_actual_and_errors(simulated):
    """Actual for the first 3 opportunities only: the rest NaN. Actual that does not add up to the
    summary over the calibration, longer than the horizon, or negative: clear errors."""
    buys, summary, model = simulated
    counts = buys.sum(axis=0)
    table = discrete_tracking(model, summary, actual=counts[:3], horizon=8)
    assert table["actual_incremental"].iloc[:3].tolist() == counts[:3].tolist()
    assert table["actual_incremental"].iloc[3:].isna().all() and len(table) == 8
    with pytest.raises(InvalidValueError, match="adds up to .* but the summary's frequency"):
        discrete_tracking(model, summary, actual=counts + 1)
    with pytest.raises(ValueError, match="horizon"):
        discrete_tracking(model, summary, actual=counts, horizon=5)
    with pytest.raises(InvalidValueError, match="column 'actual'.*1 of 3 rows"):
        discrete_tracking(model, summary, actual=[5, -1, 3])
    with pytest.raises(ValueError, match="horizon must be a whole number of at least 1"):
        discrete_tracking(model, summary, horizon=0)


# -- conditional expectations --------------------------------------------------------------------

def test_conditional_expectations_by_hand(uniform):
    """Uniform mixing, one calibration opportunity, one holdout opportunity.
    x = 1 at opportunity 1: L = E[p (1-theta)] = 1/4; P(transaction at 2 and history) =
    E[p^2] E[(1-theta)^2] = 1/9, so E = 4/9. x = 0: L = 3/4 and P(no transaction at 1, one at 2)
    = E[p (1-p)] E[(1-theta)^2] = 1/18, so E = 2/27. Two customers with x = 0 (holdout 0 and 1),
    one with x = 1 (holdout 1)."""
    calibration = pd.DataFrame({"frequency": [0, 0, 1], "recency": [0, 0, 1], "n_periods": [1, 1, 1],
                                "frequency_holdout": [0, 1, 1]})
    table = discrete_conditional_expectations(uniform, calibration, holdout_periods=1)
    assert table.index.name == "frequency" and table.index.tolist() == [0, 1]
    assert table["n_customers"].tolist() == [2, 1]
    np.testing.assert_allclose(table["actual"], [0.5, 1.0])
    np.testing.assert_allclose(table["expected"], [2 / 27, 4 / 9], rtol=1e-12)
    assert table.attrs["actual_total"] == 2 and table.attrs["expected_total"] == pytest.approx(4 / 27 + 4 / 9)
    by_recency = discrete_conditional_expectations(uniform, calibration, holdout_periods=1, by="recency")
    assert by_recency.index.name == "recency"
    np.testing.assert_allclose(by_recency["expected"], [2 / 27, 4 / 9], rtol=1e-12)


def test_conditional_expectations_follow_a_simulated_holdout(simulated):
    """Simulated: mean transactions in the 5 holdout opportunities by calibration frequency and
    by recency (FHS 2010's conditional-expectation plots for 2002-2006) within 10 % + 0.02 of
    the model's conditional expectations (eq. 13) in every group; totals within 2 %; the
    expected total equals the sum of ``model.expected_purchases``."""
    _, summary, model = simulated
    for by in ("frequency", "recency"):
        table = discrete_conditional_expectations(model, summary, holdout_periods=5, by=by)
        assert table.index.tolist() == list(range(7))
        assert table["n_customers"].sum() == 20_000
        assert np.all(np.abs(table["actual"] - table["expected"]) <= 0.1 * table["expected"] + 0.02), table
        assert table.attrs["actual_total"] == summary["frequency_holdout"].sum()
        assert table.attrs["expected_total"] == pytest.approx(model.expected_purchases(summary, 5).sum(), rel=1e-12)
        assert table.attrs["expected_total"] == pytest.approx(table.attrs["actual_total"], rel=0.02)


def test_conditional_expectations_weights_equal_exploded_rows_and_empty_groups(fitted):
    """Rows standing for several identical customers give the exploded table; groups nobody is
    in are NaN, so every frequency 0..n has a row."""
    rows = pd.DataFrame({"frequency": [0, 2, 6], "recency": [0, 5, 6], "n_periods": 6,
                         "frequency_holdout": [0, 1, 5], "count": [3, 2, 1]})
    weighted = discrete_conditional_expectations(fitted, rows, holdout_periods=5, weights="count")
    exploded = discrete_conditional_expectations(fitted, rows.loc[rows.index.repeat(rows["count"])],
                                                 holdout_periods=5)
    pd.testing.assert_frame_equal(weighted, exploded)
    assert weighted["n_customers"].tolist() == [3, 0, 2, 0, 0, 0, 1]
    assert weighted.loc[[1, 3, 4, 5], ["actual", "expected"]].isna().all().all()


# -- errors --------------------------------------------------------------------------------------

def test_errors_name_the_problem(donations, fitted):
    """Wrong model kind, unfitted model, missing and invalid columns, bad weights and settings."""
    with pytest.raises(TypeError, match="BetaGeoBetaBinomModel.*frequency_distribution"):
        discrete_frequency_distribution(BetaGeoModel.from_params(r=0.2, alpha=4, a=0.8, b=2.4), donations)
    with pytest.raises(NotFittedError, match="call fit"):
        discrete_frequency_distribution(BetaGeoBetaBinomModel(), donations)
    with pytest.raises(MissingColumnError, match="'n_periods'.*discrete_summary"):
        discrete_frequency_distribution(fitted, donations.drop(columns="n_periods"))
    bad = donations.assign(recency=donations["recency"].where(donations.index != 3, 7))
    with pytest.raises(InvalidValueError, match="column 'recency'.*must not exceed n_periods.*1 of 22 rows.*3: 7"):
        discrete_frequency_distribution(fitted, bad, weights="count")
    with pytest.raises(InvalidValueError, match="column 'count'.*2 of 22 rows"):
        discrete_frequency_distribution(fitted, donations.assign(count=donations["count"].where(
            donations.index > 1, -1)), weights="count")
    with pytest.raises(MissingColumnError, match="'weights'"):
        discrete_frequency_distribution(fitted, donations, weights="weights")
    with pytest.raises(ValueError, match="max_frequency=7 exceeds the largest n_periods \\(6\\)"):
        discrete_frequency_distribution(fitted, donations, weights="count", max_frequency=7)
    with pytest.raises(ValueError, match="time unit 'Y'.*'W'"):
        summary = donations.copy()
        summary.attrs["time_unit"] = "W"
        discrete_frequency_distribution(fitted, summary, weights="count")
    with pytest.raises(TypeError, match="pandas DataFrame"):
        discrete_tracking(fitted, donations.to_numpy())


def test_conditional_expectations_errors(fitted):
    calibration = pd.DataFrame({"frequency": [0, 1], "recency": [0, 1], "n_periods": [6, 6],
                                "frequency_holdout": [0, 6]})
    with pytest.raises(InvalidValueError, match="column 'frequency_holdout'.*must not exceed holdout_periods "
                                                "\\(5\\).*1 of 2 rows.*1: 6"):
        discrete_conditional_expectations(fitted, calibration, holdout_periods=5)
    with pytest.raises(MissingColumnError, match="'frequency_holdout'.*holdout opportunities"):
        discrete_conditional_expectations(fitted, calibration.drop(columns="frequency_holdout"), holdout_periods=5)
    with pytest.raises(ValueError, match="by must be one of"):
        discrete_conditional_expectations(fitted, calibration, holdout_periods=6, by="T")
    with pytest.raises(ValueError, match="holdout_periods must be a whole number of at least 1"):
        discrete_conditional_expectations(fitted, calibration, holdout_periods=2.5)
    with pytest.raises(InvalidValueError, match="must be a whole number"):
        discrete_conditional_expectations(fitted, calibration.assign(frequency_holdout=[0.5, 1]), holdout_periods=6)
