"""Conditional expectations: mean holdout purchases by calibration frequency, actual vs model.

The classic validation of a purchase model (Fader, Hardie & Lee 2005, Figure 4; Schmittlein,
Morrison & Colombo 1987): group the customers by their number of repeat purchases in the
calibration period and compare, in each group, the mean number of purchases they made in the
holdout with the mean of the model's conditional expectations
``E[X(T, T + duration_holdout) | frequency, recency, T]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import (check_max_frequency, check_model, check_split, check_time_unit, frequency_bins,
                      holdout_expected_purchases)
from .holdout import PURCHASE_COLUMNS


def conditional_expectations(purchase_model, split: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    """Mean actual and expected holdout purchases by calibration frequency ``0, 1, ..., k+``.

    Parameters
    ----------
    purchase_model : fitted purchase model
        Any model with ``kind == "purchase"``.
    split : pandas.DataFrame
        Output of :func:`clvmodels.calibration_holdout_split` (``frequency``, ``recency``, ``T``,
        ``frequency_holdout``, ``duration_holdout``).
    max_frequency : int, default 7
        Customers with at least this many calibration repeat purchases share the last bin
        (``"7+"`` by default, as in Fader, Hardie & Lee 2005, Figure 4).

    Returns
    -------
    pandas.DataFrame
        Index ``frequency`` with labels ``"0", ..., "<k-1>", "<k>+"`` (every bin, also empty ones);
        columns ``n_customers``, ``actual`` (mean ``frequency_holdout``) and ``expected`` (mean
        conditional expectation); the means are NaN for empty bins.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel, calibration_holdout_split, datasets
    >>> from clvmodels.diagnostics import conditional_expectations
    >>> split = calibration_holdout_split(
    ...     datasets.load_cdnow_transactions(), customer_id_col="customer_id", datetime_col="date",
    ...     calibration_period_end=datasets.CDNOW_CALIBRATION_END,
    ...     observation_period_end=datasets.CDNOW_OBSERVATION_END)
    >>> table = conditional_expectations(BetaGeoModel().fit(split), split)
    >>> table["n_customers"].tolist()
    [1411, 439, 214, 100, 62, 38, 29, 64]
    """
    check_model(purchase_model, "purchase", argument="purchase_model")
    max_frequency = check_max_frequency(max_frequency)
    check_split(split, PURCHASE_COLUMNS)
    check_time_unit(purchase_model, split, what="the split")
    codes, labels = frequency_bins(split["frequency"].to_numpy(), max_frequency)
    bins = len(labels)
    counts = np.bincount(codes, minlength=bins)
    actual = np.bincount(codes, weights=split["frequency_holdout"].to_numpy(dtype=float), minlength=bins)
    expected = np.bincount(codes, weights=holdout_expected_purchases(purchase_model, split), minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return pd.DataFrame({"n_customers": counts.astype(np.int64), "actual": actual / counts,
                             "expected": expected / counts}, index=labels)
