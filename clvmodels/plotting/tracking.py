"""Repeat transactions of the cohort per period, actual vs model, with the calibration end marked."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes

from ._common import axes, check_table, plain


def _calibration_end(table: pd.DataFrame) -> int:
    if "calibration_periods" in table.attrs:
        return int(table.attrs["calibration_periods"])
    if "period" in table.columns:  # attrs lost on the way (e.g. a round trip through a file)
        return int((table["period"] == "calibration").sum())
    raise ValueError("The tracking table has neither attrs['calibration_periods'] nor a 'period' column, so "
                     "the calibration end is unknown. Build it with clvmodels.diagnostics.tracking().")


def _period_label(attrs: dict) -> str:
    unit, length = attrs.get("time_unit"), attrs.get("period_length", 1)
    if unit == "W" and length == 1:
        return "Week"
    return plain(f"Period ({length:g} {unit})") if unit else "Period"


def plot_tracking(table: pd.DataFrame, *, cumulative: bool = False, ax: Axes | None = None) -> Axes:
    """Repeat transactions per period (or their running total), actual and expected.

    The tracking charts of Fader, Hardie & Lee (2005), Figure 3 (cumulative) and its weekly
    version, with a vertical line at the end of the calibration period: the model was fitted on
    the data left of it, and forecasts the right.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.diagnostics.tracking`; ``attrs["calibration_periods"]`` (or
        the ``period`` column) places the calibration end.
    cumulative : bool, default False
        Plot the running totals instead of the repeat transactions in each period.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        Lines ``ax.lines[0]`` (actual), ``ax.lines[1]`` (model) over the period numbers, and
        ``ax.lines[2]``, the vertical line at x = the number of calibration periods (the end of
        the last one).

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.plotting import plot_tracking
    >>> table = pd.DataFrame({"actual_incremental": [3, 5, 4], "expected_incremental": [3.5, 4.5, 4.2]},
    ...                      index=pd.RangeIndex(1, 4, name="week"))
    >>> table.attrs["calibration_periods"] = 2
    >>> plot_tracking(table).lines[2].get_xdata()
    [2, 2]
    """
    kind = "cumulative" if cumulative else "incremental"
    actual, expected = f"actual_{kind}", f"expected_{kind}"
    check_table(table, (actual, expected), builder="tracking")
    end = _calibration_end(table)
    ax = axes(ax, figsize=(8.0, 4.4))
    x = table.index.to_numpy()
    ax.plot(x, table[actual].to_numpy(dtype=float), label="Actual")
    ax.plot(x, table[expected].to_numpy(dtype=float), linestyle="--", label="Model")
    ax.axvline(end, color="grey", linestyle=":", label="End of calibration")
    ax.set_xlabel(_period_label(table.attrs))
    ax.set_ylabel("Cumulative repeat transactions" if cumulative else "Repeat transactions")
    ax.set_title(f"Tracking {'cumulative' if cumulative else 'incremental'} repeat transactions")
    ax.legend()
    return ax
