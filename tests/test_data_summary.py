"""RFM summaries from transactions: published CDNOW numbers, lifetimes as an oracle, hand fixtures.

References
----------
Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. Marketing Science 24(2), 275-284. Data: the CDNOW 1/10 sample
(2,357 customers who first bought in Q1 1997) and its summary file (``ID, x, t_x, T, zbar``,
calibration end 1997-09-30, times in weeks), http://www.brucehardie.com/datasets/.

lifetimes 0.11.3 (Davidson-Pilon), ``lifetimes.utils.summary_data_from_transaction_data``: an
independent implementation of the same summary, used here as an oracle.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lifetimes.utils import summary_data_from_transaction_data

from clvmodels import datasets, rfm_summary
from clvmodels.exceptions import EmptyDataError, ExcludedRowsWarning, InvalidValueError

COLS = dict(customer_id_col="customer_id", datetime_col="date")
RFM = ["frequency", "recency", "T", "monetary_value"]


@pytest.fixture(scope="module")
def cdnow_sample() -> pd.DataFrame:
    return datasets.load_cdnow_transactions()


@pytest.fixture(scope="module")
def cdnow_master() -> pd.DataFrame:
    return datasets.load_cdnow_master()


@pytest.fixture(scope="module")
def published() -> pd.DataFrame:
    return datasets.load_cdnow_summary()


@pytest.fixture(scope="module")
def fhl_summary(cdnow_sample) -> pd.DataFrame:
    return rfm_summary(cdnow_sample, **COLS, monetary_value_col="amount", observation_period_end="1997-09-30",
                       freq="D", time_unit="W")


def tx_frame(rows, *, amounts=True) -> pd.DataFrame:
    """Build a log from ``(customer, timestamp[, amount])`` tuples."""
    cols = ["customer_id", "date", "amount"] if amounts else ["customer_id", "date"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["date"] = pd.to_datetime(frame["date"], format="ISO8601")
    return frame


# --- published CDNOW summary --------------------------------------------------------------------


def test_cdnow_sample_reproduces_published_summary(fhl_summary, published):
    """The raw CDNOW 1/10 sample summarised with days / 7 up to 1997-09-30 is Fader, Hardie & Lee's
    (2005) published summary file: same 2,357 customers, the same x, and t_x, T, zbar as printed.

    The published file rounds t_x, T and zbar half-up to 2 decimals, so a value is reproduced when
    it lies within 0.005 of the printed one (plus 1e-9 for binary floating point).
    """
    assert len(published) == 2357
    assert fhl_summary.index.equals(published.index)
    assert fhl_summary.index.name == "customer_id"
    assert list(fhl_summary.columns) == RFM
    np.testing.assert_array_equal(fhl_summary["frequency"], published["frequency"])
    for col in ["recency", "T", "monetary_value"]:
        diff = (fhl_summary[col] - published[col]).abs()
        assert diff.max() <= 0.005 + 1e-9, (col, diff.idxmax(), diff.max())
    # The check can fail: one extra day of recency for one customer breaks it.
    shifted = fhl_summary["recency"].copy()
    shifted.iloc[0] += 1 / 7
    assert (shifted - published["recency"]).abs().max() > 0.005 + 1e-9


def test_cdnow_customer_1_by_hand(fhl_summary, cdnow_sample):
    """Customer 1 of the CDNOW sample bought on 1997-01-01 ($29.33), 01-18 ($29.73), 08-02 ($14.96)
    and 12-12 (after the calibration end): x = 2, t_x = 213 days, T = 272 days (to 1997-09-30),
    zbar = (29.73 + 14.96) / 2 = 22.345 (Fader, Hardie & Lee 2005 print 2, 30.43, 38.86, 22.35)."""
    rows = cdnow_sample[cdnow_sample["customer_id"] == 1]
    assert rows["date"].dt.strftime("%Y-%m-%d").tolist() == ["1997-01-01", "1997-01-18", "1997-08-02", "1997-12-12"]
    got = fhl_summary.loc[1]
    assert got["frequency"] == 2
    assert got["recency"] == pytest.approx(213 / 7, abs=1e-12)
    assert got["T"] == pytest.approx(272 / 7, abs=1e-12)
    assert got["monetary_value"] == pytest.approx(22.345, abs=1e-12)


def test_cdnow_summary_attrs(fhl_summary, cdnow_sample):
    """attrs record the unit, the period, the end and every row left out: the 1,959 transactions of
    the sample after 1997-09-30 (the holdout weeks 40-78 of Fader, Hardie & Lee 2005)."""
    after = int((cdnow_sample["date"] > "1997-09-30").sum())
    assert after == 1959
    attrs = fhl_summary.attrs
    assert attrs["time_unit"] == "W"
    assert attrs["freq"] == "D"
    assert pd.Timestamp(attrs["observation_period_end"]) == pd.Timestamp("1997-09-30")
    assert attrs["n_rows_read"] == len(cdnow_sample) == 6919
    assert attrs["exclusions"] == {"rows": {"after_observation_end": 1959}, "customers": {}}
    assert attrs["n_rows_used"] == 6919 - 1959


def test_published_summary_loader_matches_its_docstring(published):
    assert list(published.columns) == RFM
    assert published.attrs["time_unit"] == "W"
    assert published.index.name == "customer_id"
    assert (published["recency"] <= published["T"]).all()
    assert ((published["frequency"] > 0) | (published["recency"] == 0)).all()


# --- lifetimes as an oracle -----------------------------------------------------------------------


def _lifetimes(data, end, freq, multiplier=1):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes' own pandas deprecations
        return summary_data_from_transaction_data(data, "customer_id", "date", monetary_value_col="amount",
                                                  observation_period_end=end, freq=freq,
                                                  freq_multiplier=multiplier)


def assert_same_summary(ours: pd.DataFrame, theirs: pd.DataFrame, columns=RFM, atol=1e-9):
    assert len(ours) == len(theirs)
    assert set(ours.index) == set(theirs.index)
    theirs = theirs.loc[ours.index]
    for col in columns:
        np.testing.assert_allclose(ours[col].to_numpy(float), theirs[col].to_numpy(float), rtol=0, atol=atol,
                                   err_msg=col)


# Ends on a Sunday or at the last transaction: lifetimes keeps transactions after the end that fall
# in the end's week (see test_weekly_end_mid_week_leaves_out_the_rest_of_the_week).
@pytest.mark.parametrize("dataset, end", [("sample", "1997-09-28"), ("sample", "1998-06-30"),
                                          ("master", "1997-09-28"), ("master", None)])
@pytest.mark.parametrize("freq, time_unit, multiplier", [("W", "W", 1), ("D", "D", 1), ("D", "W", 7)])
def test_agrees_with_lifetimes(dataset, end, freq, time_unit, multiplier, cdnow_sample, cdnow_master):
    """Same inputs, same summary as lifetimes 0.11.3 on the CDNOW sample and the full master log
    (69,659 rows); lifetimes' days/7 is ``freq='D', freq_multiplier=7``."""
    data = (cdnow_sample if dataset == "sample" else cdnow_master)[["customer_id", "date", "amount"]]
    ours = rfm_summary(data, **COLS, monetary_value_col="amount", observation_period_end=end, freq=freq,
                       time_unit=time_unit)
    theirs = _lifetimes(data, end if end is not None else data["date"].max(), freq, multiplier)
    assert_same_summary(ours, theirs)


def test_weekly_end_mid_week_leaves_out_the_rest_of_the_week(cdnow_sample):
    """1997-09-30 is a Tuesday. lifetimes' ``freq='W'`` keeps purchases of Wednesday 1 to Sunday
    5 October (the end's week); ours leaves out everything after the end date, as documented, and
    then equals lifetimes run on the log cut at the end date."""
    end = "1997-09-30"
    data = cdnow_sample[["customer_id", "date", "amount"]]
    ours = rfm_summary(data, **COLS, monetary_value_col="amount", observation_period_end=end, freq="W",
                       time_unit="W")
    assert_same_summary(ours, _lifetimes(data[data["date"] <= end], end, "W"))
    tail = data[(data["date"] > end) & (data["date"] <= "1997-10-05")]
    assert len(tail) == 36
    # Those 36 rows are not silently dropped: they are among the rows counted after the end.
    assert ours.attrs["exclusions"]["rows"] == {"after_observation_end": 1959}
    # ... and they matter: lifetimes on the uncut log differs for the customers who bought then.
    uncut = _lifetimes(data, end, "W").loc[ours.index]
    assert (uncut["frequency"] != ours["frequency"]).sum() > 0


# --- hand fixtures -----------------------------------------------------------------------------------


def test_same_day_purchases_are_one_occasion_with_summed_amount():
    tx = tx_frame([
        ("a", "2020-01-01 09:00", 10.0), ("a", "2020-01-01 18:30", 5.0),  # first occasion: 15
        ("a", "2020-01-04 10:00", 3.0), ("a", "2020-01-04 11:00", 4.0),   # repeat: 7
        ("a", "2020-01-11", 13.0),                                         # repeat: 13
        ("b", "2020-01-02 08:00", 8.0), ("b", "2020-01-02 23:59", 2.0),   # one occasion only
    ])
    s = rfm_summary(tx, **COLS, monetary_value_col="amount", observation_period_end="2020-01-31", time_unit="D")
    assert s.loc["a"].to_dict() == {"frequency": 2.0, "recency": 10.0, "T": 30.0, "monetary_value": 10.0}
    assert s.loc["b"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 29.0, "monetary_value": 0.0}


def test_weekly_occasions_run_monday_to_sunday():
    """2020-01-05 is a Sunday, 2020-01-06 a Monday, 2020-01-12 the following Sunday; the end
    2020-01-19 is in the week after that."""
    tx = tx_frame([
        ("sun_mon", "2020-01-05", 1.0), ("sun_mon", "2020-01-06", 2.0),  # two weeks: one repeat
        ("mon_sun", "2020-01-06", 1.0), ("mon_sun", "2020-01-12", 2.0),  # one week: no repeat
    ])
    s = rfm_summary(tx, **COLS, monetary_value_col="amount", observation_period_end="2020-01-19", freq="W",
                    time_unit="W")
    assert s.loc["sun_mon"].to_dict() == {"frequency": 1.0, "recency": 1.0, "T": 2.0, "monetary_value": 2.0}
    assert s.loc["mon_sun"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 1.0, "monetary_value": 0.0}


def test_monetary_value_is_the_mean_of_repeat_occasions_only():
    tx = tx_frame([("x", "2020-01-01", 100.0), ("x", "2020-01-02", 10.0), ("x", "2020-01-03", 20.0),
                   ("y", "2020-01-01", 55.0)])
    s = rfm_summary(tx, **COLS, monetary_value_col="amount")
    assert s.loc["x", "monetary_value"] == 15.0  # (10 + 20) / 2, the $100 first purchase left out
    assert s.loc["y", "monetary_value"] == 0.0  # no repeat purchase
    assert s.attrs["observation_period_end"] == "2020-01-03T00:00:00"  # default: the last date


def test_without_amount_column_there_is_no_monetary_value():
    tx = tx_frame([("x", "2020-01-01"), ("x", "2020-01-08")], amounts=False)
    s = rfm_summary(tx, **COLS, time_unit="D")
    assert list(s.columns) == ["frequency", "recency", "T"]
    assert s.loc["x"].to_dict() == {"frequency": 1.0, "recency": 7.0, "T": 7.0}


@pytest.mark.parametrize("freq, time_unit, recency, T", [
    ("D", "D", 14.0, 21.0),
    ("D", "W", 2.0, 3.0),  # days / 7
    ("W", "W", 2.0, 3.0),
    ("W", "D", 14.0, 21.0),  # weeks * 7
    ("h", "D", 14.0 + 5 / 24, 21.0 + 23 / 24 - 9 / 24),  # hours / 24, the end day counts whole
    ("M", "M", 0.0, 0.0),  # all in January (months: test_month_periods_count_calendar_months)
])
def test_time_unit_conversions(freq, time_unit, recency, T):
    """First purchase Mon 2020-01-06 09:00, last Mon 2020-01-20 14:00, end Mon 2020-01-27."""
    tx = tx_frame([("c", "2020-01-06 09:00", 1.0), ("c", "2020-01-20 14:00", 1.0)])
    s = rfm_summary(tx, **COLS, observation_period_end="2020-01-27", freq=freq, time_unit=time_unit)
    assert s.loc["c", "recency"] == pytest.approx(recency, abs=1e-12)
    assert s.loc["c", "T"] == pytest.approx(T, abs=1e-12)
    assert s.attrs["time_unit"] == time_unit
    assert s.attrs["freq"] == freq


def test_month_periods_count_calendar_months():
    tx = tx_frame([("c", "2020-01-31", 1.0), ("c", "2020-02-01", 1.0), ("c", "2020-04-15", 1.0)])
    s = rfm_summary(tx, **COLS, observation_period_end="2020-06-30", freq="M", time_unit="M")
    assert s.loc["c"].to_dict() == {"frequency": 2.0, "recency": 3.0, "T": 5.0}


@pytest.mark.parametrize("freq, time_unit", [("M", "D"), ("M", "W"), ("D", "M"), ("W", "M")])
def test_months_cannot_convert_to_other_units(freq, time_unit):
    tx = tx_frame([("c", "2020-01-01", 1.0)])
    with pytest.raises(ValueError, match="calendar months have no fixed length") as info:
        rfm_summary(tx, **COLS, freq=freq, time_unit=time_unit)
    assert f"freq={freq!r}" in str(info.value) and f"time_unit={time_unit!r}" in str(info.value)
    assert "Use the same unit for both" in str(info.value)


@pytest.mark.parametrize("what, kwargs", [("freq", {"freq": "Q"}), ("time_unit", {"time_unit": "year"})])
def test_unknown_period_codes_raise(what, kwargs):
    tx = tx_frame([("c", "2020-01-01", 1.0)])
    with pytest.raises(ValueError, match=f"{what} must be one of"):
        rfm_summary(tx, **COLS, **kwargs)


def test_period_code_aliases():
    tx = tx_frame([("c", "2020-01-01", 1.0), ("c", "2020-01-15", 1.0)])
    s = rfm_summary(tx, **COLS, freq="d", time_unit="w")
    assert s.attrs["freq"] == "D" and s.attrs["time_unit"] == "W"
    assert s.loc["c", "recency"] == 2.0


def test_string_dates_with_datetime_format():
    """Day-first text needs its format: 02/01/2020 is 2 January."""
    tx = pd.DataFrame({"customer_id": [1, 1, 2], "date": ["02/01/2020", "12/01/2020", "31/01/2020"],
                       "amount": [1.0, 2.0, 3.0]})
    s = rfm_summary(tx, **COLS, monetary_value_col="amount", datetime_format="%d/%m/%Y", time_unit="D")
    assert s.loc[1].to_dict() == {"frequency": 1.0, "recency": 10.0, "T": 29.0, "monetary_value": 2.0}
    assert s.loc[2, "T"] == 0.0
    assert s.attrs["observation_period_end"] == "2020-01-31T00:00:00"


def test_iso_string_dates_without_format():
    tx = pd.DataFrame({"customer_id": [1, 1], "date": ["2020-01-01", "2020-01-15"]})
    s = rfm_summary(tx, **COLS, time_unit="D")
    assert s.loc[1].to_dict() == {"frequency": 1.0, "recency": 14.0, "T": 14.0}


def test_integer_yyyymmdd_dates_with_format(cdnow_sample):
    """The raw CDNOW files store dates as integers such as 19970101."""
    raw = cdnow_sample[["customer_id", "date", "amount"]].copy()
    raw["date"] = raw["date"].dt.strftime("%Y%m%d").astype(np.int64)
    assert raw["date"].iloc[0] == 19970101
    from_ints = rfm_summary(raw, **COLS, monetary_value_col="amount", datetime_format="%Y%m%d",
                            observation_period_end="1997-09-30")
    from_dates = rfm_summary(cdnow_sample, **COLS, monetary_value_col="amount", observation_period_end="1997-09-30")
    pd.testing.assert_frame_equal(from_ints, from_dates)


def test_timezone_aware_dates_keep_local_days():
    """A purchase at 21:00 in New York is on that New York day (02:00 UTC the next day): with the
    one at 10:00 it makes one occasion, as with the same wall-clock times without a zone."""
    local = ["2020-01-01 10:00", "2020-01-01 21:00", "2020-01-03 12:00"]
    naive = tx_frame([("c", t, 1.0) for t in local])
    aware = naive.assign(date=naive["date"].dt.tz_localize("America/New_York"))
    s_aware = rfm_summary(aware, **COLS, monetary_value_col="amount", observation_period_end="2020-01-05",
                          time_unit="D")
    s_naive = rfm_summary(naive, **COLS, monetary_value_col="amount", observation_period_end="2020-01-05",
                          time_unit="D")
    pd.testing.assert_frame_equal(s_aware, s_naive)
    assert s_aware.loc["c"].to_dict() == {"frequency": 1.0, "recency": 2.0, "T": 4.0, "monetary_value": 1.0}


def test_timezone_aware_end_is_read_in_the_data_zone():
    """An aware end is converted to the data's zone: 2020-01-04 03:00 UTC is 2020-01-03 22:00 in New
    York, so the purchase at 23:00 New York time that day is after the end."""
    aware = tx_frame([("c", "2020-01-01 10:00", 1.0), ("c", "2020-01-03 23:00", 1.0)])
    aware["date"] = aware["date"].dt.tz_localize("America/New_York")
    s = rfm_summary(aware, **COLS, observation_period_end=pd.Timestamp("2020-01-04 03:00", tz="UTC"), time_unit="D")
    assert s.loc["c", "frequency"] == 0
    assert s.attrs["exclusions"]["rows"] == {"after_observation_end": 1}
    s = rfm_summary(aware, **COLS, observation_period_end=pd.Timestamp("2020-01-04 05:00", tz="UTC"), time_unit="D")
    assert s.loc["c", "frequency"] == 1


def test_transactions_after_the_end_are_left_out_and_counted_without_warning():
    tx = tx_frame([("a", "2020-01-01", 1.0), ("a", "2020-01-10 23:59", 2.0), ("a", "2020-01-11 00:00", 4.0),
                   ("b", "2020-02-01", 8.0)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # leaving out data after the end is not a problem to warn of
        s = rfm_summary(tx, **COLS, monetary_value_col="amount", observation_period_end="2020-01-10", time_unit="D")
    assert list(s.index) == ["a"]  # b only bought after the end
    assert s.loc["a"].to_dict() == {"frequency": 1.0, "recency": 9.0, "T": 9.0, "monetary_value": 2.0}
    assert s.attrs["exclusions"] == {"rows": {"after_observation_end": 2}, "customers": {}}
    assert s.attrs["n_rows_read"] == 4 and s.attrs["n_rows_used"] == 2


def test_end_with_time_of_day_is_exact_and_bare_date_includes_the_day():
    tx = tx_frame([("a", "2020-01-01 08:00", 1.0), ("a", "2020-01-05 09:00", 1.0), ("a", "2020-01-05 15:00", 1.0)])
    whole_day = rfm_summary(tx, **COLS, observation_period_end="2020-01-05", freq="h", time_unit="h")
    assert whole_day.attrs["exclusions"]["rows"] == {}
    assert whole_day.loc["a", "recency"] == 4 * 24 + 7
    assert whole_day.loc["a", "T"] == 4 * 24 + 15  # to the last hour of the end day
    noon = rfm_summary(tx, **COLS, observation_period_end="2020-01-05 12:00", freq="h", time_unit="h")
    assert noon.attrs["exclusions"]["rows"] == {"after_observation_end": 1}
    assert noon.loc["a", "recency"] == 4 * 24 + 1
    assert noon.loc["a", "T"] == 4 * 24 + 4


def test_end_on_the_first_day_keeps_that_day():
    """A bare end date covers its whole day, also when the only purchase is later that day."""
    tx = tx_frame([("a", "2020-01-01 15:00", 1.0)])
    s = rfm_summary(tx, **COLS, observation_period_end="2020-01-01", freq="h", time_unit="h")
    assert s.loc["a"].to_dict() == {"frequency": 0.0, "recency": 0.0, "T": 8.0}


def test_input_frame_is_not_modified(cdnow_sample):
    before = cdnow_sample.copy()
    rfm_summary(cdnow_sample, **COLS, monetary_value_col="amount", observation_period_end="1997-09-30")
    pd.testing.assert_frame_equal(cdnow_sample, before)


# --- property test -----------------------------------------------------------------------------------

START = pd.Timestamp("2020-01-01")


@st.composite
def transaction_logs(draw):
    n = draw(st.integers(1, 25))
    customers = draw(st.lists(st.sampled_from(["a", "b", "c", "d", None]), min_size=n, max_size=n))
    minutes = draw(st.lists(st.integers(0, 60 * 24 * 40), min_size=n, max_size=n))
    amounts = draw(st.lists(st.one_of(st.floats(0, 500, allow_nan=False), st.sampled_from([np.nan, -1.0, np.inf])),
                            min_size=n, max_size=n))
    end_day = draw(st.one_of(st.none(), st.integers(-2, 42)))
    frame = pd.DataFrame({"customer_id": customers, "date": START + pd.to_timedelta(minutes, unit="min"),
                          "amount": amounts})
    return frame, (None if end_day is None else START + pd.Timedelta(days=end_day))


def reference_summary(frame: pd.DataFrame, end: pd.Timestamp) -> dict:
    """Plain-Python RFM (days) for valid rows up to the end day, one occasion per customer-day."""
    by_customer: dict = {}
    for cust, date, amount in frame.itertuples(index=False):
        if date.normalize() <= end.normalize():
            day = (date.normalize() - START).days
            by_customer.setdefault(cust, {}).setdefault(day, 0.0)
            by_customer[cust][day] += amount
    out = {}
    end_day = (end.normalize() - START).days
    for cust, days in by_customer.items():
        first, last = min(days), max(days)
        repeats = [v for d, v in days.items() if d != first]
        out[cust] = (len(days) - 1, last - first, end_day - first, sum(repeats) / len(repeats) if repeats else 0.0)
    return out


def _log(rows, end=None):
    frame = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    frame["date"] = pd.to_datetime(frame["date"], format="ISO8601")
    return frame, (None if end is None else pd.Timestamp(end))


@settings(max_examples=150)
@given(transaction_logs())
@example(_log([("a", "2020-01-01", -1.0), (None, "2020-01-02", 1.0)]))  # nothing valid
@example(_log([("a", "2020-01-03 10:00", 1.0), ("b", "2020-01-01", np.nan)], end="2020-01-02"))  # end too early
@example(_log([("a", "2020-01-03 10:00", 1.0), ("a", "2020-01-03 22:00", 2.0), ("a", "2020-01-05", 3.0)],
              end="2020-01-03"))  # same-day merge, a row after the end
def test_summary_invariants(log):
    frame, end = log
    day = None if end is None else end.date()  # the end is a day (a Timestamp would be the exact instant)
    valid = frame["customer_id"].notna() & np.isfinite(frame["amount"]) & (frame["amount"] >= 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if not valid.any():
            with pytest.raises(EmptyDataError, match="no valid rows"):
                rfm_summary(frame, **COLS, monetary_value_col="amount", observation_period_end=day,
                            on_invalid="exclude", time_unit="D")
            return
        first = frame.loc[valid, "date"].min()
        if end is not None and end.normalize() < first.normalize():
            with pytest.raises(InvalidValueError, match="before the first transaction"):
                rfm_summary(frame, **COLS, monetary_value_col="amount", observation_period_end=day,
                            on_invalid="exclude", time_unit="D")
            return
        s = rfm_summary(frame, **COLS, monetary_value_col="amount", observation_period_end=day,
                        on_invalid="exclude", time_unit="D")
    warned = [w for w in caught if issubclass(w.category, ExcludedRowsWarning)]
    assert bool(warned) == bool((~valid).any())
    assert not [w for w in caught if not issubclass(w.category, ExcludedRowsWarning)]

    eff_end = end if end is not None else frame.loc[valid, "date"].max()
    used = valid & (frame["date"].dt.normalize() <= eff_end.normalize())
    # every customer with a used row appears exactly once
    assert s.index.is_unique
    assert set(s.index) == set(frame.loc[used, "customer_id"])
    # frequency is a non-negative whole number; 0 <= recency <= T; recency is 0 without repeats
    assert (s["frequency"] >= 0).all() and (s["frequency"] == np.round(s["frequency"])).all()
    assert (s["recency"] >= 0).all() and (s["recency"] <= s["T"]).all()
    assert (s.loc[s["frequency"] == 0, "recency"] == 0).all()
    assert (s["monetary_value"] >= 0).all()
    # rows in = rows used + rows excluded
    attrs = s.attrs
    assert attrs["n_rows_read"] == len(frame)
    assert attrs["n_rows_used"] == int(used.sum())
    assert attrs["n_rows_read"] == attrs["n_rows_used"] + sum(attrs["exclusions"]["rows"].values())
    assert attrs["exclusions"]["rows"].get("after_observation_end", 0) == int((valid & ~used).sum())
    # and the numbers are those of a plain-Python reference
    expected = reference_summary(frame[used], eff_end)
    for cust, (x, t_x, T, m) in expected.items():
        row = s.loc[cust]
        assert (row["frequency"], row["recency"], row["T"]) == (x, t_x, T)
        assert row["monetary_value"] == pytest.approx(m, rel=1e-12, abs=1e-12)
