"""Pieces shared by the plots: a fresh Axes without pyplot, the check of an input table, and plain
text for labels that come from the data."""

from __future__ import annotations

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..data.validation import require_columns


def axes(ax: Axes | None, *, figsize: tuple[float, float] = (6.4, 4.4)) -> Axes:
    """``ax``, or the Axes of a new Figure (no pyplot, so no backend or global state involved)."""
    if ax is None:
        return Figure(figsize=figsize, layout="constrained").add_subplot()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}.")
    return ax


def plain(text) -> str:
    """``text`` (anything ``str`` takes) as a label that matplotlib draws as typed.

    Matplotlib parses text between two ``$`` as mathtext, so a channel called ``"$x^2$"`` would be
    drawn as x squared and one called ``"$5 $10"`` in italics. Every label taken from the data (tick
    labels, legend entries, axis labels and titles built from names, units or categories) goes
    through this function, which escapes each ``$`` as ``\\$``: matplotlib then finds no math and
    draws a plain ``$`` (for any number of dollars, with or without backslashes in the name).
    Escaping, rather than ``Text.set_parse_math(False)``, also holds for tick labels matplotlib
    recreates when it draws.
    """
    return str(text).replace("$", r"\$")


def check_table(table, columns: tuple[str, ...], *, builder: str) -> None:
    """Raise unless ``table`` is a DataFrame with ``columns``, naming the diagnostic that builds it."""
    hint = f"Build it with clvmodels.diagnostics.{builder}()."
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"expected the table of {builder}() (a pandas DataFrame), got {type(table).__name__}. {hint}")
    require_columns(table, columns, what=f"The {builder} table", hint=hint)
