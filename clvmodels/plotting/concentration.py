"""Value concentration curve: share of the total value held by the top x % of customers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from ._common import axes, check_table

#: Most points drawn: a longer curve is drawn through this many ranks spread evenly over it (the
#: curve is concave and piecewise linear, so that is indistinguishable on screen).
MAX_POINTS = 2001


def plot_value_concentration(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The concentration curve, the line of equal values and the share held by the top 20 %.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.diagnostics.value_concentration` (``share_of_customers``,
        ``share_of_value``, highest value first); the Gini coefficient in ``attrs`` goes in the
        title.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` is the curve from (0, 0) through the table's points (at most
        ``MAX_POINTS`` of them), ``ax.lines[1]`` the line of equal values, ``ax.lines[2]`` the
        marked top-20 % point; axes in shares, labelled in percent.

    Examples
    --------
    >>> from clvmodels.diagnostics import value_concentration
    >>> from clvmodels.plotting import plot_value_concentration
    >>> ax = plot_value_concentration(value_concentration([4, 3, 2, 1]))
    >>> ax.lines[0].get_ydata().round(2).tolist()
    [0.0, 0.4, 0.7, 0.9, 1.0]
    """
    check_table(table, ("share_of_customers", "share_of_value"), builder="value_concentration")
    x = np.r_[0.0, table["share_of_customers"].to_numpy(dtype=float)]
    y = np.r_[0.0, table["share_of_value"].to_numpy(dtype=float)]
    if len(x) > MAX_POINTS:
        keep = np.unique(np.linspace(0, len(x) - 1, MAX_POINTS).round().astype(np.int64))
        x, y = x[keep], y[keep]
    top20 = float(np.interp(0.2, x, y))
    ax = axes(ax, figsize=(5.6, 5.0))
    ax.plot(x, y, label="Customers by value")
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="Equal values")
    ax.plot([0.2], [top20], marker="o", color="black", linestyle="none")
    ax.vlines(0.2, 0, top20, colors="black", linestyles=":", linewidth=0.8)
    ax.hlines(top20, 0, 0.2, colors="black", linestyles=":", linewidth=0.8)
    ax.annotate(f"top 20 % hold {100 * top20:.0f} %", xy=(0.2, top20), xytext=(0.27, max(top20 - 0.12, 0.05)),
                arrowprops={"arrowstyle": "->"})
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel("Top customers by value")
    ax.set_ylabel("Share of the total value")
    gini = table.attrs.get("gini")
    ax.set_title("Value concentration" + (f" (Gini {gini:.2f})" if gini is not None else ""))
    ax.legend(loc="lower right")
    return ax
