"""Validate a raw transaction log and reduce it to (customer code, timestamp, amount) arrays.

Every rule either raises a :class:`~clvmodels.exceptions.DataError` whose message names the column,
the rule, the number of offending rows (with examples) and what to do, or, with
``on_invalid="exclude"``, drops the offending rows and counts them by reason in
:class:`Exclusions`. Nothing is dropped silently.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..exceptions import ExcludedRowsWarning, InvalidValueError
from .validation import invalid_rows_error, require_columns, require_rows

OnInvalid = Literal["raise", "exclude"]


@dataclass
class Exclusions:
    """Rows (and customers) left out of a summary, counted by reason."""

    rows: dict[str, int] = field(default_factory=dict)
    customers: dict[str, int] = field(default_factory=dict)

    def add_rows(self, reason: str, count: int) -> None:
        if count:
            self.rows[reason] = self.rows.get(reason, 0) + int(count)

    def add_customers(self, reason: str, count: int) -> None:
        if count:
            self.customers[reason] = self.customers.get(reason, 0) + int(count)

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    def to_dict(self) -> dict:
        return {"rows": dict(self.rows), "customers": dict(self.customers)}


@dataclass
class Transactions:
    """A validated log: customer codes into ``customer_ids``, timestamps and amounts."""

    codes: np.ndarray
    customer_ids: pd.Index
    timestamps: np.ndarray  # datetime64[ns]
    amounts: np.ndarray | None
    observation_period_end: pd.Timestamp
    n_rows_read: int
    exclusions: Exclusions


def _parse_dates(column: pd.Series, datetime_format: str | None) -> pd.Series:
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column
    if datetime_format is not None and pd.api.types.is_numeric_dtype(column.dtype):
        column = column.astype("Int64").astype("string")
    return pd.to_datetime(column, format=datetime_format, errors="coerce")


def _handle(mask, *, column, rule, reason, frame, remedy, on_invalid, exclusions, keep):
    """Raise for ``mask`` rows, or drop them from ``keep`` and count them."""
    mask = np.asarray(mask) & keep
    if not mask.any():
        return keep
    if on_invalid == "raise":
        raise invalid_rows_error(column, rule, mask, frame,
                                 remedy + " Or pass on_invalid='exclude' to leave these rows out (they are counted).")
    exclusions.add_rows(reason, mask.sum())
    return keep & ~mask


def prepare_transactions(transactions: pd.DataFrame, *, customer_id_col: str, datetime_col: str,
                         monetary_value_col: str | None = None, datetime_format: str | None = None,
                         observation_period_end=None, on_invalid: OnInvalid = "raise") -> Transactions:
    """Validate a transaction log.

    Parameters
    ----------
    transactions : pandas.DataFrame
        One row per transaction.
    customer_id_col, datetime_col : str
        Columns with the customer id and the transaction time.
    monetary_value_col : str, optional
        Column with the transaction amount (non-negative).
    datetime_format : str, optional
        ``strftime`` format of ``datetime_col`` when it is text or a number such as ``19970101``.
    observation_period_end : date-like, optional
        End of observation; later transactions are left out and counted. Default: the last date.
    on_invalid : {"raise", "exclude"}
        Whether invalid rows stop the run or are excluded and counted.

    Returns
    -------
    Transactions
    """
    if on_invalid not in ("raise", "exclude"):
        raise ValueError(f"on_invalid must be 'raise' or 'exclude', got {on_invalid!r}.")
    if not isinstance(transactions, pd.DataFrame):
        raise TypeError(f"transactions must be a pandas DataFrame, got {type(transactions).__name__}.")
    needed = [customer_id_col, datetime_col] + ([monetary_value_col] if monetary_value_col else [])
    require_columns(transactions, needed, what="The transactions table",
                    hint="Pass customer_id_col=, datetime_col= and monetary_value_col= naming your columns.")
    require_rows(transactions, what="The transactions table")
    frame = transactions
    exclusions = Exclusions()
    keep = np.ones(len(frame), dtype=bool)
    common = dict(frame=frame, on_invalid=on_invalid, exclusions=exclusions)

    ids = frame[customer_id_col]
    keep = _handle(ids.isna().to_numpy(), column=customer_id_col, rule="customer id must not be missing",
                   reason="missing_customer_id", remedy="Fill in or drop the rows without a customer.",
                   keep=keep, **common)

    raw_dates = frame[datetime_col]
    dates = _parse_dates(raw_dates, datetime_format)
    missing_date = raw_dates.isna().to_numpy()
    keep = _handle(missing_date, column=datetime_col, rule="date must not be missing",
                   reason="missing_date", remedy="Fill in or drop the rows without a date.", keep=keep, **common)
    fmt = f"format {datetime_format!r}" if datetime_format else "a recognisable date format"
    keep = _handle(dates.isna().to_numpy() & ~missing_date, column=datetime_col,
                   rule=f"date must parse with {fmt}", reason="unparsable_date",
                   remedy="Pass datetime_format= matching the data (e.g. '%Y%m%d') or fix these values.",
                   keep=keep, **common)

    amounts = None
    if monetary_value_col:
        raw = frame[monetary_value_col]
        amounts_s = pd.to_numeric(raw, errors="coerce")
        missing_amount = raw.isna().to_numpy()
        keep = _handle(missing_amount, column=monetary_value_col, rule="amount must not be missing (NaN)",
                       reason="missing_amount", remedy="Fill in or drop the rows without an amount.",
                       keep=keep, **common)
        keep = _handle(amounts_s.isna().to_numpy() & ~missing_amount, column=monetary_value_col,
                       rule="amount must be a number", reason="non_numeric_amount",
                       remedy="Clean the column (currency symbols, thousands separators) so it parses as numbers.",
                       keep=keep, **common)
        amounts = amounts_s.to_numpy(dtype=float, na_value=np.nan)
        keep = _handle(np.isinf(amounts), column=monetary_value_col, rule="amount must be finite",
                       reason="infinite_amount", remedy="Fix or drop these rows.", keep=keep, **common)
        keep = _handle(amounts < 0, column=monetary_value_col, rule="amount must not be negative",
                       reason="negative_amount",
                       remedy="Remove returns and refunds (or net them into their orders) before summarising.",
                       keep=keep, **common)

    if exclusions.total_rows:
        warnings.warn(f"{exclusions.total_rows} invalid transaction rows were excluded: {exclusions.rows}.",
                      ExcludedRowsWarning, stacklevel=3)
    stamps = dates.to_numpy(dtype="datetime64[ns]")
    if not keep.any():
        require_rows(frame.iloc[:0], what="The transactions table after excluding invalid rows")

    first_date = stamps[keep].min()
    if observation_period_end is None:
        end = pd.Timestamp(stamps[keep].max())
    else:
        end = pd.Timestamp(observation_period_end)
        if end.tzinfo is not None:
            end = end.tz_convert("UTC").tz_localize(None)
        if end < first_date:
            raise InvalidValueError(
                f"observation_period_end {end.date()} is before the first transaction "
                f"({pd.Timestamp(first_date).date()}); no data would be observed. Pass a later date.")
    after = keep & (stamps > np.datetime64(end.normalize() + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")))
    exclusions.add_rows("after_observation_end", after.sum())
    keep &= ~after

    codes, customer_ids = pd.factorize(ids[keep], sort=True)
    customer_ids = pd.Index(customer_ids, name=customer_id_col)
    return Transactions(codes=codes.astype(np.int64), customer_ids=customer_ids, timestamps=stamps[keep],
                        amounts=None if amounts is None else amounts[keep],
                        observation_period_end=end, n_rows_read=len(frame), exclusions=exclusions)
