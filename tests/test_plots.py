"""The plots draw exactly the diagnostics tables: bar heights, line data, the calibration-end line,
the heatmap array and the concentration curve are read back from the Axes and compared with the
tables they were drawn from (CDNOW, BG/NBD at the published parameters of Fader, Hardie & Lee
2005, and small hand-made tables)."""

from __future__ import annotations

import subprocess
import sys

import matplotlib

matplotlib.use("Agg")  # before pyplot; the plots themselves never use pyplot

import matplotlib.pyplot as plt  # noqa: E402  (only to check that the plots leave it alone)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from clvmodels import BetaGeoModel, GammaGammaModel, calibration_holdout_split, customer_lifetime_value, datasets  # noqa: E402
from clvmodels import diagnostics  # noqa: E402
from clvmodels.exceptions import MissingColumnError  # noqa: E402
from clvmodels.plotting import (plot_conditional_expectations, plot_frequency_distribution, plot_prediction_matrix,  # noqa: E402
                             plot_reliability, plot_tracking, plot_value_concentration)
from clvmodels.plotting.concentration import MAX_POINTS  # noqa: E402

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
ARGS = dict(customer_id_col="customer_id", datetime_col="date", calibration_period_end=datasets.CDNOW_CALIBRATION_END,
            observation_period_end=datasets.CDNOW_OBSERVATION_END)


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    return datasets.load_cdnow_transactions()


@pytest.fixture(scope="module")
def split(transactions) -> pd.DataFrame:
    return calibration_holdout_split(transactions, **ARGS, monetary_value_col="amount")


@pytest.fixture(scope="module")
def model() -> BetaGeoModel:
    return BetaGeoModel.from_params(PUBLISHED, time_unit="W")


@pytest.fixture(scope="module")
def tables(model, split, transactions) -> dict[str, pd.DataFrame]:
    clv = customer_lifetime_value(model, GammaGammaModel().fit(split), split)
    return {
        "frequency": diagnostics.frequency_distribution(model, split),
        "conditional": diagnostics.conditional_expectations(model, split),
        "tracking": diagnostics.tracking(model, transactions, **ARGS),
        "alive": diagnostics.prediction_matrix(model, max_frequency=int(split["frequency"].max()),
                                               max_recency=split["T"].max()),
        "purchases": diagnostics.prediction_matrix(model, "expected_purchases", t=10,
                                                   max_frequency=int(split["frequency"].max()),
                                                   max_recency=split["T"].max()),
        "reliability": diagnostics.reliability_table(model, split),
        "concentration": diagnostics.value_concentration(clv),
    }


PLOTS = [
    pytest.param(plot_frequency_distribution, "frequency", {}, id="frequency"),
    pytest.param(plot_conditional_expectations, "conditional", {}, id="conditional"),
    pytest.param(plot_tracking, "tracking", {}, id="tracking"),
    pytest.param(plot_tracking, "tracking", {"cumulative": True}, id="tracking-cumulative"),
    pytest.param(plot_prediction_matrix, "alive", {}, id="matrix-alive"),
    pytest.param(plot_prediction_matrix, "purchases", {}, id="matrix-purchases"),
    pytest.param(plot_reliability, "reliability", {}, id="reliability"),
    pytest.param(plot_value_concentration, "concentration", {}, id="concentration"),
]


@pytest.mark.parametrize(("plot", "name", "kwargs"), PLOTS)
def test_draws_on_a_given_axes_or_a_new_figure_without_pyplot(plot, name, kwargs, tables, tmp_path):
    figure = Figure()
    given = figure.add_subplot()
    assert plot(tables[name], ax=given, **kwargs) is given
    assert given.has_data() and given.get_title()

    before = plt.get_fignums()
    ax = plot(tables[name], **kwargs)
    assert isinstance(ax, Axes) and ax.figure is not figure
    assert plt.get_fignums() == before  # no pyplot figure was opened
    path = tmp_path / f"{name}.png"
    ax.figure.savefig(path)  # renders without error
    assert path.stat().st_size > 1000


@pytest.mark.parametrize(("plot", "name", "kwargs"), PLOTS)
def test_rejects_what_is_not_its_table(plot, name, kwargs, model):
    with pytest.raises(TypeError, match="pandas DataFrame"):
        plot(model, **kwargs)
    if plot is not plot_prediction_matrix:
        with pytest.raises(MissingColumnError, match="Build it with clvmodels.diagnostics"):
            plot(pd.DataFrame({"something": [1.0]}), **kwargs)


def test_frequency_bars_are_the_table(tables):
    table = tables["frequency"]
    ax = plot_frequency_distribution(table)
    actual, expected = ax.containers
    assert [bar.get_height() for bar in actual] == table["actual"].astype(float).tolist()
    np.testing.assert_allclose([bar.get_height() for bar in expected], table["expected"], rtol=1e-12)
    # Side by side: the model's bar just right of the actual one in each bin.
    assert all(a.get_x() < e.get_x() for a, e in zip(actual, expected))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert f"chi-square = {table.attrs['chi_square']:.2f}, df = 3, p = {table.attrs['p_value']:.3g}" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Actual", "Model"]


def test_conditional_lines_are_the_table(tables):
    table = tables["conditional"]
    ax = plot_conditional_expectations(table)
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), table["actual"])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), table["expected"])
    assert [t.get_text() for t in ax.get_xticklabels()] == table.index.tolist()


@pytest.mark.parametrize("cumulative", [False, True])
def test_tracking_lines_and_calibration_end(tables, cumulative):
    table = tables["tracking"]
    ax = plot_tracking(table, cumulative=cumulative)
    kind = "cumulative" if cumulative else "incremental"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), np.arange(1, 79))
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), table[f"actual_{kind}"])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), table[f"expected_{kind}"])
    assert list(ax.lines[2].get_xdata()) == [39, 39]  # the end of week 39, the calibration end
    assert ax.get_xlabel() == "Week" and kind in ax.get_title()


def test_tracking_calibration_end_without_attrs(tables):
    table = tables["tracking"].copy()
    table.attrs = {}
    assert list(plot_tracking(table).lines[2].get_xdata()) == [39, 39]  # from the period column
    with pytest.raises(ValueError, match="calibration end is unknown"):
        plot_tracking(table.drop(columns="period"))


@pytest.mark.parametrize(("name", "label"), [("alive", "P(alive)"), ("purchases", "Expected purchases in the next 10 W")])
def test_heatmap_is_the_table(tables, name, label):
    table = tables[name]
    ax = plot_prediction_matrix(table)
    image = ax.images[0].get_array()
    assert image.shape == table.shape == (30, 39)
    np.testing.assert_array_equal(image.mask, table.isna().to_numpy())
    np.testing.assert_array_equal(image.filled(np.nan), table.to_numpy())
    # Cell centres at the frequencies (rows, from the bottom) and recencies (columns).
    assert ax.images[0].get_extent() == [-0.5, 38.5, -0.5, 29.5] and ax.images[0].origin == "lower"
    assert ax.get_xlabel() == "Recency (W)" and ax.get_ylabel().startswith("Frequency")
    assert ax.get_title().startswith(f"{label} by frequency and recency") and "T = 38.86 W" in ax.get_title()
    colorbars = [other for other in ax.figure.axes if other is not ax]
    assert len(colorbars) == 1 and colorbars[0].get_ylabel() == label


def test_reliability_points_and_diagonal():
    table = pd.DataFrame({"lower": [0.0, 0.5], "upper": [0.5, 1.0], "n_customers": [4, 0],
                          "mean_predicted": [0.3, np.nan], "observed_rate": [0.25, np.nan]})
    ax = plot_reliability(table)
    assert ax.lines[0].get_xydata().tolist() == [[0, 0], [1, 1]]
    assert ax.lines[1].get_xydata().tolist() == [[0.3, 0.25]]  # the empty bin is left out
    assert [t.get_text() for t in ax.texts] == ["4"]


def test_reliability_on_cdnow(tables):
    table = tables["reliability"]
    ax = plot_reliability(table)
    filled = table[table["n_customers"] > 0]
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), filled["mean_predicted"])
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), filled["observed_rate"])
    assert "2357 customers" in ax.get_title()


def test_concentration_curve_by_hand():
    """Values 4, 3, 2, 1: the curve through (0, 0), (1/4, 4/10), (1/2, 7/10), (3/4, 9/10), (1, 1);
    the top 20 % hold 0.8 * 0.4 = 32 %."""
    ax = plot_value_concentration(diagnostics.value_concentration([4, 3, 2, 1]))
    np.testing.assert_allclose(ax.lines[0].get_xdata(), [0, 0.25, 0.5, 0.75, 1], atol=1e-15)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [0, 0.4, 0.7, 0.9, 1], atol=1e-15)
    assert ax.lines[1].get_xydata().tolist() == [[0, 0], [1, 1]]  # equal values
    np.testing.assert_allclose(ax.lines[2].get_xydata(), [[0.2, 0.32]])
    assert [t.get_text() for t in ax.texts] == ["top 20 % hold 32 %"]
    assert ax.get_title() == "Value concentration (Gini 0.25)"


def test_concentration_curve_of_many_customers_is_thinned_on_the_curve(tables):
    table = diagnostics.value_concentration(np.random.default_rng(7).lognormal(2.0, 1.0, 50_000))
    line = plot_value_concentration(table).lines[0]
    x, y = line.get_xdata(), line.get_ydata()
    assert len(x) <= MAX_POINTS and (x[0], y[0]) == (0, 0) and (x[-1], y[-1]) == (1, 1)
    ranks = np.round(x[1:] * len(table)).astype(int)
    np.testing.assert_array_equal(y[1:], table.loc[ranks, "share_of_value"])

    cdnow = tables["concentration"]
    ax = plot_value_concentration(cdnow)
    assert len(ax.lines[0].get_xdata()) == MAX_POINTS < len(cdnow) + 1
    assert ax.texts[0].get_text() == f"top 20 % hold {100 * cdnow.attrs['top_20_share']:.0f} %"


def test_import_clvmodels_does_not_import_matplotlib():
    code = ("import sys, clvmodels; light = 'matplotlib' not in sys.modules; import clvmodels.plotting; "
            "print(light, 'matplotlib' in sys.modules, 'matplotlib.pyplot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True True False"
