"""Checks shared by the data layer and the models, with messages that say what to do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from ..exceptions import EmptyDataError, InvalidValueError, MissingColumnError

MAX_EXAMPLES = 5


def _examples(labels: Iterable, values: Iterable | None = None) -> str:
    labels = list(labels)[:MAX_EXAMPLES]
    if values is None:
        return ", ".join(repr(v) for v in labels)
    return ", ".join(f"{k!r}: {v!r}" for k, v in zip(labels, list(values)[:MAX_EXAMPLES]))


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, what: str, hint: str = "") -> None:
    """Raise :class:`MissingColumnError` naming every absent column and the closest existing ones."""
    present = [str(c) for c in frame.columns]
    missing = [c for c in columns if c not in frame.columns]
    if not missing:
        return
    parts = []
    by_lower = {}
    for c in present:
        by_lower.setdefault(c.lower(), c)
    for name in missing:
        # Case differences first ('T' vs 't' is too short for difflib), then close spellings.
        close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
        close = [by_lower[close[0]]] if close else []
        parts.append(f"{name!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    raise MissingColumnError(
        f"{what} is missing column(s) {', '.join(parts)}; it has {present}. "
        + (hint or "Rename the columns or pass the right column names.")
    )


def require_rows(frame: pd.DataFrame, *, what: str) -> None:
    if len(frame) == 0:
        raise EmptyDataError(f"{what} has no rows. Check the file, the filters and the date range.")


def invalid_rows_error(column: str, rule: str, mask: np.ndarray, frame: pd.DataFrame, remedy: str):
    """Build the standard message for rows of ``frame[column]`` that break ``rule``."""
    bad = frame.loc[np.asarray(mask)]
    shown = _examples(bad.index, bad[column].tolist()) if column in frame else _examples(bad.index)
    return InvalidValueError(
        f"column {column!r}: {rule}; {int(np.sum(mask))} of {len(frame)} rows break it "
        f"(row: value, first {min(MAX_EXAMPLES, len(bad))}: {shown}). {remedy}"
    )


def check_summary(frame: pd.DataFrame, columns: tuple[str, ...], *, what: str = "The summary") -> None:
    """Validate an RFM summary before any maths: finite, non-negative, recency <= T.

    Raises :class:`InvalidValueError` for impossible data rather than letting it turn into NaN.
    """
    require_columns(frame, columns, what=what, hint="Build it with clvmodels.rfm_summary().")
    require_rows(frame, what=what)
    remedy = "Rebuild the summary with clvmodels.rfm_summary(), or fix or drop these customers."
    for col in columns:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        if not np.all(np.isfinite(values)):
            raise invalid_rows_error(col, "must be a finite number", ~np.isfinite(values), frame, remedy)
        if np.any(values < 0):
            raise invalid_rows_error(col, "must not be negative", values < 0, frame, remedy)
    if "frequency" in columns:
        f = frame["frequency"].to_numpy(dtype=float)
        if np.any(f != np.round(f)):
            raise invalid_rows_error("frequency", "must be a whole number of repeat purchases",
                                     f != np.round(f), frame, remedy)
    if "recency" in columns and "T" in columns:
        rec, T = frame["recency"].to_numpy(dtype=float), frame["T"].to_numpy(dtype=float)
        late = rec > T * (1 + 1e-12) + 1e-12
        if np.any(late):
            raise invalid_rows_error("recency", "must not exceed T (the last purchase cannot come "
                                     "after the end of observation)", late, frame, remedy)
        if "frequency" in columns:
            orphan = (frame["frequency"].to_numpy(dtype=float) == 0) & (rec > 0)
            if np.any(orphan):
                raise invalid_rows_error("recency", "must be 0 when frequency is 0 (no repeat "
                                         "purchase, so no time of last repeat purchase)", orphan, frame, remedy)
