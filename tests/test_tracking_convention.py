"""Where a tracking period ends: ``tracking(..., period_end=...)`` (issue 12).

``"inclusive"`` (the default) counts a customer's age to a week's last day, as the summaries count
``T``; ``"exclusive"`` counts it to the midnight after, as BTYD, lifetimes and PyMC-Marketing do.

References
----------
lifetimes 0.11.3, ``lifetimes.utils.expected_cumulative_transactions`` (the independent
implementation of the peers' convention) on the CDNOW 1/10 sample of Fader, Hardie & Lee (2005),
weeks 1-78, at the paper's BG/NBD parameters r = 0.243, alpha = 4.414, a = 0.793, b = 2.426; and a
hand computation on a two-customer log.
"""
import numpy as np
import pandas as pd
import pytest

from clvmodels import BetaGeoModel, calibration_holdout_split, datasets
from clvmodels.diagnostics import tracking
from clvmodels.exceptions import InvalidArgumentError

PARAMS = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
ARGS = dict(customer_id_col="customer_id", datetime_col="date",
            calibration_period_end=datasets.CDNOW_CALIBRATION_END,
            observation_period_end=datasets.CDNOW_OBSERVATION_END)


@pytest.fixture(scope="module")
def transactions():
    return datasets.load_cdnow_transactions()


@pytest.fixture(scope="module")
def model():
    return BetaGeoModel.from_params(PARAMS, time_unit="W")


def test_exclusive_equals_lifetimes_expected_cumulative_transactions(model, transactions):
    lifetimes = pytest.importorskip("lifetimes")
    from lifetimes.utils import expected_cumulative_transactions

    reference = lifetimes.BetaGeoFitter()
    reference.params_ = pd.Series(PARAMS)
    theirs = expected_cumulative_transactions(reference, transactions[["customer_id", "date"]], "date",
                                              "customer_id", t=546, freq="D", freq_multiplier=7)
    ours = tracking(model, transactions, **ARGS, period_end="exclusive")
    np.testing.assert_allclose(ours["expected_cumulative"].to_numpy(), theirs["predicted"].to_numpy(), rtol=1e-9)
    np.testing.assert_array_equal(ours["actual_cumulative"].to_numpy(), theirs["actual"].to_numpy())


def test_inclusive_is_the_default_and_matches_the_summary_T(model, transactions):
    default = tracking(model, transactions, **ARGS)
    inclusive = tracking(model, transactions, **ARGS, period_end="inclusive")
    pd.testing.assert_frame_equal(default, inclusive)
    split = calibration_holdout_split(transactions, **ARGS)
    assert default.loc[39, "expected_cumulative"] == pytest.approx(
        model.expected_purchases_new_customer(split["T"].to_numpy()).sum(), rel=1e-12)
    exclusive = tracking(model, transactions, **ARGS, period_end="exclusive")
    pd.testing.assert_series_equal(default["actual_incremental"], exclusive["actual_incremental"])
    assert np.all(exclusive["expected_cumulative"] > default["expected_cumulative"])  # one day older


def test_hand_computation_on_two_customers(model):
    """Customer A buys on 2024-01-01 (a Monday) and 2024-01-10, B on 2024-01-05; weeks of days
    ending on the calibration end 2024-01-07 (a Sunday). At the end of week 1 A is 6 days old and B
    2 days old when counted to the last day; 7 and 3 days when counted to the midnight after."""
    log = pd.DataFrame({"id": ["A", "A", "B"], "date": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-05"])})
    args = dict(customer_id_col="id", datetime_col="date", calibration_period_end="2024-01-07",
                observation_period_end="2024-01-14")
    for period_end, (a_age, b_age) in (("inclusive", (6, 2)), ("exclusive", (7, 3))):
        table = tracking(model, log, **args, period_end=period_end)
        assert list(table.index) == [1, 2] and table["actual_incremental"].tolist() == [0, 1]
        week1 = model.expected_purchases_new_customer(np.array([a_age, b_age]) / 7).sum()
        week2 = model.expected_purchases_new_customer(np.array([a_age + 7, b_age + 7]) / 7).sum()
        np.testing.assert_allclose(table["expected_cumulative"].to_numpy(), [week1, week2], rtol=1e-12)


@pytest.mark.parametrize("value", ["lifetimes", "Inclusive", None, 1])
def test_period_end_is_checked(model, value):
    log = pd.DataFrame({"id": ["A", "A"], "date": pd.to_datetime(["2024-01-01", "2024-01-10"])})
    with pytest.raises(InvalidArgumentError, match=r"period_end must be 'inclusive' .* or 'exclusive'"):
        tracking(model, log, customer_id_col="id", datetime_col="date", calibration_period_end="2024-01-07",
                 observation_period_end="2024-01-14", period_end=value)
