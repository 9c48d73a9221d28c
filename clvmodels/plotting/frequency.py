"""Histogram of repeat purchases in the calibration period, actual against the model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._common import axes, check_table, plain


def _test_label(attrs: dict) -> str | None:
    """``chi-square = 4.46, df = 3, p = 0.216`` from the table's attrs, or None without them."""
    if "chi_square" not in attrs:
        return None
    label = f"chi-square = {attrs['chi_square']:.2f}"
    if "df" in attrs:
        label += f", df = {attrs['df']}"
    if np.isfinite(attrs.get("p_value", np.nan)):
        label += f", p = {attrs['p_value']:.3g}"
    return label


def draw_actual_vs_model_bars(ax: Axes, table: pd.DataFrame, *, xlabel: str, title: str) -> Axes:
    """Customers per count, ``actual`` beside ``expected`` (model) bars at x = 0, 1, ..., labelled
    with the table's index; the chi-square test of ``table.attrs`` goes under the title."""
    x = np.arange(len(table))
    width = 0.4
    ax.bar(x - width / 2, table["actual"].to_numpy(dtype=float), width, label="Actual")
    ax.bar(x + width / 2, table["expected"].to_numpy(dtype=float), width, label="Model")
    ax.set_xticks(x, [plain(label) for label in table.index])
    ax.set_xlabel(plain(xlabel))
    ax.set_ylabel("Customers")
    test = _test_label(table.attrs)
    ax.set_title(title if test is None else f"{title}\n{test}")
    ax.legend()
    return ax


def plot_frequency_distribution(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Grouped bars: customers with 0, 1, ..., k+ repeat purchases, actual and expected.

    The chart of Fader, Hardie & Lee (2005), Figure 2, with the Pearson chi-square test of the
    table in the title.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.diagnostics.frequency_distribution` (``actual``, ``expected``
        by frequency bin; the test in ``attrs``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers, ``ax.containers[0]`` (actual) and ``ax.containers[1]`` (model).

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.plotting import plot_frequency_distribution
    >>> table = pd.DataFrame({"actual": [6, 3, 1], "expected": [5.5, 3.2, 1.3]}, index=["0", "1", "2+"])
    >>> ax = plot_frequency_distribution(table)
    >>> [float(bar.get_height()) for bar in ax.containers[0]]
    [6.0, 3.0, 1.0]
    """
    check_table(table, ("actual", "expected"), builder="frequency_distribution")
    return draw_actual_vs_model_bars(axes(ax), table, xlabel="Repeat purchases",
                                     title="Repeat purchases: actual vs model")
