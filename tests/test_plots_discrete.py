"""The BG/BB and sBG plots draw exactly their tables: bar heights, line data, the calibration-end
line and the tick labels are read back from the Axes and compared with the tables (the donations
of Fader, Hardie & Shang 2010 and the high-end cohort of Fader & Hardie 2007), and nothing
touches pyplot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # before pyplot; the plots themselves never use pyplot

import matplotlib.pyplot as plt  # noqa: E402  (only to check that the plots leave it alone)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from clvmodels import BetaGeoBetaBinomModel, ShiftedBetaGeoModel, datasets  # noqa: E402
from clvmodels import diagnostics  # noqa: E402
from clvmodels.exceptions import MissingColumnError  # noqa: E402
from clvmodels.plotting import (plot_conditional_expectations, plot_discrete_frequency,  # noqa: E402
                                plot_discrete_tracking, plot_survival, plot_tracking)

HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]


@pytest.fixture(scope="module")
def donations() -> pd.DataFrame:
    return datasets.load_donations()


@pytest.fixture(scope="module")
def model(donations) -> BetaGeoBetaBinomModel:
    return BetaGeoBetaBinomModel().fit(donations, weights="count")


@pytest.fixture(scope="module")
def survival() -> pd.DataFrame:
    rows = ShiftedBetaGeoModel.rows_from_survival(HIGH_END[:8])
    return diagnostics.survival_table(ShiftedBetaGeoModel().fit(rows, weights="count"), HIGH_END,
                                      calibration_periods=7)


def test_discrete_frequency_bars_are_the_table(model, donations):
    table = diagnostics.discrete_frequency_distribution(model, donations, weights="count")
    ax = plot_discrete_frequency(table)
    assert isinstance(ax.figure, Figure)
    assert [bar.get_height() for bar in ax.containers[0]] == table["actual"].astype(float).tolist()
    np.testing.assert_array_equal([bar.get_height() for bar in ax.containers[1]], table["expected"].to_numpy())
    assert [t.get_text() for t in ax.get_xticklabels()] == table.index.tolist()
    assert f"chi-square = {table.attrs['chi_square']:.2f}, df = 2" in ax.get_title()
    assert ax.get_xlabel() == "Repeat transactions in 6 opportunities"


def test_discrete_tracking_lines_are_the_table(model, donations):
    """Donations without actual values: only the model line and the calibration end (x = 6,
    2001), ticks labelled 1996-2006; with actual values the actual line comes first."""
    table = diagnostics.discrete_tracking(model, donations, weights="count", horizon=11)
    ax = plot_discrete_tracking(table)
    assert [line.get_label() for line in ax.lines] == ["Model", "End of calibration"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), table["expected_incremental"].to_numpy())
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, 12))
    assert list(ax.lines[1].get_xdata()) == [6, 6]
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(y) for y in range(1996, 2007)]

    with_actual = table.assign(actual_incremental=np.r_[np.arange(6000, 5400, -100.0), [np.nan] * 5])
    with_actual["actual_cumulative"] = with_actual["actual_incremental"].cumsum()
    ax = plot_discrete_tracking(with_actual, cumulative=True)
    assert [line.get_label() for line in ax.lines] == ["Actual", "Model", "End of calibration"]
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), with_actual["actual_cumulative"].to_numpy())
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), table["expected_cumulative"].to_numpy())
    assert ax.get_ylabel() == "Cumulative repeat transactions"


def test_discrete_tables_also_draw_with_the_continuous_plots(model, donations):
    """The BG/BB tables share the columns of the continuous ones: plot_tracking and
    plot_conditional_expectations draw them unchanged."""
    tracking = diagnostics.discrete_tracking(model, donations, weights="count", horizon=11)
    assert list(plot_tracking(tracking).lines[2].get_xdata()) == [6, 6]
    calibration = pd.DataFrame({"frequency": [0, 3, 6], "recency": [0, 5, 6], "n_periods": 6,
                                "frequency_holdout": [0, 2, 5]})
    table = diagnostics.discrete_conditional_expectations(model, calibration, holdout_periods=5)
    ax = plot_conditional_expectations(table)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), table["expected"].to_numpy())


def test_survival_lines_are_the_table(survival):
    ax = plot_survival(survival)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), survival["actual_survival"].to_numpy())
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), survival["expected_survival"].to_numpy())
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(13))
    assert list(ax.lines[2].get_xdata()) == [7, 7] and ax.lines[2].get_label() == "End of calibration"
    assert "cohort of 1,000" in ax.get_title() and "holdout" in ax.get_title()


def test_retention_curve_starts_at_the_first_renewal_and_rises(survival):
    ax = plot_survival(survival, curve="retention")
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, 13))
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), survival["expected_retention"].to_numpy()[1:])
    assert np.all(np.diff(ax.lines[1].get_ydata()) > 0)
    assert ax.get_ylabel().startswith("Retention rate")


def test_survival_without_holdout_has_no_calibration_line_and_draws_on_a_given_axes():
    model = ShiftedBetaGeoModel.from_params(alpha=0.668, beta=3.806)
    table = diagnostics.survival_table(model, HIGH_END[:8])
    ax = Figure().add_subplot()
    assert plot_survival(table, ax=ax) is ax
    assert len(ax.lines) == 2


def test_plots_leave_pyplot_alone_and_reject_wrong_tables(survival):
    before = plt.get_fignums()
    plot_survival(survival)
    plot_discrete_frequency(pd.DataFrame({"actual": [1], "expected": [1.0]}))
    assert plt.get_fignums() == before
    with pytest.raises(ValueError, match="curve must be one of"):
        plot_survival(survival, curve="churn")
    with pytest.raises(MissingColumnError, match="'expected_survival'.*survival_table\\(\\)"):
        plot_survival(survival.drop(columns="expected_survival"))
    with pytest.raises(TypeError, match="discrete_frequency_distribution"):
        plot_discrete_frequency([1, 2])
    table = pd.DataFrame({"actual_incremental": [1.0], "expected_incremental": [1.0]})
    with pytest.raises(ValueError, match="calibration end is unknown"):
        plot_discrete_tracking(table)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_survival(survival, ax="left")
