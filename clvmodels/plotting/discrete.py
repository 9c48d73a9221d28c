"""Drawings of the BG/BB diagnostics: repeat transactions per customer and per opportunity."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._common import axes, check_table, plain
from .frequency import draw_actual_vs_model_bars


def plot_discrete_frequency(table: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """Grouped bars: customers with 0, 1, ..., n repeat transactions, actual and model.

    The in-sample fit chart of Fader, Hardie & Shang (2010), with the Pearson
    chi-square test of the table in the title.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.diagnostics.discrete_frequency_distribution` (``actual``,
        ``expected`` by number of repeat transactions; the test and ``n_periods`` in ``attrs``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers, ``ax.containers[0]`` (actual) and ``ax.containers[1]`` (model), at
        x = 0, 1, ... labelled with the table's index.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.plotting import plot_discrete_frequency
    >>> table = pd.DataFrame({"actual": [5, 3, 2], "expected": [4.6, 3.5, 1.9]}, index=["0", "1", "2"])
    >>> ax = plot_discrete_frequency(table)
    >>> [float(bar.get_height()) for bar in ax.containers[1]]
    [4.6, 3.5, 1.9]
    """
    check_table(table, ("actual", "expected"), builder="discrete_frequency_distribution")
    n = table.attrs.get("n_periods")
    return draw_actual_vs_model_bars(axes(ax), table,
                                     xlabel="Repeat transactions" + (f" in {n} opportunities" if n else ""),
                                     title="Repeat transactions: actual vs model")


def _calibration_end(table: pd.DataFrame) -> int:
    if "calibration_periods" in table.attrs:
        return int(table.attrs["calibration_periods"])
    if "period" in table.columns:  # attrs lost on the way (e.g. a round trip through a file)
        return int((table["period"] == "calibration").sum())
    raise ValueError("The discrete_tracking table has neither attrs['calibration_periods'] nor a 'period' column, "
                     "so the calibration end is unknown. Build it with clvmodels.diagnostics.discrete_tracking().")


def plot_discrete_tracking(table: pd.DataFrame, *, cumulative: bool = False, ax: Axes | None = None) -> Axes:
    """Repeat transactions per opportunity (or their running total), model and, when known, actual.

    The annual tracking chart of Fader, Hardie & Shang (2010) for the donations cohort, with a
    vertical line at the end of the calibration: left of it the model was fitted, right of it
    it forecasts.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.diagnostics.discrete_tracking`; ``attrs["calibration_periods"]``
        (or the ``period`` column) places the calibration end, ``calendar_period`` (when present)
        labels the opportunities.
    cumulative : bool, default False
        Plot the running totals instead of the transactions at each opportunity.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        Lines labelled ``"Actual"`` (left out when the table has no actual values), ``"Model"``
        and ``"End of calibration"`` (vertical, at x = the number of calibration opportunities),
        in that order, over the opportunity numbers.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.plotting import plot_discrete_tracking
    >>> table = pd.DataFrame({"actual_incremental": [5.0, 4.0, float("nan")],
    ...                       "expected_incremental": [5.2, 3.9, 3.1]},
    ...                      index=pd.RangeIndex(1, 4, name="opportunity"))
    >>> table.attrs["calibration_periods"] = 2
    >>> [line.get_label() for line in plot_discrete_tracking(table).lines]
    ['Actual', 'Model', 'End of calibration']
    """
    kind = "cumulative" if cumulative else "incremental"
    actual, expected = f"actual_{kind}", f"expected_{kind}"
    check_table(table, (actual, expected), builder="discrete_tracking")
    end = _calibration_end(table)
    ax = axes(ax, figsize=(8.0, 4.4))
    x = table.index.to_numpy()
    observed = table[actual].to_numpy(dtype=float)
    if np.isfinite(observed).any():
        ax.plot(x, observed, marker="o", label="Actual")
    ax.plot(x, table[expected].to_numpy(dtype=float), marker="s", linestyle="--", label="Model")
    ax.axvline(end, color="grey", linestyle=":", label="End of calibration")
    if "calendar_period" in table.columns:
        ax.set_xticks(x, [plain(label) for label in table["calendar_period"]])
        ax.set_xlabel("Opportunity")
    else:
        ax.set_xlabel("Opportunity after the trial")
    ax.set_ylabel("Cumulative repeat transactions" if cumulative else "Repeat transactions")
    ax.set_title(f"Tracking {kind} repeat transactions")
    ax.legend()
    return ax
