"""sBG: published estimates and projections, an independent mpmath fit, DERL against brute-force
sums and the published closed form, invariances, simulation and error paths.

References
----------
Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention. Journal of
Interactive Marketing 21(1), 76-90. Data printed in the paper: two cohorts of 1,000 customers,
"regular" and "high end", and the number still active after each of 12 yearly renewals; the model is fitted to years 1-7 and projected over years 8-12. MLE: regular
alpha = 0.704, beta = 1.182; high end alpha = 0.668, beta = 3.806.

Fader, P. S. and Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
perils of ignoring heterogeneity. Marketing Science 29(1), 85-93. Eq. (6): DERL of a customer who
has made n - 1 renewals, at the end of period n just before the renewal decision,
B(alpha, beta + n) / B(alpha, beta + n - 1) 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d)).
"""

from __future__ import annotations

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import optimize

from clvmodels import MODELS, ShiftedBetaGeoModel
from clvmodels.exceptions import BoundaryWarning, InvalidValueError, MissingColumnError, NotFittedError
from clvmodels.likelihoods import sbg

#: Fader & Hardie (2007): customers still active at the start of years 1-13 (year 0 is
#: acquisition). The first 8 numbers (7 renewals) are the calibration data, the rest the holdout.
SURVIVORS = {
    "regular": [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173],
    "high_end": [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394],
}
#: Fader & Hardie (2007), the estimates printed for the 7-year calibration period.
PUBLISHED = {"regular": {"alpha": 0.704, "beta": 1.182}, "high_end": {"alpha": 0.668, "beta": 3.806}}
PRINTED_PRECISION = 5e-4  # half a unit in the third decimal


def _cohort_rows(cohort: str) -> pd.DataFrame:
    return ShiftedBetaGeoModel.rows_from_survival(SURVIVORS[cohort][:8])


def _mp_lifetime_pmf(alpha, beta, t):
    """P(T = t) by the forward recursion of Fader & Hardie (2007), in mpmath: P(T = 1) =
    alpha / (alpha + beta), P(T = t) = P(T = t - 1) (beta + t - 2) / (alpha + beta + t - 1)."""
    p = alpha / (alpha + beta)
    for s in range(2, t + 1):
        p *= (beta + s - 2) / (alpha + beta + s - 1)
    return p


def _mp_cohort_loglik(alpha, beta, survivors):
    """The paper's log-likelihood written out directly, in mpmath: customers lost in year t
    contribute log P(T = t), the survivors log(1 - sum of P(T = t)) (no beta functions)."""
    alpha, beta = mpmath.mpf(alpha), mpmath.mpf(beta)
    k = len(survivors) - 1
    pmf = [_mp_lifetime_pmf(alpha, beta, t) for t in range(1, k + 1)]
    total = sum((survivors[t - 1] - survivors[t]) * mpmath.log(pmf[t - 1]) for t in range(1, k + 1))
    return total + survivors[k] * mpmath.log(1 - sum(pmf))


def _mp_residual_sum(alpha, beta, tenure, d):
    """DERL by brute force in 30-digit mpmath: the sum of P(renew at the k-th next decision |
    active after ``tenure``) / (1 + d)^k over k >= 0, until the terms fall below 1e-22 of it."""
    with mpmath.workdps(30):
        alpha, b, z = mpmath.mpf(alpha), mpmath.mpf(beta) + tenure, 1 / (1 + mpmath.mpf(d))
        total, term, k = mpmath.mpf(0), mpmath.mpf(1), 0
        while True:
            term *= (b + k) / (alpha + b + k) * (z if k else 1)
            total += term
            k += 1
            if term < total * mpmath.mpf(10) ** -22:
                return float(total)


@pytest.fixture(scope="module", params=list(SURVIVORS))
def cohort(request):
    return request.param


@pytest.fixture(scope="module")
def fitted(cohort):
    return ShiftedBetaGeoModel().fit(_cohort_rows(cohort), weights="count")


# -- reference values ----------------------------------------------------------------------------

def test_fit_reproduces_fader_hardie_2007_estimates(cohort, fitted):
    """Fader & Hardie (2007): regular alpha = 0.704, beta = 1.182; high end alpha = 0.668,
    beta = 3.806 (first 7 years of each cohort). Checked to the printed precision."""
    for name, value in PUBLISHED[cohort].items():
        assert abs(fitted.params_[name] - value) <= PRINTED_PRECISION, (name, fitted.params_[name])
    assert fitted.n_customers_ == 1000 and fitted.time_unit_ is None


def test_fit_matches_an_independent_mpmath_maximisation(cohort, fitted):
    """Independent implementation: the paper's log-likelihood with the recursion for P(T = t) and
    1 - sum P(T = t) for the survivors, in mpmath (no beta functions, no gradient), maximised by
    Nelder-Mead on the log scale. The maximum itself is printed to more digits here than in the
    paper (regular LL = -1680.2652, high end LL = -1611.1581; computed, not published)."""
    survivors = SURVIVORS[cohort][:8]

    def negative(theta):
        return -float(_mp_cohort_loglik(np.exp(theta[0]), np.exp(theta[1]), survivors))

    result = optimize.minimize(negative, np.log(list(PUBLISHED[cohort].values())), method="Nelder-Mead",
                               options={"xatol": 1e-9, "fatol": 1e-11, "maxiter": 2000})
    np.testing.assert_allclose(fitted.params_.to_numpy(), np.exp(result.x), rtol=2e-6)
    assert fitted.log_likelihood_ == pytest.approx(-result.fun, abs=1e-7)
    expected_ll = {"regular": -1680.2652, "high_end": -1611.1581}[cohort]
    assert fitted.log_likelihood_ == pytest.approx(expected_ll, abs=5e-5)


def test_projection_from_published_estimates_tracks_the_holdout_years(cohort):
    """Survivors projected over years 8-12 from the published estimates: equal to the product of
    the retention rates computed independently in mpmath, and, as Fader & Hardie (2007) report
    (their plot of actual vs projected survival), close to the actual holdout counts of the paper
    (within 5 %; the high-end projection runs a little low: 378 vs 394 in year 12)."""
    model = ShiftedBetaGeoModel.from_params(PUBLISHED[cohort])
    years = np.arange(13)
    projected = 1000 * model.survival(years)
    alpha, beta = (mpmath.mpf(v) for v in PUBLISHED[cohort].values())
    independent = [1000 * float(mpmath.fprod((beta + t - 1) / (alpha + beta + t - 1)
                                             for t in range(1, n + 1))) for n in years]
    np.testing.assert_allclose(projected, independent, rtol=1e-13)
    actual = np.array(SURVIVORS[cohort], dtype=float)
    np.testing.assert_allclose(projected[8:], actual[8:], rtol=0.05)
    assert np.max(np.abs(projected[1:8] / actual[1:8] - 1)) < 0.03  # the calibration fit


def test_published_estimates_value_the_customers_as_the_brute_force_sum(cohort):
    """DERL at d = 10 % for the customers of each cohort after 0-7 renewals: the model equals the
    brute-force sum (30-digit mpmath) and rises with tenure, the point of Fader & Hardie (2010)."""
    model = ShiftedBetaGeoModel.from_params(PUBLISHED[cohort])
    tenure = np.arange(8)
    derl = model.discounted_expected_residual_lifetime({"tenure": tenure}, discount_rate=0.1).to_numpy()
    expected = [_mp_residual_sum(*PUBLISHED[cohort].values(), n, 0.1) for n in tenure]
    np.testing.assert_allclose(derl, expected, rtol=1e-12)
    assert np.all(np.diff(derl) > 0)


# -- DERL: formula and convention ----------------------------------------------------------------

@pytest.mark.parametrize("params", [(0.704, 1.182), (0.668, 3.806), (2.5, 0.4), (1.0, 1.0)])
@pytest.mark.parametrize("d", [0.05, 0.1, 0.5])
def test_derl_is_fader_hardie_2010_equation_6_and_a_truncated_sum(params, d):
    """Three routes to the same number for customers with 0, 1, 4 and 20 renewals made:
    the published closed form (eq. 6, with n - 1 = tenure) by mpmath's hyp2f1; the truncated sum
    of future payments written with the model's own survival curve, the first (at the next renewal)
    undiscounted; and the model."""
    tenure = np.array([0, 1, 4, 20])
    got = sbg.derl(params, tenure, d)
    alpha, beta = params
    for n_minus_1, value in zip(tenure, got):
        n = n_minus_1 + 1
        closed = (mpmath.beta(alpha, beta + n) / mpmath.beta(alpha, beta + n - 1)
                  * mpmath.hyp2f1(1, beta + n, alpha + beta + n, 1 / (1 + mpmath.mpf(d))))
        assert value == pytest.approx(float(closed), rel=1e-12)
        k = np.arange(3000.0)
        payments = sbg.survival(params, n + k) / sbg.survival(params, n - 1)  # P(pays at renewal n + k)
        assert value == pytest.approx(np.sum(payments * (1 + d) ** -k), rel=1e-12)


def test_new_customer_value_is_one_payment_plus_discounted_derl():
    """Consistency with the discounted expected lifetime of a new customer (Fader & Hardie 2010),
    DEL = 2F1(1, beta; alpha + beta; 1 / (1 + d)) = sum_{t >= 0} S(t) / (1 + d)^t: the first
    payment at acquisition, then the customer after 0 renewals valued one period later."""
    alpha, beta, d = 0.668, 3.806, 0.1
    del_ = float(mpmath.hyp2f1(1, beta, alpha + beta, 1 / (1 + mpmath.mpf(d))))
    assert 1 + sbg.derl((alpha, beta), 0, d) / (1 + d) == pytest.approx(del_, rel=1e-12)


@pytest.mark.parametrize("alpha, beta, tenure, d", [
    (0.704, 1.182, 1000, 0.001),  # long tenure, small rate: scipy's hyp2f1 returns NaN here
    (1.0, 0.05, 0, 0.001),        # scipy's hyp2f1 returns a wrong finite value here
    (0.05, 2000.0, 5, 0.01),
    (300.0, 40.0, 50, 0.1),
    (0.01, 0.01, 100000, 0.5),
    (1e4, 0.01, 0, 1.0),
])
def test_derl_stays_accurate_where_scipy_hyp2f1_fails(alpha, beta, tenure, d):
    """Extreme parameters against 30-digit mpmath sums (SciPy 1.17.1's hyp2f1 gives NaN or a
    wrong value on the closed form for the first two)."""
    expected = _mp_residual_sum(alpha, beta, tenure, d)
    assert sbg.derl((alpha, beta), tenure, d) == pytest.approx(expected, rel=1e-11)


def test_zero_discount_rate_gives_the_expected_remaining_lifetime():
    """At d = 0 DERL is the expected number of further renewals, (beta + n) / (alpha - 1), which a
    tiny rate approaches; infinite for alpha <= 1."""
    model = ShiftedBetaGeoModel.from_params(alpha=2.5, beta=4.0)
    data = pd.DataFrame({"tenure": [0, 3, 10, 2], "churned": [0, 0, 0, 1]})
    expected = np.array([4.0, 7.0, 14.0, 0.0]) / 1.5 * np.array([1, 1, 1, 0])
    np.testing.assert_allclose(model.expected_remaining_lifetime(data), expected, rtol=1e-15)
    np.testing.assert_allclose(model.discounted_expected_residual_lifetime(data, 0), expected, rtol=1e-15)
    np.testing.assert_allclose(model.discounted_expected_residual_lifetime(data, 1e-7), expected, rtol=1e-5)
    heavy = ShiftedBetaGeoModel.from_params(alpha=0.704, beta=1.182)
    assert np.isinf(heavy.expected_remaining_lifetime({"tenure": [3]})).all()


def test_customer_lifetime_value_is_derl_times_contract_value():
    model = ShiftedBetaGeoModel.from_params(alpha=0.668, beta=3.806)
    data = pd.DataFrame({"tenure": [0, 7, 3], "churned": [0, 0, 1]}, index=["a", "b", "c"])
    derl = model.discounted_expected_residual_lifetime(data, discount_rate=0.1)
    assert derl["c"] == 0.0 and list(derl.index) == ["a", "b", "c"]
    clv = model.customer_lifetime_value(data, contract_value=100.0, discount_rate=0.1)
    pd.testing.assert_series_equal(clv, (100 * derl).rename("clv"))
    per_row = model.customer_lifetime_value(data, contract_value=[10.0, 20.0, 30.0], discount_rate=0.1)
    np.testing.assert_allclose(per_row, derl * [10.0, 20.0, 30.0])
    # without a churned column every customer is active
    active = model.discounted_expected_residual_lifetime(data[["tenure"]], discount_rate=0.1)
    assert active["c"] == pytest.approx(sbg.derl((0.668, 3.806), 3, 0.1))


# -- likelihood and fit --------------------------------------------------------------------------

@pytest.mark.parametrize("params", [(0.704, 1.182), (0.05, 20.0), (40.0, 0.3), (3.0, 3000.0)])
def test_analytic_gradient_equals_finite_differences(params):
    """Fourth-order central differences of the per-row log-likelihood, both parameters, on
    churned and censored rows from tenure 0 to 500."""
    tenure = np.array([1, 1, 2, 7, 7, 30, 500, 0, 500], dtype=float)
    churned = np.array([1, 0, 1, 1, 0, 0, 1, 0, 0], dtype=float)
    grad = sbg.loglik_grad(params, tenure, churned)
    for k in range(2):
        h = 1e-3 * params[k]

        def at(delta):
            shifted = np.array(params, dtype=float)
            shifted[k] += delta
            return sbg.loglik(shifted, tenure, churned)

        numeric = (-at(2 * h) + 8 * at(h) - 8 * at(-h) + at(-2 * h)) / (12 * h)
        np.testing.assert_allclose(grad[:, k], numeric, rtol=1e-7, atol=1e-9)


def test_loglik_is_the_cohort_likelihood():
    """Per-row terms: log P(T = t) = log B(alpha+1, beta+t-1) - log B(alpha, beta) for churned
    rows, log S(t) for active ones, equal to the mpmath recursion."""
    alpha, beta = 0.668, 3.806
    rows = _cohort_rows("high_end")
    total = rows["count"].to_numpy() @ sbg.loglik((alpha, beta), rows["tenure"], rows["churned"])
    assert total == pytest.approx(float(_mp_cohort_loglik(alpha, beta, SURVIVORS["high_end"][:8])), rel=1e-13)


def test_counts_give_the_same_fit_as_exploded_rows():
    """One row per customer (1,000 rows) and the 8 weighted rows give the same estimates and LL."""
    rows = _cohort_rows("regular")
    exploded = rows.loc[rows.index.repeat(rows["count"]), ["tenure", "churned"]].reset_index(drop=True)
    assert len(exploded) == 1000
    weighted = ShiftedBetaGeoModel().fit(rows, weights="count")
    single = ShiftedBetaGeoModel().fit(exploded.sample(frac=1.0, random_state=3))
    np.testing.assert_allclose(single.params_, weighted.params_, rtol=1e-10)
    assert single.log_likelihood_ == pytest.approx(weighted.log_likelihood_, rel=1e-12)


def test_cohorts_of_different_ages_can_be_stacked():
    """Rows of several cohorts (observed for 7, 4 and 2 renewals) fit together; time_unit is kept."""
    survivors = SURVIVORS["high_end"]
    parts = [ShiftedBetaGeoModel.rows_from_survival(survivors[: k + 1], time_unit="Y") for k in (7, 4, 2)]
    stacked = pd.concat(parts, ignore_index=True)
    stacked.attrs["time_unit"] = "Y"
    model = ShiftedBetaGeoModel().fit(stacked, weights="count")
    assert model.n_customers_ == 3000 and model.time_unit_ == "Y"
    assert 0.3 < model.params_["alpha"] < 1.5  # close to the one-cohort fit, more data at short tenure


def test_rows_from_survival_layout():
    rows = ShiftedBetaGeoModel.rows_from_survival([1000, 869, 743])
    assert rows.to_dict("list") == {"tenure": [1, 2, 2], "churned": [1, 1, 0], "count": [131, 126, 743]}
    shares = ShiftedBetaGeoModel.rows_from_survival([1.0, 0.869, 0.743])
    np.testing.assert_allclose(shares["count"], [0.131, 0.126, 0.743])


# -- curves ---------------------------------------------------------------------------------------

@given(alpha=st.floats(0.01, 100.0), beta=st.floats(0.01, 100.0))
def test_survival_falls_and_retention_rises_with_tenure(alpha, beta):
    model = ShiftedBetaGeoModel.from_params(alpha=alpha, beta=beta)
    t = np.arange(0, 60)
    s = model.survival(t)
    r = model.retention_rate(t[1:])
    assert s[0] == 1.0 and np.all(np.diff(s) < 0) and np.all(s > 0)
    assert np.all(np.diff(r) > 0) and np.all((0 < r) & (r < 1))
    np.testing.assert_allclose(s[1:], np.cumprod(r), rtol=1e-10)  # S(t) = r_1 ... r_t
    np.testing.assert_allclose(model.churn_rate(t[1:]), 1 - r, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(sbg.lifetime_pmf((alpha, beta), t[1:]), -np.diff(s), rtol=1e-9)


def test_simulation_matches_the_survival_curve():
    """Share of 200,000 simulated customers still active after t decisions vs S(t) (within 4
    binomial standard errors); observation stops at 10 decisions."""
    params = (0.704, 1.182)
    data = ShiftedBetaGeoModel.simulate(dict(zip(("alpha", "beta"), params)), 200_000, 10,
                                        rng=np.random.default_rng(7))
    assert data["tenure"].between(1, 10).all() and not ((data["tenure"] < 10) & (data["churned"] == 0)).any()
    for t in (1, 3, 10):
        alive = ((data["tenure"] > t) | ((data["tenure"] == t) & (data["churned"] == 0))).mean()
        s = sbg.survival(params, t)
        assert abs(alive - s) < 4 * np.sqrt(s * (1 - s) / len(data))


# -- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("column, values, message", [
    ("churned", [0, 2, 1], r"column 'churned': must be 1 .* or 0 .*1 of 3 rows"),
    ("churned", [0, "yes", 1], r"column 'churned'"),
    ("churned", [0, np.nan, 1], r"column 'churned'"),
    ("tenure", [3, -1, 2], r"column 'tenure': must be a whole number of renewal decisions"),
    ("tenure", [3, 2.5, 2], r"column 'tenure': must be a whole number"),
    ("tenure", [3, 0, 2], r"column 'tenure': must be at least 1 where churned is 1"),
])
def test_bad_rows_are_reported_with_their_column(column, values, message):
    data = pd.DataFrame({"tenure": [3, 0, 2], "churned": [1, 1, 0]})
    data = data.assign(**{column: values}) if column == "churned" else data.assign(tenure=values, churned=1)
    with pytest.raises(InvalidValueError, match=message):
        ShiftedBetaGeoModel().fit(data)


def test_active_customers_may_have_zero_tenure_and_missing_columns_are_named():
    rows = _cohort_rows("regular")
    newcomers = pd.DataFrame({"tenure": [0], "churned": [0], "count": [400]})
    with_new = ShiftedBetaGeoModel().fit(pd.concat([rows, newcomers]), weights="count")
    without = ShiftedBetaGeoModel().fit(rows, weights="count")
    # a customer still in the first period is valid data, and carries no information (S(0) = 1)
    np.testing.assert_allclose(with_new.params_, without.params_, rtol=1e-8)
    data = rows[["tenure", "churned"]]
    with pytest.raises(MissingColumnError, match=r"'churned'.*rows_from_survival"):
        ShiftedBetaGeoModel().fit(data[["tenure"]])
    with pytest.raises(MissingColumnError, match=r"'tenure' \(did you mean 'Tenure'\?\)"):
        ShiftedBetaGeoModel().fit(data.rename(columns={"tenure": "Tenure"}))


@pytest.mark.parametrize("survivors, message", [
    ([1000, 1100, 900], r"must not increase .* 1: 1000 -> 1100"),
    ([1000], "at least two"),
    ([0, 0], "positive cohort size"),
    ([1000, -5], "non-negative"),
    (["a", "b"], "at least two finite numbers"),
])
def test_rows_from_survival_rejects_impossible_counts(survivors, message):
    with pytest.raises(InvalidValueError, match=message):
        ShiftedBetaGeoModel.rows_from_survival(survivors)


def test_prediction_arguments_are_checked():
    model = ShiftedBetaGeoModel.from_params(alpha=0.7, beta=1.2)
    with pytest.raises(ValueError, match="discount_rate must be"):
        model.discounted_expected_residual_lifetime({"tenure": [1]}, discount_rate=-0.1)
    with pytest.raises(ValueError, match="t must be whole numbers of periods, 1 or more"):
        model.retention_rate([0, 1])
    with pytest.raises(ValueError, match="t must be whole numbers of periods, 0 or more"):
        model.survival([1.5])
    with pytest.raises(ValueError, match="contract_value must be one finite number or 2"):
        model.customer_lifetime_value({"tenure": [1, 2]}, contract_value=[1.0, 2.0, 3.0], discount_rate=0.1)
    with pytest.raises(NotFittedError, match=r"call fit\("):
        ShiftedBetaGeoModel().survival([1])


def test_no_cancellations_warn_at_the_boundary():
    data = pd.DataFrame({"tenure": [1, 2, 3, 4], "churned": [0, 0, 0, 0], "count": [50, 40, 30, 20]})
    with pytest.warns(BoundaryWarning):
        ShiftedBetaGeoModel().fit(data, weights="count")


def test_registered_as_a_retention_model():
    assert MODELS["sbg"] is ShiftedBetaGeoModel and ShiftedBetaGeoModel.kind == "retention"
    assert ShiftedBetaGeoModel.rate_params == ()
