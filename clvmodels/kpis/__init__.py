"""Business KPIs as tables: retention, cohorts, rule-of-thumb CLV, profitability, acquisition
economics, value segments and survey metrics.

Every function takes plain data frames (a transaction log with configurable column names, the
scores table of the batch runner, customer attributes, survey responses) and plain options
(``period="M" | "Q" | "Y"``, windows, thresholds, margins), and returns a
:class:`pandas.DataFrame` whose ``attrs["description"]`` says what it holds. Drawing lives in
:mod:`clvmodels.plotting.kpis`.

- :mod:`~clvmodels.kpis.retention`: :func:`retention_table` (customers at start, new, lost,
  retention and churn rate per period, trended), :func:`pooled_churn_rate`;
- :mod:`~clvmodels.kpis.cohorts`: :func:`cohort_retention` (cohort x periods since acquisition),
  :func:`repeat_purchase_rate`;
- :mod:`~clvmodels.kpis.heuristic`: :func:`heuristic_clv` (AOV x frequency x 1 / churn beside the
  model CLV), :func:`expected_lifetime`;
- :mod:`~clvmodels.kpis.profitability`: :func:`customer_profitability` (net value and net CLV per
  customer), :func:`profitability_summary` (share unprofitable);
- :mod:`~clvmodels.kpis.acquisition`: :func:`acquisition_economics` (CLV, CAC, CLV:CAC and
  payback per channel, ranked);
- :mod:`~clvmodels.kpis.segments`: :func:`value_segments`, :func:`segment_summary`,
  :func:`segment_profile`;
- :mod:`~clvmodels.kpis.surveys`: :func:`survey_metrics`, :func:`nps`, :func:`csat`,
  :func:`ces`;
- :mod:`~clvmodels.plotting.kpis`: matplotlib drawings of these tables;
- :mod:`~clvmodels.kpis.examples`: the generator of the illustrative example tables shipped for
  the CDNOW customers (:func:`clvmodels.datasets.load_example_channels` and friends).
"""

from .acquisition import acquisition_economics
from .cohorts import cohort_retention, repeat_purchase_rate
from .heuristic import expected_lifetime, heuristic_clv
from .profitability import customer_profitability, profitability_summary
from .retention import pooled_churn_rate, retention_table
from .segments import SEGMENTS, segment_profile, segment_summary, value_segments
from .surveys import ces, csat, nps, survey_metrics

__all__ = [
    "retention_table",
    "pooled_churn_rate",
    "cohort_retention",
    "repeat_purchase_rate",
    "heuristic_clv",
    "expected_lifetime",
    "customer_profitability",
    "profitability_summary",
    "acquisition_economics",
    "SEGMENTS",
    "value_segments",
    "segment_summary",
    "segment_profile",
    "survey_metrics",
    "nps",
    "csat",
    "ces",
]
