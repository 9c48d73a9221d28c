"""Labels from the data are drawn as plain text (issue 12): a channel, cohort, segment or bin called
``"$x^2$"`` or ``"a$b"`` must not be parsed by matplotlib as mathtext in any plot.

Each plot is drawn on the Agg canvas (``fig.canvas.draw()``: a label matplotlib could not parse
fails there), then every text artist that came from the data is compared with the raw label as
matplotlib draws it: ``Text._preprocess_math`` returns the string the renderer receives and whether
it is treated as math, so ``(raw, False)`` means the raw label is drawn character for character.
"""
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from clvmodels import plotting
from clvmodels.plotting import kpis as kpi_plots
from clvmodels.plotting._common import plain

LABELS = ["$x^2$", "a$b", "$5 and $10", "\\$y$", "plain"]


def _drawn(ax):
    """Every text of the figure as matplotlib renders it: {shown string: is math}."""
    FigureCanvasAgg(ax.figure).draw()
    shown = {}
    for text in ax.figure.findobj(Text):
        if text.get_text() and text.get_visible():
            string, math = text._preprocess_math(text.get_text())
            shown[string] = math
    return shown


def _assert_plain(ax, labels):
    shown = _drawn(ax)
    for label in labels:
        assert label in shown, f"{label!r} not drawn; drawn: {sorted(shown)}"
        assert shown[label] is False, f"{label!r} drawn as mathtext"


@pytest.mark.parametrize("label", LABELS)
def test_plain_escapes_dollars_so_the_raw_text_is_drawn(label):
    text = Text(0, 0, plain(label))
    assert text._preprocess_math(text.get_text()) == (label, False)


def test_kpi_plots():
    index = pd.Index(LABELS, name="$channel$")
    _assert_plain(kpi_plots.plot_clv_cac(pd.DataFrame({"clv_to_cac": [4.0, 3.0, 2.0, 1.0, 0.5]}, index=index)),
                  LABELS)
    _assert_plain(kpi_plots.plot_segment_shares(pd.DataFrame({"share_customers": [0.2] * 5,
                                                              "share_value": [0.2] * 5}, index=index)), LABELS)
    nps = pd.DataFrame({"nps": [10.0, -5.0, 0.0, 30.0, 1.0], "$score$": [1.0] * 5}, index=index)
    _assert_plain(kpi_plots.plot_nps(nps), LABELS + ["NPS by $channel$"])
    _assert_plain(kpi_plots.plot_nps(nps, column="$score$"), ["$SCORE$"])
    retention = pd.DataFrame({"$churn$": [0.1, 0.2, 0.3, 0.2, 0.1], "$churn$_trend": [0.15] * 5}, index=index)
    _assert_plain(kpi_plots.plot_retention(retention, columns=("$churn$",)),
                  LABELS + ["$churn$", "$churn$ (trend)", "$channel$"])
    cohorts = pd.DataFrame(np.full((5, 3), 0.5), index=pd.Index(LABELS, name="a$b"),
                           columns=pd.Index(["$0$", "1$", "2"], name="$k$"))
    _assert_plain(kpi_plots.plot_cohort_heatmap(cohorts), LABELS + ["$0$", "1$", "$k$", "a$b"])


def test_bin_and_period_labels_of_the_diagnostics():
    table = pd.DataFrame({"actual": [5.0, 3.0, 2.0, 1.0, 1.0], "expected": [4.6, 3.5, 1.9, 1.0, 1.0]}, index=LABELS)
    _assert_plain(plotting.plot_frequency_distribution(table), LABELS)
    _assert_plain(plotting.plot_conditional_expectations(table), LABELS)
    _assert_plain(plotting.plot_discrete_frequency(table), LABELS)
    tracking = pd.DataFrame({"actual_incremental": [5.0, 4.0, 3.0, 2.0, 1.0],
                             "expected_incremental": [5.2, 3.9, 3.1, 2.0, 1.0], "calendar_period": LABELS},
                            index=pd.RangeIndex(1, 6, name="opportunity"))
    tracking.attrs["calibration_periods"] = 2
    _assert_plain(plotting.plot_discrete_tracking(tracking), LABELS)


def test_names_and_units_from_attrs():
    weekly = pd.DataFrame({"actual_incremental": [1.0, 2.0], "expected_incremental": [1.5, 1.5]},
                          index=pd.RangeIndex(1, 3, name="week"))
    weekly.attrs.update({"calibration_periods": 1, "time_unit": "$W$", "period_length": 2})
    _assert_plain(plotting.plot_tracking(weekly), ["Period (2 $W$)"])
    survival = pd.DataFrame({"actual_survival": [1.0, 0.6, 0.45], "expected_survival": [1.0, 0.62, 0.44]},
                            index=pd.RangeIndex(3, name="$t$"))
    _assert_plain(plotting.plot_survival(survival), ["$t$ (renewal decisions since acquisition)"])
    matrix = pd.DataFrame(np.ones((2, 3)), index=[0, 1], columns=[0.0, 1.0, 2.0])
    matrix.attrs.update({"quantity": "probability_alive", "model": "$m$", "time_unit": "a$b"})
    _assert_plain(plotting.plot_prediction_matrix(matrix), ["P(alive) by frequency and recency\n($m$)",
                                                            "Recency (a$b)"])


def test_our_own_texts_are_unchanged():
    """Labels without a dollar are passed through as they are."""
    assert plain("Repeat purchases in 39 weeks") == "Repeat purchases in 39 weeks"
    assert plain(3) == "3"
