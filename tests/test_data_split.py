"""Calibration/holdout split: hand fixtures, lifetimes as an oracle, exclusions and errors.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284: the CDNOW cohort split into a
39-week calibration period (to 1997-09-30) and a 39-week holdout (to 1998-06-30).

lifetimes 0.11.3, ``lifetimes.utils.calibration_and_holdout_data``: an independent implementation of
the same split, used as an oracle (its ``*_cal`` columns are our ``frequency, recency, T,
monetary_value``; its ``*_holdout`` columns ours).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lifetimes.utils import calibration_and_holdout_data

from clvmodels import calibration_holdout_split, datasets, rfm_summary
from clvmodels.exceptions import ExcludedRowsWarning, InvalidValueError

COLS = dict(customer_id_col="customer_id", datetime_col="date")
CAL_END, OBS_END = datasets.CDNOW_CALIBRATION_END, datasets.CDNOW_OBSERVATION_END
LIFETIMES_COLUMNS = {"frequency": "frequency_cal", "recency": "recency_cal", "T": "T_cal",
                     "monetary_value": "monetary_value_cal", "frequency_holdout": "frequency_holdout",
                     "monetary_value_holdout": "monetary_value_holdout", "duration_holdout": "duration_holdout"}


@pytest.fixture(scope="module")
def cdnow_sample() -> pd.DataFrame:
    return datasets.load_cdnow_transactions()[["customer_id", "date", "amount"]]


@pytest.fixture(scope="module")
def cdnow_master() -> pd.DataFrame:
    return datasets.load_cdnow_master()[["customer_id", "date", "amount"]]


def tx_frame(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"], format="ISO8601")
    return frame


@pytest.fixture
def hand_log() -> pd.DataFrame:
    return tx_frame([
        ("A", "2020-01-01", 10.0), ("A", "2020-01-05", 20.0),  # calibration
        ("A", "2020-01-12 09:00", 30.0), ("A", "2020-01-12 17:00", 5.0),  # one holdout occasion: 35
        ("A", "2020-01-20", 40.0),  # holdout
        ("A", "2020-02-05", 99.0),  # after the observation end
        ("B", "2020-01-08", 50.0),  # calibration only
        ("C", "2020-01-15", 7.0), ("C", "2020-01-16", 8.0),  # first seen in the holdout
    ])


# --- hand fixtures ---------------------------------------------------------------------------------------


def test_split_by_hand(hand_log):
    s = calibration_holdout_split(hand_log, **COLS, monetary_value_col="amount", calibration_period_end="2020-01-10",
                                  observation_period_end="2020-01-31", freq="D", time_unit="D")
    assert list(s.columns) == ["frequency", "recency", "T", "monetary_value", "frequency_holdout",
                               "monetary_value_holdout", "duration_holdout"]
    assert list(s.index) == ["A", "B"]
    assert s.loc["A"].to_dict() == {"frequency": 1.0, "recency": 4.0, "T": 9.0, "monetary_value": 20.0,
                                    "frequency_holdout": 2.0, "monetary_value_holdout": 37.5,
                                    "duration_holdout": 21.0}
    assert s.loc["B"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 2.0, "monetary_value": 0.0,
                                    "frequency_holdout": 0.0, "monetary_value_holdout": 0.0,
                                    "duration_holdout": 21.0}


def test_split_attrs_count_customers_first_seen_in_the_holdout(hand_log):
    s = calibration_holdout_split(hand_log, **COLS, monetary_value_col="amount", calibration_period_end="2020-01-10",
                                  observation_period_end="2020-01-31", time_unit="D")
    assert s.attrs["exclusions"] == {
        "rows": {"after_observation_end": 1, "customer_first_seen_in_holdout": 2},
        "customers": {"first_purchase_in_holdout": 1},
    }
    assert s.attrs["n_rows_read"] == 9
    assert s.attrs["n_rows_used"] == 6
    assert s.attrs["time_unit"] == "D" and s.attrs["freq"] == "D"
    assert s.attrs["calibration_period_end"] == "2020-01-10T00:00:00"
    assert s.attrs["observation_period_end"] == "2020-01-31T00:00:00"


def test_split_in_weeks_by_hand(hand_log):
    """Weeks run Monday to Sunday. A's calibration purchases (Wed 01-01, Sun 01-05) share the week of
    2019-12-30: one occasion, one week before the calibration end's week (Fri 01-10). In the holdout,
    Sun 01-12 (still the week of 01-06, but after the calibration end) and Mon 01-20 are two
    occasions; the observation end (Fri 01-31) is 3 weeks after the calibration end's week."""
    s = calibration_holdout_split(hand_log, **COLS, monetary_value_col="amount", calibration_period_end="2020-01-10",
                                  observation_period_end="2020-01-31", freq="W", time_unit="W")
    assert s.loc["A"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 1.0, "monetary_value": 0.0,
                                    "frequency_holdout": 2.0, "monetary_value_holdout": 37.5,
                                    "duration_holdout": 3.0}
    assert s.loc["B", "T"] == 0.0


def test_without_amounts_there_are_no_monetary_columns(hand_log):
    s = calibration_holdout_split(hand_log.drop(columns="amount"), **COLS, calibration_period_end="2020-01-10",
                                  observation_period_end="2020-01-31", time_unit="D")
    assert list(s.columns) == ["frequency", "recency", "T", "frequency_holdout", "duration_holdout"]
    assert s.loc["A", "frequency_holdout"] == 2


def test_transactions_after_a_mid_week_calibration_end_are_holdout():
    """Calibration ends Tuesday 2020-01-07; a purchase on Wednesday 01-08 is in the same week but after
    the end, so it is a holdout occasion (as in lifetimes), not part of the first calibration week."""
    log = tx_frame([("c", "2020-01-06", 1.0), ("c", "2020-01-08", 2.0), ("c", "2020-01-20", 3.0)])
    kw = dict(calibration_period_end="2020-01-07", observation_period_end="2020-01-26")
    s = calibration_holdout_split(log, **COLS, monetary_value_col="amount", freq="W", time_unit="W", **kw)
    assert s.loc["c"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 0.0, "monetary_value": 0.0,
                                    "frequency_holdout": 2.0, "monetary_value_holdout": 2.5, "duration_holdout": 2.0}
    assert s.attrs["n_rows_used"] == 3
    theirs = _lifetimes(log, freq="W", **kw)
    assert_same_split(s, theirs)


# --- calibration columns are rfm_summary at the calibration end -----------------------------------------


@pytest.mark.parametrize("freq, time_unit", [("D", "W"), ("W", "W"), ("D", "D")])
def test_calibration_columns_equal_rfm_summary_at_the_calibration_end(cdnow_master, freq, time_unit):
    split = calibration_holdout_split(cdnow_master, **COLS, monetary_value_col="amount", calibration_period_end=CAL_END,
                                      observation_period_end=OBS_END, freq=freq, time_unit=time_unit)
    summary = rfm_summary(cdnow_master, **COLS, monetary_value_col="amount", observation_period_end=CAL_END,
                          freq=freq, time_unit=time_unit)
    pd.testing.assert_frame_equal(split[["frequency", "recency", "T", "monetary_value"]], summary)


# --- lifetimes as an oracle --------------------------------------------------------------------------------


def _lifetimes(data, *, calibration_period_end, observation_period_end, freq, multiplier=1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes' own pandas deprecations
        return calibration_and_holdout_data(data, "customer_id", "date", calibration_period_end=calibration_period_end,
                                            observation_period_end=observation_period_end, freq=freq,
                                            freq_multiplier=multiplier, monetary_value_col="amount")


def assert_same_split(ours: pd.DataFrame, theirs: pd.DataFrame, columns=tuple(LIFETIMES_COLUMNS)):
    assert len(ours) == len(theirs)
    assert set(ours.index) == set(theirs.index)
    theirs = theirs.loc[ours.index]
    for col in columns:
        np.testing.assert_allclose(ours[col].to_numpy(float), theirs[LIFETIMES_COLUMNS[col]].to_numpy(float),
                                   rtol=0, atol=1e-9, err_msg=col)


def per_day(data: pd.DataFrame) -> pd.DataFrame:
    """One row per customer and day (amounts summed): a log in which transactions are occasions."""
    return data.groupby(["customer_id", "date"], as_index=False)["amount"].sum()


@pytest.mark.parametrize("dataset", ["sample", "master"])
@pytest.mark.parametrize("freq, time_unit, multiplier", [("D", "D", 1), ("D", "W", 7), ("W", "W", 1)])
def test_agrees_with_lifetimes_on_cdnow(dataset, freq, time_unit, multiplier, cdnow_sample, cdnow_master):
    """Fader, Hardie & Lee's split of CDNOW (calibration to 1997-09-30, holdout to 1998-06-30) equals
    lifetimes' on the sample and on the master log.

    lifetimes averages holdout spend over transactions, we over purchase occasions (as for the
    calibration), so ``monetary_value_holdout`` is compared on the log collapsed to one row per
    customer-day, where the two coincide for ``freq='D'``.
    """
    data = cdnow_sample if dataset == "sample" else cdnow_master
    kw = dict(calibration_period_end=CAL_END, observation_period_end=OBS_END)
    ours = calibration_holdout_split(data, **COLS, monetary_value_col="amount", freq=freq, time_unit=time_unit, **kw)
    theirs = _lifetimes(data, freq=freq, multiplier=multiplier, **kw)
    assert_same_split(ours, theirs, columns=[c for c in LIFETIMES_COLUMNS if c != "monetary_value_holdout"])
    if freq == "D":
        daily = per_day(data)
        ours_daily = calibration_holdout_split(daily, **COLS, monetary_value_col="amount", freq=freq,
                                               time_unit=time_unit, **kw)
        assert_same_split(ours_daily, _lifetimes(daily, freq=freq, multiplier=multiplier, **kw))
        pd.testing.assert_frame_equal(ours_daily, ours)  # collapsing days changes nothing of ours


def test_holdout_spend_is_the_mean_over_occasions(cdnow_sample):
    """Independent of lifetimes: holdout spend per customer-day, averaged over those days."""
    s = calibration_holdout_split(cdnow_sample, **COLS, monetary_value_col="amount", calibration_period_end=CAL_END,
                                  observation_period_end=OBS_END, freq="D")
    hold = cdnow_sample[cdnow_sample["date"] > CAL_END]
    days = hold.groupby(["customer_id", "date"])["amount"].sum().groupby(level="customer_id")
    expected = days.mean().reindex(s.index, fill_value=0.0)
    np.testing.assert_allclose(s["monetary_value_holdout"], expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(s["frequency_holdout"], days.size().reindex(s.index, fill_value=0))
    # the sample has same-day holdout purchases, so averaging over rows would differ
    assert (hold.groupby(["customer_id", "date"]).size() > 1).any()


def test_customers_first_seen_in_the_holdout_on_cdnow(cdnow_master):
    """With the calibration ending 1997-02-15, the CDNOW customers who first bought from 02-16 to
    03-31 (still in the Q1 1997 cohort) are left out of the split, as lifetimes leaves them out."""
    kw = dict(calibration_period_end="1997-02-15", observation_period_end=OBS_END)
    ours = calibration_holdout_split(cdnow_master, **COLS, monetary_value_col="amount", time_unit="D", **kw)
    first = cdnow_master.groupby("customer_id")["date"].min()
    late = first[first > "1997-02-15"].index
    assert 0 < len(late) < len(first)
    assert ours.attrs["exclusions"]["customers"] == {"first_purchase_in_holdout": len(late)}
    assert ours.attrs["exclusions"]["rows"] == {
        "customer_first_seen_in_holdout": int(cdnow_master["customer_id"].isin(late).sum())}
    assert ours.index.intersection(late).empty
    assert ours.attrs["n_rows_used"] + sum(ours.attrs["exclusions"]["rows"].values()) == len(cdnow_master)
    theirs = _lifetimes(cdnow_master, freq="D", **kw)
    assert_same_split(ours, theirs, columns=["frequency", "recency", "T", "frequency_holdout", "duration_holdout"])


# --- errors and exclusions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cal_end", ["2020-01-31", "2020-02-15", "2020-01-31 12:00"])
def test_calibration_end_not_before_observation_end_raises(hand_log, cal_end):
    with pytest.raises(InvalidValueError) as info:
        calibration_holdout_split(hand_log, **COLS, calibration_period_end=cal_end, observation_period_end="2020-01-31")
    msg = str(info.value)
    assert f"calibration_period_end {pd.Timestamp(cal_end)} must be before observation_period_end 2020-01-31" in msg
    assert "there is no holdout period" in msg
    assert "Pass an earlier calibration_period_end or a later observation_period_end" in msg


def test_calibration_end_after_the_default_observation_end_raises(hand_log):
    """Without an observation end, the last transaction (2020-02-05) is the end."""
    with pytest.raises(InvalidValueError, match="must be before observation_period_end 2020-02-05"):
        calibration_holdout_split(hand_log, **COLS, calibration_period_end="2020-03-01")


def test_holdout_shorter_than_one_period_raises(hand_log):
    """Tuesday 2020-01-07 and Sunday 2020-01-12 are in the same week: no weekly holdout."""
    with pytest.raises(InvalidValueError, match="in an earlier 'W' period"):
        calibration_holdout_split(hand_log, **COLS, calibration_period_end="2020-01-07",
                                  observation_period_end="2020-01-12", freq="W")


def test_calibration_end_before_the_first_transaction_raises(hand_log):
    with pytest.raises(InvalidValueError, match=r"calibration_period_end 2019-12-01 00:00:00 is before the first "
                                                r"transaction \(2020-01-01 00:00:00\); the calibration period would "
                                                r"be empty\. Pass a later date\."):
        calibration_holdout_split(hand_log, **COLS, calibration_period_end="2019-12-01",
                                  observation_period_end="2020-01-31")


def test_unreadable_calibration_end_raises(hand_log):
    with pytest.raises(InvalidValueError, match="calibration_period_end 'last autumn' is not a date"):
        calibration_holdout_split(hand_log, **COLS, calibration_period_end="last autumn")


def test_timezone_aware_calibration_end(hand_log):
    """An aware end is read in the data's zone: 2020-01-10 23:30 in Berlin is 22:30 UTC."""
    aware = hand_log.assign(date=hand_log["date"].dt.tz_localize("UTC"))
    s = calibration_holdout_split(aware, **COLS, monetary_value_col="amount", time_unit="D",
                                  calibration_period_end=pd.Timestamp("2020-01-10 23:30", tz="Europe/Berlin"),
                                  observation_period_end="2020-01-31")
    naive = calibration_holdout_split(hand_log, **COLS, monetary_value_col="amount", time_unit="D",
                                      calibration_period_end="2020-01-10 22:30", observation_period_end="2020-01-31")
    pd.testing.assert_frame_equal(s, naive)
    assert s.attrs["calibration_period_end"] == "2020-01-10T22:30:00"


def test_invalid_rows_and_split_exclusions_add_up(hand_log):
    log = hand_log.copy()
    log.loc[1, "amount"] = -20.0  # A's 2020-01-05 purchase is a refund
    log.loc[6, "customer_id"] = None  # B's only row has no customer
    with pytest.warns(ExcludedRowsWarning, match="2 invalid transaction rows"):
        s = calibration_holdout_split(log, **COLS, monetary_value_col="amount", calibration_period_end="2020-01-10",
                                      observation_period_end="2020-01-31", time_unit="D", on_invalid="exclude")
    assert list(s.index) == ["A"]
    assert s.loc["A", "frequency"] == 0 and s.loc["A", "frequency_holdout"] == 2
    assert s.attrs["exclusions"]["rows"] == {"negative_amount": 1, "missing_customer_id": 1,
                                             "after_observation_end": 1, "customer_first_seen_in_holdout": 2}
    assert s.attrs["n_rows_used"] == 4
    assert s.attrs["n_rows_read"] == 9


def test_invalid_rows_raise_by_default(hand_log):
    log = hand_log.copy()
    log.loc[1, "amount"] = -20.0
    with pytest.raises(InvalidValueError, match=r"column 'amount': amount must not be negative; 1 of 9 rows"):
        calibration_holdout_split(log, **COLS, monetary_value_col="amount", calibration_period_end="2020-01-10")


# --- property test -----------------------------------------------------------------------------------------

START = pd.Timestamp("2020-01-01")


@st.composite
def split_logs(draw):
    n = draw(st.integers(1, 25))
    customers = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=n, max_size=n))
    days = draw(st.lists(st.integers(0, 40), min_size=n, max_size=n))
    amounts = draw(st.lists(st.floats(0, 100, allow_nan=False), min_size=n, max_size=n))
    cal_day = draw(st.integers(0, 38))
    end_day = draw(st.integers(cal_day + 1, 45))
    frame = pd.DataFrame({"customer_id": customers, "date": START + pd.to_timedelta(days, unit="D"),
                          "amount": amounts})
    return frame, cal_day, end_day


def _log(rows, cal_day, end_day):
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    return frame.assign(date=pd.to_datetime(frame["date"])), cal_day, end_day


@settings(max_examples=100)
@given(split_logs())
@example(_log([("a", "2020-01-04", 1.0)], 0, 1))  # nothing observed at all
@example(_log([("a", "2020-01-04", 1.0)], 0, 5))  # nothing in the calibration
@example(_log([("a", "2020-01-01", 1.0), ("a", "2020-01-04", 2.0), ("b", "2020-01-04", 3.0),
               ("b", "2020-01-09", 3.0)], 2, 5))  # b first seen in the holdout, a row after the end
def test_split_invariants(log):
    frame, cal_day, end_day = log
    day = (frame["date"] - START).dt.days
    if not (day <= cal_day).any():
        # no calibration data; when nothing is observed at all, the observation end is the problem
        problem = "calibration period would be empty" if (day <= end_day).any() else "before the first transaction"
        with pytest.raises(InvalidValueError, match=problem):
            calibration_holdout_split(frame, **COLS, monetary_value_col="amount", time_unit="D",
                                      calibration_period_end=START + pd.Timedelta(days=cal_day),
                                      observation_period_end=START + pd.Timedelta(days=end_day))
        return
    s = calibration_holdout_split(frame, **COLS, monetary_value_col="amount", time_unit="D",
                                  calibration_period_end=START + pd.Timedelta(days=cal_day),
                                  observation_period_end=START + pd.Timedelta(days=end_day))
    first = day.groupby(frame["customer_id"]).min()
    kept = set(first[first <= cal_day].index)
    assert s.index.is_unique and set(s.index) == kept
    assert (s["frequency"] >= 0).all() and (s["frequency_holdout"] >= 0).all()
    assert (s["frequency_holdout"] == np.round(s["frequency_holdout"])).all()
    assert (s["recency"] >= 0).all() and (s["recency"] <= s["T"]).all()
    assert (s.loc[s["frequency"] == 0, "recency"] == 0).all()
    assert (s["duration_holdout"] == end_day - cal_day).all()
    # holdout occasions are the distinct holdout days of each kept customer
    hold = frame[(day > cal_day) & (day <= end_day)]
    expected = hold.groupby("customer_id")["date"].nunique().reindex(s.index, fill_value=0)
    np.testing.assert_array_equal(s["frequency_holdout"], expected)
    assert (s["frequency_holdout"] <= s["duration_holdout"]).all()
    # rows in = rows used + rows excluded; customers first seen in the holdout are counted
    attrs = s.attrs
    excluded = attrs["exclusions"]
    assert attrs["n_rows_read"] == len(frame) == attrs["n_rows_used"] + sum(excluded["rows"].values())
    assert excluded["rows"].get("after_observation_end", 0) == int((day > end_day).sum())
    late = set(first[(first > cal_day) & (first <= end_day)].index)
    assert excluded["customers"].get("first_purchase_in_holdout", 0) == len(late)
