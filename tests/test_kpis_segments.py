"""Value segments, their summary and profiles, on a hand-made scores table (each customer placed
by hand in the comments), plus the errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.exceptions import InvalidValueError, MissingColumnError
from clvmodels.kpis import SEGMENTS, segment_profile, segment_summary, value_segments


@pytest.fixture
def scores() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id":    [1, 2, 3, 4, 5, 6, 7, 8],
        "p_alive":        [0.9, 0.5, 0.1, 0.95, 0.6, 0.8, 0.5, 0.75],
        "clv":            [500.0, 400.0, 300.0, 20.0, 60.0, 30.0, 10.0, 15.0],
        "expected_spend": [50.0, 40.0, 10.0, 20.0, 100.0, 30.0, 10.0, 25.0],
        "frequency":      [5.0, 4.0, 2.0, 0.0, 1.0, 3.0, 1.0, 1.0],
    })


# 1: high value, P(alive) 0.9 -> champions      2: high value, 0.5 -> at_risk
# 3: P(alive) 0.1 -> lost (before its high value) 4: no repeat purchase -> new
# 5: spend 100 >= 46 -> big_spenders            6: 3 repeats, P(alive) 0.8 -> loyal
# 7: P(alive) 0.5, low value -> potential        8: 1 repeat only -> potential
EXPECTED = ["champions", "at_risk", "lost", "new", "big_spenders", "loyal", "potential", "potential"]


def test_segments_default_thresholds(scores):
    seg = value_segments(scores)
    assert seg.tolist() == EXPECTED
    assert list(seg.index) == list(range(1, 9)) and seg.name == "segment"
    assert list(seg.cat.categories) == list(SEGMENTS)
    th = seg.attrs["thresholds"]
    # CLV sorted 10, 15, 20, 30, 60, 300, 400, 500: the 0.8 quantile sits 0.6 of the way from
    # the 6th (300) to the 7th (400) value: 360.  Spend sorted 10, 10, 20, 25, 30, 40, 50, 100: 46.
    assert th["high_value"] == pytest.approx(360.0)
    assert th["high_spend"] == pytest.approx(46.0)
    assert (th["alive_high"], th["alive_low"]) == (0.7, 0.3)


def test_segments_configurable(scores):
    # An absolute high value of 50 makes 5 (60, P(alive) 0.6) at risk instead of a big spender.
    seg = value_segments(scores, high_value=50.0)
    assert seg[5] == "at_risk"
    # A lower alive_high of 0.5 makes 2 a champion and 7 (1 repeat) stays potential.
    seg = value_segments(scores, alive_high=0.5)
    assert seg[2] == "champions" and seg[7] == "potential"
    # loyal_min_frequency=1 turns 8 (1 repeat, P(alive) 0.75) loyal.
    assert value_segments(scores, loyal_min_frequency=1)[8] == "loyal"


def test_segments_without_optional_columns(scores):
    seg = value_segments(scores.drop(columns=["expected_spend", "frequency"]))
    # No spend and no frequency: 4, 5 and 6 cannot be new, big spenders or loyal.
    assert seg.tolist() == ["champions", "at_risk", "lost", "potential", "potential", "potential", "potential",
                            "potential"]


def test_one_time_buyers_are_not_new(scores):
    # Ages T (weeks): customer 4 (no repeat purchase) was acquired 40 weeks ago -> one_time; at
    # 10 weeks (<= 13) it is new; new_max_age=None ignores the age.
    aged = scores.assign(T=[50.0, 50.0, 50.0, 40.0, 50.0, 50.0, 50.0, 50.0])
    assert value_segments(aged)[4] == "one_time"
    assert value_segments(aged.assign(T=10.0))[4] == "new"
    assert value_segments(aged, new_max_age=None)[4] == "new"
    assert value_segments(aged).attrs["thresholds"]["new_max_age"] == 13.0
    assert value_segments(aged).drop(4).tolist() == EXPECTED[:3] + EXPECTED[4:]


def test_segments_accept_customer_index(scores):
    pd.testing.assert_series_equal(value_segments(scores.set_index("customer_id")), value_segments(scores))


def test_segment_summary(scores):
    seg = value_segments(scores)
    s = segment_summary(scores, seg)
    assert list(s.index) == list(SEGMENTS)  # every segment, in order of precedence
    assert s["n_customers"].tolist() == [1, 1, 1, 1, 0, 1, 1, 2]  # no one_time customer here
    # Total value 500 + 400 + 300 + 20 + 60 + 30 + 10 + 15 = 1335.
    np.testing.assert_allclose(s["share_value"], np.array([300, 500, 400, 20, 0, 60, 30, 25]) / 1335)
    np.testing.assert_allclose(s["share_customers"], np.array([1, 1, 1, 1, 0, 1, 1, 2]) / 8)
    assert s.loc["potential", "mean_p_alive"] == pytest.approx((0.5 + 0.75) / 2)
    assert s.loc["potential", "mean_value"] == pytest.approx(12.5)


def test_segment_summary_empty_segment_and_unsegmented(scores):
    seg = value_segments(scores).drop(index=[3])  # customer 3 (lost) left without a segment
    s = segment_summary(scores, seg)
    assert s.loc["lost", "n_customers"] == 0 and s.loc["lost", "total_value"] == 0
    assert np.isnan(s.loc["lost", "mean_value"])
    assert s.attrs["n_without_segment"] == 1
    assert s["share_customers"].sum() == pytest.approx(1.0)


def test_segment_profile():
    seg = pd.Series(["A", "A", "B", "B", "B"], index=[1, 2, 3, 4, 5])
    customers = pd.DataFrame({"customer_id": [1, 2, 3, 4, 5, 6], "region": ["N", "S", "S", "S", None, "N"],
                              "age": [30, 50, 20, 40, 90, 99]})
    p = segment_profile(seg, customers)
    # Customer 6 has no segment and is left out.  A: N 1/2, S 1/2, age (30 + 50) / 2;
    # B: S 2/3, (missing) 1/3, age (20 + 40 + 90) / 3; all five: N 1/5, S 3/5, (missing) 1/5, age 46.
    assert p.attrs["n_customers"] == 5
    assert p.loc[("region", "N"), "A"] == 0.5 and p.loc[("region", "S"), "A"] == 0.5
    assert p.loc[("region", "S"), "B"] == pytest.approx(2 / 3)
    assert p.loc[("region", "(missing)"), "B"] == pytest.approx(1 / 3)
    assert p.loc[("region", "N"), "B"] == 0.0
    np.testing.assert_allclose(p.loc["region", "all"].sort_index(), [0.2, 0.2, 0.6])  # (missing), N, S
    assert p.loc[("age", "mean"), "A"] == 40.0
    assert p.loc[("age", "mean"), "B"] == 50.0
    assert p.loc[("age", "mean"), "all"] == 46.0
    assert list(segment_profile(seg, customers, attributes=["age"]).index) == [("age", "mean")]


def test_segment_errors(scores):
    with pytest.raises(MissingColumnError, match="'p_alive'"):
        value_segments(scores.drop(columns="p_alive"))
    with pytest.raises(ValueError, match="alive_low must be a number between 0 and 0.7"):
        value_segments(scores, alive_low=0.8)
    with pytest.raises(InvalidValueError, match="each customer must appear once"):
        value_segments(pd.concat([scores, scores.iloc[:1]]))
    with pytest.raises(InvalidValueError, match="'p_alive': must be a finite number; 1 of 8 rows"):
        value_segments(scores.assign(p_alive=[np.nan, *scores["p_alive"].iloc[1:]]))
    with pytest.raises(InvalidValueError, match=r"'p_alive': P\(alive\) must lie between 0 and 1; 1 of 8 rows"):
        value_segments(scores.assign(p_alive=[1.5, *scores["p_alive"].iloc[1:]]))
    with pytest.raises(ValueError, match="loyal_min_frequency"):
        value_segments(scores, loyal_min_frequency=1.5)
    with pytest.raises(MissingColumnError, match="'region'"):
        segment_profile(value_segments(scores), scores, attributes=["region"])
    with pytest.raises(InvalidValueError, match="one entry per customer"):
        segment_summary(scores, pd.Series(["a", "b"], index=[1, 1]))
