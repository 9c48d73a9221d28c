"""Survival (or retention rate) of a contract cohort by tenure, actual against the sBG model."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from ._common import axes, check_table, plain

CURVES = {"survival": ("Share of the cohort still active", "Survival"),
          "retention": ("Retention rate (renewed / active)", "Retention rate")}


def plot_survival(table: pd.DataFrame, *, curve: str = "survival", ax: Axes | None = None) -> Axes:
    """Share of the cohort still active (or the retention rate) after each renewal, actual and model.

    Fader & Hardie (2007): the survival curve of a cohort and the sBG fit, projected beyond the
    calibration years (a vertical line marks their end when the table has a holdout); with
    ``curve="retention"``, the retention rate per renewal, which rises with tenure.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.diagnostics.survival_table`.
    curve : {"survival", "retention"}, default "survival"
        ``actual_survival`` and ``expected_survival`` over tenure ``0, 1, ...``, or
        ``actual_retention`` and ``expected_retention`` over tenure ``1, 2, ...``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax.lines[0]`` (actual), ``ax.lines[1]`` (model) and, when some rows are holdout,
        ``ax.lines[2]``, the vertical line at x = ``attrs["calibration_periods"]``. The y axis is
        in shares, labelled in percent.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels.plotting import plot_survival
    >>> table = pd.DataFrame({"actual_survival": [1.0, 0.6, 0.45], "expected_survival": [1.0, 0.62, 0.44],
    ...                       "period": ["calibration", "calibration", "holdout"]},
    ...                      index=pd.RangeIndex(3, name="tenure"))
    >>> ax = plot_survival(table)
    >>> ax.lines[1].get_ydata().tolist(), ax.lines[2].get_xdata()
    ([1.0, 0.62, 0.44], [1, 1])
    """
    if curve not in CURVES:
        raise ValueError(f"curve must be one of {list(CURVES)}, got {curve!r}.")
    actual, expected = f"actual_{curve}", f"expected_{curve}"
    check_table(table, (actual, expected), builder="survival_table")
    rows = table.iloc[1:] if curve == "retention" else table  # no retention before the first renewal
    ax = axes(ax, figsize=(7.2, 4.4))
    x = rows.index.to_numpy()
    ax.plot(x, rows[actual].to_numpy(dtype=float), marker="o", label="Actual")
    ax.plot(x, rows[expected].to_numpy(dtype=float), linestyle="--", label="Model (sBG)")
    if "calibration_periods" in table.attrs:
        end = int(table.attrs["calibration_periods"])
    elif "period" in table.columns:
        end = int((table["period"] == "calibration").sum()) - 1
    else:
        end = int(table.index[-1])
    if end < int(table.index[-1]):
        ax.axvline(end, color="grey", linestyle=":", label="End of calibration")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_xlabel(plain(f"{str(table.index.name or 'tenure').capitalize()} (renewal decisions since acquisition)"))
    ylabel, title = CURVES[curve]
    ax.set_ylabel(ylabel)
    n = table.attrs.get("n_customers")
    ax.set_title(f"{title}: actual vs model" + (f" (cohort of {n:,})" if n is not None else ""))
    if np.isfinite(table.attrs.get("mape_holdout", np.nan)):
        ax.set_title(f"{ax.get_title()}\nholdout survivors: mean absolute error "
                     f"{table.attrs['mape_holdout']:.1f} %")
    ax.legend()
    return ax
