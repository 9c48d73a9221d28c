"""Reading the configured input: files, directories or globs of CSV/Parquet, column and dtype
checks, filters, and precomputed summaries.

Every problem a user can fix is a :class:`~clvmodels.exceptions.DataError` with one paragraph that
names the file, the column and what to change in the config; the CLI turns it into exit code 2.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .. import datasets
from ..data.validation import check_summary, require_columns
from ..exceptions import DataError, EmptyDataError, InvalidValueError

SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".gz": "csv", ".txt": "csv"}
SUMMARY_COLUMNS = ("frequency", "recency", "T")


@dataclass
class Source:
    """What was read: files with sizes and row counts, for the manifest."""

    files: list[dict] = field(default_factory=list)
    dataset: str | None = None

    @property
    def rows(self) -> int:
        return sum(f["rows"] for f in self.files)

    def to_dict(self) -> dict:
        out = {"dataset": self.dataset} if self.dataset else {}
        if len(self.files) == 1 and "path" in self.files[0]:
            out["path"] = self.files[0]["path"]
        return {**out, "files": self.files, "rows": self.rows}


def resolve_files(cfg) -> list[tuple[Path, str]]:
    """The files named by ``input.path`` (a file, a directory or a glob) with their formats, sorted."""
    raw = cfg.path
    path = Path(raw)
    where = f"(paths are relative to the working directory {Path.cwd()})"
    if any(ch in raw for ch in "*?["):
        files = sorted(Path(p) for p in glob.glob(raw, recursive=True) if Path(p).is_file())
        if not files:
            raise DataError(f"input.path {raw!r} matched no files {where}. Check the pattern and that the "
                            "files have been delivered.")
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))
                       and (cfg.format != "auto" or p.suffix.lower() in SUFFIXES))
        if not files:
            raise DataError(f"input.path {raw!r} is a directory without CSV or Parquet files {where}.")
    elif path.is_file():
        files = [path]
    else:
        raise DataError(f"input.path {raw!r} does not exist or is not a file {where}.")
    out = []
    for f in files:
        fmt = cfg.format if cfg.format != "auto" else SUFFIXES.get(f.suffix.lower(), "csv")
        out.append((f, fmt))
    if len({fmt for _, fmt in out}) > 1:
        raise DataError(f"input.path {raw!r} mixes CSV and Parquet files; point it at one kind "
                        "(e.g. a glob ending in '.parquet').")
    return out


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


def _check_parquet(file: Path, cfg) -> int:
    """Check a Parquet file's columns and their types from its footer; return its row count."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(file)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read {file} as Parquet: {err}. Check input.format and the file.") from None
    schema = meta.schema_arrow
    _check_columns(list(schema.names), file, cfg)
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


def read_frame(cfg) -> tuple[pd.DataFrame, Source]:
    """Read the configured input (transactions or a summary) into one frame of the needed columns."""
    if cfg.dataset is not None:
        frame = datasets.load_cdnow_transactions() if cfg.dataset == "cdnow_sample" else datasets.load_cdnow_master()
        return frame, Source(files=[{"dataset": cfg.dataset, "rows": len(frame)}], dataset=cfg.dataset)
    columns = needed_columns(cfg)
    parts, source = [], Source()
    for file, fmt in resolve_files(cfg):
        if fmt == "parquet":
            _check_parquet(file, cfg)
            part = pd.read_parquet(file, columns=columns)
        else:
            part = _read_csv(file, columns, cfg)
        parts.append(part)
        source.files.append({"path": str(file.resolve()), "format": fmt, "bytes": file.stat().st_size,
                             "rows": len(part)})
    frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    if len(frame) == 0:
        raise EmptyDataError(f"input.path {cfg.path!r}: the {len(parts)} file(s) hold no rows.")
    return frame, source


def _read_csv(file: Path, columns: list[str], cfg) -> pd.DataFrame:
    try:
        header = pd.read_csv(file, nrows=0)
    except pd.errors.EmptyDataError:
        raise EmptyDataError(f"{file} is empty: it has no header and no rows.") from None
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {file} as CSV: {err}. Check input.format and the file.") from None
    _check_columns([str(c) for c in header.columns], file, cfg)
    try:
        return pd.read_csv(file, usecols=columns)
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {file} as CSV: {err}. Check input.format and the file.") from None


def apply_filters(frame: pd.DataFrame, cfg) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Leave out the rows the filters name.

    Returns the kept rows, the left-out rows' customer ids with their reason (for reconciling
    customers), and the left-out row counts by reason.
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
    """Dates as naive wall-clock timestamps (NaT where unparsable), as the data layer reads them."""
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_localize(None)
    if pd.api.types.is_numeric_dtype(column.dtype) and datetime_format:
        column = column.astype("Int64").astype("string")
    parsed = pd.to_datetime(column, format=datetime_format, errors="coerce")
    return parsed.dt.tz_localize(None) if isinstance(parsed.dtype, pd.DatetimeTZDtype) else parsed


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


def prepare_summary(frame: pd.DataFrame, cfg, time_unit: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Check a precomputed summary: unique customers, valid values (or excluded and counted)."""
    columns = list(SUMMARY_COLUMNS) + (["monetary_value"] if cfg.monetary_value else [])
    frame = frame.rename(columns={cfg.monetary_value: "monetary_value"} if cfg.monetary_value else {})
    duplicated = frame[cfg.customer_id].duplicated()
    if duplicated.any():
        raise InvalidValueError(
            f"the summary lists {int(duplicated.sum())} customer(s) more than once (e.g. "
            f"{frame.loc[duplicated, cfg.customer_id].head(3).tolist()}); a summary has one row per customer. "
            "Rebuild it, or read the transactions instead (input.kind: transactions).")
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
