"""Reliability diagram of P(alive) as a forecast of a holdout purchase."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from ._common import axes, check_table


def plot_reliability(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Observed share of customers with a holdout purchase against the mean P(alive), per bin.

    Points on the diagonal mean a well-calibrated forecast (as scikit-learn's
    ``CalibrationDisplay``); empty bins are left out. Read it with the caveat of
    :mod:`clvmodels.diagnostics.churn`: a customer alive may still not buy within the holdout,
    so even a true model lies somewhat below the diagonal.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.diagnostics.reliability_table` (``n_customers``,
        ``mean_predicted``, ``observed_rate`` per bin).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` is the diagonal, ``ax.lines[1]`` the model's points, each labelled with
        the number of customers in its bin.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.plotting import plot_reliability
    >>> table = pd.DataFrame({"n_customers": [10, 0, 30], "mean_predicted": [0.1, float("nan"), 0.9],
    ...                       "observed_rate": [0.2, float("nan"), 0.7]})
    >>> plot_reliability(table).lines[1].get_xydata().tolist()
    [[0.1, 0.2], [0.9, 0.7]]
    """
    check_table(table, ("n_customers", "mean_predicted", "observed_rate"), builder="reliability_table")
    ax = axes(ax, figsize=(5.2, 5.0))
    filled = table[table["n_customers"] > 0]
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="Perfectly calibrated")
    ax.plot(filled["mean_predicted"].to_numpy(dtype=float), filled["observed_rate"].to_numpy(dtype=float),
            marker="o", label="Model")
    for x, y, n in zip(filled["mean_predicted"], filled["observed_rate"], filled["n_customers"]):
        ax.annotate(f"{int(n)}", (x, y), xytext=(4, -10), textcoords="offset points", fontsize="x-small")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_aspect("equal")
    ax.set_xlabel("Mean P(alive) in the bin")
    ax.set_ylabel("Share with a holdout purchase")
    ax.set_title(f"Reliability of P(alive) ({int(table['n_customers'].sum())} customers)")
    ax.legend(loc="upper left")
    return ax
