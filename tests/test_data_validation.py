"""Bad input to the data layer: every rule raises a DataError naming the column, the rule, the number
of offending rows and a remedy, or with ``on_invalid="exclude"`` drops and counts those rows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from clvmodels import calibration_holdout_split, rfm_summary
from clvmodels.data.transactions import prepare_transactions
from clvmodels.data.validation import check_summary
from clvmodels.exceptions import (
    ClvModelsError,
    ClvModelsWarning,
    DataError,
    EmptyDataError,
    ExcludedRowsWarning,
    InvalidValueError,
    MissingColumnError,
)

COLS = dict(customer_id_col="customer_id", datetime_col="date", monetary_value_col="amount")


@pytest.fixture
def log() -> pd.DataFrame:
    """Five clean transactions of two customers, indexed 10..14 so row labels are not positions."""
    return pd.DataFrame(
        {"customer_id": ["a", "a", "a", "b", "b"],
         "date": pd.to_datetime(["2020-01-01", "2020-01-05", "2020-01-09", "2020-01-02", "2020-01-20"]),
         "amount": [10.0, 20.0, 30.0, 5.0, 7.0]},
        index=range(10, 15),
    )


# --- the hierarchy -------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [MissingColumnError, InvalidValueError, EmptyDataError])
def test_data_errors_are_value_errors_of_the_library(cls):
    assert issubclass(cls, DataError)
    assert issubclass(cls, ValueError)
    assert issubclass(cls, ClvModelsError)


def test_missing_column_error_is_also_a_key_error_with_a_readable_message():
    assert issubclass(MissingColumnError, KeyError)
    assert str(MissingColumnError("plain text")) == "plain text"  # KeyError would quote it


def test_excluded_rows_warning_is_a_library_warning():
    assert issubclass(ExcludedRowsWarning, ClvModelsWarning)
    assert issubclass(ClvModelsWarning, UserWarning)


# --- columns --------------------------------------------------------------------------------------------


def test_misnamed_column_suggests_the_close_name(log):
    frame = log.rename(columns={"customer_id": "customerid"})
    with pytest.raises(MissingColumnError) as info:
        rfm_summary(frame, **COLS)
    msg = str(info.value)
    assert "is missing column(s) 'customer_id' (did you mean 'customerid'?)" in msg
    assert "['customerid', 'date', 'amount']" in msg  # what it has
    assert "customer_id_col=" in msg  # what to do


def test_every_missing_column_is_listed_at_once(log):
    frame = log.rename(columns={"date": "Date", "amount": "total"})
    with pytest.raises(MissingColumnError) as info:
        rfm_summary(frame, **COLS)
    msg = str(info.value)
    assert "'date' (did you mean 'Date'?)" in msg
    assert "'amount'" in msg and "did you mean 'total'" not in msg  # no far-fetched suggestion
    assert "monetary_value_col=" in msg


def test_missing_column_in_split(log):
    with pytest.raises(MissingColumnError, match="'amount'"):
        calibration_holdout_split(log.drop(columns="amount"), **COLS, calibration_period_end="2020-01-10")


# --- invalid rows: raise with a full message, or exclude and count ---------------------------------------

# (column, bad values at rows 11 and 13, rule in the message, remedy in the message, exclusion reason)
BAD_ROWS = {
    "missing customer id": ("customer_id", [None, np.nan], "customer id must not be missing",
                            "Fill in or drop the rows without a customer", "missing_customer_id"),
    "missing date": ("date", [None, None], "date must not be missing",
                     "Fill in or drop the rows without a date", "missing_date"),
    "unparsable date": ("date", ["2020-02-30", "soon"], "date must parse with a recognisable date format",
                        "Pass datetime_format=", "unparsable_date"),
    "date out of range": ("date", ["1500-01-01", "3020-01-01"], "date must lie between 1677-09-21 and 2262-04-11",
                          "a typo in the year", "date_out_of_range"),
    "non-numeric amount": ("amount", ["$12", "1,000"], "amount must be a number",
                           "currency symbols, thousands separators", "non_numeric_amount"),
    "NaN amount": ("amount", [np.nan, None], "amount must not be missing (NaN)",
                   "Fill in or drop the rows without an amount", "missing_amount"),
    "negative amount": ("amount", [-5.0, -0.01], "amount must not be negative",
                        "Remove returns and refunds", "negative_amount"),
    "infinite amount": ("amount", [np.inf, -np.inf], "amount must be finite", "Fix or drop these rows",
                        "infinite_amount"),
}


def with_bad_rows(log: pd.DataFrame, column: str, values: list) -> pd.DataFrame:
    frame = log.copy()
    if column == "date" and any(isinstance(v, str) for v in values):
        frame["date"] = frame["date"].dt.strftime("%Y-%m-%d").astype(object)
    else:
        frame[column] = frame[column].astype(object)
    frame.loc[[11, 13], column] = pd.Series(values, index=[11, 13], dtype=object)
    return frame


@pytest.mark.parametrize("case", list(BAD_ROWS), ids=list(BAD_ROWS))
def test_invalid_rows_raise_with_column_rule_count_examples_and_remedy(log, case):
    column, values, rule, remedy, _ = BAD_ROWS[case]
    frame = with_bad_rows(log, column, values)
    with pytest.raises(InvalidValueError) as info:
        rfm_summary(frame, **COLS)
    msg = str(info.value)
    assert msg.startswith(f"column {column!r}: {rule}; 2 of 5 rows break it")
    assert "first 2: 11: " in msg and ", 13: " in msg  # the offending row labels, with their values
    assert remedy in msg
    assert "on_invalid='exclude'" in msg


@pytest.mark.parametrize("case", list(BAD_ROWS), ids=list(BAD_ROWS))
def test_invalid_rows_are_excluded_and_counted_on_request(log, case):
    column, values, _, _, reason = BAD_ROWS[case]
    frame = with_bad_rows(log, column, values)
    with pytest.warns(ExcludedRowsWarning, match=rf"2 invalid transaction rows were excluded: \{{'{reason}': 2\}}"):
        s = rfm_summary(frame, **COLS, on_invalid="exclude", observation_period_end="2020-01-31", time_unit="D")
    assert s.attrs["exclusions"] == {"rows": {reason: 2}, "customers": {}}
    assert s.attrs["n_rows_read"] == 5 and s.attrs["n_rows_used"] == 3
    # rows 10, 12 (customer a) and 14 (customer b) remain
    assert s.loc["a"].to_dict() == {"frequency": 1.0, "recency": 8.0, "T": 30.0, "monetary_value": 30.0}
    assert s.loc["b"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 11.0, "monetary_value": 0.0}


def test_each_row_is_counted_once_under_its_first_broken_rule(log):
    frame = log.astype({"amount": object, "customer_id": object})
    frame.loc[10, ["customer_id", "amount"]] = [None, -1.0]  # two problems: counted as missing id
    frame.loc[11, "amount"] = -1.0
    frame.loc[12, "amount"] = "n/a"
    with pytest.warns(ExcludedRowsWarning, match="3 invalid transaction rows"):
        s = rfm_summary(frame, **COLS, on_invalid="exclude")
    assert s.attrs["exclusions"]["rows"] == {"missing_customer_id": 1, "negative_amount": 1,
                                             "non_numeric_amount": 1}
    assert s.attrs["n_rows_read"] == s.attrs["n_rows_used"] + 3
    assert list(s.index) == ["b"]


def test_more_than_five_offenders_show_five_examples_and_the_full_count():
    frame = pd.DataFrame({"customer_id": range(8), "date": pd.Timestamp("2020-01-01"), "amount": -1.0})
    with pytest.raises(InvalidValueError, match=r"8 of 8 rows break it \(row: value, first 5: 0: -1.0, 1: -1.0, "
                                                r"2: -1.0, 3: -1.0, 4: -1.0\)"):
        rfm_summary(frame, **COLS)


def test_missing_amount_only_matters_with_an_amount_column(log):
    frame = log.copy()
    frame.loc[11, "amount"] = np.nan
    s = rfm_summary(frame, customer_id_col="customer_id", datetime_col="date")
    assert s.attrs["n_rows_used"] == 5


def test_invalid_rows_after_the_end_count_as_invalid_first(log):
    frame = log.copy()
    frame.loc[14, "amount"] = -1.0  # 2020-01-20, also after the end
    with pytest.warns(ExcludedRowsWarning):
        s = rfm_summary(frame, **COLS, on_invalid="exclude", observation_period_end="2020-01-08")
    assert s.attrs["exclusions"]["rows"] == {"negative_amount": 1, "after_observation_end": 1}
    assert s.attrs["n_rows_used"] == 3


# --- dates as a whole --------------------------------------------------------------------------------------


def test_integer_dates_without_format_are_refused(log):
    frame = log.assign(date=log["date"].dt.strftime("%Y%m%d").astype(int))
    with pytest.raises(InvalidValueError) as info:
        rfm_summary(frame, **COLS)
    msg = str(info.value)
    assert "column 'date' holds numbers (e.g. 20200101)" in msg
    assert "datetime_format=" in msg and "'%Y%m%d'" in msg


def test_wrong_datetime_format_names_the_format(log):
    frame = log.assign(date=log["date"].dt.strftime("%Y-%m-%d"))
    with pytest.raises(InvalidValueError, match=r"column 'date': date must parse with format '%d/%m/%Y'; 5 of 5 rows"):
        rfm_summary(frame, **COLS, datetime_format="%d/%m/%Y")


def test_several_utc_offsets_keep_their_wall_clock_time():
    """Dates with different UTC offsets are read at their wall-clock time, value by value (issue
    12: one zone's summer and winter offsets used to be refused with pandas' own text); a naive
    date among them is refused with a message about time zones."""
    frame = pd.DataFrame({"customer_id": [1, 1], "date": ["2020-01-01T10:00:00+05:00", "2020-01-02T10:00:00-03:00"]})
    s = rfm_summary(frame, customer_id_col="customer_id", datetime_col="date", time_unit="D")
    assert s.loc[1, "recency"] == 1 and s.attrs["observation_period_end"].startswith("2020-01-02")
    frame.loc[2] = [1, "2020-01-03T10:00:00"]
    with pytest.raises(InvalidValueError, match=r"column 'date': dates must all carry a time zone"):
        rfm_summary(frame, customer_id_col="customer_id", datetime_col="date")


def test_observation_end_before_all_data(log):
    with pytest.raises(InvalidValueError) as info:
        rfm_summary(log, **COLS, observation_period_end="2019-12-31")
    msg = str(info.value)
    assert "observation_period_end 2019-12-31 00:00:00 is before the first transaction (2020-01-01 00:00:00)" in msg
    assert "all 5 valid rows come after it" in msg
    assert "Pass a later date" in msg


@pytest.mark.parametrize("end", ["not a date", "2020-13-01"])
def test_unreadable_observation_end(log, end):
    with pytest.raises(InvalidValueError, match=rf"observation_period_end '{end}' is not a date .*Pass e\.g\."):
        rfm_summary(log, **COLS, observation_period_end=end)


def test_observation_end_out_of_range(log):
    with pytest.raises(InvalidValueError, match="outside the supported range"):
        rfm_summary(log, **COLS, observation_period_end="2500-01-01")


# --- nothing left -----------------------------------------------------------------------------------------


def test_empty_input(log):
    with pytest.raises(EmptyDataError, match="The transactions table has no rows. Check the file, the filters"):
        rfm_summary(log.iloc[:0], **COLS)


def test_empty_frame_without_columns_reports_the_columns_first():
    with pytest.raises(MissingColumnError, match="'customer_id'"):
        rfm_summary(pd.DataFrame(), **COLS)


def test_everything_excluded_says_why_and_does_not_warn(log):
    frame = log.copy()
    frame["amount"] = [-1.0, -2.0, np.nan, np.inf, -3.0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(EmptyDataError) as info:
            rfm_summary(frame, **COLS, on_invalid="exclude")
    msg = str(info.value)
    assert "no valid rows: all 5 rows were excluded as invalid" in msg
    assert "{'missing_amount': 1, 'infinite_amount': 1, 'negative_amount': 3}" in msg
    assert "monetary_value_col=" in msg  # the usual cause: the wrong column
    assert caught == []  # the error says it all; no warning before it


# --- arguments ----------------------------------------------------------------------------------------------


def test_bad_on_invalid_value(log):
    with pytest.raises(ValueError, match="on_invalid must be 'raise' or 'exclude', got 'drop'"):
        rfm_summary(log, **COLS, on_invalid="drop")


def test_not_a_dataframe():
    with pytest.raises(TypeError, match="transactions must be a pandas DataFrame, got list"):
        rfm_summary([("a", "2020-01-01")], customer_id_col="customer_id", datetime_col="date")


def test_prepare_transactions_accounts_for_every_row(log):
    frame = log.copy()
    frame.loc[12, "amount"] = -1.0
    with pytest.warns(ExcludedRowsWarning):
        tx = prepare_transactions(frame, **COLS, observation_period_end="2020-01-10", on_invalid="exclude")
    assert tx.n_rows_read == 5
    assert tx.exclusions.rows == {"negative_amount": 1, "after_observation_end": 1}
    assert len(tx.codes) == len(tx.timestamps) == len(tx.amounts) == 3
    assert len(tx.codes) + tx.exclusions.total_rows == tx.n_rows_read
    assert list(tx.customer_ids) == ["a", "b"] and tx.customer_ids.name == "customer_id"


# --- summaries handed to the models -----------------------------------------------------------------------

SUMMARY_COLS = ("frequency", "recency", "T")


def good_summary() -> pd.DataFrame:
    return pd.DataFrame({"frequency": [0.0, 2.0, 1.0], "recency": [0.0, 3.0, 5.0], "T": [4.0, 6.0, 5.0]},
                        index=pd.Index(["a", "b", "c"], name="customer_id"))


def test_check_summary_accepts_a_valid_summary():
    check_summary(good_summary(), SUMMARY_COLS)


@pytest.mark.parametrize("column, row, value, rule", [
    ("frequency", "b", np.nan, "must be a finite number"),
    ("T", "a", np.inf, "must be a finite number"),
    ("recency", "b", -1.0, "must not be negative"),
    ("frequency", "b", 1.5, "must be a whole number of repeat purchases"),
    ("recency", "c", 5.5, "must not exceed T"),
    ("recency", "a", 1.0, "must be 0 when frequency is 0"),
])
def test_check_summary_rejects_impossible_rows(column, row, value, rule):
    frame = good_summary()
    frame.loc[row, column] = value
    with pytest.raises(InvalidValueError) as info:
        check_summary(frame, SUMMARY_COLS)
    msg = str(info.value)
    assert msg.startswith(f"column {column!r}: {rule}")
    assert f"1 of 3 rows break it (row: value, first 1: {row!r}:" in msg
    assert "clvmodels.rfm_summary()" in msg


def test_check_summary_names_missing_columns_and_empty_input():
    with pytest.raises(MissingColumnError, match=r"'T' \(did you mean 't'\?\)"):
        check_summary(good_summary().rename(columns={"T": "t"}), SUMMARY_COLS)
    with pytest.raises(EmptyDataError, match="has no rows"):
        check_summary(good_summary().iloc[:0], SUMMARY_COLS)
