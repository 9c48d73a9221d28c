"""Payments -> subscription tenures (clvmodels.data.retention_summary)."""

import numpy as np
import pandas as pd
import pytest

from clvmodels import ShiftedBetaGeoModel
from clvmodels.data import retention_summary
from clvmodels.exceptions import MissingColumnError


def _payments():
    # customer 1: Jan, Feb, Mar (two payments in Feb)   -> active, 3 paid months, 2 renewals
    # customer 2: Jan, then Mar                         -> cancelled at decision 1; Mar is a reactivation
    # customer 3: Feb, Mar                              -> active, 1 renewal
    # customer 4: Jan, Feb                              -> cancelled at decision 2 (no March payment)
    # customer 5: Mar                                   -> acquired in the last month, tenure 0
    rows = [(1, "2024-01-05", 10), (1, "2024-02-05", 4), (1, "2024-02-20", 6), (1, "2024-03-05", 10),
            (2, "2024-01-20", 20), (2, "2024-03-20", 99),
            (3, "2024-02-01", 5), (3, "2024-03-01", 7),
            (4, "2024-01-10", 8), (4, "2024-02-10", 8),
            (5, "2024-03-31", 3)]
    return pd.DataFrame(rows, columns=["id", "date", "amount"]).assign(date=lambda d: pd.to_datetime(d["date"]))


def test_tenure_and_churn_by_hand():
    s = retention_summary(_payments(), customer_id_col="id", datetime_col="date", monetary_value_col="amount",
                          observation_period_end="2024-03-31")
    assert s["tenure"].to_dict() == {1: 2, 2: 1, 3: 1, 4: 2, 5: 0}
    assert s["churned"].to_dict() == {1: 0, 2: 1, 3: 0, 4: 1, 5: 0}
    # mean payment per paid month of the subscription: (10 + 10 + 10) / 3, 20, (5 + 7) / 2, 8, 3
    assert s["monetary_value"].to_dict() == pytest.approx({1: 10.0, 2: 20.0, 3: 6.0, 4: 8.0, 5: 3.0})


def test_payments_after_a_cancellation_are_counted_not_lost():
    s = retention_summary(_payments(), customer_id_col="id", datetime_col="date",
                          observation_period_end="2024-03-31")
    assert s.attrs["exclusions"]["rows"] == {"after_cancellation": 1}
    assert s.attrs["reactivated_customers"] == 1
    assert s.attrs["n_rows_read"] == 11 and s.attrs["n_rows_used"] == 10
    assert s.attrs["time_unit"] == "M" and s.attrs["last_period"] == "2024-03"


def test_quarterly_contracts_merge_months():
    s = retention_summary(_payments(), customer_id_col="id", datetime_col="date", period="Q",
                          observation_period_end="2024-03-31")
    # every customer paid in 2024Q1 only, which holds the observation end: all active, no renewal yet
    assert s["tenure"].tolist() == [0] * 5 and s["churned"].tolist() == [0] * 5


def test_missing_column_is_named():
    with pytest.raises(MissingColumnError, match="date"):
        retention_summary(_payments().drop(columns="date"), customer_id_col="id", datetime_col="date")


def test_simulated_cohort_gives_the_survival_fit():
    """Monthly payments of one cohort simulated from sBG: the tenures fit exactly as the cohort's
    survivor counts do (both are the same sufficient statistics)."""
    rng = np.random.default_rng(3)
    n, months = 3000, 12
    theta = rng.beta(0.7, 3.8, n)
    lifetime = rng.geometric(theta)  # paid periods until cancellation
    paid = np.minimum(lifetime, months)
    ids = np.repeat(np.arange(n), paid)
    month = np.concatenate([np.arange(k) for k in paid])
    pay = pd.DataFrame({"id": ids, "date": pd.Timestamp("2023-01-15") + pd.to_timedelta(month * 31, unit="D")})
    s = retention_summary(pay, customer_id_col="id", datetime_col="date", observation_period_end="2023-12-31")

    survivors = [(lifetime > k).sum() for k in range(months)]  # active after k renewal decisions
    by_counts = ShiftedBetaGeoModel().fit(ShiftedBetaGeoModel.rows_from_survival(survivors), weights="count")
    by_customer = ShiftedBetaGeoModel().fit(s)
    np.testing.assert_allclose(by_customer.params_, by_counts.params_, rtol=1e-5)
    assert s["churned"].sum() == n - survivors[-1]
