"""Customer ids: one kind per column, read as text (default) or as integers, never guessed.

A customer id is a label, not a number: ``'00001'`` and ``'1'`` are two customers unless the user
says ids are integers. These functions are the one place that decides how an id column is read;
the batch reader (both engines) and the data layer call them.

- :func:`check_id_kinds` refuses an object column that mixes numbers and text (``1`` and ``'1'``
  would otherwise be two customers, or one, depending on the reader);
- :func:`normalise_ids` turns a column into text (``"string"``: integers become their decimal text)
  or into nullable integers (``"integer"``: text must hold whole numbers), keeping missing ids
  missing so the data layer counts them.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from ..exceptions import InvalidValueError
from .validation import MAX_EXAMPLES

IdDtype = Literal["string", "integer"]
#: Dtypes of a normalised id column, by mode.
ID_DTYPES = {"string": "str", "integer": "Int64"}
_WHOLE = r"\s*[+-]?\d+\s*"


def check_id_kinds(ids: pd.Series, *, column: str, what: str = "The data") -> None:
    """Refuse an object column whose ids mix kinds (numbers and text), with examples of each."""
    if ids.dtype != object:
        return
    inferred = pd.api.types.infer_dtype(ids, skipna=True)
    if inferred not in ("mixed", "mixed-integer", "mixed-integer-float"):
        return
    if inferred == "mixed-integer-float":  # ints and floats: both numbers, one kind
        return
    values = ids.dropna()
    kinds = values.map(lambda v: type(v).__name__)  # error path only
    examples = "; ".join(f"{kind}: {values[kinds == kind].head(3).tolist()}" for kind in kinds.unique()[:MAX_EXAMPLES])
    counts = kinds.value_counts().to_dict()
    raise InvalidValueError(
        f"{what}: column {column!r} mixes kinds of customer id ({counts}; e.g. {examples}); 1 and '1' would be "
        "read as different customers, or as one, depending on the reader. Convert the column to one kind "
        f"first, e.g. df[{column!r}] = df[{column!r}].astype(str) (ids as text) or pandas.to_numeric(...).")


def normalise_ids(ids: pd.Series, mode: IdDtype = "string", *, column: str, what: str = "The data") -> pd.Series:
    """Customer ids as text (``mode="string"``) or as nullable integers (``mode="integer"``).

    Parameters
    ----------
    ids : pandas.Series
        The id column as read.
    mode : {"string", "integer"}
        ``"string"``: integer ids become their decimal text (``7`` -> ``'7'``), text is kept as is
        (``'007'`` stays ``'007'``). ``"integer"``: every id must be a whole number (text such as
        ``'007'`` becomes ``7``); anything else is an error naming the column, the count and examples.
    column, what : str
        Column and table named in messages.

    Returns
    -------
    pandas.Series
        Same index, dtype ``str`` or ``Int64``; missing ids stay missing.
    """
    check_id_kinds(ids, column=column, what=what)
    if mode == "string":
        return _as_text(ids, column=column, what=what)
    if mode == "integer":
        return _as_integer(ids, column=column, what=what)
    raise ValueError(f"customer id mode must be 'string' or 'integer', got {mode!r}.")


def _as_text(ids: pd.Series, *, column: str, what: str) -> pd.Series:
    dtype = ids.dtype
    if isinstance(dtype, pd.StringDtype) or dtype == ID_DTYPES["string"]:
        return ids.astype("str") if dtype != "str" else ids
    if pd.api.types.is_bool_dtype(dtype):
        raise InvalidValueError(f"{what}: column {column!r} holds true/false values, not customer ids. "
                                "Point input.customer_id at the id column.")
    if pd.api.types.is_float_dtype(dtype):
        values = ids.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            fractional = np.isfinite(values) & (values != np.round(values)) | np.isinf(values)
        if fractional.any():
            raise _not_whole(ids, fractional, column=column, what=what, mode="text")
        ids = ids.astype("Int64")
    if pd.api.types.is_integer_dtype(ids.dtype):
        if str(ids.dtype).startswith("uint64"):
            return ids.astype("str").where(ids.notna(), np.nan).astype("str")
        return ids.astype("int64[pyarrow]").astype("str")  # Arrow's cast: ~3x pandas' for 10^7 ids
    if pd.api.types.is_datetime64_any_dtype(dtype):
        raise InvalidValueError(f"{what}: column {column!r} holds dates, not customer ids. "
                                "Point input.customer_id at the id column.")
    # object columns of text (or of numbers only, e.g. Decimal): their text form.
    return ids.astype("str").where(ids.notna(), np.nan).astype("str")


def _as_integer(ids: pd.Series, *, column: str, what: str) -> pd.Series:
    dtype = ids.dtype
    if pd.api.types.is_integer_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype):
        return ids.astype("Int64")
    if pd.api.types.is_float_dtype(dtype):
        values = ids.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = np.isfinite(values) & (values != np.round(values)) | np.isinf(values)
        if bad.any():
            raise _not_whole(ids, bad, column=column, what=what, mode="integer")
        return ids.astype("Int64")
    text = ids.astype("str")
    whole = text.str.fullmatch(_WHOLE).fillna(False).to_numpy(dtype=bool)
    bad = ids.notna().to_numpy() & ~whole
    if not bad.any():
        numbers = pd.to_numeric(text.where(whole), errors="coerce")
        too_big = ids.notna().to_numpy() & numbers.isna().to_numpy()
        bad = too_big | (np.abs(numbers.to_numpy(dtype=float, na_value=0.0)) >= 2.0 ** 63)
    if bad.any():
        raise _not_whole(ids, bad, column=column, what=what, mode="integer")
    return pd.to_numeric(text.str.strip(), errors="coerce").astype("Int64")


def _not_whole(ids: pd.Series, bad: np.ndarray, *, column: str, what: str, mode: str) -> InvalidValueError:
    examples = ids[bad].head(MAX_EXAMPLES).tolist()
    if mode == "integer":
        remedy = ("input.customer_id_dtype is 'integer', so every id must be a whole number. Fix these ids, or "
                  "remove customer_id_dtype to read ids as text (the default).")
    else:
        remedy = "Ids with fractions are not labels a reader can keep; write the ids as text or whole numbers."
    return InvalidValueError(f"{what}: column {column!r} has {int(np.sum(bad))} of {len(ids)} customer ids that "
                             f"are not whole numbers (e.g. {examples}). {remedy}")
