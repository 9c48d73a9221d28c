"""Plumbing shared by the KPI tables: reporting periods, validated inputs, customer activity.

Nothing here is a KPI; the modules next to it hold the definitions. The activity spells built by
:func:`activity` are the one place where "active in a period" is decided, so that retention,
churn, cohorts and the heuristic CLV all use the same definition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data.transactions import Transactions, prepare_transactions
from ..data.validation import invalid_rows_error, require_columns, require_rows
from ..exceptions import InvalidValueError

#: Reporting periods: calendar month, quarter and year (pandas Period frequencies).
PERIODS = ("M", "Q", "Y")
_PERIOD_ALIASES = {"m": "M", "month": "M", "monthly": "M", "q": "Q", "quarter": "Q", "quarterly": "Q",
                   "y": "Y", "year": "Y", "yearly": "Y", "a": "Y", "A": "Y", "annual": "Y"}
TX_HINT = "Pass customer_id_col=, datetime_col= (and monetary_value_col=) naming your columns."


def normalise_period(period: str) -> str:
    """Return ``"M"``, ``"Q"`` or ``"Y"`` for a reporting period name such as ``"month"``."""
    code = _PERIOD_ALIASES.get(str(period).lower(), period) if period not in PERIODS else period
    if code not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS} (calendar month, quarter, year) or 'month', "
                         f"'quarter', 'year'; got {period!r}.")
    return code


def period_ordinal(stamps: np.ndarray, period: str) -> np.ndarray:
    """Ordinal of the calendar period holding each timestamp, as :class:`pandas.Period` counts it
    (months, quarters or years since January 1970)."""
    months = np.asarray(stamps, dtype="datetime64[ns]").astype("datetime64[M]").astype(np.int64)
    return {"M": months, "Q": months // 3, "Y": months // 12}[period]


def period_labels(ordinals, period: str) -> pd.PeriodIndex:
    """:class:`pandas.PeriodIndex` of ``ordinals`` (named ``period``)."""
    return pd.PeriodIndex.from_ordinals(np.asarray(ordinals, dtype=np.int64), freq=period).rename("period")


def check_count(value, *, name: str, minimum: int = 0) -> int:
    """A whole number of at least ``minimum`` (e.g. an inactivity window in periods)."""
    whole = isinstance(value, (int, np.integer, float, np.floating)) and not isinstance(value, bool) \
        and np.isfinite(value) and value == int(value)
    if not whole or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum}, got {value!r}.")
    return int(value)


def check_fraction(value, *, name: str, low: float = 0.0, high: float = 1.0) -> float:
    """A number in ``[low, high]`` (margins, probabilities, quantiles)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high:
        raise ValueError(f"{name} must be a number between {low:g} and {high:g}, got {value!r}.")
    return number


def read_transactions(transactions: pd.DataFrame, *, customer_id_col: str, datetime_col: str,
                      monetary_value_col: str | None = None, observation_period_end=None) -> Transactions:
    """Validate a transaction log as :func:`clvmodels.rfm_summary` does (same rules and messages)."""
    return prepare_transactions(transactions, customer_id_col=customer_id_col, datetime_col=datetime_col,
                                monetary_value_col=monetary_value_col,
                                observation_period_end=observation_period_end)


def numeric_column(frame: pd.DataFrame, column: str, *, what: str, remedy: str,
                   non_negative: bool = True, allow_missing: bool = False) -> np.ndarray:
    """Values of ``frame[column]`` as floats: finite (NaN allowed only with ``allow_missing``) and,
    with ``non_negative``, not below 0; otherwise an error naming the rows."""
    require_columns(frame, [column], what=what)
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values) & ~(allow_missing & np.isnan(values) & frame[column].isna().to_numpy())
    if bad.any():
        raise invalid_rows_error(column, "must be a finite number", bad, frame, remedy)
    if non_negative and np.any(values < 0):
        raise invalid_rows_error(column, "must not be negative", values < 0, frame, remedy)
    return values


def scores_frame(scores: pd.DataFrame, columns, *, customer_id_col: str) -> pd.DataFrame:
    """The columns of a scores table (as :func:`clvmodels.batch.runner.score` writes it) indexed by
    customer id, checked for presence, rows and duplicate customers."""
    what = "The scores table"
    if customer_id_col not in scores.columns and scores.index.name == customer_id_col:
        scores = scores.reset_index()
    require_columns(scores, [customer_id_col, *columns], what=what,
                    hint="Pass a table as the batch runner writes it (customer_id, p_alive, clv, ...) or "
                         "name the columns with the *_col= arguments.")
    require_rows(scores, what=what)
    dup = scores[customer_id_col].duplicated(keep=False).to_numpy()
    if dup.any():
        raise invalid_rows_error(customer_id_col, "each customer must appear once", dup, scores,
                                 "Keep one score row per customer.")
    frame = scores.set_index(customer_id_col)[list(columns)]
    for column in columns:
        numeric_column(frame, column, what=what, non_negative=False, allow_missing=False,
                       remedy="Re-score these customers or drop them.")
    return frame


def segment_labels(segments, index: pd.Index, *, what: str = "segments") -> pd.Series:
    """Segment of each customer in ``index`` (NaN where ``segments`` has none)."""
    if not isinstance(segments, pd.Series):
        raise TypeError(f"{what} must be a pandas Series mapping customer id to segment (e.g. the output of "
                        f"clvmodels.kpis.value_segments), got {type(segments).__name__}.")
    if segments.index.has_duplicates:
        raise InvalidValueError(f"{what} must have one entry per customer; "
                                f"{int(segments.index.duplicated().sum())} customer ids repeat.")
    return segments.reindex(index)


@dataclass
class Activity:
    """Activity spells: each purchase period opens a spell ``[start, stop)`` of active periods.

    A customer who buys in period ``p`` is active in ``p`` and in the ``window`` periods after it,
    up to (not including) their next purchase period. Spells of one customer never overlap.
    """

    tx: Transactions
    period: str
    window: int
    customer: np.ndarray  # customer code of each spell
    start: np.ndarray     # period ordinal of the purchase opening the spell
    stop: np.ndarray      # first period no longer covered (clipped to ``last + 1``)
    lapse: np.ndarray     # the customer is lost in period ``stop`` (no purchase resumes the spell)
    first: np.ndarray     # the spell opens with the customer's first purchase (acquisition)
    revival: np.ndarray   # the spell opens with a purchase after a lapse (reactivation)
    cohort: np.ndarray    # acquisition period of the spell's customer
    first_period: int     # first period of the table (the earliest purchase)
    last_period: int      # period holding the observation end
    last_complete: bool   # whether the observation end closes ``last_period``

    @property
    def n_periods(self) -> int:
        return self.last_period - self.first_period + 1

    def labels(self) -> pd.PeriodIndex:
        return period_labels(np.arange(self.first_period, self.last_period + 1), self.period)


def last_period(tx: Transactions, period: str) -> tuple[int, bool]:
    """Ordinal of the period holding the observation end, and whether the end closes that period
    (a log ending on 15 April leaves April incomplete)."""
    def ordinal(stamp: pd.Timestamp) -> int:
        return int(period_ordinal(np.array([stamp.as_unit("ns").to_datetime64()]), period)[0])

    last = ordinal(tx.end_cutoff)
    return last, ordinal(tx.end_cutoff + pd.Timedelta(1, "ns")) > last


def activity(tx: Transactions, *, period: str, window: int) -> Activity:
    """Build the activity spells of every customer of ``tx`` (vectorised, no loop over customers)."""
    ordinal = period_ordinal(tx.timestamps, period)
    lo = int(ordinal.min())
    last, last_complete = last_period(tx, period)
    span = last - lo + 1
    key = tx.codes * span + (ordinal - lo)
    unique_key = np.unique(key)  # sorted by customer, then period
    customer, start = unique_key // span, unique_key % span + lo
    new_customer = np.r_[True, customer[1:] != customer[:-1]]
    next_start = np.r_[start[1:], 0]
    next_start = np.where(np.r_[~new_customer[1:], False], next_start, np.iinfo(np.int64).max)
    covered = start + window + 1
    lapse = covered < next_start
    stop = np.minimum(np.minimum(covered, next_start), last + 1)
    lapse &= covered <= last
    previous_lapse = np.r_[False, lapse[:-1]]
    cohort = start[new_customer][np.cumsum(new_customer) - 1]
    return Activity(tx=tx, period=period, window=window, customer=customer, start=start, stop=stop,
                    lapse=lapse, first=new_customer, revival=~new_customer & previous_lapse, cohort=cohort,
                    first_period=lo, last_period=last, last_complete=bool(last_complete))


def describe(frame: pd.DataFrame, description: str, **attrs) -> pd.DataFrame:
    """Attach a plain-language ``description`` and settings to ``frame.attrs``; return ``frame``."""
    frame.attrs.update({"description": description, **attrs})
    return frame
