"""Model comparison reports: every diagnostic of several purchase models on one split, ranked, as
tables (:func:`compare_models`) and as one self-contained HTML page (:func:`render_report`).

``clvmodels compare CONFIG.yaml`` runs both from a config and writes ``report.html``,
``metrics.csv`` and ``metrics.json``. With Bayesian fits of the same models,
:func:`bayesian_comparison` adds PSIS-LOO / WAIC (:func:`information_criteria_table`, via
:func:`arviz.compare`) and a convergence summary per fit; only those functions import arviz.
"""

from .bayesian import (BayesianComparison, bayesian_comparison, convergence_summary,
                       information_criteria_table)
from .comparison import Comparison, ModelDiagnostics, compare_models
from .html import render_report
from .ranking import METRICS, rank_models

__all__ = ["compare_models", "render_report", "rank_models", "Comparison", "ModelDiagnostics", "METRICS",
           "bayesian_comparison", "information_criteria_table", "convergence_summary", "BayesianComparison"]
