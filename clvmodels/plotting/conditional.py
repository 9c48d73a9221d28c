"""Conditional expectations: mean holdout purchases by calibration frequency, actual vs model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._common import axes, check_table, plain


def plot_conditional_expectations(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Mean purchases in the holdout period by repeat purchases in the calibration period.

    The chart of Fader, Hardie & Lee (2005), Figure 4: the actual means and the means of the
    model's conditional expectations, one point per frequency bin (empty bins are left out).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.diagnostics.conditional_expectations` (``actual``,
        ``expected`` by frequency bin).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines, ``ax.lines[0]`` (actual) and ``ax.lines[1]`` (model), at x = 0, 1, ... (the
        bins, labelled with the table's index).

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.plotting import plot_conditional_expectations
    >>> table = pd.DataFrame({"actual": [0.2, 0.7, 1.9], "expected": [0.3, 0.6, 2.0]}, index=["0", "1", "2+"])
    >>> plot_conditional_expectations(table).lines[0].get_ydata().tolist()
    [0.2, 0.7, 1.9]
    """
    check_table(table, ("actual", "expected"), builder="conditional_expectations")
    ax = axes(ax)
    x = np.arange(len(table))
    ax.plot(x, table["actual"].to_numpy(dtype=float), marker="o", label="Actual")
    ax.plot(x, table["expected"].to_numpy(dtype=float), marker="s", linestyle="--", label="Model")
    ax.set_xticks(x, [plain(label) for label in table.index])
    ax.set_xlabel("Repeat purchases in the calibration period")
    ax.set_ylabel("Mean purchases in the holdout period")
    ax.set_title("Conditional expectations: actual vs model")
    ax.legend()
    return ax
