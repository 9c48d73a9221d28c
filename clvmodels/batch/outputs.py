"""Writing a job's tables: score chunks to Parquet and CSV, KPI tables to CSV, with the checks a
published table must pass (no non-finite score; text cells a spreadsheet would run as formulas
neutralised). Where the files go, and how they are published, is :mod:`clvmodels.batch.publish`."""

from __future__ import annotations

import re
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd

#: A text cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets
#: (OWASP, "CSV injection"); a leading apostrophe makes it text.
FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame, *, index: bool = False) -> pd.DataFrame:
    """``frame`` with every text cell that starts like a formula prefixed by ``'`` (a copy when
    anything changes): text and categorical columns, the column names (the header row) and, with
    ``index=True``, the index (every level). Numbers are untouched."""
    changed = {i: v for i, (_, col) in enumerate(frame.items()) if (v := _neutralised(col)) is not None}
    names = _neutralised(pd.Series(list(frame.columns), dtype=object)) if frame.columns.nlevels == 1 else None
    levels = None
    if index:
        new = [_neutralised(pd.Series(frame.index.get_level_values(i), dtype=object))
               for i in range(frame.index.nlevels)]
        level_names = [_quoted(n) for n in frame.index.names]
        if any(v is not None for v in new) or level_names != list(frame.index.names):
            levels = [pd.Index(v.to_numpy() if v is not None else frame.index.get_level_values(i), name=n)
                      for i, (v, n) in enumerate(zip(new, level_names))]
    if not changed and names is None and levels is None:
        return frame
    frame = frame.copy()
    for i, values in changed.items():
        frame.isetitem(i, values)
    if names is not None:
        frame.columns = pd.Index(names.to_numpy(), name=frame.columns.name)
    if levels is not None:
        frame.index = levels[0] if len(levels) == 1 else pd.MultiIndex.from_arrays(levels)
    return frame


def _quoted(name):
    return "'" + name if isinstance(name, str) and name.startswith(FORMULA_LEADERS) else name


def _neutralised(values: pd.Series) -> pd.Series | None:
    """The text column ``values`` with formula-leading cells quoted, or None when none is."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return None
    try:
        risky = values.str.startswith(FORMULA_LEADERS)  # non-text cells of a mixed column: NaN
    except AttributeError:  # an object column without text
        return None
    risky = risky.fillna(False).to_numpy(dtype=bool)
    if not risky.any():
        return None
    out = values.astype(object)
    out.iloc[np.flatnonzero(risky)] = ("'" + values[risky].astype(str)).to_numpy()
    return out


def write_csv(frame: pd.DataFrame, path, *, escape: bool = True, **options) -> None:
    """``frame.to_csv(path, **options)`` with formula-leading text cells neutralised unless
    ``escape`` is False (``output.csv_formula_escape``)."""
    if escape:
        frame = neutralise_formulas(frame, index=options.get("index", True))
    frame.to_csv(path, **options)


def non_finite(frame: pd.DataFrame, allowed_infinite=()) -> tuple[np.ndarray, dict, dict]:
    """Rows with a NaN or infinite number, the count per column (only columns that have any), and
    the count of ``+inf`` in the ``allowed_infinite`` columns (not flagged: the model says so)."""
    numbers = frame.select_dtypes(include="number")
    if numbers.empty:
        return np.zeros(len(frame), dtype=bool), {}, {}
    values = numbers.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    allowed = np.isin(numbers.columns, list(allowed_infinite))
    infinite = bad & allowed & (values == np.inf)
    bad &= ~infinite
    counts = {c: int(n) for c, n in zip(numbers.columns, bad.sum(axis=0)) if n}
    infinite_counts = {c: int(n) for c, n in zip(numbers.columns, infinite.sum(axis=0)) if n}
    return bad.any(axis=1), counts, infinite_counts


#: The range of each kind of score column (its ``_lower``/``_upper`` bounds too): a value outside is
#: impossible (a negative spend from Gamma-Gamma parameters with q <= 1, a probability above 1).
_PROBABILITY = re.compile(r"(p_alive|churn_probability)(_lower|_upper)?")
_NON_NEGATIVE = re.compile(r"(expected_purchases_.*|expected_spend|clv|dert|derl|expected_remaining_lifetime)"
                           r"(_lower|_upper)?")
_TOLERANCE = 1e-9


def out_of_range(frame: pd.DataFrame) -> tuple[np.ndarray, dict]:
    """Rows with a finite score outside its column's range (probabilities in [0, 1], expectations,
    spend and values 0 or more) and the count per column."""
    rows = np.zeros(len(frame), dtype=bool)
    counts = {}
    for column in frame.columns:
        name = str(column)
        if _PROBABILITY.fullmatch(name):
            lo, hi = 0.0, 1.0
        elif _NON_NEGATIVE.fullmatch(name):
            lo, hi = 0.0, np.inf
        else:
            continue
        values = frame[column].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            bad = np.isfinite(values) & ((values < lo - _TOLERANCE) | (values > hi + _TOLERANCE))
        if bad.any():
            counts[name] = int(bad.sum())
            rows |= bad
    return rows, counts


class ScoreWriter:
    """Append score chunks to ``scores.<format>`` files (staged), one chunk in memory at a time.

    Parquet chunks are encoded and written on a background thread (Arrow releases the GIL), so
    writing one chunk overlaps with scoring the next; at most one chunk waits to be written, and
    :meth:`close` waits for it. A failed write is raised by the next :meth:`write` or by
    :meth:`close`. A frame must not be changed after it is passed to :meth:`write` (its columns
    may be shared with the table being written).

    Parameters
    ----------
    generation : Generation
        Where the files go (:class:`~clvmodels.batch.publish.Generation`).
    formats : list of {"parquet", "csv"}
    columns : list of str, optional
        Columns to keep after the customer id (``output.columns``); unknown names are an error.
    csv_formula_escape : bool
        Neutralise formula-leading text cells in the CSV file (:func:`neutralise_formulas`).
    allowed_infinite : sequence of str
        Columns where ``+inf`` is the model's answer (counted in ``infinite_by_model``, not flagged).

    Attributes
    ----------
    non_finite : dict
        Count of NaN or infinite scores per column; ``non_finite_rows`` the customers with any.
    out_of_range : dict
        Count of finite scores outside their column's range per column (:func:`out_of_range`);
        ``out_of_range_rows`` the other customers with any. ``non_finite_examples``: up to five
        ids of customers with either.
    """

    def __init__(self, generation, formats, columns=None, *, csv_formula_escape: bool = True, allowed_infinite=()):
        self.targets = {fmt: generation.path(f"scores.{fmt}") for fmt in formats}
        self.columns = columns
        self.escape = csv_formula_escape
        self.non_finite: dict = {}
        self.non_finite_rows = 0
        self.non_finite_examples: list = []
        self.allowed_infinite = tuple(allowed_infinite)
        self.out_of_range: dict = {}
        self.out_of_range_rows = 0
        self.infinite_by_model: dict = {}
        self.schema = None
        self._parquet = None
        self._thread: ThreadPoolExecutor | None = None
        self._pending: Future | None = None
        self._first = True
        self.rows = 0

    def _select(self, frame: pd.DataFrame) -> pd.DataFrame:
        if self.columns is None:
            return frame
        unknown = [c for c in self.columns if c not in frame.columns]
        if unknown:
            from ..exceptions import DataError

            raise DataError(f"output.columns names {unknown}, which this run does not produce; its columns "
                            f"are {list(frame.columns[1:])}. Fix output.columns or leave it out for all.")
        return frame[[frame.columns[0], *[c for c in self.columns if c != frame.columns[0]]]]

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        frame = self._select(frame)
        rows, counts, infinite = non_finite(frame, self.allowed_infinite)
        impossible, ranges = out_of_range(frame)
        for c, n in infinite.items():
            self.infinite_by_model[c] = self.infinite_by_model.get(c, 0) + n
        for total, found in ((self.non_finite, counts), (self.out_of_range, ranges)):
            for c, n in found.items():
                total[c] = total.get(c, 0) + n
        self.non_finite_rows += int(rows.sum())
        self.out_of_range_rows += int((impossible & ~rows).sum())
        bad = rows | impossible
        need = 5 - len(self.non_finite_examples)
        if need > 0 and bad.any():
            self.non_finite_examples += frame.iloc[:, 0][bad].head(need).astype(str).tolist()
        if "parquet" in self.targets:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._parquet is None:
                self.schema = table.schema
                # Scores are nearly all distinct floats: dictionary encoding only costs time.
                self._parquet = pq.ParquetWriter(self.targets["parquet"], self.schema, use_dictionary=False)
            table = table.cast(self.schema)
            self._wait()  # one chunk in flight at most, so memory stays bounded
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clvmodels-write")
            self._pending = self._thread.submit(self._parquet.write_table, table)
        if "csv" in self.targets:
            write_csv(frame, self.targets["csv"], escape=self.escape, mode="w" if self._first else "a",
                      header=self._first, index=False)
        self._first = False
        self.rows += len(frame)

    def _wait(self) -> None:
        """Wait for the chunk being written; raise its error if the write failed."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Finish writing (raising a failed write's error) and close the files."""
        try:
            self._wait()
        finally:
            if self._thread is not None:
                self._thread.shutdown()
                self._thread = None
            if self._parquet is not None:
                self._parquet.close()
                self._parquet = None
