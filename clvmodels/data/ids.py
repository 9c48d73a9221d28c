"""Customer ids: one kind per column, read as text (default) or as integers, never guessed.

A customer id is a label, not a number: ``'00001'`` and ``'1'`` are two customers unless the user
says ids are integers. These functions are the one place that decides how an id column is read;
the batch reader (both engines) and the data layer call them.

- :func:`check_id_kinds` refuses an object column that mixes numbers and text (``1`` and ``'1'``
  would otherwise be two customers, or one, depending on the reader);
- :func:`normalise_ids` turns a column into text (``"string"``: integers become their decimal text,
  surrounding spaces are stripped) or into nullable integers (``"integer"``: text must hold whole
  numbers), keeping missing ids missing so the data layer counts them;
- :func:`changed_id_keys` and :func:`id_strip_counts` count the ids that stripping changed and the
  customers it merged (for the manifest and a warning);
- :func:`cross_kind_error` refuses integer ids in one file and zero-padded text ids in another that
  are equal as numbers (``4`` and ``'00004'``): one customer or two, only the user can say.
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
        (``'007'`` stays ``'007'``) except for surrounding spaces, which are not part of an id and
        are stripped (``' 007 '`` -> ``'007'``; a writer's padding must not split a customer in two;
        tabs and other control characters are kept).
        Ids that stripping makes equal are one customer: the batch reader counts them
        (:func:`id_strip_counts`), lists the count in the manifest (``input.ids_stripped``,
        ``input.ids_merged``) and logs a warning. ``"integer"``: every id must be a whole number (text such as
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
        return _strip(ids.astype("str") if dtype != "str" else ids)
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
    # object columns of text (or of numbers only, e.g. Decimal): their text form, stripped.
    return _strip(ids.astype("str").where(ids.notna(), np.nan).astype("str"))


def _strip(text: pd.Series) -> pd.Series:
    """Text ids without surrounding spaces (a copy only when some id has any). Only the space
    character: the padding of fixed-width or aligned exports; a tab or another control character
    is kept (it is part of what the writer wrote, and CSV outputs neutralise it)."""
    if not len(text):
        return text
    padded = text.str.match(r" |.* $").fillna(False).to_numpy(dtype=bool)
    return text.str.strip(" ") if padded.any() else text


def changed_id_keys(raw: pd.Series, ids: pd.Series) -> np.ndarray:
    """Per row, a 64-bit hash of the raw id where normalising changed its text (surrounding
    spaces stripped), 0 elsewhere; :func:`id_strip_counts` turns these into counts."""
    keys = np.zeros(len(raw), dtype=np.uint64)
    if not len(raw) or not (raw.dtype == object or isinstance(raw.dtype, pd.StringDtype) or raw.dtype == "str"):
        return keys
    text = raw.astype("str")
    # stripping only shortens an id: compare lengths (cheap), not the texts
    longer = text.str.len().to_numpy(dtype=float, na_value=np.nan) != ids.astype("str").str.len().to_numpy(
        dtype=float, na_value=np.nan)
    changed = (raw.notna() & ids.notna()).to_numpy() & longer
    if changed.any():
        keys[changed] = pd.util.hash_pandas_object(text[changed], index=False).to_numpy() | np.uint64(1)
    return keys


def id_strip_counts(ids: pd.Series, keys: np.ndarray) -> tuple[int, int]:
    """How many distinct raw ids stripping changed, and how many customers it merged.

    ``keys`` comes from :func:`changed_id_keys`. A customer is merged when its rows carry two
    raw forms (``' 4'`` and ``'4'``, or ``' 4'`` and ``'4 '``). Exact when every row of a customer
    is passed (the Dask engine calls it per partition after the shuffle by customer).
    """
    keys = np.asarray(keys, dtype=np.uint64)
    changed = keys != 0
    if not changed.any():
        return 0, 0
    ids = pd.Series(pd.Series(ids).array)
    touched = ids.isin(pd.unique(ids[changed])).to_numpy()
    forms = pd.DataFrame({"c": ids[touched].to_numpy(), "k": keys[touched]}).drop_duplicates()
    return int(pd.unique(keys[changed]).size), int((forms.groupby("c").size() > 1).sum())


_NUMBER = r"[+-]?\d+"


def padded_numbers(ids: pd.Series) -> pd.DataFrame:
    """The distinct text ids that are whole numbers not written in their plain form (``'00004'``,
    ``'+4'``), with that form (``'4'``): columns ``id`` and ``number``."""
    values = pd.Series(pd.unique(ids.dropna().astype("str")), dtype="str")
    values = values[values.str.fullmatch(_NUMBER).fillna(False).to_numpy(dtype=bool)]
    plain = values.str.replace(r"^\+", "", regex=True).str.replace(r"^(-?)0+(?=\d)", r"\1", regex=True)
    plain = plain.where(plain != "-0", "0")
    keep = (plain != values).to_numpy()
    return pd.DataFrame({"id": values[keep].to_numpy(), "number": plain[keep].to_numpy()})


def cross_kind_error(pairs: pd.DataFrame, *, integer_file, text_file, column: str) -> InvalidValueError:
    """The message for integer ids in ``integer_file`` equal as numbers to zero-padded text ids in
    ``text_file`` (``pairs``: columns ``id``, ``number`` of :func:`padded_numbers`)."""
    shown = ", ".join(f"{n} and {i!r}" for i, n in pairs.head(MAX_EXAMPLES).itertuples(index=False))
    return InvalidValueError(
        f"column {column!r}: {integer_file} holds customer ids as integers and {text_file} as text, and "
        f"{len(pairs)} text id(s) with leading zeros (or a '+') equal an integer id as numbers (e.g. {shown}). "
        "Ids are read as text, so these would be scored as two customers each; whether they are one customer "
        "only the data can say. Set input.customer_id_dtype: integer to read every id as a number (merging "
        "them), or fix the job that writes the files so that every file writes ids of one kind.")


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
