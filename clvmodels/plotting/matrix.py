"""Heatmap of a purchase model's predictions over frequency (rows) and recency (columns)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ._common import axes, plain


def _edges(values: np.ndarray) -> tuple[float, float]:
    """Outer edges of cells centred on evenly spaced ``values``."""
    step = float(np.diff(values).min()) if len(values) > 1 else 1.0
    return float(values[0]) - step / 2, float(values[-1]) + step / 2


def _title(attrs: dict) -> tuple[str, str]:
    """Title and colorbar label from the table's attrs."""
    unit = attrs.get("time_unit") or "time units"
    if attrs.get("quantity") == "expected_purchases":
        label = f"Expected purchases in the next {attrs.get('t', 1):g} {unit}"
    elif attrs.get("quantity") == "probability_alive":
        label = "P(alive)"
    else:
        label = "Prediction"
    title = f"{label} by frequency and recency"
    details = [f"{attrs['model']}" if attrs.get("model") else None,
               f"T = {attrs['T']:.4g} {unit}" if "T" in attrs else None]
    details = [d for d in details if d]
    return plain(f"{title}\n({', '.join(details)})" if details else title), plain(label)


def plot_prediction_matrix(table: pd.DataFrame, *, ax: Axes | None = None, cmap: str = "viridis") -> Axes:
    """Heatmap of P(alive) or expected purchases, frequency up the y axis, recency along x.

    As lifetimes' ``plot_probability_alive_matrix`` and ``plot_frequency_recency_matrix``;
    impossible cells (NaN) are left blank.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`clvmodels.diagnostics.prediction_matrix` (numeric frequency index,
        numeric recency columns, evenly spaced); its ``attrs`` name the quantity in the title.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure by default. The colorbar takes room from it.
    cmap : str, default "viridis"
        Matplotlib colormap.

    Returns
    -------
    matplotlib.axes.Axes
        The image is ``ax.images[0]``; its array is the table (rows = frequency, from the bottom).

    Examples
    --------
    >>> from clvmodels import BetaGeoModel
    >>> from clvmodels.diagnostics import prediction_matrix
    >>> from clvmodels.plotting import plot_prediction_matrix
    >>> model = BetaGeoModel.from_params(r=0.243, alpha=4.414, a=0.793, b=2.426, time_unit="W")
    >>> ax = plot_prediction_matrix(prediction_matrix(model, max_frequency=5, max_recency=10))
    >>> ax.images[0].get_array().shape, ax.get_xlabel(), ax.get_ylabel()
    ((6, 11), 'Recency (W)', 'Frequency (repeat purchases)')
    """
    if not isinstance(table, pd.DataFrame) or table.empty:
        raise TypeError("expected the non-empty table of prediction_matrix() (a pandas DataFrame). Build it "
                        "with clvmodels.diagnostics.prediction_matrix().")
    try:
        frequency = table.index.to_numpy(dtype=float)
        recency = table.columns.to_numpy(dtype=float)
        values = table.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise TypeError("The prediction_matrix table must have numeric frequencies as index, numeric recencies "
                        "as columns and numeric cells. Build it with clvmodels.diagnostics.prediction_matrix().") \
            from None
    ax = axes(ax, figsize=(7.2, 5.0))
    image = ax.imshow(values, origin="lower", aspect="auto", interpolation="nearest", cmap=cmap,
                      extent=(*_edges(recency), *_edges(frequency)))
    title, label = _title(table.attrs)
    ax.figure.colorbar(image, ax=ax, label=label)
    unit = table.attrs.get("time_unit")
    ax.set_xlabel(plain(f"Recency ({unit})") if unit else "Recency")
    ax.set_ylabel("Frequency (repeat purchases)")
    ax.set_title(title)
    return ax
