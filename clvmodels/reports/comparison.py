"""Compare fitted purchase models on one calibration/holdout split: every diagnostic table, the
metrics side by side, and the ranking (no drawing; :mod:`clvmodels.reports.html` draws)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import diagnostics
from ..clv import customer_lifetime_value
from ..diagnostics._common import holdout_expected_purchases
from .bayesian import BayesianComparison
from .ranking import rank_models


@dataclass
class ModelDiagnostics:
    """The diagnostic tables of one purchase model (``None`` where the model lacks the quantity,
    with the reason in ``notes``)."""

    name: str
    model: object
    parameters: pd.DataFrame
    holdout: pd.DataFrame
    conditional: pd.DataFrame
    tracking: pd.DataFrame
    frequency: pd.DataFrame | None
    churn: pd.DataFrame
    reliability: pd.DataFrame
    p_alive_matrix: pd.DataFrame
    purchases_matrix: pd.DataFrame
    value: pd.Series
    concentration: pd.DataFrame
    notes: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    """Everything the report shows. ``metrics`` and ``ranks`` have one row per purchase model;
    ``bayesian`` (optional) is the LOO / WAIC comparison of their Bayesian variants, reported apart
    from the ranking."""

    data: dict
    metrics: pd.DataFrame
    ranks: pd.DataFrame
    best: str
    reason: str
    models: dict[str, ModelDiagnostics]
    fit: pd.DataFrame
    spend: pd.DataFrame | None = None
    spend_parameters: pd.DataFrame | None = None
    spend_name: str | None = None
    bayesian: BayesianComparison | None = None


def _conditional_mae(table: pd.DataFrame) -> float:
    filled = table.dropna(subset=["actual", "expected"])
    weights = filled["n_customers"].to_numpy(dtype=float)
    return float(np.sum(weights * np.abs(filled["actual"] - filled["expected"])) / weights.sum())


def _diagnose(name, model, split, transactions, spend_model, *, tracking_args, max_frequency, n_bins,
              clv_args) -> ModelDiagnostics:
    notes = []
    try:
        frequency = diagnostics.frequency_distribution(model, split, max_frequency=max_frequency)
    except NotImplementedError as err:
        frequency = None
        notes.append(f"No frequency distribution: {err}")
    if spend_model is not None:
        value = customer_lifetime_value(model, spend_model, split, **clv_args).rename("clv")
    else:
        value = pd.Series(holdout_expected_purchases(model, split), index=split.index, name="expected_purchases")
        notes.append("No spend model: the value concentration uses expected holdout purchases, not CLV.")
    horizon = float(np.median(split["duration_holdout"]))
    return ModelDiagnostics(
        name=name, model=model, parameters=model.summary(),
        holdout=diagnostics.holdout_accuracy(model, split, spend_model=spend_model),
        conditional=diagnostics.conditional_expectations(model, split, max_frequency=max_frequency),
        tracking=diagnostics.tracking(model, transactions, **tracking_args),
        frequency=frequency,
        churn=diagnostics.churn_scores(model, split),
        reliability=diagnostics.reliability_table(model, split, n_bins=n_bins),
        p_alive_matrix=diagnostics.prediction_matrix(model, "probability_alive", **_matrix_range(split)),
        purchases_matrix=diagnostics.prediction_matrix(model, "expected_purchases", t=horizon, **_matrix_range(split)),
        value=value, concentration=diagnostics.value_concentration(value), notes=notes)


def _matrix_range(split: pd.DataFrame) -> dict:
    """Frequency up to its 99th percentile (the bulk of the customers, readable) and recency up to
    the longest observation, which is the ``T`` of every cell (the earliest customers)."""
    return {"max_frequency": max(int(np.ceil(split["frequency"].quantile(0.99))), 1),
            "max_recency": float(split["T"].max())}


def _metrics(d: ModelDiagnostics) -> dict:
    purchases = d.holdout.loc["purchases"]
    churn = d.churn.iloc[0]
    m = d.model
    return {
        "n_params": len(m.param_names), "log_likelihood": m.log_likelihood_, "aic": m.aic_, "bic": m.bic_,
        "holdout_mae": purchases["mae"], "holdout_rmse": purchases["rmse"],
        "holdout_correlation": purchases["correlation"],
        "aggregate_error_pct": purchases["aggregate_error_pct"],
        "abs_aggregate_error_pct": abs(purchases["aggregate_error_pct"]),
        "conditional_mae": _conditional_mae(d.conditional),
        "chi_square": np.nan if d.frequency is None else d.frequency.attrs["chi_square"],
        "chi_square_p_value": np.nan if d.frequency is None else d.frequency.attrs["p_value"],
        "brier": churn["brier"], "roc_auc": churn["roc_auc"],
        "predicted_holdout_purchases": purchases["predicted_total"],
        "actual_holdout_purchases": purchases["actual_total"],
    }


def compare_models(purchase_models: dict, split: pd.DataFrame, transactions: pd.DataFrame, *, tracking_args: dict,
                   spend_model=None, max_frequency: int = 7, n_bins: int = 10, clv_args: dict | None = None,
                   data: dict | None = None, bayesian: BayesianComparison | None = None) -> Comparison:
    """Diagnose fitted purchase models on the same split and rank them.

    Parameters
    ----------
    purchase_models : dict of str to fitted purchase model
        Fitted on the calibration columns of ``split``.
    split : pandas.DataFrame
        From :func:`clvmodels.calibration_holdout_split`.
    transactions : pandas.DataFrame
        The log the split was made from (for the weekly tracking).
    tracking_args : dict
        Keyword arguments of :func:`clvmodels.diagnostics.tracking` besides the model and the log
        (column names, calibration and observation ends, freq, time unit).
    spend_model : fitted spend model, optional
        Adds spend and value accuracy, and CLV for the value concentration.
    max_frequency, n_bins : int
        Bins of the frequency tables and of the reliability table.
    clv_args : dict, optional
        Keyword arguments of :func:`clvmodels.customer_lifetime_value`.
    data : dict, optional
        Description of the data for the report (customers, transactions, dates, exclusions).
    bayesian : BayesianComparison, optional
        From :func:`~clvmodels.reports.bayesian_comparison` on Bayesian fits of the same calibration
        data: adds the "Bayesian comparison (LOO / WAIC)" section. It does not change the ranking.

    Returns
    -------
    Comparison
    """
    clv_args = clv_args or {}
    per_model = {name: _diagnose(name, model, split, transactions, spend_model, tracking_args=tracking_args,
                                 max_frequency=max_frequency, n_bins=n_bins, clv_args=clv_args)
                 for name, model in purchase_models.items()}
    metrics = pd.DataFrame({name: _metrics(d) for name, d in per_model.items()}).T
    metrics.index.name = "model"
    ranks, best, reason = rank_models(metrics)
    fitted = list(purchase_models.values()) + ([spend_model] if spend_model is not None else [])
    return Comparison(
        data=data or {}, metrics=metrics.loc[ranks.index], ranks=ranks, best=best, reason=reason, models=per_model,
        fit=diagnostics.fit_statistics(fitted),
        spend=None if spend_model is None else per_model[best].holdout.loc[["spend", "value"]],
        spend_parameters=None if spend_model is None else spend_model.summary(),
        spend_name=None if spend_model is None else spend_model.name,
        bayesian=bayesian,
    )
