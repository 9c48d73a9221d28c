"""Diagnostics of fitted models: pure functions that return tables (no drawing).

Each function takes fitted models and data and returns a :class:`pandas.DataFrame` that the
plotting functions and the model-comparison report consume. Most work for every registered
purchase model (``kind == "purchase"``) through the methods all of them share, and optionally a
spend model; the discrete-opportunity model (BG/BB, ``kind == "discrete_purchase"``) and the
contract-retention model (sBG, ``kind == "retention"``) have their own checks, listed last.

- :func:`holdout_predictions`, :func:`holdout_accuracy`: predicted against actual holdout
  purchases, spend and value (MAE, RMSE, correlation, aggregate error);
- :func:`conditional_expectations`: mean holdout purchases by calibration frequency;
- :func:`tracking`: weekly and cumulative repeat transactions of the cohort;
- :func:`frequency_distribution`: customers by number of repeat purchases, with a chi-square test;
- :func:`churn_scores`, :func:`reliability_table`, :func:`roc_auc`: P(alive) as a forecast of
  a holdout purchase (Brier score, ROC-AUC, reliability);
- :func:`fit_statistics`: log-likelihood, AIC and BIC of several models;
- :func:`prediction_matrix`: P(alive) or expected purchases over frequency x recency;
- :func:`value_concentration`: share of the total value held by the top customers, Gini;
- :func:`discrete_frequency_distribution`, :func:`discrete_tracking`,
  :func:`discrete_conditional_expectations`: BG/BB (Fader, Hardie & Shang 2010) customers by
  repeat transactions, transactions per opportunity, and mean holdout transactions by calibration
  frequency or recency, actual vs model;
- :func:`survival_table`: sBG (Fader & Hardie 2007) survivors, survival and retention rate per
  renewal of a cohort, actual vs model, with the projection beyond the calibration years.

The drawings of these tables are in :mod:`clvmodels.plotting`.
"""

from .churn import churn_scores, reliability_table, roc_auc
from .concentration import value_concentration
from .conditional import conditional_expectations
from .discrete import discrete_conditional_expectations, discrete_frequency_distribution, discrete_tracking
from .fit import fit_statistics
from .frequency import frequency_distribution
from .holdout import holdout_accuracy, holdout_predictions
from .matrix import prediction_matrix
from .retention import survival_table
from .tracking import tracking

__all__ = [
    "holdout_predictions",
    "holdout_accuracy",
    "conditional_expectations",
    "tracking",
    "frequency_distribution",
    "churn_scores",
    "reliability_table",
    "roc_auc",
    "fit_statistics",
    "prediction_matrix",
    "value_concentration",
    "discrete_frequency_distribution",
    "discrete_tracking",
    "discrete_conditional_expectations",
    "survival_table",
]
