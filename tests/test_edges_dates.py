"""Edges of dates: day/month orders that only a format can settle, time zones mixed with naive
dates, and ends of observation given as dates, timestamps or periods (a date includes its whole
day, a timestamp is the exact end, a period ends with its last instant)."""

from __future__ import annotations

import datetime as dt
import json
import textwrap

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import calibration_holdout_split, cli, rfm_summary
from clvmodels.data.transactions import end_point, is_date_only
from clvmodels.exceptions import InvalidValueError

COLS = {"customer_id_col": "customer_id", "datetime_col": "date"}


def _log(dates, ids=None) -> pd.DataFrame:
    ids = ids if ids is not None else [f"c{i % 3}" for i in range(len(dates))]
    return pd.DataFrame({"customer_id": ids, "date": dates, "amount": np.arange(1.0, len(dates) + 1)})


# -- 4. ambiguous day/month orders ---------------------------------------------------------------

def test_day_first_dates_are_refused_not_half_excluded(tmp_path, capsys):
    """A job on day-first dates ('13/01/1997') with on_invalid: exclude stops (exit 2) naming the
    column, the order the values imply with examples, and input.datetime_format '%d/%m/%Y',
    instead of excluding the days above 12 and reading the rest month first."""
    tx = clvmodels.datasets.load_cdnow_transactions()[["customer_id", "date", "amount"]]
    tx = tx.assign(date=tx["date"].dt.strftime("%d/%m/%Y"))
    tx.to_csv(tmp_path / "tx.csv", index=False)
    config = tmp_path / "c.yaml"
    config.write_text(textwrap.dedent(f"""\
        input: {{path: "{tmp_path / 'tx.csv'}", on_invalid: exclude}}
        summary: {{observation_period_end: 1997-09-30}}
        models: [bgnbd]
        output: {{directory: "{tmp_path / 'out'}"}}
        """))
    assert cli.main(["run", str(config), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "column 'date'" in err and "day first" in err and "'%d/%m/%Y'" in err and "datetime_format" in err
    assert "'13/01/1997'" in err or "/01/1997'" in err
    assert not (tmp_path / "out" / "scores.parquet").exists()

    config.write_text(config.read_text().replace("on_invalid: exclude", "datetime_format: '%d/%m/%Y'"))
    assert cli.main(["run", str(config), "--no-progress"]) == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["customers"]["scored"] == 2357 and "unparsable_date" not in manifest["rows"]["excluded"]


def test_mixed_and_ambiguous_orders_are_refused():
    """Values that need both orders, and values that read both ways, are refused with the reason;
    values that can only be month first are read month first."""
    with pytest.raises(InvalidValueError, match=r"mixes day-first dates \(e.g. '13/01/2020'\) with month-first "
                                                r"dates \(e.g. '01/13/2020'\)"):
        rfm_summary(_log(["13/01/2020", "01/13/2020", "02/02/2020"]), **COLS)
    with pytest.raises(InvalidValueError, match=r"ambiguous.*'%d/%m/%Y' or '%m/%d/%Y'"):
        rfm_summary(_log(["01/02/2020", "03/04/2020", "05/06/2020"]), **COLS)
    with pytest.raises(InvalidValueError, match=r"'%d\.%m\.%y'"):
        rfm_summary(_log(["13.01.20", "01.02.20"]), **COLS, on_invalid="exclude")
    s = rfm_summary(_log(["01/13/2020", "02/02/2020", "01/20/2020"], ids=["a", "a", "b"]), **COLS, time_unit="D")
    assert s.loc["a", "recency"] == 20 and s.attrs["observation_period_end"].startswith("2020-02-02")
    s = rfm_summary(_log(["13/01/2020", "02/02/2020"], ids=["a", "a"]), **COLS, datetime_format="%d/%m/%Y",
                    time_unit="D")
    assert s.loc["a", "recency"] == 20  # 13 January to 2 February
    s = rfm_summary(_log(["2020-01-13", "2020-02-02"], ids=["a", "a"]), **COLS, time_unit="D")  # ISO unaffected
    assert s.loc["a", "recency"] == 20


# -- 5. time zones --------------------------------------------------------------------------------

def test_aware_date_among_naive_ones_says_time_zone():
    """A time-zone-aware date among naive ones is refused with a message about time zones (pandas
    would silently turn it into a missing date)."""
    frame = _log(["2020-01-01 10:00", "2020-01-02 11:00+01:00", "2020-01-05 09:00"])
    with pytest.raises(InvalidValueError, match="time zone"):
        rfm_summary(frame, **COLS, on_invalid="exclude")
    objects = _log(pd.Series([pd.Timestamp("2020-01-01"), pd.Timestamp("2020-01-02", tz="UTC"),
                              pd.Timestamp("2020-01-03")], dtype=object))
    with pytest.raises(InvalidValueError, match="time zone"):
        rfm_summary(objects, **COLS)


# -- 6. ends as dates, timestamps and periods -----------------------------------------------------

HOURLY = _log(["1997-09-01 09:00", "1997-09-30 10:00", "1997-09-02 12:00", "1997-09-30 00:00"],
              ids=["a", "a", "b", "b"]).assign(date=lambda f: pd.to_datetime(f["date"]))


@pytest.mark.parametrize(("end", "whole_day"), [
    ("1997-09-30", True), (dt.date(1997, 9, 30), True), (np.datetime64("1997-09-30"), True),
    (pd.Period("1997-09-30", "D"), True), (pd.Period("1997-09", "M"), True),
    (pd.Timestamp("1997-09-30"), False), (dt.datetime(1997, 9, 30), False), ("1997-09-30 00:00", False),
    ("1997-09-30T00:00:00", False), (np.datetime64("1997-09-30T00:00"), False),
])
def test_a_date_includes_its_day_a_timestamp_is_exact(end, whole_day):
    """With hourly data, a date (or a daily/monthly Period) as the end keeps the purchase at 10:00
    on the end day; a timestamp at midnight keeps only what happened by midnight."""
    s = rfm_summary(HOURLY, **COLS, observation_period_end=end, freq="h", time_unit="h")
    rows = s.attrs["exclusions"]["rows"]
    if whole_day:
        assert rows == {} and s.loc["a", "frequency"] == 1
        assert s.attrs["observation_cutoff"].startswith("1997-09-30T23:59:59.999")
    else:
        assert rows == {"after_observation_end": 1} and s.loc["a", "frequency"] == 0
        assert s.loc["b", "frequency"] == 1  # the purchase at exactly midnight is in
    assert is_date_only(end) is whole_day


def test_monthly_period_equals_its_last_day():
    """rfm_summary(observation_period_end=Period('1997-09', 'M')) is the summary to 1997-09-30."""
    tx = clvmodels.datasets.load_cdnow_transactions()
    cols = {**COLS, "monetary_value_col": "amount"}
    by_period = rfm_summary(tx, **cols, observation_period_end=pd.Period("1997-09", "M"))
    pd.testing.assert_frame_equal(by_period, rfm_summary(tx, **cols, observation_period_end="1997-09-30"))
    assert by_period.attrs["observation_period_end"] == "1997-09-30T00:00:00"


def test_split_uses_the_same_rule():
    """calibration_holdout_split: a calibration end given as a date includes the end day, the
    same instant as a timestamp does not; a Period is accepted."""
    tx = HOURLY
    day = calibration_holdout_split(tx, **COLS, calibration_period_end="1997-09-02",
                                    observation_period_end="1997-09-30", freq="h", time_unit="h")
    exact = calibration_holdout_split(tx, **COLS, calibration_period_end=pd.Timestamp("1997-09-02"),
                                      observation_period_end="1997-09-30", freq="h", time_unit="h")
    period = calibration_holdout_split(tx, **COLS, calibration_period_end=pd.Period("1997-09-02", "D"),
                                       observation_period_end="1997-09-30", freq="h", time_unit="h")
    assert "b" in day.index and "b" not in exact.index  # b's first purchase: 2 September 12:00
    pd.testing.assert_frame_equal(day, period)
    with pytest.raises(InvalidValueError, match="calibration_period_end"):
        calibration_holdout_split(tx, **COLS, calibration_period_end="1997-08-01", observation_period_end="1997-09-30")


def test_end_point_returns_end_and_cutoff():
    """end_point gives the end as given (a date at midnight) and the last instant it includes."""
    end, cut = end_point("1997-09-30", None, name="x")
    assert end == pd.Timestamp("1997-09-30") and cut == pd.Timestamp("1997-09-30 23:59:59.999999999")
    end, cut = end_point(pd.Timestamp("1997-09-30"), None, name="x")
    assert end == cut == pd.Timestamp("1997-09-30")
    with pytest.raises(InvalidValueError, match="not a date"):
        end_point("soon", None, name="observation_period_end")


# -- issue 12: a swapped explicit order, several formats, several offsets, zones across files -----

def _job(tmp_path, path, input_extra: str = "", out: str = "out") -> str:
    config = tmp_path / f"{out}.yaml"
    config.write_text(textwrap.dedent(f"""\
        input: {{path: "{path}"{input_extra}}}
        summary: {{observation_period_end: 1997-09-30}}
        models: [bgnbd]
        output: {{directory: "{tmp_path / out}"}}
        """))
    return str(config)


CDNOW = clvmodels.datasets.load_cdnow_transactions()[["customer_id", "date", "amount"]]


def test_explicit_format_with_day_and_month_swapped_is_refused_even_with_exclude(tmp_path, capsys):
    """'%m/%d/%Y' on day-first dates with on_invalid: exclude used to leave out most rows (and read
    the rest with day and month exchanged) with only a count; now the job stops (exit 2) naming the
    format, the count and the swapped format that reads every failed value."""
    CDNOW.assign(date=CDNOW["date"].dt.strftime("%d/%m/%Y")).to_csv(tmp_path / "tx.csv", index=False)
    config = _job(tmp_path, tmp_path / "tx.csv", ", datetime_format: '%m/%d/%Y', on_invalid: exclude")
    assert cli.main(["run", config, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "'%m/%d/%Y' fails on" in err and "'%d/%m/%Y' (day and month swapped) reads every one" in err
    assert "input.datetime_format" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "scores.parquet").exists()
    # a few bad values only: excluded and counted as before, the note names the swapped order
    frame = _log(["01/02/2020", "01/03/2020", "13/01/2020"], ids=["a", "a", "b"])
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning, match=r"day and month swapped \('%d/%m/%Y'\)"):
        rfm_summary(frame, **COLS, datetime_format="%m/%d/%Y", on_invalid="exclude")


@pytest.mark.parametrize("second", ["1997-01-18", "19970118"])
def test_several_date_formats_are_not_called_time_zones(second):
    """ISO dates with and without a time, or ISO mixed with %Y%m%d: the message says 'several
    formats' with examples of each and the datetime_format remedies, not 'time zone'."""
    frame = _log(["1997-01-01 10:00:00", second, "1997-02-01 11:00:00"] if "-" in second else
                 ["1997-01-01", second, "1997-02-01"])
    with pytest.raises(InvalidValueError, match="several formats") as info:
        rfm_summary(frame, **COLS, on_invalid="exclude")
    text = str(info.value)
    assert "time zone" not in text and repr(second) in text and "'ISO8601'" in text and "'mixed'" in text


def test_one_zone_with_summer_and_winter_offsets_keeps_wall_clock_time(tmp_path, capsys):
    """+01:00 in winter and +02:00 in summer (one zone's DST) used to be refused with pandas' own
    text; each value now keeps its wall-clock time, as dates of one offset do."""
    frame = _log(["1997-01-01T23:30:00+01:00", "1997-07-01T23:30:00+02:00", "1997-07-05T10:00:00+02:00"],
                 ids=["a", "a", "b"])
    s = rfm_summary(frame, **COLS, time_unit="D", observation_period_end="1997-07-05")
    assert s.loc["a", "recency"] == 181 and s.loc["a", "frequency"] == 1  # 1 January to 1 July, local days
    stamps = CDNOW["date"].dt.tz_localize("Europe/Berlin")
    CDNOW.assign(date=stamps.map(lambda t: t.isoformat())).to_csv(tmp_path / "tx.csv", index=False)
    assert cli.main(["run", _job(tmp_path, tmp_path / "tx.csv"), "--no-progress"]) == 0
    capsys.readouterr()
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["customers"]["scored"] == 2357
    with pytest.raises(InvalidValueError, match=r"time zone .*2 with one.*1 without"):  # and a naive date
        rfm_summary(_log(["1997-01-01T10:00:00+01:00", "1997-07-01T10:00:00+02:00", "1997-01-03"]), **COLS)


def test_parquet_files_with_naive_and_aware_dates_are_refused_by_name(tmp_path, capsys):
    """One Parquet file with Europe/Berlin timestamps and one with naive ones: the job stops (exit
    2) naming both files and both kinds."""
    (tmp_path / "in").mkdir()
    CDNOW.iloc[::2].assign(date=CDNOW["date"].iloc[::2].dt.tz_localize("Europe/Berlin")).to_parquet(
        tmp_path / "in" / "a.parquet")
    CDNOW.iloc[1::2].to_parquet(tmp_path / "in" / "b.parquet")
    assert cli.main(["run", _job(tmp_path, tmp_path / "in"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "a.parquet" in err and "b.parquet" in err and "Europe/Berlin" in err and "naive" in err
    assert "Traceback" not in err
