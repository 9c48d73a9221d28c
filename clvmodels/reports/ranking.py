"""Rank purchase models on each metric and name the best overall, with the reason.

Each metric has a direction; models are ranked per metric (ties share the better rank) and the
best overall is the model with the smallest mean rank over the metrics it has. Ties on the mean
rank go to the smaller BIC (the simpler account of the calibration data).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Metric:
    column: str
    label: str
    better: str  # "lower" or "higher"
    meaning: str


METRICS = (
    Metric("bic", "BIC", "lower", "fit to the calibration data, penalised for parameters (Schwarz)"),
    Metric("aic", "AIC", "lower", "fit to the calibration data, penalised for parameters (Akaike)"),
    Metric("holdout_mae", "holdout MAE", "lower", "mean absolute error of each customer's holdout purchases"),
    Metric("holdout_rmse", "holdout RMSE", "lower", "root mean squared error of each customer's holdout purchases"),
    Metric("holdout_correlation", "holdout correlation", "higher",
           "Pearson correlation of predicted and actual holdout purchases per customer"),
    Metric("abs_aggregate_error_pct", "|aggregate error| %", "lower",
           "error of the total number of holdout purchases, in % of the actual total"),
    Metric("conditional_mae", "conditional-expectation MAE", "lower",
           "mean absolute gap between actual and expected mean holdout purchases per calibration frequency, "
           "weighted by customers"),
    Metric("chi_square", "chi-square", "lower",
           "Pearson chi-square of the calibration frequency distribution, actual vs expected"),
    Metric("brier", "Brier score", "lower", "P(alive) as a forecast of a holdout purchase: mean squared error"),
    Metric("roc_auc", "ROC-AUC", "higher", "P(alive) as a forecast of a holdout purchase: ranking quality "
                                           "(0.5 = chance)"),
)


def rank_models(metrics: pd.DataFrame) -> tuple[pd.DataFrame, str, str]:
    """Rank models (rows of ``metrics``) on each metric of :data:`METRICS` present.

    Parameters
    ----------
    metrics : pandas.DataFrame
        One row per model (index: model name) with metric columns; NaN where a model lacks one.

    Returns
    -------
    ranks : pandas.DataFrame
        Rank of each model per metric (1 = best; NaN where the metric is missing), plus
        ``mean_rank`` and ``firsts`` (metrics on which the model ranks first), sorted best first.
    best : str
        Name of the best model overall.
    reason : str
        One sentence saying why.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"bic": [100.0, 90.0], "holdout_mae": [0.5, 0.6]}, index=["a", "b"])
    >>> ranks, best, reason = rank_models(m)
    >>> best, ranks["mean_rank"].tolist()
    ('b', [1.5, 1.5])
    """
    present = [m for m in METRICS if m.column in metrics and metrics[m.column].notna().any()]
    ranks = pd.DataFrame(index=metrics.index)
    for m in present:
        ranks[m.column] = metrics[m.column].rank(ascending=m.better == "lower", method="min")
    ranks["mean_rank"] = ranks[[m.column for m in present]].mean(axis=1)
    ranks["firsts"] = (ranks[[m.column for m in present]] == 1).sum(axis=1)
    bic = metrics["bic"] if "bic" in metrics else pd.Series(0.0, index=metrics.index)
    order = np.lexsort((bic.to_numpy(), ranks["mean_rank"].to_numpy()))
    ranks = ranks.iloc[order]
    best = str(ranks.index[0])
    wins = [m.label for m in present if ranks.loc[best, m.column] == 1]
    if len(ranks) == 1:
        reason = f"{best} is the only model compared."
    else:
        tied = ranks["mean_rank"].iloc[1] == ranks["mean_rank"].iloc[0]
        has = int(ranks.loc[best, [m.column for m in present]].notna().sum())
        missing = [m.label for m in present if np.isnan(ranks.loc[best, m.column])]
        reason = (f"{best} has the best mean rank ({ranks['mean_rank'].iloc[0]:.2f} over the {has} metrics it has"
                  + (f"; no {', '.join(missing)}" if missing else "")
                  + f"{', tied and preferred for its smaller BIC' if tied else ''}) and ranks first on "
                  f"{len(wins)} of them" + (f": {', '.join(wins)}." if wins else "."))
    return ranks, best, reason
