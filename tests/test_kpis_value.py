"""Heuristic CLV, customer profitability and acquisition economics on hand-made tables: every
number worked out in the comments, plus the errors for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clvmodels.exceptions import InvalidValueError, MissingColumnError
from clvmodels.kpis import (acquisition_economics, customer_profitability, expected_lifetime, heuristic_clv,
                            profitability_summary)


@pytest.fixture
def orders() -> pd.DataFrame:
    """Orders in 2024 (observed to 30 April), amounts in brackets:

    a: 5 Jan (10), 20 Jan (30), 3 Mar (20)      b: 10 Jan (40), 14 Feb (20)
    c: 2 Feb (15), 25 Feb (25), 30 Mar (30), 1 Apr (10)      d: 15 Apr (50)
    """
    rows = [("a", "2024-01-05", 10.0), ("a", "2024-01-20", 30.0), ("a", "2024-03-03", 20.0),
            ("b", "2024-01-10", 40.0), ("b", "2024-02-14", 20.0), ("c", "2024-02-02", 15.0),
            ("c", "2024-02-25", 25.0), ("c", "2024-03-30", 30.0), ("c", "2024-04-01", 10.0),
            ("d", "2024-04-15", 50.0)]
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "date": pd.to_datetime([r[1] for r in rows]),
                         "amount": [r[2] for r in rows]})


@pytest.fixture
def scores() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "p_alive": [0.5, 0.2, 0.9, 1.0],
                         "clv": [30.0, 10.0, 50.0, 70.0]})


END = "2024-04-30"


# --- heuristic CLV -------------------------------------------------------------------------------

def test_expected_lifetime():
    assert expected_lifetime(0.05) == pytest.approx(20.0)
    assert expected_lifetime(0.0) == np.inf
    assert expected_lifetime(0.0, 12) == 12.0
    assert expected_lifetime(1.0, 12) == 1.0  # everyone gone after the first period
    # (1 - 0.9^3) / 0.1 = 1 + 0.9 + 0.81
    assert expected_lifetime(0.1, 3) == pytest.approx(2.71)
    assert np.isnan(expected_lifetime(np.nan))


def test_heuristic_overall(orders, scores):
    h = heuristic_clv(orders, scores, observation_period_end=END)
    row = h.loc["all"]
    # 10 orders worth 250: AOV 25.  Active customer-months 2 + 2 + 2 + 2 = 8: 10 / 8 = 1.25 orders
    # per active month.  Churn (1 + 1 + 1) / (2 + 2 + 2) = 0.5: lifetime 2 months.
    assert row["orders"] == 10 and row["revenue"] == 250.0 and row["n_customers"] == 4
    assert row["average_order_value"] == pytest.approx(25.0)
    assert row["purchase_frequency"] == pytest.approx(1.25)
    assert row["churn_rate"] == pytest.approx(0.5)
    assert row["expected_lifetime"] == pytest.approx(2.0)
    assert row["heuristic_clv"] == pytest.approx(25 * 1.25 * 2)  # 62.5
    # Model: mean of 30, 10, 50, 70 = 40; 62.5 / 40.
    assert row["model_clv"] == pytest.approx(40.0)
    assert row["heuristic_to_model"] == pytest.approx(1.5625)
    assert h.attrs["period"] == "M"


def test_heuristic_options(orders):
    # margin 0.4: 0.4 x 62.5.
    assert heuristic_clv(orders, margin=0.4, observation_period_end=END).loc["all", "heuristic_clv"] \
        == pytest.approx(25.0)
    # 3-month horizon: lifetime 1 + 0.5 + 0.25 = 1.75 -> 25 x 1.25 x 1.75.
    assert heuristic_clv(orders, horizon_periods=3, observation_period_end=END).loc["all", "heuristic_clv"] \
        == pytest.approx(54.6875)
    # A given churn of 0.25: lifetime 4 -> 125.
    h = heuristic_clv(orders, churn_rate=0.25, observation_period_end=END)
    assert h.loc["all", "heuristic_clv"] == pytest.approx(125.0)
    assert "model_clv" not in h


def test_heuristic_per_segment(orders, scores):
    segments = pd.Series(pd.Categorical(["x", "x", "y", "y"], categories=["y", "x"]), index=list("abcd"))
    h = heuristic_clv(orders, scores, segments=segments, horizon_periods=3, observation_period_end=END)
    assert list(h.index) == ["all", "y", "x"]  # the categories' order
    x, y = h.loc["x"], h.loc["y"]
    # x = {a, b}: 5 orders worth 120 (AOV 24); active Jan {a, b}, Feb {b}, Mar {a}, Apr {} -> 4
    # customer-months, 5 / 4 = 1.25; lost: Feb a, Mar b, Apr a = 3 of 0 + 2 + 1 + 1 = 4 at risk.
    assert x["average_order_value"] == pytest.approx(24.0)
    assert x["purchase_frequency"] == pytest.approx(1.25)
    assert x["churn_rate"] == pytest.approx(0.75)
    # Lifetime within 3 months: 1 + 0.25 + 0.0625 = 1.3125.
    assert x["heuristic_clv"] == pytest.approx(24 * 1.25 * 1.3125)
    assert x["model_clv"] == pytest.approx(20.0)  # (30 + 10) / 2
    # y = {c, d}: 5 orders worth 130 (AOV 26), active Feb {c}, Mar {c}, Apr {c, d}: 4 -> 1.25;
    # nobody lost: churn 0, lifetime the whole horizon of 3.
    assert y["churn_rate"] == 0.0
    assert y["heuristic_clv"] == pytest.approx(26 * 1.25 * 3)
    assert y["model_clv"] == pytest.approx(60.0)
    # Without a horizon, no churn means an unbounded lifetime.
    unbounded = heuristic_clv(orders, segments=segments, observation_period_end=END)
    assert unbounded.loc["y", "heuristic_clv"] == np.inf


def test_heuristic_customer_without_segment(orders):
    segments = pd.Series(["x", "x", "y"], index=list("abc"))  # d has none
    h = heuristic_clv(orders, segments=segments, observation_period_end=END)
    assert h["n_customers"].to_dict() == {"all": 4, "x": 2, "y": 1}


def test_heuristic_errors(orders, scores):
    with pytest.raises(MissingColumnError, match="'amount'"):
        heuristic_clv(orders.drop(columns="amount"))
    with pytest.raises(MissingColumnError, match="'clv'"):
        heuristic_clv(orders, scores.drop(columns="clv"))
    with pytest.raises(ValueError, match="margin"):
        heuristic_clv(orders, margin=1.5)
    with pytest.raises(ValueError, match="churn_rate"):
        heuristic_clv(orders, churn_rate=-0.1)
    with pytest.raises(TypeError, match="segments must be a pandas Series"):
        heuristic_clv(orders, segments={"a": "x"})
    with pytest.raises(InvalidValueError, match="amount must not be negative"):
        heuristic_clv(orders.assign(amount=-orders["amount"]))


# --- profitability -------------------------------------------------------------------------------

@pytest.fixture
def costed() -> pd.DataFrame:
    """a: 100 (20 returned, cost 50), 60 (cost 30); b: 10 (cost 8); c: 40 (all returned, cost 0);
    serving an order costs 5."""
    return pd.DataFrame({"customer_id": ["a", "a", "b", "c"], "amount": [100.0, 60.0, 10.0, 40.0],
                         "returned": [20.0, 0.0, 0.0, 40.0], "cost": [50.0, 30.0, 8.0, 0.0],
                         "serve": [5.0, 5.0, 5.0, 5.0]})


def test_profitability_with_margin(costed):
    scores = pd.DataFrame({"customer_id": ["a", "b", "c", "z"], "clv": [200.0, 30.0, 10.0, 99.0]})
    t = customer_profitability(costed, scores, margin=0.5, cost_to_serve=5.0, returns_col="returned")
    # a: kept 80 + 60 = 140, x 0.5 = 70, - 2 x 5 = 60.  b: 10 x 0.5 - 5 = 0 (not below 0).
    # c: kept 0 - 5 = -5.
    assert t["orders"].tolist() == [2, 1, 1]
    assert t["revenue"].tolist() == [160.0, 10.0, 40.0]
    assert t["returns"].tolist() == [20.0, 0.0, 40.0]
    assert t["gross_margin"].tolist() == [70.0, 5.0, 0.0]
    assert t["cost_to_serve"].tolist() == [10.0, 5.0, 5.0]
    assert t["net_value"].tolist() == [60.0, 0.0, -5.0]
    assert t["unprofitable"].tolist() == [False, False, True]
    assert t.attrs["share_unprofitable"] == pytest.approx(1 / 3)
    # Net CLV = CLV x net / revenue: a 200 x 60/160 = 75; b 30 x 0 = 0; c 10 x -5/40 = -1.25.
    # z has a score but no orders: not in the table.
    np.testing.assert_allclose(t["net_clv"], [75.0, 0.0, -1.25])
    assert t["unprofitable_future"].tolist() == [False, False, True]
    assert list(t.index) == ["a", "b", "c"]


def test_profitability_with_cost_columns(costed):
    t = customer_profitability(costed, cost_col="cost", cost_to_serve="serve", returns_col="returned")
    # a: 140 - (50 + 30) - 10 = 50.  b: 10 - 8 - 5 = -3.  c: 0 - 0 - 5 = -5.
    assert t["net_value"].tolist() == [50.0, -3.0, -5.0]
    assert t.attrs["share_unprofitable"] == pytest.approx(2 / 3)
    assert "net_clv" not in t


def test_a_missing_cost_column_is_named_as_a_cost_column(costed):
    """A cost column that is not there is the order costs' problem (kpis.costs), not the transactions'."""
    with pytest.raises(KeyError, match=r"order costs \(kpis.costs"):
        customer_profitability(costed, cost_col="costt", cost_to_serve="serve", returns_col="returned")


def test_profitability_customer_without_revenue():
    tx = pd.DataFrame({"customer_id": ["a", "d"], "amount": [100.0, 0.0]})
    scores = pd.DataFrame({"customer_id": ["a", "d"], "clv": [40.0, 20.0]})
    t = customer_profitability(tx, scores, margin=0.5)
    # The book keeps 50 of 100: d, without revenue, gets that share: 20 x 0.5.
    np.testing.assert_allclose(t["net_clv"], [20.0, 10.0])


def test_profitability_summary(costed):
    t = customer_profitability(costed, margin=0.5, cost_to_serve=5.0, returns_col="returned")
    segments = pd.Series(["s1", "s1", "s2"], index=["a", "b", "c"])
    s = profitability_summary(t, segments)
    assert list(s.index) == ["all", "s1", "s2"]
    assert s["n_customers"].tolist() == [3, 2, 1]
    assert s["n_unprofitable"].tolist() == [0 + 1, 0, 1]
    np.testing.assert_allclose(s["share_unprofitable"], [1 / 3, 0.0, 1.0])
    np.testing.assert_allclose(s["net_value"], [55.0, 60.0, -5.0])


def test_profitability_errors(costed):
    with pytest.raises(InvalidValueError, match=r"column 'cost': must not be negative; 1 of 4 rows"):
        customer_profitability(costed.assign(cost=[50.0, -1.0, 8.0, 0.0]), cost_col="cost")
    with pytest.raises(InvalidValueError, match="'returned': must not exceed the order amount"):
        customer_profitability(costed.assign(returned=[120.0, 0.0, 0.0, 0.0]), margin=0.3, returns_col="returned")
    with pytest.raises(InvalidValueError, match="'serve': must not be negative"):
        customer_profitability(costed.assign(serve=-5.0), margin=0.3, cost_to_serve="serve")
    with pytest.raises(ValueError, match="cost_to_serve must be a non-negative number"):
        customer_profitability(costed, margin=0.3, cost_to_serve=-2.0)
    with pytest.raises(ValueError, match="exactly one of margin"):
        customer_profitability(costed)
    with pytest.raises(ValueError, match="exactly one of margin"):
        customer_profitability(costed, margin=0.3, cost_col="cost")
    with pytest.raises(ValueError, match="margin must be a number between 0 and 1"):
        customer_profitability(costed, margin=30)
    with pytest.raises(MissingColumnError, match="'costs'"):
        customer_profitability(costed, cost_col="costs")
    with pytest.raises(InvalidValueError, match="customer id must not be missing"):
        customer_profitability(costed.assign(customer_id=["a", None, "b", "c"]), margin=0.3)


# --- acquisition ---------------------------------------------------------------------------------

@pytest.fixture
def channels() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1, 2, 3, 4], "channel": ["search", "search", "social", "social"],
                         "campaign": ["brand", "generic", "launch", "launch"], "cac": [20.0, 20.0, 40.0, 0.0]})


@pytest.fixture
def channel_scores() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [1, 2, 3, 4, 5], "clv": [90.0, 30.0, 40.0, 0.0, 12.0]})


def test_acquisition_ratios_and_rank(channels, channel_scores):
    t = acquisition_economics(channel_scores, channels)
    # search: CAC 20 + 20 = 40, CLV 90 + 30 = 120 -> 3.0; social: CAC 40, CLV 40 -> 1.0.
    assert list(t.index) == ["search", "social"]
    assert t["n_customers"].tolist() == [2, 2]
    assert t["total_cac"].tolist() == [40.0, 40.0]
    assert t["mean_clv"].tolist() == [60.0, 20.0]
    assert t["clv_to_cac"].tolist() == [3.0, 1.0]
    assert t["rank"].tolist() == [1, 2]
    assert t.attrs["n_scores_without_attributes"] == 1  # customer 5
    by_mean_cac = acquisition_economics(channel_scores, channels, sort_by="mean_cac")
    assert by_mean_cac["rank"].tolist() == [1, 2]  # both 20: stable order


def test_acquisition_by_campaign_and_free_channel(channels, channel_scores):
    free = channels.assign(cac=[20.0, 20.0, 0.0, 0.0])
    t = acquisition_economics(channel_scores, free, by=["channel", "campaign"])
    # social/launch cost nothing: an infinite ratio ranks first; search/brand 90 / 20, search/generic 30 / 20.
    assert list(t.index) == [("social", "launch"), ("search", "brand"), ("search", "generic")]
    assert t["clv_to_cac"].tolist() == [np.inf, 4.5, 1.5]


def test_acquisition_missing_channel_is_a_group(channels, channel_scores):
    t = acquisition_economics(channel_scores, channels.assign(channel=["search", None, "social", "social"]))
    assert t.loc["(missing)", "n_customers"] == 1


def test_acquisition_payback(channels, channel_scores):
    tx = pd.DataFrame({"customer_id": [1, 1, 2, 3, 4],
                       "date": pd.to_datetime(["2024-01-02", "2024-02-05", "2024-02-01", "2024-01-10", "2024-03-01"]),
                       "amount": [20.0, 40.0, 100.0, 30.0, 10.0]})
    t = acquisition_economics(channel_scores, channels, transactions=tx, margin=0.5, observation_period_end="2024-03-31")
    # Margins (x 0.5): 1: 10 in Jan, 20 in Feb (covers 20 in Feb: 1 month after acquisition);
    # 2: 50 in Feb (covers in its first month: 0); 3: 15 < 40, not paid back; 4: free, paid back at once.
    # Customer-months to the end of March: 1: 3, 2: 2, 3: 3, 4: 1.
    search, social = t.loc["search"], t.loc["social"]
    assert search["margin_per_period"] == pytest.approx(80 / 5)
    assert search["payback_periods"] == pytest.approx(20 / 16)
    assert search["share_paid_back"] == 1.0
    assert search["median_payback_periods"] == pytest.approx(0.5)  # median of 1 and 0
    assert social["margin_per_period"] == pytest.approx(20 / 4)
    assert social["payback_periods"] == pytest.approx(20 / 5)
    assert social["share_paid_back"] == 0.5
    assert social["median_payback_periods"] == 0.0


def test_acquisition_errors(channels, channel_scores):
    with pytest.raises(InvalidValueError, match="1 of 4 customers of the attributes table have no score"):
        acquisition_economics(channel_scores[channel_scores["customer_id"] != 3], channels)
    with pytest.raises(InvalidValueError, match="column 'cac': must not be negative; 1 of 4 rows"):
        acquisition_economics(channel_scores, channels.assign(cac=[20.0, -1.0, 40.0, 0.0]))
    with pytest.raises(MissingColumnError, match="'cac'"):
        acquisition_economics(channel_scores, channels.drop(columns="cac"))
    with pytest.raises(MissingColumnError, match="'source'"):
        acquisition_economics(channel_scores, channels, by="source")
    with pytest.raises(InvalidValueError, match="each customer must appear once"):
        acquisition_economics(channel_scores, pd.concat([channels, channels.iloc[:1]]))
    with pytest.raises(ValueError, match="sort_by must be one of"):
        acquisition_economics(channel_scores, channels, sort_by="payback_periods")
    with pytest.raises(InvalidValueError, match="'clv': must be a finite number"):
        acquisition_economics(channel_scores.assign(clv=[1.0, np.nan, 1.0, 1.0, 1.0]), channels)


def test_acquisition_payback_customer_without_purchases(channels, channel_scores):
    tx = pd.DataFrame({"customer_id": [1, 2, 3], "date": pd.to_datetime(["2024-01-02"] * 3),
                       "amount": [40.0, 40.0, 100.0]})
    t = acquisition_economics(channel_scores, channels, transactions=tx, observation_period_end="2024-01-31")
    # Customer 4 (social, free) never bought: not paid back, no customer-months.  Social: 3 pays 100
    # >= 40 at once; share 1 / 2; margin 100 over 1 customer-month.
    assert t.loc["social", "share_paid_back"] == 0.5
    assert t.loc["social", "margin_per_period"] == 100.0
    assert t.loc["search", "share_paid_back"] == 1.0
