"""Drawings of the KPI tables: ``f(table, ax=None, **kw) -> Axes``; they compute nothing.

Without ``ax`` each function draws on a new :class:`matplotlib.figure.Figure` (no pyplot state, never
``plt.show``); reach it through ``ax.figure`` to save it. Periods and groups are placed at
positions ``0, 1, ...`` and labelled with the table's index.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..data.validation import require_columns
from ._common import plain

__all__ = ["plot_retention", "plot_cohort_heatmap", "plot_segment_shares", "plot_clv_cac", "plot_nps"]


def _axes(ax: Axes | None) -> Axes:
    return Figure(layout="constrained").add_subplot() if ax is None else ax


def _labels(index: pd.Index) -> list[str]:
    if isinstance(index, pd.MultiIndex):
        return [plain(" / ".join(str(v) for v in key)) for key in index]
    return [plain(v) for v in index]


def _label_axis(ax: Axes, index: pd.Index, *, axis: str = "x") -> None:
    positions, labels = np.arange(len(index)), _labels(index)
    step = max(1, len(labels) // 24)  # at most ~24 labels stay readable
    if axis == "x":
        crowded = len(labels) > 8 or sum(len(label) for label in labels) > 50
        ax.set_xticks(positions[::step], labels[::step], rotation=30 if crowded else 0,
                      ha="right" if crowded else "center")
    else:
        ax.set_yticks(positions[::step], labels[::step])


def plot_retention(table: pd.DataFrame, ax: Axes | None = None, *,
                   columns: tuple[str, ...] = ("churn_rate", "retention_rate"), trend: bool = True) -> Axes:
    """Churn and retention rate per period (solid), with their trended rates (dashed).

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.kpis.retention_table`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    columns : tuple of str
        Rate columns to draw.
    trend : bool, default True
        Also draw ``<column>_trend`` where the table has it.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(table, list(columns), what="The retention table",
                    hint="Build it with clvmodels.kpis.retention_table().")
    ax = _axes(ax)
    x = np.arange(len(table))
    for column in columns:
        (line,) = ax.plot(x, table[column].to_numpy(dtype=float), marker="o", label=plain(column.replace("_", " ")))
        if trend and f"{column}_trend" in table:
            ax.plot(x, table[f"{column}_trend"].to_numpy(dtype=float), linestyle="--", color=line.get_color(),
                    label=plain(f"{column.replace('_', ' ')} (trend)"))
    _label_axis(ax, table.index)
    ax.set_ylabel("rate")
    ax.set_xlabel(plain(table.index.name or "period"))
    ax.set_title("Retention and churn")
    ax.legend()
    return ax


def plot_cohort_heatmap(matrix: pd.DataFrame, ax: Axes | None = None, *, annotate: bool | None = None,
                        cmap: str = "viridis") -> Axes:
    """Cohort retention matrix as a heatmap (cohorts down, periods since acquisition across).

    Parameters
    ----------
    matrix : pandas.DataFrame
        Output of :func:`clvmodels.kpis.cohort_retention`; NaN cells (not yet observed) stay blank.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    annotate : bool, optional
        Write each value in its cell; default when the matrix has at most 400 cells.
    cmap : str, default "viridis"
        Colour map.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), aspect="auto", cmap=cmap, interpolation="nearest")
    ax.figure.colorbar(image, ax=ax)
    if annotate is None:
        annotate = values.size <= 400
    if annotate:
        rate = matrix.attrs.get("values", "rate") == "rate"
        rows, cols = np.nonzero(np.isfinite(values))
        bright = image.norm(values) > 0.6  # dark text on the light end of the colour map
        for i, j in zip(rows, cols):  # one label per cell of a small matrix
            text = f"{values[i, j]:.0%}" if rate else f"{values[i, j]:g}"
            ax.text(j, i, text, ha="center", va="center", fontsize=7, color="black" if bright[i, j] else "white")
    ax.set_xticks(np.arange(matrix.shape[1]), [plain(c) for c in matrix.columns])
    _label_axis(ax, matrix.index, axis="y")
    ax.set_xlabel(plain(str(matrix.columns.name or "periods since acquisition").replace("_", " ")))
    ax.set_ylabel(plain(matrix.index.name or "cohort"))
    ax.set_title("Cohort retention")
    return ax


def plot_segment_shares(summary: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Share of customers beside share of value for each segment (grouped bars).

    Parameters
    ----------
    summary : pandas.DataFrame
        Output of :func:`clvmodels.kpis.segment_summary`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Two bar containers: ``share_customers`` then ``share_value``.
    """
    require_columns(summary, ["share_customers", "share_value"], what="The segment summary",
                    hint="Build it with clvmodels.kpis.segment_summary().")
    ax = _axes(ax)
    x = np.arange(len(summary))
    ax.bar(x - 0.2, summary["share_customers"].to_numpy(dtype=float), width=0.4, label="share of customers")
    ax.bar(x + 0.2, summary["share_value"].to_numpy(dtype=float), width=0.4, label="share of value")
    _label_axis(ax, summary.index)
    ax.set_ylabel("share")
    ax.set_title("Segment sizes and value")
    ax.legend()
    return ax


def plot_clv_cac(table: pd.DataFrame, ax: Axes | None = None, *, target: float | None = 3.0) -> Axes:
    """CLV:CAC per channel (horizontal bars, best on top), with break-even (1) and a target line.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.kpis.acquisition_economics`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    target : float or None, default 3.0
        Target ratio to mark; None for none.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(table, ["clv_to_cac"], what="The acquisition table",
                    hint="Build it with clvmodels.kpis.acquisition_economics().")
    ax = _axes(ax)
    y = np.arange(len(table))
    ax.barh(y, table["clv_to_cac"].to_numpy(dtype=float))
    _label_axis(ax, table.index, axis="y")
    ax.invert_yaxis()  # the table's first row (rank 1) on top
    ax.axvline(1.0, color="grey", linestyle=":", label="break-even")
    if target is not None:
        ax.axvline(float(target), color="green", linestyle="--", label=f"target {target:g}")
    ax.set_xlabel("CLV : CAC")
    ax.set_title("Customer value for acquisition cost")
    ax.legend()
    return ax


def plot_nps(table: pd.DataFrame, ax: Axes | None = None, *, column: str = "nps") -> Axes:
    """NPS (or another survey metric) per period or group, as bars around zero.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.kpis.survey_metrics` (e.g. with ``period="Q"``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.
    column : str, default "nps"
        Metric to draw.

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_columns(table, [column], what="The survey table",
                    hint="Build it with clvmodels.kpis.survey_metrics().")
    ax = _axes(ax)
    values = table[column].to_numpy(dtype=float)
    x = np.arange(len(table))
    ax.bar(x, values, color=np.where(values >= 0, "tab:green", "tab:red"))
    ax.axhline(0.0, color="black", linewidth=0.8)
    if column == "nps":
        ax.set_ylim(-100, 100)
    _label_axis(ax, table.index)
    ax.set_ylabel(plain(column.upper()))
    ax.set_title(plain(f"{column.upper()} by {table.index.name or 'group'}"))
    return ax
