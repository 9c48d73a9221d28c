"""Validate a raw transaction log and reduce it to (customer code, timestamp, amount) arrays.

Every rule either raises a :class:`~clvmodels.exceptions.DataError` whose message names the column,
the rule, the number of offending rows (with examples) and what to do, or, with
``on_invalid="exclude"``, drops the offending rows and counts them by reason in
:class:`Exclusions`. Nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from ..exceptions import EmptyDataError, ExcludedRowsWarning, InvalidValueError
from .ids import check_id_kinds
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
    #: Time zone of the input dates (their wall-clock time is kept), ``None`` when naive.
    tz: object = None
    #: Last instant observed when the end was given (see :func:`end_point`); ``None``: from the end.
    observation_cutoff: pd.Timestamp | None = None
    #: Name of the amount column (for messages about the amounts).
    amount_column: str | None = None

    @property
    def end_cutoff(self) -> pd.Timestamp:
        """Last instant observed: the whole end day when the end is a date (or the default end, the
        last transaction, falls at midnight), the exact end when it is a timestamp."""
        return self.observation_cutoff if self.observation_cutoff is not None else cutoff(self.observation_period_end)


#: Dates written with the day and the month as 1-2 digit numbers (not ISO): '13/01/2020', '1.2.97'.
_DAY_MONTH = r"^\s*(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{2,4})(?!\d)"


def check_day_month_order(column: pd.Series, name: str) -> None:
    """Refuse text dates such as ``'05/01/2020'`` whose day/month order only a format can settle.

    Without a format pandas takes the order from the first value (month first when it can), so a
    day-first column would be read half as wrong months and half as unparsable. Raise
    :class:`InvalidValueError` when the values imply day first (some day is above 12), mix both
    orders, or read both ways (every number up to 12); values that can only be month first pass.
    ISO dates (``1997-01-31``) are not concerned and cost one look at the first values.
    """
    head = column.iloc[:1000].dropna()
    if not len(head) or not head.astype("str").str.match(_DAY_MONTH).any():
        return
    values = pd.Series(pd.unique(column.dropna().astype("str")), dtype="str")
    parts = values.str.extract(_DAY_MONTH).dropna()
    if not len(parts):
        return
    first, second = parts[0].astype(int).to_numpy(), parts[2].astype(int).to_numpy()
    shown = values[parts.index]
    day_first = (first > 12) & (second <= 12)
    month_first = (second > 12) & (first <= 12)
    sep = parts[1].iloc[0]
    year = "%Y" if len(parts[3].iloc[0]) == 4 else "%y"
    dmy, mdy = f"%d{sep}%m{sep}{year}", f"%m{sep}%d{sep}{year}"
    has_time = bool(values.str.contains(":", regex=False).any())
    time_hint = " (add the time part, e.g. ' %H:%M', as the values have one)" if has_time else ""
    remedy = ("Pass datetime_format= (input.datetime_format in a job config) naming the order, e.g. "
              f"{dmy!r} or {mdy!r}{time_hint}.")

    def ex(mask) -> str:
        return ", ".join(repr(v) for v in shown[mask].head(3).tolist())

    if day_first.any() and month_first.any():
        raise InvalidValueError(
            f"column {name!r} mixes day-first dates (e.g. {ex(day_first)}) with month-first dates (e.g. "
            f"{ex(month_first)}); no one day/month order reads them all, and guessing would silently date "
            f"purchases in the wrong month. Fix the data to one order, then {remedy}")
    if day_first.any():
        raise InvalidValueError(
            f"column {name!r} holds dates with the day first ({int(day_first.sum())} distinct values have a "
            f"day above 12, e.g. {ex(day_first)}), which would otherwise be read month first where possible "
            f"(e.g. {values.iloc[0]!r}) and left out as unparsable elsewhere. {remedy.replace(' or ' + repr(mdy), '')}")
    if not month_first.any():
        raise InvalidValueError(
            f"column {name!r}: the day/month order of its dates is ambiguous: every value reads both ways "
            f"(e.g. {ex(np.ones(len(shown), dtype=bool))}; no number above 12 settles it). {remedy}")


def parse_dates(column: pd.Series, datetime_format: str | None, name: str):
    """Parse ``column`` into naive wall-clock timestamps; return them and the column's time zone.

    Time-zone-aware values keep their local wall-clock time (a purchase at 21:00 in New York
    belongs to that New York day, not to the next UTC day); the zone is returned so that the
    observation end can be read in it. Values with several UTC offsets (one zone's winter and
    summer time, ``+01:00`` and ``+02:00``, or several zones) keep their wall-clock time as
    written too, value by value; the zone returned is then ``None`` (an aware end is read as its
    own wall-clock time). Text dates without ``datetime_format`` whose day/month order is not
    settled are refused (:func:`check_day_month_order`); dates with an offset among dates without
    one, and dates in several formats (``1997-01-18`` and ``1997-01-01 10:00``, or ``19970118``),
    are refused with the reason and examples; an explicit format with day and month swapped is
    refused by :func:`check_swapped_order`. Unparsable values become NaT (the callers count or
    refuse them).
    """
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_localize(None), column.dt.tz
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        return column, None
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        if datetime_format is None:
            example = column.dropna().iloc[0].item() if column.notna().any() else None
            raise InvalidValueError(
                f"column {name!r} holds numbers (e.g. {example!r}), not dates; read as nanoseconds since "
                "1970 they would give meaningless dates. Pass datetime_format= (e.g. '%Y%m%d' for "
                "19970101) or convert the column with pandas.to_datetime first.")
        column = column.astype("Int64").astype("string")
    elif datetime_format is None:
        check_day_month_order(column, name)

    try:
        parsed = pd.to_datetime(column, format=datetime_format, errors="coerce")
    except ValueError:  # several UTC offsets cannot share one dtype (pandas >= 3 raises)
        parsed = None
    if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed.dtype):  # pandas 2: objects
        parsed = _several_offsets(column, datetime_format, name)
    failed = parsed.isna().to_numpy() & column.notna().to_numpy()
    if failed.any() and parsed.notna().any():
        _diagnose_failed(column, parsed, failed, datetime_format, name)
    if failed.any() and datetime_format is not None:
        check_swapped_order(column, failed, datetime_format, name)
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        return parsed.dt.tz_localize(None), parsed.dt.tz
    return parsed, None


_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"


def _zones_error(name: str, detail: str) -> InvalidValueError:
    return InvalidValueError(
        f"column {name!r}: dates must all carry a time zone (a UTC offset such as +01:00 or Z) or none "
        f"do{detail}: a date without one among dates with one has no known instant. Fix the job that writes the data so that every date is "
        "written the same way (all with their offset, e.g. 2020-01-02T10:00:00+01:00, or all as local time "
        "without one), then run again.")


def _several_offsets(column: pd.Series, datetime_format: str | None, name: str) -> pd.Series:
    """Dates with several UTC offsets (one zone's summer and winter time, +01:00 and +02:00): their
    wall-clock time as written, the offset dropped (the rule for one zone, applied value by value),
    naive. Refused with a message about offsets when some values have none."""
    text = column.astype("str").str.strip().where(column.notna())
    has = text.str.contains(_OFFSET, regex=True).fillna(False).to_numpy(dtype=bool)
    known = column.notna().to_numpy()
    if (known & ~has).any():
        naive = text[known & ~has].head(3).tolist()
        aware = text[has].head(3).tolist()
        raise _zones_error(name, f" ({int(has.sum())} with one, e.g. {aware}; {int((known & ~has).sum())} "
                                 f"without, e.g. {naive})")
    fmt = datetime_format.replace("%z", "").replace("%Z", "").strip() if datetime_format else None
    return pd.to_datetime(text.str.replace(_OFFSET, "", regex=True).str.strip(), format=fmt, errors="coerce")


def _diagnose_failed(column: pd.Series, parsed: pd.Series, failed: np.ndarray, datetime_format: str | None,
                     name: str) -> None:
    """Say why some values did not parse when others did: naive dates among aware ones (or the
    reverse), or dates in several formats (pandas infers one format from the first value)."""
    bad = column[failed]
    try:
        with warnings.catch_warnings():  # pandas' format inference note on the failed values
            warnings.simplefilter("ignore", UserWarning)
            alone = pd.to_datetime(bad, format=datetime_format, errors="coerce")
    except (ValueError, TypeError):  # several offsets among the failed values: aware ones
        alone = None
    if alone is not None and (not pd.api.types.is_datetime64_any_dtype(alone.dtype) or not alone.notna().any()):
        return  # unparsable on their own too: counted (or refused) as unparsable by the caller
    aware_alone = alone is None or isinstance(alone.dtype, pd.DatetimeTZDtype)
    if aware_alone != isinstance(parsed.dtype, pd.DatetimeTZDtype):
        n = len(bad) if alone is None else int(alone.notna().sum())
        shown = bad.head(3).tolist() if alone is None else bad[alone.notna().to_numpy()].head(3).tolist()
        kind = "with an offset" if aware_alone else "without an offset"
        raise _zones_error(name, f" ({n} value(s) {kind} among the others, e.g. {shown})")
    if datetime_format is None:
        from pandas.tseries.api import guess_datetime_format

        good = column[~failed & column.notna().to_numpy()]
        first = str(good.iloc[0])
        read = guess_datetime_format(first) or "the format of " + repr(first)
        others = bad[alone.notna().to_numpy()]
        theirs = guess_datetime_format(str(others.iloc[0])) or "other formats"
        raise InvalidValueError(
            f"column {name!r} holds dates in several formats: {len(good)} values read as {read!r} (the format of "
            f"the first value, e.g. {good.head(3).tolist()}), {len(others)} others as {theirs!r} (e.g. "
            f"{others.head(3).tolist()}), so one format reads only part of them. Set datetime_format "
            "(input.datetime_format in a job config) to 'ISO8601' when every value is an ISO 8601 date with or "
            "without a time, to 'mixed' to read each value in its own format (slower; a day/month order is then "
            "guessed per value), or fix the data to one format.")


def swapped_format(datetime_format: str) -> str | None:
    """``datetime_format`` with its day and month swapped (``'%m/%d/%Y'`` -> ``'%d/%m/%Y'``), or
    ``None`` when it does not name both."""
    if "%d" not in datetime_format or "%m" not in datetime_format:
        return None
    return datetime_format.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def swapped_order_reads(column: pd.Series, failed: np.ndarray, datetime_format: str) -> tuple[str | None, int]:
    """The day/month-swapped format and how many of the ``failed`` values it parses."""
    swapped = swapped_format(datetime_format)
    if swapped is None:
        return None, 0
    again = pd.to_datetime(column[failed].astype("str"), format=swapped, errors="coerce")
    return swapped, int(again.notna().sum())


def check_swapped_order(column: pd.Series, failed: np.ndarray, datetime_format: str, name: str) -> None:
    """Refuse an explicit format whose day/month order is the data's reversed.

    When ``datetime_format`` fails on more than 10 values and more than 1 % of them, and the format
    with day and month swapped parses *every* value it fails on, the order is wrong: the values it
    did parse (day and month both up to 12) were read with day and month exchanged, so excluding
    the rest (``on_invalid: exclude``) would keep wrong dates. This is an error whatever
    ``on_invalid`` says; a swap that reads only some of the failed values is named in the messages
    about unparsable rows instead (:func:`swapped_order_note`).
    """
    n_failed, n = int(failed.sum()), int(column.notna().sum())
    if n_failed <= max(10, 0.01 * n):
        return
    swapped, reads = swapped_order_reads(column, failed, datetime_format)
    if swapped is None or reads < n_failed:
        return
    examples = ", ".join(repr(v) for v in column[failed].head(3).tolist())
    raise InvalidValueError(
        f"column {name!r}: datetime_format {datetime_format!r} fails on {n_failed} of {n} dates (e.g. {examples}), "
        f"and {swapped!r} (day and month swapped) reads every one of them: the dates are written in the other "
        f"order, so the {n - n_failed} values the given format did read have day and month exchanged. Set "
        f"datetime_format (input.datetime_format in a job config) to {swapped!r}; excluding the unparsable "
        "rows (on_invalid: exclude) would keep wrong dates, so this is refused either way.")


def swapped_order_note(column: pd.Series, failed: np.ndarray, datetime_format: str | None) -> str:
    """A sentence for messages about unparsable dates when the swapped format reads some of them."""
    if datetime_format is None or not failed.any():
        return ""
    swapped, reads = swapped_order_reads(column, failed, datetime_format)
    if not reads:
        return ""
    return (f" {reads} of the {int(failed.sum())} unparsable values read with day and month swapped ({swapped!r}): "
            "check the day/month order of datetime_format.")


_parse_dates = parse_dates  # former private name, kept for callers in this package


def _as_naive(value, tz, *, name: str) -> pd.Timestamp:
    """Read a user-supplied date as naive wall-clock time in the data's time zone ``tz``."""
    try:
        stamp = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(f"{name} {value!r} is not a date ({exc}). Pass e.g. '1997-09-30'.") from exc
    if stamp is pd.NaT:
        raise InvalidValueError(f"{name} is missing (NaT). Pass a date such as '1997-09-30'.")
    if stamp.tzinfo is not None:
        stamp = (stamp.tz_convert(tz) if tz is not None else stamp).tz_localize(None)
    if not pd.Timestamp.min <= stamp <= pd.Timestamp.max - pd.Timedelta(days=1):
        raise InvalidValueError(f"{name} {stamp} is outside the supported range {pd.Timestamp.min.date()} "
                                f"to {pd.Timestamp.max.date()}. Pass a date within it.")
    return stamp


def cutoff(stamp: pd.Timestamp) -> pd.Timestamp:
    """Last instant included by an end read as a *date* when it falls at midnight (its whole day).

    Used for ends that carry no date/timestamp distinction (the default end, the last
    transaction); a user-given end goes through :func:`end_point`, which keeps the distinction.
    """
    if stamp == stamp.normalize():
        return stamp + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    return stamp


_TIME_PART = re.compile(r"\d[:h]\d|T\d|\d\s*[ap]m", re.IGNORECASE)


def is_date_only(value) -> bool:
    """Whether a user-given end is a *date* (includes its whole day) rather than a timestamp.

    Dates: :class:`datetime.date` (not a datetime), ``numpy.datetime64`` in days or coarser, a
    :class:`pandas.Period` of a day or longer, and text without a time part (``'1997-09-30'``).
    Timestamps: :class:`datetime.datetime` and :class:`pandas.Timestamp` (midnight included),
    ``numpy.datetime64`` in hours or finer, and text with a time part (``'1997-09-30 00:00'``).
    """
    if isinstance(value, pd.Period):
        end = value.end_time
        return end.normalize() + pd.Timedelta(days=1) - end <= pd.Timedelta(1, "ms")
    if isinstance(value, dt.datetime):  # pd.Timestamp included
        return False
    if isinstance(value, dt.date):
        return True
    if isinstance(value, np.datetime64):
        return np.datetime_data(value.dtype)[0] in ("D", "W", "M", "Y")
    if isinstance(value, str):
        return not _TIME_PART.search(value)
    return False


def end_point(value, tz, *, name: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """A user-given end of observation (or calibration) and the last instant it includes.

    The rule depends on what was given, not on the clock time: a date (see :func:`is_date_only`)
    includes its whole day; a timestamp is the exact end, midnight included; a
    :class:`pandas.Period` ends with its last instant (``Period('1997-09', 'M')``: the whole of
    30 September). Returns the end as a naive wall-clock timestamp in the data's zone ``tz`` (a
    date or period as its last day at midnight) and the cutoff.
    """
    if isinstance(value, pd.Period):
        date_only = is_date_only(value)
        value = value.end_time.normalize() if date_only else value.end_time
    else:
        date_only = is_date_only(value)
    stamp = _as_naive(value, tz, name=name)
    if date_only:
        stamp = stamp.normalize()
        return stamp, stamp + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    return stamp, stamp


#: Largest amount accepted: beyond it, sums of amounts lose the cents (float64 holds ~16 digits).
MAX_AMOUNT = 1e15
NEGATIVE_REMEDY = ("Remove returns and refunds before summarising (in a job config, input.filters.exclude_returns: "
                   "true leaves them out and counts them), or net them into their orders.")


def check_amount_magnitude(amounts: np.ndarray, keep: np.ndarray, *, column: str, frame: pd.DataFrame) -> None:
    """Refuse amounts above :data:`MAX_AMOUNT` in magnitude, whatever ``on_invalid`` says.

    Such values are a units problem, not a bad row: sums and means of them overflow or lose
    their precision, and a spend model fitted on them fails to converge far from the cause.
    """
    with np.errstate(invalid="ignore"):
        huge = keep & np.isfinite(amounts) & (np.abs(amounts) > MAX_AMOUNT)
    if huge.any():
        raise invalid_rows_error(
            column, f"amount must not exceed {MAX_AMOUNT:.0e} in magnitude", huge, frame,
            "Sums of such amounts overflow or lose their precision, so spend and CLV would be meaningless. Record "
            "the amounts in a sensible unit (e.g. dollars, not micro-units), or fix these values; this is refused "
            "whatever on_invalid says.")


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
        ``strftime`` format of ``datetime_col`` when it is text or a number such as ``19970101``
        (numbers without a format are refused rather than read as nanoseconds since 1970).
        Time-zone-aware dates keep their local wall-clock time.
    observation_period_end : date-like, optional
        End of observation; later transactions are left out and counted. A date
        (:class:`datetime.date`, ``'1997-09-30'``, a daily or monthly :class:`pandas.Period`)
        includes its whole day (a period: up to its last instant); a timestamp
        (:class:`datetime.datetime`, :class:`pandas.Timestamp`, text with a time part) is the exact
        end, even at midnight. With time-zone-aware dates it is read in their zone (a naive end is
        taken as wall-clock time there). Default: the last transaction (its whole day when it falls
        at midnight).
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
    check_id_kinds(ids, column=customer_id_col, what="The transactions table")
    keep = _handle(ids.isna().to_numpy(), column=customer_id_col, rule="customer id must not be missing",
                   reason="missing_customer_id", remedy="Fill in or drop the rows without a customer.",
                   keep=keep, **common)

    raw_dates = frame[datetime_col]
    dates, tz = parse_dates(raw_dates, datetime_format, datetime_col)
    missing_date = raw_dates.isna().to_numpy()
    keep = _handle(missing_date, column=datetime_col, rule="date must not be missing",
                   reason="missing_date", remedy="Fill in or drop the rows without a date.", keep=keep, **common)
    fmt = f"format {datetime_format!r}" if datetime_format else "a recognisable date format"
    unparsable = dates.isna().to_numpy() & ~missing_date
    note = swapped_order_note(raw_dates, unparsable & keep, datetime_format)
    keep = _handle(unparsable, column=datetime_col,
                   rule=f"date must parse with {fmt}", reason="unparsable_date",
                   remedy="Pass datetime_format= matching the data (e.g. '%Y%m%d', or 'ISO8601' for ISO dates "
                          f"with and without times) or fix these values.{note}",
                   keep=keep, **common)
    out_of_range = ((dates < pd.Timestamp.min) | (dates > pd.Timestamp.max)).to_numpy()
    keep = _handle(out_of_range, column=datetime_col,
                   rule=f"date must lie between {pd.Timestamp.min.date()} and {pd.Timestamp.max.date()}",
                   reason="date_out_of_range", remedy="Fix these values (a typo in the year?).",
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
        check_amount_magnitude(amounts, keep, column=monetary_value_col, frame=frame)
        keep = _handle(amounts < 0, column=monetary_value_col, rule="amount must not be negative",
                       reason="negative_amount", remedy=NEGATIVE_REMEDY, keep=keep, **common)

    if not keep.any():
        raise EmptyDataError(
            f"The transactions table has no valid rows: all {len(frame)} rows were excluded as invalid "
            f"({exclusions.rows}). Fix the data, or check customer_id_col=, datetime_col=, "
            "monetary_value_col= and datetime_format=.")
    if exclusions.total_rows:
        warnings.warn(f"{exclusions.total_rows} invalid transaction rows were excluded: {exclusions.rows}.{note}",
                      ExcludedRowsWarning, stacklevel=3)
    # Invalid rows become NaT first so that out-of-range dates cannot overflow nanoseconds.
    stamps = dates.where(keep).to_numpy(dtype="datetime64[ns]")

    first_date = stamps[keep].min()
    if observation_period_end is None:
        end = pd.Timestamp(stamps[keep].max())
        end_cut = cutoff(end)
    else:
        end, end_cut = end_point(observation_period_end, tz, name="observation_period_end")
        if end_cut < first_date:
            raise InvalidValueError(
                f"observation_period_end {end} is before the first transaction "
                f"({pd.Timestamp(first_date)}): all {int(keep.sum())} valid rows come after it and no data "
                "would be observed. Pass a later date.")
    after = keep & (stamps > np.datetime64(end_cut.as_unit("ns")))
    exclusions.add_rows("after_observation_end", after.sum())
    keep &= ~after

    codes, customer_ids = pd.factorize(ids[keep], sort=True)
    customer_ids = pd.Index(customer_ids, name=customer_id_col)
    return Transactions(codes=codes.astype(np.int64), customer_ids=customer_ids, timestamps=stamps[keep],
                        amounts=None if amounts is None else amounts[keep],
                        observation_period_end=end, n_rows_read=len(frame), exclusions=exclusions, tz=tz,
                        observation_cutoff=end_cut, amount_column=monetary_value_col)
