"""Reading the configured input: files, directories or globs of CSV/Parquet, column and dtype
checks, customer ids, duplicates, filters, and precomputed summaries.

Every problem a user can fix is a :class:`~clvmodels.exceptions.DataError` with one paragraph that
names the file, the column and what to change in the config; the CLI turns it into exit code 2.

Which files are read (:func:`resolve_files`):

- a file named by ``input.path`` is read (its format from its suffix, else sniffed: Parquet files
  start with the bytes ``PAR1``, anything else is read as CSV);
- under a directory, and among a glob's matches, every regular file is read or refused by name.
  Names starting with ``.`` or ``_`` (``_SUCCESS`` markers, ``.crc`` checksums, ``_temporary/``
  folders of Spark-like writers) are skipped and listed in the manifest (``input.skipped``) with
  the reason. With ``input.format: auto`` a file's format comes from its suffix (``.parquet``,
  ``.pq``, ``.csv``, ``.txt``, optionally compressed ``.gz``/``.bz2``/``.xz``/``.zst``/``.zip``);
  a file without a suffix (``part-00001``) is sniffed; a file with any other suffix (``x.tsv``,
  ``x.csv.1``) is an error naming it, so that no file is skipped without a word;
- two files with the same content (same SHA-256) in one job are refused, naming both.

Customer ids are read as text unless ``input.customer_id_dtype: integer``
(:func:`clvmodels.data.ids.normalise_ids`), the same way for every file and both engines. Text ids
lose surrounding spaces; the ids changed and the customers merged by that are counted in the
manifest (``input.ids_stripped``, ``input.ids_merged``) and logged as a warning
(:func:`warn_stripped_ids`). Integer ids in one file and zero-padded text ids equal to them as
numbers in another (``4`` and ``'00004'``) are refused (:func:`check_cross_kind_ids`).
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import datasets
from ..data.ids import (ID_DTYPES, changed_id_keys, cross_kind_error, id_strip_counts, normalise_ids,
                        padded_numbers)
from ..data.transactions import parse_dates, prepare_transactions
from ..data.validation import MAX_EXAMPLES, check_summary, require_columns
from ..exceptions import DataError, EmptyDataError, ExcludedRowsWarning, InvalidValueError

SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".txt": "csv"}
COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst", ".zip")
SUMMARY_COLUMNS = ("frequency", "recency", "T")
SKIP_REASON = "name starts with '.' or '_' (hidden, marker or temporary file)"
logger = logging.getLogger("clvmodels.batch")


@dataclass
class Source:
    """What was read: files with format, size, SHA-256 and row count, and the files skipped by
    rule (with the reason), for the manifest."""

    files: list[dict] = field(default_factory=list)
    dataset: str | None = None
    skipped: list[dict] = field(default_factory=list)
    #: Distinct raw ids changed by stripping spaces, and customers merged by it.
    ids_stripped: int = 0
    ids_merged: int = 0

    @property
    def rows(self) -> int:
        return sum(f["rows"] for f in self.files)

    def to_dict(self) -> dict:
        out = {"dataset": self.dataset} if self.dataset else {}
        if len(self.files) == 1 and "path" in self.files[0]:
            out["path"] = self.files[0]["path"]
        out = {**out, "files": self.files, "rows": self.rows}
        if self.skipped:
            out["skipped"] = self.skipped
        if self.ids_stripped:
            out.update(ids_stripped=self.ids_stripped, ids_merged=self.ids_merged)
        return out


def file_entry(file: Path, fmt: str, rows: int, digest: str) -> dict:
    """A file's manifest entry."""
    return {"path": str(file.resolve()), "format": fmt, "bytes": file.stat().st_size, "rows": int(rows),
            "sha256": digest}


def sha256_of(file: Path) -> str:
    """The SHA-256 of a file's bytes (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sniff_format(file: Path) -> str:
    """``"parquet"`` when the file starts with Parquet's magic bytes ``PAR1``, else ``"csv"``."""
    with open(file, "rb") as handle:
        return "parquet" if handle.read(4) == b"PAR1" else "csv"


def format_of(file: Path) -> str | None:
    """The format named by a file's suffix, ``"sniff"`` without one, ``None`` for an unknown one."""
    stem, dot, ext = file.name.lower().rpartition(".")
    if not dot or not stem:
        return "sniff"
    if "." + ext in COMPRESSIONS:  # compressed text: 'x.csv.gz', 'x.gz'
        inner = Path(stem).suffix
        return "csv" if not inner or SUFFIXES.get(inner) == "csv" else None
    return SUFFIXES.get("." + ext)


def _skipped(file: Path, root: Path) -> bool:
    """Whether a file under ``root`` is skipped by rule (a part of its path starts with '.' or '_')."""
    try:
        parts = file.relative_to(root).parts
    except ValueError:
        parts = (file.name,)
    return any(p.startswith((".", "_")) for p in parts)


def resolve_files(cfg, source: Source | None = None, *, output_directory=None) -> list[tuple[Path, str]]:
    """The files named by ``input.path`` (a file, a directory or a glob) with their formats, sorted.

    Files skipped by rule are added to ``source.skipped``; see the module docstring for the rules.
    A directory or glob that reaches into the job's ``output_directory``, or into any folder
    holding a clvmodels job's state (``.clvmodels/``), is refused: a job would read outputs as input.
    """
    raw = cfg.path
    path = Path(raw)
    where = f"(paths are relative to the working directory {Path.cwd()})"
    if any(ch in raw for ch in "*?["):
        matches = sorted(Path(p) for p in glob.glob(raw, recursive=True) if Path(p).is_file())
        root = _glob_root(raw)
        if not matches:
            raise DataError(f"input.path {raw!r} matched no files {where}. Check the pattern and that the "
                            "files have been delivered.")
    elif path.is_dir():
        matches, root = sorted(p for p in path.rglob("*") if p.is_file()), path
        if not matches:
            raise DataError(f"input.path {raw!r} is a directory without files {where}.")
    elif path.is_file():
        fmt = cfg.format if cfg.format != "auto" else format_of(path)
        fmt = sniff_format(path) if fmt in (None, "sniff") else fmt
        return [(path, fmt)]
    else:
        raise DataError(f"input.path {raw!r} does not exist or is not a file {where}.")
    _refuse_outputs(raw, matches, root, output_directory)
    files, skipped, unknown = [], [], []
    for f in matches:
        if _skipped(f, root):
            skipped.append({"path": str(f.resolve()), "bytes": f.stat().st_size, "reason": SKIP_REASON})
            continue
        fmt = cfg.format if cfg.format != "auto" else format_of(f)
        if fmt is None:
            unknown.append(f)
            continue
        files.append((f, sniff_format(f) if fmt == "sniff" else fmt))
    if unknown:
        shown = ", ".join(str(f) for f in unknown[:MAX_EXAMPLES]) + (" ..." if len(unknown) > MAX_EXAMPLES else "")
        raise DataError(
            f"input.path {raw!r}: {len(unknown)} file(s) have a suffix that names no known format ({shown}); "
            "a job reads every file it is given or stops, so no customer goes unscored without a word. Set "
            "input.format (csv or parquet) to read them all in that format, rename them, or move them out of "
            "the input. (Names starting with '.' or '_' are skipped as marker files.)")
    if source is not None:
        source.skipped.extend(skipped)
    if not files:
        raise DataError(f"input.path {raw!r} holds no data files {where}: the {len(skipped)} file(s) there "
                        f"are skipped because their {SKIP_REASON}.")
    if len({fmt for _, fmt in files}) > 1:
        raise DataError(f"input.path {raw!r} mixes CSV and Parquet files; point it at one kind "
                        "(e.g. a glob ending in '.parquet').")
    return files


def _refuse_outputs(raw: str, matches: list[Path], root: Path, output_directory) -> None:
    """Refuse an input whose files include a clvmodels output directory's (see :func:`resolve_files`)."""
    base = root.resolve()
    out = Path(output_directory).resolve() if output_directory is not None else None
    found, seen = None, set()
    if out is not None and Path(raw).is_dir() and (out == base or base in out.parents):
        found = out  # a directory input would read the outputs from the next run on
    for f in matches if found is None else ():
        folder = f.resolve().parent
        while found is None and folder not in seen:
            seen.add(folder)
            if folder == out or (folder / ".clvmodels").is_dir():
                found = folder
            elif folder == base or base not in folder.parents:
                break
            folder = folder.parent
        if found is not None:
            break
    if found is not None:
        raise DataError(
            f"input.path {raw!r} reaches into the output directory {found} (a clvmodels job writes its scores, "
            "models and manifest there): the job would read its own outputs as input. Set output.directory "
            "outside input.path, or narrow input.path (e.g. a glob naming only the input files).")


def _glob_root(pattern: str) -> Path:
    """The folder above a glob's first wildcard (names below it are checked for '.'/'_')."""
    parts = Path(pattern).parts
    fixed = [p for p in parts[:next(i for i, p in enumerate(parts) if any(c in p for c in "*?["))]]
    return Path(*fixed) if fixed else Path(".")


def check_distinct_files(files: list[tuple[Path, str]], digests: list[str]) -> None:
    """Refuse files with the same content (same SHA-256) in one job, naming both."""
    seen: dict[str, Path] = {}
    for (file, _), digest in zip(files, digests):
        if file.stat().st_size == 0:
            continue
        if digest in seen:
            raise DataError(
                f"{seen[digest]} and {file} have the same content (SHA-256 {digest[:16]}...): the same data "
                "delivered twice would count every purchase twice. Remove the copy, or narrow input.path.")
        seen[digest] = file


def needed_columns(cfg) -> list[str]:
    if cfg.kind == "summary":
        return [cfg.customer_id, *SUMMARY_COLUMNS] + ([cfg.monetary_value] if cfg.monetary_value else [])
    return [cfg.customer_id, cfg.datetime] + ([cfg.monetary_value] if cfg.monetary_value else [])


def _hint(cfg) -> str:
    if cfg.kind == "summary":
        return ("A summary file needs the customer id column (input.customer_id), frequency, recency, T and, "
                "for a spend model, the column named by input.monetary_value.")
    return "Set input.customer_id, input.datetime and input.monetary_value to the file's column names."


def _check_columns(columns: list[str], file: Path, cfg) -> None:
    try:
        require_columns(pd.DataFrame(columns=columns), needed_columns(cfg), what=str(file), hint=_hint(cfg))
    except DataError as err:
        raise type(err)(str(err)) from None


def _parquet_dtype_problem(kind: str, dtype) -> str | None:
    """Why a Parquet column of arrow type ``dtype`` cannot serve as ``kind``, or None."""
    import pyarrow as pa

    t = dtype.value_type if pa.types.is_dictionary(dtype) else dtype
    integer, floating, text = pa.types.is_integer(t), pa.types.is_floating(t), pa.types.is_string(t) or pa.types.is_large_string(t)
    if kind == "id" and not (integer or text):
        return "customer ids must be integers or text"
    if kind == "date" and not (pa.types.is_timestamp(t) or pa.types.is_date(t) or text or integer):
        return "dates must be timestamps, dates, text or integers such as 19970101 (with input.datetime_format)"
    if kind == "number" and not (integer or floating or pa.types.is_decimal(t)):
        return "it must hold numbers (integer, float or decimal)"
    return None


def check_parquet(file: Path, cfg) -> int:
    """Check a Parquet file's columns and their types from its footer; return its row count."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(file)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read {file} as Parquet: {err}. Check input.format and the file.") from None
    schema = meta.schema_arrow
    _check_columns(list(schema.names), file, cfg)
    for column in needed_columns(cfg):
        if len(schema.get_all_field_indices(column)) > 1:
            raise _same_name(file, column)
    kinds = {cfg.customer_id: "id"}
    if cfg.kind == "summary":
        kinds.update({c: "number" for c in SUMMARY_COLUMNS})
    else:
        kinds[cfg.datetime] = "date"
    if cfg.monetary_value:
        kinds[cfg.monetary_value] = "number"
    for column, kind in kinds.items():
        dtype = schema.field(column).type
        problem = _parquet_dtype_problem(kind, dtype)
        if problem:
            raise InvalidValueError(f"{file}: column {column!r} has type {dtype}, but {problem}. Fix the job that "
                                    "writes the file, or point the input section at the right column.")
    return meta.metadata.num_rows


_check_parquet = check_parquet  # former private name


#: Column added by ``normalise_frame(..., with_changes=True)``: :func:`changed_id_keys` per row.
ID_CHANGES = "__clvmodels_id_changed"


def normalise_frame(frame: pd.DataFrame, cfg, *, what: str, with_changes: bool = False) -> pd.DataFrame:
    """The frame with its customer id column read as ``input.customer_id_dtype`` says (text by
    default); the one conversion every file, dataset and engine goes through. ``with_changes``
    adds the column :data:`ID_CHANGES` marking the rows whose id lost surrounding spaces."""
    raw = frame[cfg.customer_id]
    ids = normalise_ids(raw, cfg.customer_id_dtype, column=cfg.customer_id, what=what)
    out = frame.assign(**{cfg.customer_id: ids})
    if with_changes:
        out[ID_CHANGES] = changed_id_keys(raw, ids)
    return out


def id_kind(dtype) -> str:
    """``"number"`` for an id column read as numbers (a Parquet int or float column), else ``"text"``."""
    numeric = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
    return "number" if numeric else "text"


def check_cross_kind_ids(text_ids: dict, number_ids: dict, cfg) -> None:
    """Refuse zero-padded text ids of one file equal as numbers to integer ids of another.

    ``text_ids`` maps files whose ids were text to a function returning their
    :func:`~clvmodels.data.ids.padded_numbers` (called only when some file has number ids),
    ``number_ids`` files whose ids were numbers to a function telling which of a set of plain
    numbers (text) they hold. Only with text ids (the default); ``customer_id_dtype: integer``
    merges them by rule.
    """
    if cfg.customer_id_dtype != "string" or not text_ids or not number_ids:
        return
    for text_file, padded_of in text_ids.items():
        padded = padded_of()
        if not len(padded):
            continue
        for number_file, holds in number_ids.items():
            hits = padded[padded["number"].isin(holds(padded["number"].unique()))]
            if len(hits):
                raise cross_kind_error(hits, integer_file=number_file, text_file=text_file, column=cfg.customer_id)


def check_date_zones(zones: dict, cfg) -> None:
    """Refuse files whose date columns are timestamps of different time zones, or naive in some
    and time-zone-aware in others (``zones``: file -> zone name, ``None`` when naive), naming them."""
    if len(set(zones.values())) < 2:
        return
    by_zone: dict = {}
    for file, zone in zones.items():
        by_zone.setdefault(zone, []).append(file)
    shown = "; ".join(f"{'no time zone (naive)' if zone is None else 'time zone ' + str(zone)}: {files[0]}"
                      + (f" and {len(files) - 1} more" if len(files) > 1 else "") for zone, files in by_zone.items())
    raise InvalidValueError(
        f"column {cfg.datetime!r}: the input files store their dates in different time zones ({shown}); naive "
        "and time-zone-aware timestamps (or two zones) in one column have no common reading. Fix the job that "
        "writes the files so that all store dates the same way (all in one zone, or all naive local time), or "
        "narrow input.path to the files of one kind.")


def spend_models(config) -> list[str]:
    """Names of the configured spend models (gamma_gamma)."""
    from ..models import MODELS

    return [m.name for m in config.models if MODELS[m.name].kind == "spend"]


def check_spend_amounts(config, n_repeat: int, n_positive: int) -> None:
    """Refuse a spend model's fit when no customer with a repeat purchase spent anything.

    ``n_repeat``: customers with a repeat purchase; ``n_positive``: those with a positive mean
    spend. All-zero amounts (a wrong column, an export that lost them) would otherwise reach the
    model as a data problem of the purchase counts.
    """
    names = spend_models(config)
    if not names or not n_repeat or n_positive:
        return
    column = config.input.monetary_value
    raise InvalidValueError(
        f"column {column!r} (input.monetary_value): none of the {n_repeat} customers with a repeat purchase has "
        f"a positive mean amount (every amount is 0 or below), so the spend model {names[0]} has nothing to fit. "
        "Check that input.monetary_value names the amount column and that the export kept the amounts, or remove "
        "the spend model from models to score purchases only.")


def warn_stripped_ids(stripped: int, merged: int, cfg) -> None:
    """Log the ids that lost surrounding spaces and the customers merged by it."""
    if not stripped:
        return
    merged_text = (f"; {merged} customer(s) were written both with and without it (or with different padding) "
                   "and are now merged into one customer each" if merged
                   else "; none now equals another id, so no customers were merged")
    logger.warning("%d customer id(s) in column %r had surrounding spaces, stripped (spaces are not part of an "
                   "id)%s. Counted in the manifest (input.ids_stripped, input.ids_merged); fix the writer "
                   "of the file if the padding is not expected.", stripped, cfg.customer_id, merged_text)


def id_dtype(cfg) -> str:
    """The dtype of normalised customer ids (``str`` or ``Int64``)."""
    return ID_DTYPES[cfg.customer_id_dtype]


def read_frame(cfg, *, output_directory=None) -> tuple[pd.DataFrame, Source]:
    """Read the configured input (transactions or a summary) into one frame of the needed columns.

    Every file is checked (columns, types, header), refused when its content repeats another
    file's, and its customer ids are normalised (:func:`normalise_frame`); the manifest entry of
    each file holds its path, format, bytes, rows and SHA-256.
    """
    if cfg.dataset is not None:
        frame = datasets.load_cdnow_transactions() if cfg.dataset == "cdnow_sample" else datasets.load_cdnow_master()
        frame = normalise_frame(frame, cfg, what=f"dataset {cfg.dataset}")
        return frame, Source(files=[{"dataset": cfg.dataset, "rows": len(frame)}], dataset=cfg.dataset)
    columns = needed_columns(cfg)
    parts, source = [], Source()
    files = resolve_files(cfg, source, output_directory=output_directory)
    digests = [sha256_of(f) for f, _ in files]
    check_distinct_files(files, digests)
    text_ids, number_ids, zones = {}, {}, {}
    for (file, fmt), digest in zip(files, digests):
        if fmt == "parquet":
            check_parquet(file, cfg)
            part = pd.read_parquet(file, columns=columns)
        else:
            part = read_csv(file, columns, cfg)
        kind = id_kind(part[cfg.customer_id].dtype)
        if cfg.kind != "summary" and pd.api.types.is_datetime64_any_dtype(part[cfg.datetime].dtype):
            zones[file] = str(getattr(part[cfg.datetime].dtype, "tz", None) or "") or None
        part = normalise_frame(part, cfg, what=str(file), with_changes=True)
        if kind == "text":
            text_ids[file] = lambda ids=part[cfg.customer_id]: padded_numbers(ids)
        else:
            number_ids[file] = lambda values, ids=part[cfg.customer_id]: values[np.isin(values, ids.unique())]
        parts.append(part)
        source.files.append(file_entry(file, fmt, len(part), digest))
    check_cross_kind_ids(text_ids, number_ids, cfg)
    check_date_zones(zones, cfg)
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    if len(frame) == 0:
        raise EmptyDataError(f"input.path {cfg.path!r}: the {len(parts)} file(s) hold no rows.")
    keys = frame.pop(ID_CHANGES).to_numpy()
    source.ids_stripped, source.ids_merged = id_strip_counts(frame[cfg.customer_id], keys)
    warn_stripped_ids(source.ids_stripped, source.ids_merged, cfg)
    return frame, source


def _same_name(file: Path, column: str) -> DataError:
    return DataError(f"{file}: the header names column {column!r} more than once; a reader would silently use "
                     "one of them (pandas renames the other to "
                     f"{column + '.1'!r}). Rename or drop the extra column.")


def csv_header(file: Path) -> list[str]:
    """The column names of a CSV file exactly as its first line writes them (duplicates kept)."""
    try:
        first = pd.read_csv(file, nrows=1, header=None, dtype="str", keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise EmptyDataError(f"{file} is empty: it has no header and no rows. Remove it from the input (or move "
                             "it out of input.path), or deliver the file again with its data; marker files "
                             "named with a leading '_' or '.' (e.g. _SUCCESS) are skipped.") from None
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {file} as CSV: {err}. Check input.format and the file.") from None
    return [str(v) for v in first.iloc[0].tolist()] if len(first) else []


def check_csv_header(header: list[str], file: Path, cfg) -> None:
    """A CSV header's problems, before any row is read: another separator, repeated names, absent
    columns (with close spellings)."""
    columns = needed_columns(cfg)
    missing = [c for c in columns if c not in header]
    if missing and len(header) == 1:
        seps = {"';'": ";", "a tab": "\t", "'|'": "|"}
        found = [name for name, sep in seps.items() if sep in header[0]]
        if found:
            raise DataError(
                f"{file} seems to use {found[0]} as its separator, not a comma: its header reads as one column "
                f"{header[0][:80]!r}. clvmodels reads comma-separated CSV; convert the file (e.g. "
                f"pandas.read_csv(path, sep={seps[found[0]]!r}).to_csv(new_path, index=False)) or write it as "
                "Parquet, then point input.path at it.")
    for column in columns:
        if header.count(column) > 1:
            raise _same_name(file, column)
    _check_columns(header, file, cfg)


def read_csv(file: Path, columns: list[str], cfg) -> pd.DataFrame:
    """Read the needed columns of a CSV file, customer ids as text (converted later if integer)."""
    check_csv_header(csv_header(file), file, cfg)
    try:
        return pd.read_csv(file, usecols=columns, dtype={cfg.customer_id: "str"})
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {file} as CSV: {err}. Check input.format and the file.") from None


_read_csv = read_csv  # former private name


def row_keys(frame: pd.DataFrame, cfg) -> np.ndarray:
    """A 64-bit hash of each row's needed columns other than the customer id, as read (dates and
    amounts before parsing), to find exact duplicate rows with :func:`duplicate_rows`."""
    columns = [c for c in needed_columns(cfg) if c != cfg.customer_id]
    return pd.util.hash_pandas_object(frame[columns], index=False).to_numpy()


def duplicate_rows(customers: pd.Series, keys: np.ndarray) -> np.ndarray:
    """Rows repeating an earlier row exactly: the same customer and the same :func:`row_keys`.

    Customers are compared exactly, the other columns by their 64-bit hash (two different rows
    share one with probability about n^2 / 2^65: 3e-6 for 10^7 rows). Only rows whose key repeats
    are compared by customer, so a log without duplicates costs one hash of its dates and amounts.
    Both engines call this (the Dask engine per partition after shuffling rows by customer, so that
    every copy of a row sits in one partition), so they count the same rows.
    """
    keys = pd.Series(np.asarray(keys, dtype=np.uint64))
    candidates = keys.duplicated(keep=False).to_numpy()
    out = np.zeros(len(keys), dtype=bool)
    if candidates.any():
        sub = pd.DataFrame({"c": pd.Series(customers).array[candidates], "k": keys.to_numpy()[candidates]})
        out[candidates] = sub.duplicated().to_numpy()
    return out


def warn_duplicates(count: int, cfg) -> None:
    """Log the exact duplicate rows found: a warning unless ``filters.drop_duplicates`` says what to
    do with them (true: left out; false: kept, e.g. a log that records repeated same-day orders)."""
    if not count:
        return
    if cfg.filters.drop_duplicates:
        logger.info("%d rows repeat an earlier row exactly; left out (filters.drop_duplicates).", count)
    elif cfg.filters.drop_duplicates is False:
        logger.info("%d rows repeat an earlier row exactly; kept as real orders (filters.drop_duplicates: "
                    "false).", count)
    else:
        logger.warning("%d input rows repeat an earlier row exactly (every needed column equal): if data were "
                       "delivered twice, spend and CLV are overstated. Set input.filters.drop_duplicates: true "
                       "to leave them out (they are counted), false if they are real repeated orders, or "
                       "check the data.", count)


def apply_filters(frame: pd.DataFrame, cfg, *, duplicates: np.ndarray | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Leave out the rows the filters name.

    ``duplicates`` marks exact duplicate rows (:func:`duplicate_rows`); with
    ``filters.drop_duplicates`` those not left out by an earlier filter get the reason
    ``duplicate_row``. Returns the kept rows, the left-out rows' customer ids with their reason
    (for reconciling customers), and the left-out row counts by reason.
    """
    f = cfg.filters
    reason = pd.Series(pd.NA, index=frame.index, dtype="string")
    if cfg.monetary_value and (f.exclude_returns or f.exclude_zero_amounts):
        amount = pd.to_numeric(frame[cfg.monetary_value], errors="coerce")
        if f.exclude_returns:
            reason = reason.mask(reason.isna() & (amount < 0), "return")
        if f.exclude_zero_amounts:
            reason = reason.mask(reason.isna() & (amount == 0), "zero_amount")
    if f.start_date is not None:
        stamps = _wallclock(frame[cfg.datetime], cfg.datetime_format)
        reason = reason.mask(reason.isna() & (stamps < pd.Timestamp(f.start_date)).to_numpy(), "before_start_date")
    if f.drop_duplicates and duplicates is not None and duplicates.any():
        reason = reason.mask(reason.isna() & duplicates, "duplicate_row")
    dropped = reason.notna().to_numpy()
    if not dropped.any():
        return frame, pd.DataFrame({"customer": [], "reason": []}), {}
    removed = pd.DataFrame({"customer": frame[cfg.customer_id].to_numpy()[dropped],
                            "reason": reason.to_numpy()[dropped]})
    kept = frame.loc[~dropped].reset_index(drop=True)
    if len(kept) == 0:
        raise EmptyDataError(f"The filters left no rows: all {len(frame)} rows were excluded "
                             f"({removed['reason'].value_counts().to_dict()}). Check input.filters.")
    return kept, removed, {str(k): int(v) for k, v in removed["reason"].value_counts().sort_index().items()}


def _wallclock(column: pd.Series, datetime_format: str | None) -> pd.Series:
    """Dates as naive wall-clock timestamps (NaT where unparsable), as the data layer reads them
    (:func:`~clvmodels.data.transactions.parse_dates`: the same rules and the same refusals)."""
    return parse_dates(column, datetime_format, str(column.name))[0]


def lost_customer_reasons(frame: pd.DataFrame, removed: pd.DataFrame, summary_ids: pd.Index, cfg,
                          cutoff: pd.Timestamp) -> tuple[int, dict[str, int]]:
    """Count the input's customers and say why those missing from the summary are missing.

    A customer is missing when none of their rows was used; the reason joins the reasons of their
    rows (``after_observation_end``, ``invalid_rows``, a filter's name) with ``+``.
    """
    ids = frame[cfg.customer_id]
    all_ids = pd.Index(pd.concat([ids, removed["customer"].astype(ids.dtype, errors="ignore")],
                                 ignore_index=True).dropna().unique())
    lost = all_ids.difference(summary_ids)
    if len(lost) == 0:
        return len(all_ids), {}
    rows = frame.loc[ids.isin(lost).to_numpy()]
    stamps = _wallclock(rows[cfg.datetime], cfg.datetime_format)
    valid = stamps.notna().to_numpy().copy()
    if cfg.monetary_value:
        amount = pd.to_numeric(rows[cfg.monetary_value], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        valid &= np.isfinite(amount) & (amount >= 0)
    late = valid & (stamps > cutoff).to_numpy()
    why = np.where(~valid, "invalid_rows", np.where(late, "after_observation_end", "not_summarised"))
    reasons = pd.concat([pd.DataFrame({"customer": rows[cfg.customer_id].to_numpy(), "reason": why}),
                         removed[removed["customer"].isin(lost)]], ignore_index=True)
    labels = reasons.drop_duplicates().sort_values("reason").groupby("customer", sort=False)["reason"].agg("+".join)
    return len(all_ids), {str(k): int(v) for k, v in labels.value_counts().sort_index().items()}


def summary_duplicates_error(count: int, examples: list) -> InvalidValueError:
    """The message for customers listed more than once in a summary (within a file or across files)."""
    return InvalidValueError(
        f"the summary lists {count} customer(s) more than once (e.g. {examples}); a summary has one row per "
        "customer, and scoring a customer twice would double their value. Rebuild it (check that no two "
        "summary files cover the same customers), or read the transactions instead (input.kind: transactions).")


def prepare_summary(frame: pd.DataFrame, cfg, time_unit: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Check a precomputed summary: unique customers, valid values (or excluded and counted)."""
    columns = list(SUMMARY_COLUMNS) + (["monetary_value"] if cfg.monetary_value else [])
    frame = frame.rename(columns={cfg.monetary_value: "monetary_value"} if cfg.monetary_value else {})
    duplicated = frame[cfg.customer_id].duplicated()
    if duplicated.any():
        raise summary_duplicates_error(int(duplicated.sum()), frame.loc[duplicated, cfg.customer_id].head(3).tolist())
    missing_id = frame[cfg.customer_id].isna().to_numpy()
    values = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    bad = missing_id | ~np.isfinite(values).all(axis=1) | (values < 0).any(axis=1)
    f, r, t = values[:, 0], values[:, 1], values[:, 2]
    with np.errstate(invalid="ignore"):
        bad |= (f != np.round(f)) | (r > t * (1 + 1e-12) + 1e-12) | ((f == 0) & (r > 0))
    excluded = {}
    if bad.any():
        if cfg.on_invalid == "raise":
            check_summary(frame.set_index(cfg.customer_id), tuple(columns))  # raises with examples
            raise InvalidValueError(f"the summary has {int(bad.sum())} rows without a customer id. "
                                    "Fix them, or set input.on_invalid: exclude.")
        excluded = {"invalid_summary_row": int(bad.sum())}
        frame = frame.loc[~bad]
        if len(frame) == 0:
            raise EmptyDataError("every row of the summary is invalid; check the columns and input.on_invalid.")
    summary = frame.set_index(cfg.customer_id)[columns].astype(float)
    summary.attrs.update({"time_unit": time_unit, "n_rows_read": int(len(bad)), "n_rows_used": len(summary),
                          "exclusions": {"rows": excluded, "customers": {}}})
    return summary, excluded


def validated_transactions(frame: pd.DataFrame, cfg) -> pd.DataFrame:
    """The rows the data layer accepts, as a clean frame for the stages after the summary (KPIs).

    The input's ``datetime_format`` and ``on_invalid`` apply as in the summary (invalid rows left
    out; they were counted and warned about there), ids stay as the summary holds them, dates become
    ``datetime64`` wall-clock times and amounts floats, so no later stage parses the raw columns
    again with options of its own.
    """
    with warnings.catch_warnings():  # the summary stage already warned about these rows
        warnings.simplefilter("ignore", ExcludedRowsWarning)
        tx = prepare_transactions(frame, customer_id_col=cfg.customer_id, datetime_col=cfg.datetime,
                                  monetary_value_col=cfg.monetary_value, datetime_format=cfg.datetime_format,
                                  on_invalid=cfg.on_invalid)
    out = pd.DataFrame({cfg.customer_id: tx.customer_ids[tx.codes].array,
                        cfg.datetime: pd.DatetimeIndex(tx.timestamps)})
    if cfg.monetary_value:
        out[cfg.monetary_value] = tx.amounts
    return out
