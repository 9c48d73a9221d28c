"""Drawings of the diagnostics tables (matplotlib): functions that only draw.

Each function takes a table from :mod:`clvmodels.diagnostics` and an optional matplotlib
``Axes``, draws on it (on a new :class:`matplotlib.figure.Figure` when none is given) and returns
the ``Axes``. Nothing is shown and no global pyplot state is touched: save the drawing with
``ax.figure.savefig(path)``, or display ``ax.figure`` in a notebook.

- :func:`plot_frequency_distribution`: customers by repeat purchases, actual vs model, with the
  chi-square test (:func:`~clvmodels.diagnostics.frequency_distribution`);
- :func:`plot_conditional_expectations`: mean holdout purchases by calibration frequency
  (:func:`~clvmodels.diagnostics.conditional_expectations`);
- :func:`plot_tracking`: weekly or cumulative repeat transactions with the calibration end marked
  (:func:`~clvmodels.diagnostics.tracking`);
- :func:`plot_prediction_matrix`: heatmap of P(alive) or expected purchases over frequency x
  recency (:func:`~clvmodels.diagnostics.prediction_matrix`);
- :func:`plot_reliability`: reliability diagram of P(alive)
  (:func:`~clvmodels.diagnostics.reliability_table`);
- :func:`plot_value_concentration`: share of the value held by the top customers
  (:func:`~clvmodels.diagnostics.value_concentration`);
- :func:`plot_discrete_frequency`: BG/BB customers by repeat transactions, actual vs model
  (:func:`~clvmodels.diagnostics.discrete_frequency_distribution`);
- :func:`plot_discrete_tracking`: BG/BB repeat transactions per opportunity with the calibration
  end marked (:func:`~clvmodels.diagnostics.discrete_tracking`);
- :func:`plot_survival`: sBG survival (or retention rate) of a cohort by tenure with the
  calibration end marked (:func:`~clvmodels.diagnostics.survival_table`).

The BG/BB conditional expectations (:func:`~clvmodels.diagnostics.discrete_conditional_expectations`)
have the columns of the continuous ones and are drawn by :func:`plot_conditional_expectations`.

``import clvmodels`` does not import matplotlib; ``import clvmodels.plotting`` does.
"""

from .churn import plot_reliability
from .concentration import plot_value_concentration
from .conditional import plot_conditional_expectations
from .discrete import plot_discrete_frequency, plot_discrete_tracking
from .frequency import plot_frequency_distribution
from .matrix import plot_prediction_matrix
from .retention import plot_survival
from .tracking import plot_tracking

__all__ = [
    "plot_frequency_distribution",
    "plot_conditional_expectations",
    "plot_tracking",
    "plot_prediction_matrix",
    "plot_reliability",
    "plot_value_concentration",
    "plot_discrete_frequency",
    "plot_discrete_tracking",
    "plot_survival",
]
