"""Retention, churn and cohort tables on hand-made logs: every number worked out in the comments,
edge cases (no customers at the start of a period, a one-customer cohort, a cut-short last
period), a brute-force cross-check, and the errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.exceptions import EmptyDataError, MissingColumnError
from clvmodels.kpis import cohort_retention, pooled_churn_rate, repeat_purchase_rate, retention_table

COUNTS = ["customers_start", "new_customers", "reactivated", "customers_lost", "customers_end"]


@pytest.fixture
def log() -> pd.DataFrame:
    """Purchases in 2024 (observed to 30 April):

    a: 5 Jan, 20 Jan, 3 Mar      b: 10 Jan, 14 Feb
    c: 2 Feb, 25 Feb, 30 Mar, 1 Apr      d: 15 Apr
    """
    rows = [("a", "2024-01-05"), ("a", "2024-01-20"), ("a", "2024-03-03"), ("b", "2024-01-10"),
            ("b", "2024-02-14"), ("c", "2024-02-02"), ("c", "2024-02-25"), ("c", "2024-03-30"),
            ("c", "2024-04-01"), ("d", "2024-04-15")]
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "date": pd.to_datetime([r[1] for r in rows])})


def test_monthly_counts_and_rates(log):
    t = retention_table(log, period="M", observation_period_end="2024-04-30", trend_window=2)
    assert list(t.index.astype(str)) == ["2024-01", "2024-02", "2024-03", "2024-04"]
    # Active: Jan {a, b}; Feb {b, c}; Mar {a, c}; Apr {c, d}.
    # Feb: a lost, c new.  Mar: b lost, a comes back (reactivated).  Apr: a lost, d new.
    expected = [[0, 2, 0, 0, 2],
                [2, 1, 0, 1, 2],
                [2, 0, 1, 1, 2],
                [2, 1, 0, 1, 2]]
    assert t[COUNTS].to_numpy().tolist() == expected
    # E = S - L + N + R in every period.
    assert (t["customers_end"] == t["customers_start"] - t["customers_lost"] + t["new_customers"]
            + t["reactivated"]).all()
    # retention (E - N) / S: Feb (2 - 1) / 2, Mar (2 - 0) / 2, Apr (2 - 1) / 2; churn L / S = 1 / 2.
    np.testing.assert_allclose(t["retention_rate"], [np.nan, 0.5, 1.0, 0.5])
    np.testing.assert_allclose(t["churn_rate"], [np.nan, 0.5, 0.5, 0.5])
    # Trend over 2 periods: Feb pools Jan + Feb: S 0 + 2, L 0 + 1, E - N (2 + 2) - (2 + 1) = 1;
    # Mar pools Feb + Mar: S 4, L 2, E - N 4 - 1 = 3; Apr pools Mar + Apr: S 4, L 2, E - N 4 - 1 = 3.
    np.testing.assert_allclose(t["churn_rate_trend"], [np.nan, 0.5, 0.5, 0.5])
    np.testing.assert_allclose(t["retention_rate_trend"], [np.nan, 0.5, 0.75, 0.75])
    assert t["complete"].all()
    # Pooled: (1 + 1 + 1) / (2 + 2 + 2).
    assert t.attrs["pooled_churn_rate"] == pytest.approx(0.5)
    assert t.attrs["period"] == "M" and t.attrs["inactivity_window"] == 0
    assert "churn rate lost / start" in t.attrs["description"]


def test_inactivity_window_keeps_customers_active(log):
    t = retention_table(log, period="month", inactivity_window=1, observation_period_end="2024-04-30")
    # With one month of grace: a active Jan-Apr (Jan covers Feb, Mar covers Apr), b Jan-Mar (lost in
    # Apr), c Feb-Apr, d Apr.  Mar's purchase of a is no reactivation: a never lapsed.
    expected = [[0, 2, 0, 0, 2],
                [2, 1, 0, 0, 3],
                [3, 0, 0, 0, 3],
                [3, 1, 0, 1, 3]]
    assert t[COUNTS].to_numpy().tolist() == expected
    # Apr: churn 1 / 3, retention (3 - 1) / 3.
    assert t["churn_rate"].iloc[-1] == pytest.approx(1 / 3)
    assert t["retention_rate"].iloc[-1] == pytest.approx(2 / 3)


def test_worked_check_1000_customers_50_lost():
    """1,000 customers buy in January, 950 of them again in February: 50 lost, churn 5 %."""
    ids = np.arange(1000)
    tx = pd.DataFrame({"customer_id": np.r_[ids, ids[:950]],
                       "date": pd.to_datetime(["2024-01-15"] * 1000 + ["2024-02-15"] * 950)})
    t = retention_table(tx, observation_period_end="2024-02-29")
    assert t.loc["2024-02", "customers_start"] == 1000
    assert t.loc["2024-02", "customers_lost"] == 50
    assert t.loc["2024-02", "churn_rate"] == pytest.approx(0.05)
    assert t.loc["2024-02", "retention_rate"] == pytest.approx(0.95)


def test_no_customers_at_period_start_gives_nan_rates():
    # x buys in January only, y in March only: nobody is active in February, so March starts empty.
    tx = pd.DataFrame({"customer_id": ["x", "y"], "date": pd.to_datetime(["2024-01-10", "2024-03-10"])})
    t = retention_table(tx, observation_period_end="2024-03-31")
    assert t[COUNTS].to_numpy().tolist() == [[0, 1, 0, 0, 1], [1, 0, 0, 1, 0], [0, 1, 0, 0, 1]]
    assert t["churn_rate"].iloc[1] == 1.0
    assert np.isnan(t["churn_rate"].iloc[2]) and np.isnan(t["retention_rate"].iloc[2])
    # Pooled over complete periods: 1 lost of 1 at risk.
    assert pooled_churn_rate(t) == 1.0


def test_quarters_and_years(log):
    q = retention_table(log, period="Q", observation_period_end="2024-06-30")
    # Q1: a, b, c active (3 new); Q2: c and d active: a, b lost, d new -> churn 2 / 3.
    assert q[COUNTS].to_numpy().tolist() == [[0, 3, 0, 0, 3], [3, 1, 0, 2, 2]]
    assert q["churn_rate"].iloc[1] == pytest.approx(2 / 3)
    y = retention_table(log, period="Y", observation_period_end="2024-12-31")
    assert y[COUNTS].to_numpy().tolist() == [[0, 4, 0, 0, 4]]
    assert np.isnan(y.attrs["pooled_churn_rate"])  # nobody was at risk


def test_last_period_cut_short_is_flagged(log):
    # The log ends on 15 April: April is not complete, and pooled churn leaves it out.
    t = retention_table(log)
    assert t["complete"].tolist() == [True, True, True, False]
    assert t.attrs["pooled_churn_rate"] == pytest.approx(2 / 4)  # Feb and Mar only
    assert pooled_churn_rate(t, complete_only=False) == pytest.approx(3 / 6)


def test_observation_end_drops_later_rows(log):
    t = retention_table(log, observation_period_end="2024-02-29")
    assert list(t.index.astype(str)) == ["2024-01", "2024-02"]
    assert t["customers_end"].tolist() == [2, 2]


def test_column_names_are_configurable(log):
    renamed = log.rename(columns={"customer_id": "cust", "date": "when"})
    t = retention_table(renamed, customer_id_col="cust", datetime_col="when", observation_period_end="2024-04-30")
    pd.testing.assert_frame_equal(t, retention_table(log, observation_period_end="2024-04-30"))


def test_row_order_does_not_matter(log):
    shuffled = log.sample(frac=1.0, random_state=3)
    pd.testing.assert_frame_equal(retention_table(shuffled, observation_period_end="2024-04-30"),
                                  retention_table(log, observation_period_end="2024-04-30"))


def test_errors(log):
    with pytest.raises(MissingColumnError, match="'date'"):
        retention_table(log.drop(columns="date"))
    with pytest.raises(ValueError, match="period must be one of"):
        retention_table(log, period="W")
    with pytest.raises(ValueError, match="inactivity_window must be a whole number"):
        retention_table(log, inactivity_window=-1)
    with pytest.raises(ValueError, match="inactivity_window must be a whole number"):
        retention_table(log, inactivity_window=float("nan"))
    with pytest.raises(ValueError, match="trend_window"):
        retention_table(log, trend_window=0)
    with pytest.raises(EmptyDataError):
        retention_table(log.iloc[:0])


# --- cohorts -------------------------------------------------------------------------------------

def test_cohort_matrix(log):
    m = cohort_retention(log, observation_period_end="2024-04-30")
    # Cohorts: Jan {a, b}, Feb {c} (one customer), Apr {d}; no one was acquired in March.
    assert list(m.index.astype(str)) == ["2024-01", "2024-02", "2024-04"]
    assert m.attrs["cohort_size"] == {"2024-01": 2, "2024-02": 1, "2024-04": 1}
    # Jan: Jan a, b (2/2); Feb b (1/2); Mar a (1/2); Apr none (0/2).
    # Feb: c buys Feb, Mar, Apr -> 1, 1, 1, then May is unobserved.  Apr: 1, then unobserved.
    expected = np.array([[1.0, 0.5, 0.5, 0.0],
                         [1.0, 1.0, 1.0, np.nan],
                         [1.0, np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(m.to_numpy(), expected)
    assert m.columns.name == "periods_since_acquisition"
    counts = cohort_retention(log, values="count", observation_period_end="2024-04-30")
    np.testing.assert_array_equal(counts.to_numpy(), [[2, 1, 1, 0], [1, 1, 1, np.nan], [1, np.nan, np.nan, np.nan]])


def test_cohort_matrix_with_window(log):
    m = cohort_retention(log, inactivity_window=1, values="count", observation_period_end="2024-04-30")
    # Jan cohort: Jan a, b; Feb a (grace), b; Mar a, b (grace); Apr a (grace after March).
    np.testing.assert_array_equal(m.to_numpy()[0], [2, 2, 2, 1])


def test_single_customer_cohort():
    tx = pd.DataFrame({"customer_id": [7, 7], "date": pd.to_datetime(["2023-05-01", "2023-07-01"])})
    m = cohort_retention(tx, period="M")
    np.testing.assert_array_equal(m.to_numpy(), [[1.0, 0.0, 1.0]])
    assert repeat_purchase_rate(tx)["repeat_purchase_rate"].tolist() == [1.0]


def test_repeat_purchase_rate(log):
    # e buys twice on the same day: that is no repeat purchase.
    tx = pd.concat([log, pd.DataFrame({"customer_id": ["e", "e"], "date": pd.to_datetime(["2024-03-10"] * 2)})])
    r = repeat_purchase_rate(tx, observation_period_end="2024-04-30")
    # Jan {a, b}: both again later (2/2); Feb {c}: 1/1; Mar {e}: 0/1; Apr {d}: 0/1.
    assert r["cohort_size"].tolist() == [2, 1, 1, 1]
    assert r["repeat_customers"].tolist() == [2, 1, 0, 0]
    assert r["repeat_purchase_rate"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert r["complete"].all()
    # Within the acquisition month only: a (20 Jan) yes, b (14 Feb) no -> 1/2; c (25 Feb) yes.
    r0 = repeat_purchase_rate(tx, within=0, observation_period_end="2024-04-30")
    assert r0["repeat_purchase_rate"].tolist() == [0.5, 1.0, 0.0, 0.0]
    # Within one month more: b counts now; April's cohort has not been watched for May.
    r1 = repeat_purchase_rate(tx, within=1, observation_period_end="2024-04-30")
    assert r1["repeat_purchase_rate"].tolist() == [1.0, 1.0, 0.0, 0.0]
    assert r1["complete"].tolist() == [True, True, True, False]


def test_cohort_errors(log):
    with pytest.raises(ValueError, match="values must be"):
        cohort_retention(log, values="share")
    with pytest.raises(MissingColumnError, match="customer_id"):
        cohort_retention(log.rename(columns={"customer_id": "id"}))
    with pytest.raises(ValueError, match="within"):
        repeat_purchase_rate(log, within=-2)


# --- brute force ---------------------------------------------------------------------------------

def _active_sets(tx: pd.DataFrame, window: int, last: pd.Period) -> dict:
    """Customers active in each month, one customer at a time (the slow, obvious way)."""
    months = tx["date"].dt.to_period("M")
    out = {}
    first = months.min()
    for period in pd.period_range(first, last, freq="M"):
        active = set()
        for customer, bought in months.groupby(tx["customer_id"]):
            if any(period - window <= b <= period for b in bought):
                active.add(customer)
        out[period] = active
    return out


@pytest.mark.parametrize("window", [0, 1, 3])
def test_matches_brute_force(window):
    rng = np.random.default_rng(11)
    n = 400
    tx = pd.DataFrame({"customer_id": rng.integers(0, 60, size=n),
                       "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 700, size=n), "D")})
    end = pd.Timestamp("2023-12-31")
    t = retention_table(tx, inactivity_window=window, observation_period_end=end)
    assert t["reactivated"].sum() > 0 and t["customers_lost"].sum() > 0  # the check has teeth
    sets = _active_sets(tx, window, end.to_period("M"))
    first_period = tx.groupby("customer_id")["date"].min().dt.to_period("M")
    previous: set = set()
    for period, active in sets.items():
        new = {c for c in active if first_period[c] == period}
        row = t.loc[period]
        assert row["customers_start"] == len(previous)
        assert row["customers_end"] == len(active)
        assert row["customers_lost"] == len(previous - active)
        assert row["new_customers"] == len(new)
        assert row["reactivated"] == len(active - previous - new)  # bought before, lapsed, back
        previous = active
    m = cohort_retention(tx, inactivity_window=window, values="count", observation_period_end=end)
    for cohort in m.index:
        members = set(first_period.index[first_period == cohort])
        for k in m.columns:
            period = cohort + k
            if period in sets:
                assert m.loc[cohort, k] == len(members & sets[period])
            else:
                assert np.isnan(m.loc[cohort, k])
