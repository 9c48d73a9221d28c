"""P(alive) as a forecast of activity: does a customer buy again in the holdout period?

P(alive) at the calibration end is read as the probability of the event "at least one purchase
in the holdout" (``frequency_holdout > 0``). It is not exactly that probability (a live customer
may still not buy within the holdout), so a well-specified model can look over-confident here;
the scores rank models and show how P(alive) separates customers who come back from those who
do not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._common import check_model, check_split, check_time_unit

COLUMNS = ("frequency", "recency", "T", "frequency_holdout")


def _outcomes(purchase_model, split):
    check_model(purchase_model, "purchase", argument="purchase_model")
    check_split(split, COLUMNS)
    check_time_unit(purchase_model, split, what="the split")
    p = purchase_model.probability_alive(split).to_numpy()
    y = split["frequency_holdout"].to_numpy(dtype=float) > 0
    return p, y


def roc_auc(score, outcome) -> float:
    """Area under the ROC curve from ranks (Mann-Whitney): ties count one half.

    ``AUC = (sum of the ranks of the positives - n1 (n1 + 1) / 2) / (n1 n0)`` with average ranks
    for tied scores: the probability that a random positive scores above a random negative, plus
    half the probability of a tie (Hanley & McNeil 1982). NaN when one class is absent.

    Parameters
    ----------
    score : array_like
        Predicted scores (higher means more likely positive).
    outcome : array_like of bool
        The observed classes.
    """
    score = np.asarray(score, dtype=float)
    outcome = np.asarray(outcome, dtype=bool)
    n1 = int(outcome.sum())
    n0 = len(outcome) - n1
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = pd.Series(score).rank(method="average").to_numpy()  # average ranks for ties
    return float((ranks[outcome].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def churn_scores(purchase_model, split: pd.DataFrame) -> pd.DataFrame:
    """Brier score and ROC-AUC of P(alive) as a forecast of a holdout purchase.

    Parameters
    ----------
    purchase_model : fitted purchase model
        Any model with ``kind == "purchase"``.
    split : pandas.DataFrame
        Output of :func:`clvmodels.calibration_holdout_split`.

    Returns
    -------
    pandas.DataFrame
        One row (index ``model``: the model's registry name) with ``n_customers``,
        ``observed_rate`` (share with a holdout purchase), ``mean_p_alive``, ``brier``
        (``mean (p - y)^2``, 0 is perfect) and ``roc_auc`` (see :func:`roc_auc`; 0.5 is chance).
    """
    p, y = _outcomes(purchase_model, split)
    row = {"n_customers": len(p), "observed_rate": float(y.mean()), "mean_p_alive": float(p.mean()),
           "brier": float(np.mean((p - y) ** 2)), "roc_auc": roc_auc(p, y)}
    return pd.DataFrame([row], index=pd.Index([purchase_model.name], name="model"))


def reliability_table(purchase_model, split: pd.DataFrame, *, n_bins: int = 10) -> pd.DataFrame:
    """Binned P(alive) against the observed share of customers who bought in the holdout.

    P(alive) is cut into ``n_bins`` equal-width bins on [0, 1] (``[0, 0.1), [0.1, 0.2), ...,
    [0.9, 1]`` by default, the last one closed); a well-calibrated forecast has ``observed_rate``
    close to ``mean_predicted`` in every bin (as scikit-learn's ``calibration_curve`` with the
    uniform strategy).

    Parameters
    ----------
    purchase_model, split
        As for :func:`churn_scores`.
    n_bins : int, default 10
        Number of bins.

    Returns
    -------
    pandas.DataFrame
        One row per bin, also empty ones (index ``bin``, 0-based): ``lower``, ``upper``,
        ``n_customers``, ``mean_predicted`` and ``observed_rate`` (NaN for empty bins).
    """
    if int(n_bins) != n_bins or n_bins < 1:
        raise ValueError(f"n_bins must be a whole number of at least 1, got {n_bins!r}.")
    n_bins = int(n_bins)
    p, y = _outcomes(purchase_model, split)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    codes = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(codes, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(codes, weights=p, minlength=n_bins) / counts
        observed = np.bincount(codes, weights=y.astype(float), minlength=n_bins) / counts
    return pd.DataFrame({"lower": edges[:-1], "upper": edges[1:], "n_customers": counts.astype(np.int64),
                         "mean_predicted": mean_predicted, "observed_rate": observed},
                        index=pd.RangeIndex(n_bins, name="bin"))
