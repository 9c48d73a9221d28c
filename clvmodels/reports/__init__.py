"""Model comparison reports: every diagnostic of several purchase models on one split, ranked, as
tables (:func:`compare_models`) and as one self-contained HTML page (:func:`render_report`).

``clvmodels compare CONFIG.yaml`` runs both from a config and writes ``report.html``,
``metrics.csv`` and ``metrics.json``.
"""

from .comparison import Comparison, ModelDiagnostics, compare_models
from .html import render_report
from .ranking import METRICS, rank_models

__all__ = ["compare_models", "render_report", "rank_models", "Comparison", "ModelDiagnostics", "METRICS"]
