"""sBG survival table: hand-computed values, the two cohorts of Fader & Hardie (2007) fitted on
years 1-7 and projected over years 8-12, invariances and errors.

References
----------
Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention. Journal of
Interactive Marketing 21(1), 76-90. Survivors of two cohorts of 1,000 customers over 12 yearly
renewals ("regular", "high end"; the same counts as tests/test_sbg.py); the model is fitted to
years 1-7 (MLE regular alpha = 0.704, beta = 1.182; high end alpha = 0.668, beta = 3.806) and
projects years 8-12. S(t) = B(alpha, beta + t) / B(alpha, beta); r(t) = (beta + t - 1) /
(alpha + beta + t - 1), eq. (8).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoBetaBinomModel, ShiftedBetaGeoModel
from clvmodels.diagnostics import survival_table
from clvmodels.exceptions import InvalidValueError, NotFittedError

SURVIVORS = {
    "regular": [1000, 631, 468, 382, 326, 289, 262, 241, 223, 207, 194, 183, 173],
    "high_end": [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394],
}
PUBLISHED = {"regular": {"alpha": 0.704, "beta": 1.182}, "high_end": {"alpha": 0.668, "beta": 3.806}}


def test_survival_table_by_hand():
    """alpha = beta = 1 (theta uniform): S(t) = 1/(t+1), r(t) = t/(t+1). Survivors 1000, 500, 340,
    250 with the first 2 renewals as calibration: expected 1000, 500, 333.33, 250; actual retention
    -, 0.5, 0.68, 250/340; MAPE calibration (0 + |333.33/340 - 1|) / 2 = 0.98 %, holdout 0 %."""
    model = ShiftedBetaGeoModel.from_params(alpha=1.0, beta=1.0)
    table = survival_table(model, [1000, 500, 340, 250], calibration_periods=2)
    assert table.index.name == "tenure" and table.index.tolist() == [0, 1, 2, 3]
    assert table["actual_survivors"].tolist() == [1000, 500, 340, 250]
    np.testing.assert_allclose(table["expected_survivors"], [1000, 500, 1000 / 3, 250], rtol=1e-13)
    np.testing.assert_allclose(table["expected_survival"], [1, 1 / 2, 1 / 3, 1 / 4], rtol=1e-13)
    np.testing.assert_allclose(table["actual_survival"], [1, 0.5, 0.34, 0.25])
    np.testing.assert_allclose(table["actual_retention"], [np.nan, 0.5, 0.68, 250 / 340])
    np.testing.assert_allclose(table["expected_retention"], [np.nan, 1 / 2, 2 / 3, 3 / 4], rtol=1e-13)
    assert table["period"].tolist() == ["calibration"] * 3 + ["holdout"]
    assert table.attrs["calibration_periods"] == 2 and table.attrs["n_customers"] == 1000
    assert table.attrs["mape_calibration"] == pytest.approx(100 * (1 - 1000 / 3 / 340) / 2, rel=1e-12)
    assert table.attrs["mape_holdout"] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("cohort", list(SURVIVORS))
def test_fader_hardie_2007_fit_on_seven_years_projects_the_next_five(cohort):
    """The paper's central check: fit on years 1-7 (the published estimates, to their printed
    precision), project years 8-12. Expected survivors are 1,000 times the product of the
    retention rates (eq. 8, computed here directly); the projection is within 5 % of the actual
    holdout counts (high end 378 projected vs 394 actual in year 12; regular 170 vs 173; computed
    from the fit, the paper shows them as curves), within 3 % in the calibration years, and the
    expected retention rate rises with tenure."""
    survivors = SURVIVORS[cohort]
    model = ShiftedBetaGeoModel().fit(ShiftedBetaGeoModel.rows_from_survival(survivors[:8]), weights="count")
    for name, value in PUBLISHED[cohort].items():
        assert abs(model.params_[name] - value) <= 5e-4
    table = survival_table(model, survivors, calibration_periods=7)
    alpha, beta = model.params_["alpha"], model.params_["beta"]
    rates = [(beta + t - 1) / (alpha + beta + t - 1) for t in range(1, 13)]
    np.testing.assert_allclose(table["expected_survivors"], 1000 * np.cumprod([1.0] + rates), rtol=1e-12)
    np.testing.assert_allclose(table["expected_retention"].iloc[1:], rates, rtol=1e-13)
    holdout = table[table["period"] == "holdout"]
    assert holdout.index.tolist() == [8, 9, 10, 11, 12]
    np.testing.assert_allclose(holdout["expected_survivors"], holdout["actual_survivors"], rtol=0.05)
    calibration = table.loc[1:7]
    np.testing.assert_allclose(calibration["expected_survivors"], calibration["actual_survivors"], rtol=0.03)
    assert round(table.loc[12, "expected_survivors"]) == {"high_end": 378, "regular": 170}[cohort]
    assert np.all(np.diff(table["expected_retention"].iloc[1:]) > 0)
    assert table.attrs["mape_holdout"] < 5 and table.attrs["mape_calibration"] < 3


def test_shares_and_series_give_the_same_survival():
    """Survivors as shares of the cohort (floats) or as a Series: the same survival and retention;
    counts stay floats then."""
    model = ShiftedBetaGeoModel.from_params(PUBLISHED["regular"])
    counts = survival_table(model, SURVIVORS["regular"])
    shares = survival_table(model, pd.Series(np.array(SURVIVORS["regular"]) / 1000))
    cols = ["actual_survival", "expected_survival", "actual_retention", "expected_retention"]
    pd.testing.assert_frame_equal(counts[cols], shares[cols])
    assert shares["actual_survivors"].dtype == float and shares.attrs["n_customers"] == 1.0
    assert (counts["period"] == "calibration").all() and np.isnan(counts.attrs["mape_holdout"])


def test_a_cohort_that_dies_out_has_no_retention_after():
    """Survivors reaching 0: the actual retention after it is NaN (no one left to renew), not an
    error, and the MAPE skips the empty years."""
    model = ShiftedBetaGeoModel.from_params(alpha=2.0, beta=1.0)
    table = survival_table(model, [10, 3, 0, 0])
    assert table["actual_retention"].iloc[1:].tolist()[:2] == [0.3, 0.0]
    assert np.isnan(table["actual_retention"].iloc[3])
    assert np.isfinite(table.attrs["mape_calibration"])


def test_errors_name_the_problem():
    model = ShiftedBetaGeoModel.from_params(PUBLISHED["high_end"])
    with pytest.raises(InvalidValueError, match="must not increase.*t = 2: 800 -> 900"):
        survival_table(model, [1000, 800, 900, 700])
    with pytest.raises(InvalidValueError, match="at least two finite numbers"):
        survival_table(model, [1000])
    with pytest.raises(InvalidValueError, match="at least two finite numbers"):
        survival_table(model, [1000, float("nan")])
    with pytest.raises(InvalidValueError, match="positive cohort size first"):
        survival_table(model, [0, 0])
    with pytest.raises(ValueError, match="calibration_periods must be a whole number of renewal decisions "
                                         "from 1 to 3"):
        survival_table(model, [1000, 800, 700, 650], calibration_periods=4)
    with pytest.raises(TypeError, match="ShiftedBetaGeoModel"):
        survival_table(BetaGeoBetaBinomModel.from_params(alpha=1, beta=1, gamma=1, delta=1), [1000, 800])
    with pytest.raises(NotFittedError, match="call fit"):
        survival_table(ShiftedBetaGeoModel(), [1000, 800])
