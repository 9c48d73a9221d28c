"""The KPI plots draw exactly the numbers of their tables, on a given axes or a new Figure
(never through pyplot)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (only to check that no pyplot figure appears)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from clvmodels.exceptions import MissingColumnError  # noqa: E402
from clvmodels.kpis import (acquisition_economics, cohort_retention, retention_table, segment_summary,  # noqa: E402
                            survey_metrics, value_segments)
from clvmodels.plotting.kpis import (plot_clv_cac, plot_cohort_heatmap, plot_nps, plot_retention,  # noqa: E402
                                  plot_segment_shares)


@pytest.fixture
def log() -> pd.DataFrame:
    rows = [("a", "2024-01-05"), ("a", "2024-03-03"), ("b", "2024-01-10"), ("b", "2024-02-14"),
            ("c", "2024-02-02"), ("c", "2024-03-30"), ("c", "2024-04-01"), ("d", "2024-04-15")]
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "date": pd.to_datetime([r[1] for r in rows])})


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


def _ticks(ax, axis="x"):
    ticks = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [t.get_text() for t in ticks]


def test_retention_plot(log):
    table = retention_table(log, observation_period_end="2024-04-30")
    ax = plot_retention(table)
    assert isinstance(ax.figure, Figure)
    churn, churn_trend, retention, retention_trend = ax.get_lines()
    np.testing.assert_array_equal(churn.get_ydata(), table["churn_rate"].to_numpy())
    np.testing.assert_array_equal(churn_trend.get_ydata(), table["churn_rate_trend"].to_numpy())
    np.testing.assert_array_equal(retention.get_ydata(), table["retention_rate"].to_numpy())
    np.testing.assert_array_equal(retention_trend.get_ydata(), table["retention_rate_trend"].to_numpy())
    assert _ticks(ax) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    only = plot_retention(table, columns=("churn_rate",), trend=False)
    assert len(only.get_lines()) == 1


def test_plot_on_given_axes(log):
    fig = Figure()
    ax = fig.add_subplot()
    assert plot_retention(retention_table(log), ax=ax) is ax


def test_cohort_heatmap(log):
    matrix = cohort_retention(log, observation_period_end="2024-04-30")
    ax = plot_cohort_heatmap(matrix)
    drawn = ax.images[0].get_array()
    np.testing.assert_array_equal(drawn.mask, np.isnan(matrix.to_numpy()))
    np.testing.assert_array_equal(drawn.filled(np.nan), matrix.to_numpy())
    assert _ticks(ax, "y") == [str(p) for p in matrix.index]
    # One label per observed cell, as a percentage.
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == int(np.isfinite(matrix.to_numpy()).sum())
    assert texts[0] == "100%"
    assert not plot_cohort_heatmap(matrix, annotate=False).texts


def test_segment_shares():
    scores = pd.DataFrame({"customer_id": [1, 2, 3, 4], "p_alive": [0.9, 0.8, 0.2, 0.6],
                           "clv": [60.0, 20.0, 0.0, 20.0]})
    summary = segment_summary(scores, value_segments(scores))
    ax = plot_segment_shares(summary)
    customers, value = ax.containers
    np.testing.assert_allclose([b.get_height() for b in customers], summary["share_customers"])
    np.testing.assert_allclose([b.get_height() for b in value], summary["share_value"])
    assert _ticks(ax) == list(summary.index)


def test_clv_cac():
    scores = pd.DataFrame({"customer_id": [1, 2, 3], "clv": [90.0, 30.0, 40.0]})
    customers = pd.DataFrame({"customer_id": [1, 2, 3], "channel": ["search", "search", "social"],
                              "cac": [20.0, 20.0, 40.0]})
    table = acquisition_economics(scores, customers)
    ax = plot_clv_cac(table)
    np.testing.assert_allclose([b.get_width() for b in ax.containers[0]], table["clv_to_cac"])
    assert _ticks(ax, "y") == ["search", "social"]
    assert [line.get_xdata()[0] for line in ax.get_lines()] == [1.0, 3.0]  # break-even and target


def test_nps_plot():
    answers = pd.DataFrame({"date": pd.to_datetime(["2024-01-05", "2024-02-05", "2024-04-05"]),
                            "question_type": ["nps"] * 3, "score": [10, 3, 9]})
    table = survey_metrics(answers, period="Q")
    ax = plot_nps(table)
    np.testing.assert_allclose([b.get_height() for b in ax.containers[0]], table["nps"])  # 0 and 100
    assert _ticks(ax) == ["2024Q1", "2024Q2"]
    assert ax.get_ylim() == (-100.0, 100.0)


def test_plot_errors(log):
    with pytest.raises(MissingColumnError, match="'churn_rate'"):
        plot_retention(pd.DataFrame({"x": [1]}))
    with pytest.raises(MissingColumnError, match="'clv_to_cac'"):
        plot_clv_cac(pd.DataFrame({"x": [1]}))
    with pytest.raises(MissingColumnError, match="'nps'"):
        plot_nps(pd.DataFrame({"x": [1]}))
    with pytest.raises(MissingColumnError, match="'share_value'"):
        plot_segment_shares(pd.DataFrame({"share_customers": [1]}))
