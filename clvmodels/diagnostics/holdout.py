"""Holdout accuracy: predictions made at the calibration end against what customers then did.

The purchase model predicts each customer's purchases over the holdout period from the
calibration history, ``E[X(T, T + duration_holdout) | frequency, recency, T]``; a spend model adds
the expected value per purchase, and their product the expected holdout revenue.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import check_model, check_split, check_time_unit, holdout_expected_purchases, pearson

PURCHASE_COLUMNS = ("frequency", "recency", "T", "frequency_holdout", "duration_holdout")
SPEND_COLUMNS = ("monetary_value", "monetary_value_holdout")


def holdout_predictions(purchase_model, split: pd.DataFrame, *, spend_model=None) -> pd.DataFrame:
    """Per-customer predicted and actual holdout purchases (and spend and value with a spend model).

    Parameters
    ----------
    purchase_model : fitted purchase model
        Any model with ``kind == "purchase"`` (:class:`~clvmodels.BetaGeoModel`,
        :class:`~clvmodels.ModifiedBetaGeoModel`, ...), fitted on the calibration columns.
    split : pandas.DataFrame
        Output of :func:`clvmodels.calibration_holdout_split`: ``frequency``, ``recency``, ``T``,
        ``frequency_holdout`` and ``duration_holdout`` (plus ``monetary_value`` and
        ``monetary_value_holdout`` when ``spend_model`` is given).
    spend_model : fitted spend model, optional
        E.g. :class:`~clvmodels.GammaGammaModel`.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``split``:

        - ``actual_purchases`` (``frequency_holdout``) and ``predicted_purchases``
          (``purchase_model.expected_purchases(split, duration_holdout)``);
        - with a spend model, ``actual_spend`` (``monetary_value_holdout``, NaN for customers
          without holdout purchases, whose spend is unobserved), ``predicted_spend``
          (``spend_model.expected_spend(split)``, from the calibration history),
          ``actual_value`` (holdout revenue, ``frequency_holdout * monetary_value_holdout``) and
          ``predicted_value`` (``predicted_purchases * predicted_spend``).
    """
    check_model(purchase_model, "purchase", argument="purchase_model")
    check_split(split, PURCHASE_COLUMNS)
    check_time_unit(purchase_model, split, what="the split")
    actual = split["frequency_holdout"].to_numpy(dtype=float)
    table = pd.DataFrame({"actual_purchases": actual,
                          "predicted_purchases": holdout_expected_purchases(purchase_model, split)},
                         index=split.index)
    if spend_model is not None:
        check_model(spend_model, "spend", argument="spend_model")
        check_split(split, SPEND_COLUMNS)
        holdout_spend = split["monetary_value_holdout"].to_numpy(dtype=float)
        table["actual_spend"] = np.where(actual > 0, holdout_spend, np.nan)
        table["predicted_spend"] = spend_model.expected_spend(split).to_numpy()
        table["actual_value"] = actual * holdout_spend
        table["predicted_value"] = table["predicted_purchases"] * table["predicted_spend"]
    return table


def _metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    error = predicted - actual
    actual_total, predicted_total = float(actual.sum()), float(predicted.sum())
    if len(actual) == 0:
        return {"n_customers": 0, "actual_total": 0.0, "predicted_total": 0.0, "mae": np.nan,
                "rmse": np.nan, "correlation": np.nan, "aggregate_error_pct": np.nan}
    return {
        "n_customers": len(actual),
        "actual_total": actual_total,
        "predicted_total": predicted_total,
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "correlation": pearson(actual, predicted),
        "aggregate_error_pct": (100 * (predicted_total - actual_total) / actual_total
                                if actual_total != 0 else np.nan),
    }


def holdout_accuracy(purchase_model, split: pd.DataFrame, *, spend_model=None) -> pd.DataFrame:
    """Accuracy of holdout predictions: errors per customer and in aggregate.

    For each target, over the customers it is defined for:

    - ``mae`` = mean |predicted - actual|, ``rmse`` = sqrt(mean (predicted - actual)^2);
    - ``correlation``: Pearson correlation of actual and predicted (NaN if either is constant);
    - ``aggregate_error_pct`` = 100 (sum predicted - sum actual) / sum actual: the error of the
      total, as in the holdout comparisons of Fader, Hardie & Lee (2005), section 4.

    Targets (rows):

    - ``purchases``: holdout purchases, every customer;
    - ``spend`` (with ``spend_model``): mean value per holdout purchase against the expected spend,
      customers with at least one holdout purchase only (the others reveal no spend);
    - ``value`` (with ``spend_model``): holdout revenue (``frequency_holdout *
      monetary_value_holdout``) against expected purchases times expected spend, every customer.

    Parameters
    ----------
    purchase_model, split, spend_model
        As for :func:`holdout_predictions`.

    Returns
    -------
    pandas.DataFrame
        Index ``target``; columns ``n_customers``, ``actual_total``, ``predicted_total``, ``mae``,
        ``rmse``, ``correlation``, ``aggregate_error_pct``.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel, calibration_holdout_split, datasets
    >>> from clvmodels.diagnostics import holdout_accuracy
    >>> split = calibration_holdout_split(
    ...     datasets.load_cdnow_transactions(), customer_id_col="customer_id", datetime_col="date",
    ...     calibration_period_end=datasets.CDNOW_CALIBRATION_END,
    ...     observation_period_end=datasets.CDNOW_OBSERVATION_END)
    >>> table = holdout_accuracy(BetaGeoModel().fit(split), split)
    >>> int(table.loc["purchases", "n_customers"]), float(table.loc["purchases", "actual_total"])
    (2357, 1882.0)
    """
    table = holdout_predictions(purchase_model, split, spend_model=spend_model)
    rows = {"purchases": _metrics(table["actual_purchases"].to_numpy(), table["predicted_purchases"].to_numpy())}
    if spend_model is not None:
        buyers = table["actual_purchases"].to_numpy() > 0
        rows["spend"] = _metrics(table["actual_spend"].to_numpy()[buyers], table["predicted_spend"].to_numpy()[buyers])
        rows["value"] = _metrics(table["actual_value"].to_numpy(), table["predicted_value"].to_numpy())
    result = pd.DataFrame.from_dict(rows, orient="index")
    result.index.name = "target"
    return result.astype({"n_customers": "int64"})
