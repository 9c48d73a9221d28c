"""Diagnostics tables on small hand-made fixtures: every number computed by hand (fractions in the
comments), plus the errors, and one contract run over every registered purchase model.

The hand fixtures use stand-in models with simple closed-form predictions, so that the tables can
be worked out with pencil and paper; the diagnostics only call the methods every purchase model
shares (``probability_alive``, ``expected_purchases``, ``expected_purchases_grid``,
``expected_purchases_new_customer``, ``probability_of_purchases``) and ``expected_spend``.
"""

from __future__ import annotations

import types

import functools
import math

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import MODELS, BetaGeoModel, GammaGammaModel, calibration_holdout_split
from clvmodels.diagnostics import (churn_scores, conditional_expectations, fit_statistics, frequency_distribution,
                                   holdout_accuracy, holdout_predictions, reliability_table, roc_auc, tracking)
from clvmodels.exceptions import MissingColumnError, NotFittedError


class LinearPurchases:
    """Stand-in purchase model: E[X(T, T+t) | x] = t (x + 1) / 4, P(alive) = 1 / (1 + x),
    E[X(t)] = t / 2 for a new customer, and P(X(t) = n) geometric with mean t:
    (1 - q) q^n with q = t / (1 + t)."""

    kind = "purchase"
    name = "linear"
    time_unit_ = "W"

    def _require_fitted(self):
        return np.array([1.0, 2.0])

    def probability_alive(self, data):
        return pd.Series(1 / (1 + data["frequency"].to_numpy(dtype=float)), index=data.index)

    def expected_purchases(self, data, t):
        return pd.Series(t * (data["frequency"].to_numpy(dtype=float) + 1) / 4, index=data.index)

    def expected_purchases_grid(self, data, t):
        return np.asarray(t, dtype=float)[:, None] * (data["frequency"].to_numpy(dtype=float) + 1) / 4

    def expected_purchases_new_customer(self, t):
        return np.asarray(t, dtype=float) / 2

    def probability_of_purchases(self, t, n):
        q = np.asarray(t, dtype=float) / (1 + np.asarray(t, dtype=float))
        return (1 - q) * q ** np.asarray(n, dtype=float)


class MeanSpend:
    """Stand-in spend model: a repeat customer's calibration mean, 10 for the others."""

    kind = "spend"
    name = "mean_spend"

    def _require_fitted(self):
        return np.array([1.0])

    def expected_spend(self, data):
        f, m = data["frequency"].to_numpy(dtype=float), data["monetary_value"].to_numpy(dtype=float)
        return pd.Series(np.where(f > 0, m, 10.0), index=data.index)


@pytest.fixture
def split() -> pd.DataFrame:
    frame = pd.DataFrame({
        "frequency":              [0.0, 1.0, 2.0, 0.0, 3.0],
        "recency":                [0.0, 2.0, 3.0, 0.0, 1.0],
        "T":                      [4.0, 4.0, 4.0, 2.0, 3.0],
        "monetary_value":         [0.0, 20.0, 10.0, 0.0, 40.0],
        "frequency_holdout":      [0.0, 1.0, 3.0, 2.0, 0.0],
        "monetary_value_holdout": [0.0, 30.0, 10.0, 5.0, 0.0],
        "duration_holdout":       [2.0] * 5,
    }, index=pd.Index(list("abcde"), name="customer_id"))
    frame.attrs["time_unit"] = "W"
    return frame


def assert_table(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=1e-12, atol=1e-14)


# -- holdout accuracy ----------------------------------------------------------------------------

def test_holdout_predictions_by_hand(split):
    """Predicted purchases 2 (x + 1) / 4; spend 10 without calibration repeats; value = product."""
    table = holdout_predictions(LinearPurchases(), split, spend_model=MeanSpend())
    expected = pd.DataFrame({
        "actual_purchases": [0.0, 1.0, 3.0, 2.0, 0.0],
        "predicted_purchases": [0.5, 1.0, 1.5, 0.5, 2.0],
        "actual_spend": [np.nan, 30.0, 10.0, 5.0, np.nan],  # unobserved without holdout purchases
        "predicted_spend": [10.0, 20.0, 10.0, 10.0, 40.0],
        "actual_value": [0.0, 30.0, 30.0, 10.0, 0.0],
        "predicted_value": [5.0, 20.0, 15.0, 5.0, 80.0],
    }, index=split.index)
    assert_table(table, expected)


def test_holdout_accuracy_by_hand(split):
    """Errors (predicted - actual):
    purchases .5, 0, -1.5, -1.5, 2: MAE 5.5/5, RMSE sqrt(8.75/5), totals 6 vs 5.5 (-8.33 %),
    r = -0.1 / sqrt(6.8 * 1.7) = -1/34;
    spend (b, c, d bought): -10, 0, 5: MAE 5, RMSE sqrt(125/3), totals 45 vs 40, r = 150/sqrt(350 * 600/9);
    value 5, -10, -15, -5, 80: MAE 23, RMSE sqrt(6775/5), totals 70 vs 125, r = -650/sqrt(920 * 3950)."""
    table = holdout_accuracy(LinearPurchases(), split, spend_model=MeanSpend())
    expected = pd.DataFrame({
        "n_customers": [5, 3, 5],
        "actual_total": [6.0, 45.0, 70.0],
        "predicted_total": [5.5, 40.0, 125.0],
        "mae": [1.1, 5.0, 23.0],
        "rmse": [math.sqrt(1.75), math.sqrt(125 / 3), math.sqrt(1355.0)],
        "correlation": [-1 / 34, 150 / math.sqrt(350 * 600 / 9), -650 / math.sqrt(920 * 3950)],
        "aggregate_error_pct": [-100 * 0.5 / 6, -100 * 5 / 45, 100 * 55 / 70],
    }, index=pd.Index(["purchases", "spend", "value"], name="target"))
    assert_table(table, expected)
    only_purchases = holdout_accuracy(LinearPurchases(), split)
    assert_table(only_purchases, expected.loc[["purchases"]])


def test_holdout_uses_each_customers_own_holdout_length(split):
    """Different durations are predicted with their own horizon (one grid row per duration)."""
    split["duration_holdout"] = [2.0, 4.0, 2.0, 4.0, 1.0]
    table = holdout_predictions(LinearPurchases(), split)
    np.testing.assert_allclose(table["predicted_purchases"], [0.5, 2.0, 1.5, 1.0, 1.0])


def test_constant_predictions_have_no_correlation(split):
    split["frequency"] = 0.0
    split["recency"] = 0.0
    assert np.isnan(holdout_accuracy(LinearPurchases(), split).loc["purchases", "correlation"])


# -- conditional expectations ------------------------------------------------------------------

def test_conditional_expectations_by_hand(split):
    """Bins 0 (a, d), 1 (b), 2+ (c, e): actual means (0+2)/2, 1, (3+0)/2; expected (.5+.5)/2, 1,
    (1.5+2)/2. A cap above the data leaves empty bins with NaN means."""
    table = conditional_expectations(LinearPurchases(), split, max_frequency=2)
    expected = pd.DataFrame({"n_customers": [2, 1, 2], "actual": [1.0, 1.0, 1.5], "expected": [0.5, 1.0, 1.75]},
                            index=pd.Index(["0", "1", "2+"], name="frequency"))
    assert_table(table, expected)

    wide = conditional_expectations(LinearPurchases(), split, max_frequency=4)
    assert list(wide.index) == ["0", "1", "2", "3", "4+"]
    assert wide["n_customers"].tolist() == [2, 1, 1, 1, 0]
    assert wide.loc["3", "actual"] == 0.0 and wide.loc["3", "expected"] == 2.0
    assert np.isnan(wide.loc["4+", "actual"]) and np.isnan(wide.loc["4+", "expected"])


# -- frequency distribution --------------------------------------------------------------------

def test_frequency_distribution_by_hand(split):
    """T = 4, 4, 4, 2, 3 and P(X(T) = n) = (1 - q) q^n, q = T/(1+T):
    expected 0: 3/5 + 1/3 + 1/4 = 71/60; expected 1: 3 (4/25) + 2/9 + 3/16 = 3203/3600;
    2+: the rest of the 5 customers, 10537/3600. With ddof = 0 the test has 3 - 1 = 2 degrees of
    freedom, whose chi-square upper tail is exp(-x/2)."""
    table = frequency_distribution(LinearPurchases(), split, max_frequency=2, ddof=0)
    e = np.array([71 / 60, 3203 / 3600, 10537 / 3600])
    o = np.array([2, 1, 2])
    expected = pd.DataFrame({"actual": o, "expected": e, "chi_square": (o - e) ** 2 / e},
                            index=pd.Index(["0", "1", "2+"], name="frequency"))
    assert_table(table, expected)
    statistic = float(((o - e) ** 2 / e).sum())
    assert table.attrs["chi_square"] == pytest.approx(statistic, rel=1e-12)
    assert table.attrs["df"] == 2
    assert table.attrs["p_value"] == pytest.approx(math.exp(-statistic / 2), rel=1e-12)
    assert table.attrs["n_customers"] == 5


def test_frequency_distribution_default_ddof_is_the_number_of_parameters(split):
    """Two (stand-in) parameters estimated: 3 bins - 1 - 2 = 0 degrees of freedom, so no p-value."""
    table = frequency_distribution(LinearPurchases(), split, max_frequency=2)
    assert table.attrs["df"] == 0 and np.isnan(table.attrs["p_value"])
    assert frequency_distribution(LinearPurchases(), split, max_frequency=4).attrs["df"] == 2


# -- churn ---------------------------------------------------------------------------------------

def test_churn_scores_by_hand(split):
    """P(alive) 1, 1/2, 1/3, 1, 1/4 for bought-again F, T, T, T, F. Brier: (1 + 1/4 + 4/9 + 0 + 1/16)/5.
    AUC over the 3 x 2 (positive, negative) pairs: b>e, c>e, d=a (half), d>e: 3.5/6."""
    table = churn_scores(LinearPurchases(), split)
    expected = pd.DataFrame({"n_customers": [5], "observed_rate": [0.6], "mean_p_alive": [(1 + 1/2 + 1/3 + 1 + 1/4) / 5],
                             "brier": [(1 + 1/4 + 4/9 + 0 + 1/16) / 5], "roc_auc": [3.5 / 6]},
                            index=pd.Index(["linear"], name="model"))
    assert_table(table, expected)


def test_roc_auc_ties_and_degenerate_cases():
    assert roc_auc([0.1, 0.2, 0.3, 0.4], [False, False, True, True]) == 1.0
    assert roc_auc([0.4, 0.3, 0.2, 0.1], [False, False, True, True]) == 0.0
    assert roc_auc([0.5, 0.5, 0.5, 0.5], [False, True, False, True]) == 0.5  # all tied
    # positives 0.8, 0.5; negatives 0.5, 0.2: pairs 1, 1, 0.5 (tie), 1 -> 3.5 / 4
    assert roc_auc([0.8, 0.5, 0.5, 0.2], [True, True, False, False]) == 0.875
    assert np.isnan(roc_auc([0.1, 0.2], [True, True]))


def test_reliability_table_by_hand(split):
    """Four bins [0, .25), [.25, .5), [.5, .75), [.75, 1]: empty; c (1/3, bought) and e (1/4, did
    not); b (1/2, bought); a and d (1, one of two bought)."""
    table = reliability_table(LinearPurchases(), split, n_bins=4)
    expected = pd.DataFrame({"lower": [0.0, 0.25, 0.5, 0.75], "upper": [0.25, 0.5, 0.75, 1.0],
                             "n_customers": [0, 2, 1, 2], "mean_predicted": [np.nan, 7 / 24, 0.5, 1.0],
                             "observed_rate": [np.nan, 0.5, 1.0, 0.5]},
                            index=pd.RangeIndex(4, name="bin"))
    assert_table(table, expected)
    with pytest.raises(ValueError, match="n_bins"):
        reliability_table(LinearPurchases(), split, n_bins=0)


# -- tracking ----------------------------------------------------------------------------------

@pytest.fixture
def log() -> pd.DataFrame:
    rows = [("A", "2020-01-01"), ("A", "2020-01-03 09:00"), ("A", "2020-01-03 17:00"), ("A", "2020-01-06"),
            ("B", "2020-01-02"), ("B", "2020-01-05"),
            ("C", "2020-01-07"), ("C", "2020-01-08")]  # C is first seen in the holdout: not in the cohort
    frame = pd.DataFrame(rows, columns=["customer_id", "date"])
    frame["date"] = pd.to_datetime(frame["date"], format="ISO8601")
    return frame


TRACK = dict(customer_id_col="customer_id", datetime_col="date", calibration_period_end="2020-01-04",
             observation_period_end="2020-01-08", freq="D", time_unit="D")


def stub_in_days():
    model = LinearPurchases()
    model.time_unit_ = "D"
    return model


def test_tracking_by_hand(log):
    """Day offsets from 1 Jan: A buys on days 0, 2 (twice: one occasion), 5; B on days 1, 4.
    Two-day periods laid out from the calibration end (day 3) end on days 1, 3, 5, 7. Repeat
    occasions: day 2 (period 2), days 4 and 5 (period 3). Expected cumulative, E[X(t)] = t/2 with
    ages (end - first) of A and B: (1 + 0)/2, (3 + 2)/2, (5 + 4)/2, (7 + 6)/2."""
    table = tracking(stub_in_days(), log, **TRACK, period_length=2)
    expected = pd.DataFrame({
        "actual_incremental": [0, 1, 2, 0],
        "expected_incremental": [0.5, 2.0, 2.0, 2.0],
        "actual_cumulative": [0, 1, 3, 3],
        "expected_cumulative": [0.5, 2.5, 4.5, 6.5],
        "period": ["calibration", "calibration", "holdout", "holdout"],
    }, index=pd.RangeIndex(1, 5, name="week"))
    assert_table(table, expected)
    assert table.attrs == {"time_unit": "D", "period_length": 2, "n_customers": 2, "calibration_periods": 2}


def test_tracking_agrees_with_the_split(log):
    """Actual totals at the calibration end and at the end are the split's sums of frequency and
    frequency_holdout; the expected total at the calibration end is sum_i E[X(T_i)]."""
    table = tracking(stub_in_days(), log, **TRACK, period_length=1)
    split = calibration_holdout_split(log, **{k: v for k, v in TRACK.items()})
    at_cal_end = table[table["period"] == "calibration"].iloc[-1]
    assert at_cal_end["actual_cumulative"] == split["frequency"].sum() == 1
    assert table["actual_cumulative"].iloc[-1] - at_cal_end["actual_cumulative"] == split["frequency_holdout"].sum()
    assert at_cal_end["expected_cumulative"] == pytest.approx(split["T"].sum() / 2)
    assert len(table) == 8 and table.attrs["calibration_periods"] == 4


def test_tracking_last_period_may_be_short(log):
    """Three-day periods ending on days 0, 3, 6 and, cut at the observation end, 7."""
    table = tracking(stub_in_days(), log, **TRACK, period_length=3)
    np.testing.assert_allclose(table["expected_cumulative"], [0.0, 2.5, 5.5, 6.5])
    assert table["actual_incremental"].tolist() == [0, 1, 2, 0]


def test_tracking_errors(log):
    with pytest.raises(ValueError, match="whole number of 'D' periods"):
        tracking(stub_in_days(), log, **TRACK, period_length=1.5)
    with pytest.raises(ValueError, match="time unit 'D'"):
        tracking(stub_in_days(), log, **{**TRACK, "time_unit": "W"})
    with pytest.raises(ValueError, match="must be before observation_period_end"):
        tracking(stub_in_days(), log, **{**TRACK, "calibration_period_end": "2020-01-09"})


# -- fit statistics ----------------------------------------------------------------------------

def test_fit_statistics_by_hand():
    """AIC = 2k - 2LL, BIC = k log(n) - 2LL (k = 4, n = 2357 for BG/NBD on CDNOW, LL = -9582.4
    published by Fader, Hardie & Lee 2005); from_params models have no likelihood."""
    summary = clvmodels.datasets.load_cdnow_summary()
    bgnbd, gg = BetaGeoModel().fit(summary), GammaGammaModel().fit(summary)
    known = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    table = fit_statistics({"bg": bgnbd, "gg": gg, "paper": known})
    assert list(table.columns) == ["kind", "n_params", "n_customers", "log_likelihood", "aic", "bic",
                                   "delta_aic", "delta_bic"]
    ll = table.loc["bg", "log_likelihood"]
    assert ll == pytest.approx(-9582.4, abs=0.05)
    assert table.loc["bg", "aic"] == pytest.approx(8 - 2 * ll, rel=1e-12)
    assert table.loc["bg", "bic"] == pytest.approx(4 * math.log(2357) - 2 * ll, rel=1e-12)
    assert table.loc["bg", ["n_params", "n_customers"]].tolist() == [4, 2357.0]
    assert table.loc["gg", ["kind", "n_params", "n_customers"]].tolist() == ["spend", 3, 946.0]
    assert table.loc["gg", "aic"] == pytest.approx(6 - 2 * table.loc["gg", "log_likelihood"], rel=1e-12)
    assert table.loc["bg", "delta_aic"] == 0 and table.loc["gg", "delta_aic"] == 0  # compared within a kind
    assert table.loc["paper"].isna()[["n_customers", "log_likelihood", "aic", "bic", "delta_aic"]].all()

    by_name = fit_statistics([bgnbd, gg])
    assert list(by_name.index) == ["bgnbd", "gamma_gamma"]
    with pytest.raises(ValueError, match="pass a dict"):
        fit_statistics([bgnbd, bgnbd])
    with pytest.raises(NotFittedError):
        fit_statistics([BetaGeoModel()])
    with pytest.raises(ValueError, match="empty"):
        fit_statistics([])


# -- errors --------------------------------------------------------------------------------------

def test_errors_name_the_problem(split):
    with pytest.raises(TypeError, match="purchase_model must be a fitted purchase model"):
        conditional_expectations(MeanSpend(), split)
    with pytest.raises(TypeError, match="spend_model must be a fitted spend model"):
        holdout_accuracy(LinearPurchases(), split, spend_model=LinearPurchases())
    with pytest.raises(NotFittedError):
        conditional_expectations(BetaGeoModel(), split)
    with pytest.raises(MissingColumnError, match="frequency_holdout"):
        conditional_expectations(LinearPurchases(), split.drop(columns="frequency_holdout"))
    with pytest.raises(MissingColumnError, match="monetary_value_holdout"):
        holdout_accuracy(LinearPurchases(), split.drop(columns="monetary_value_holdout"), spend_model=MeanSpend())
    with pytest.raises(ValueError, match="max_frequency"):
        conditional_expectations(LinearPurchases(), split, max_frequency=0)
    daily = split.copy()
    daily.attrs["time_unit"] = "D"
    with pytest.raises(ValueError, match="time unit 'W'"):
        churn_scores(LinearPurchases(), daily)
    with pytest.raises(NotImplementedError):
        frequency_distribution(_WithoutPmf.from_params(r=0.2, alpha=4.0, a=0.8, b=2.4), split)


class _WithoutPmf(BetaGeoModel):
    """A purchase model whose maths lacks P(X(t) = n) (as a model added later might)."""

    name = "no_pmf"

    # BG/NBD's maths module without probability_of_purchases (a SimpleNamespace stands in for it)
    maths = types.SimpleNamespace(**{k: v for k, v in vars(BetaGeoModel.maths).items()
                                     if k != "probability_of_purchases" and not k.startswith("__")})


# -- every registered purchase model -----------------------------------------------------------

PURCHASE_MODELS = [pytest.param(cls, id=name) for name, cls in MODELS.items() if cls.kind == "purchase"]
CDNOW_ARGS = dict(customer_id_col="customer_id", datetime_col="date",
                  calibration_period_end=clvmodels.datasets.CDNOW_CALIBRATION_END,
                  observation_period_end=clvmodels.datasets.CDNOW_OBSERVATION_END)


@functools.cache
def cdnow():
    tx = clvmodels.datasets.load_cdnow_transactions()
    return tx, calibration_holdout_split(tx, **CDNOW_ARGS, monetary_value_col="amount")


@functools.cache
def fitted(cls):
    return cls().fit(cdnow()[1])


@pytest.mark.parametrize("cls", PURCHASE_MODELS)
def test_every_diagnostic_runs_for_every_purchase_model(cls):
    """Each table is consistent with the others and with the split, whatever the model: counts
    add up to the customers, the conditional means reproduce the holdout totals, tracking's totals
    are the split's, and its expected total at the calibration end is sum_i E[X(T_i)]."""
    tx, split = cdnow()
    model = fitted(cls)
    accuracy = holdout_accuracy(model, split)
    conditional = conditional_expectations(model, split)
    assert conditional["n_customers"].sum() == len(split)
    assert (conditional["n_customers"] * conditional["actual"]).sum() == pytest.approx(accuracy.loc["purchases", "actual_total"])
    assert (conditional["n_customers"] * conditional["expected"]).sum() == pytest.approx(
        accuracy.loc["purchases", "predicted_total"], rel=1e-12)
    track = tracking(model, tx, **CDNOW_ARGS)
    assert len(track) == 78 and track.attrs["calibration_periods"] == 39
    assert track.loc[39, "actual_cumulative"] == split["frequency"].sum()
    assert track.loc[78, "actual_cumulative"] - track.loc[39, "actual_cumulative"] == split["frequency_holdout"].sum()
    assert track.loc[39, "expected_cumulative"] == pytest.approx(
        model.expected_purchases_new_customer(split["T"].to_numpy()).sum(), rel=1e-12)
    assert np.all(np.diff(track["expected_cumulative"]) >= 0)
    scores = churn_scores(model, split)
    assert 0 <= scores.iloc[0]["brier"] <= 1 and 0 <= scores.iloc[0]["roc_auc"] <= 1
    assert reliability_table(model, split)["n_customers"].sum() == len(split)
    frequency = frequency_distribution(model, split)
    assert frequency["actual"].sum() == len(split)
    assert frequency["expected"].sum() == pytest.approx(len(split), rel=1e-12)
    assert (frequency["expected"] > 0).all()
