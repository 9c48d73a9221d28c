"""The comparison as one self-contained HTML file: tables, and figures embedded as PNG data URIs.

The page loads nothing from the network and runs no script (its Content-Security-Policy forbids
both). Every value, including model names, column names and labels that come from the data, goes
through Jinja2's autoescaping.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

import jinja2
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .. import plotting
from ..kpis.bundle import KpiTables
from ..plotting import kpis as kpi_plots
from .._version import __version__
from .bayesian import COLUMNS as IC_COLUMNS
from .bayesian import BayesianComparison
from .comparison import Comparison
from .ranking import METRICS

_ENV = jinja2.Environment(loader=jinja2.PackageLoader("clvmodels.reports", "templates"), autoescape=True,
                          undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def _num(value) -> str:
    """Numbers to 4 significant digits (integers in full), everything else as text."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "–"
        if float(value).is_integer() and abs(value) < 1e15:
            return f"{int(value):,}"
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        return f"{value:.4g}" if abs(value) >= 1e-3 else f"{value:.3e}"
    return "" if value is None else str(value)


_ENV.filters["num"] = _num


@dataclass
class _Figure:
    caption: str
    png: str


def _png(draw, caption: str, *, size=(6.4, 4.0)) -> _Figure:
    """Draw on a fresh figure (no pyplot state) and encode it as base64 PNG."""
    fig = Figure(figsize=size, dpi=100, layout="constrained")
    draw(fig.add_subplot())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return _Figure(caption, base64.b64encode(buffer.getvalue()).decode("ascii"))


def _model_figures(d) -> list[_Figure]:
    out = []
    if d.frequency is not None:
        out.append(_png(lambda ax: plotting.plot_frequency_distribution(d.frequency, ax=ax),
                        f"{d.name}: calibration frequency, actual vs model"))
    out += [
        _png(lambda ax: plotting.plot_conditional_expectations(d.conditional, ax=ax),
             f"{d.name}: mean holdout purchases by calibration frequency"),
        _png(lambda ax: plotting.plot_tracking(d.tracking, ax=ax), f"{d.name}: weekly repeat transactions"),
        _png(lambda ax: plotting.plot_tracking(d.tracking, cumulative=True, ax=ax),
             f"{d.name}: cumulative repeat transactions"),
        _png(lambda ax: plotting.plot_reliability(d.reliability, ax=ax), f"{d.name}: P(alive) reliability"),
        _png(lambda ax: plotting.plot_prediction_matrix(d.p_alive_matrix, ax=ax),
             f"{d.name}: P(alive) by frequency and recency"),
        _png(lambda ax: plotting.plot_prediction_matrix(d.purchases_matrix, ax=ax),
             f"{d.name}: expected purchases by frequency and recency"),
        _png(lambda ax: plotting.plot_value_concentration(d.concentration, ax=ax),
             f"{d.name}: concentration of predicted {d.value.name}"),
    ]
    return out


def _table_view(frame: pd.DataFrame, name: str | None = None) -> pd.DataFrame:
    view = frame.copy()
    view.index.name = name or view.index.name
    return view


def _exclusions(data: dict) -> pd.DataFrame | None:
    excl = data.get("exclusions") or {}
    rows = [("rows", reason, n) for reason, n in (excl.get("rows") or {}).items()]
    rows += [("customers", reason, n) for reason, n in (excl.get("customers") or {}).items()]
    if not rows:
        return None
    return pd.DataFrame(rows, columns=["what", "reason", "count"]).set_index("what")


_EXTRA_ROWS = {"n_params": "parameters", "log_likelihood": "log-likelihood",
               "aggregate_error_pct": "aggregate error % (signed)", "chi_square_p_value": "chi-square p-value",
               "predicted_holdout_purchases": "predicted holdout purchases",
               "actual_holdout_purchases": "actual holdout purchases"}


def _ranking_views(c: Comparison):
    """Metrics and ranks with one row per metric and one column per model (best model first), and
    the cells where a model ranks first."""
    ranked = [m for m in METRICS if m.column in c.ranks]
    models = list(c.ranks.index)
    metrics = pd.DataFrame({"better": [m.better for m in ranked]}, index=[m.label for m in ranked])
    ranks = pd.DataFrame(index=[m.label for m in ranked])
    for model in models:
        metrics[model] = [c.metrics.loc[model, m.column] for m in ranked]
        ranks[model] = [c.ranks.loc[model, m.column] for m in ranked]
    extra = pd.DataFrame({model: [c.metrics.loc[model, k] if k in c.metrics else np.nan for k in _EXTRA_ROWS]
                          for model in models}, index=list(_EXTRA_ROWS.values()))
    metrics = pd.concat([metrics, extra.assign(better="")[metrics.columns]])
    ranks.loc["mean rank"] = c.ranks["mean_rank"]
    ranks.loc["metrics ranked first"] = c.ranks["firsts"]
    metrics.index.name = ranks.index.name = "metric"
    firsts = {(m.label, model): True for m in ranked for model in models if c.ranks.loc[model, m.column] == 1}
    return metrics, ranks, firsts


def _settings_text(settings: dict) -> str:
    shown = {k: v for k, v in settings.items() if v is not None}
    return ", ".join(f"{k} {v}" for k, v in shown.items())


def bayesian_view(b: BayesianComparison) -> dict:
    """What the Bayesian section shows: the information criteria with one column per model (best
    first, like the metrics table), the convergence of each fit, the verdict and the notes."""
    table = b.table.assign(ic_warning=b.table["ic_warning"].replace("", "none")).T if len(b.table) else b.table.T
    table.index.name = "quantity"
    return {"table": table, "convergence": b.convergence, "best": b.best, "reason": b.reason, "notes": b.notes,
            "settings": _settings_text(b.settings), "definitions": list(IC_COLUMNS.items()),
            "warnings": [(name, text) for name, text in b.table.get("ic_warning", pd.Series(dtype=str)).items()
                         if text],
            "not_converged": [name for name, row in b.convergence.iterrows()
                              if row["method"] == "mcmc" and not row["converged"]]}


@dataclass
class _KpiItem:
    title: str
    table: pd.DataFrame
    figure: _Figure | None = None
    text: str = ""


#: Title, drawing and explanation of each KPI table, in report order.
_KPI_ITEMS = {
    "retention": ("Retention and churn per period", kpi_plots.plot_retention,
                  "retention = (customers at end - new) / customers at start; churn = lost / customers at start."),
    "cohort_retention": ("Cohort retention", kpi_plots.plot_cohort_heatmap,
                         "Share of each acquisition cohort active k periods after acquisition."),
    "repeat_purchase_rate": ("Repeat-purchase rate per cohort", None, ""),
    "segments": ("Value segments", kpi_plots.plot_segment_shares, "Share of customers and of predicted value."),
    "heuristic_clv": ("Rule-of-thumb CLV beside the model", None,
                      "Average order value x purchases per period x average lifetime (1 / churn), against the "
                      "model's CLV: heuristic_to_model far from 1 is where the rule of thumb misleads."),
    "profitability": ("Customer profitability", None, "Net value after costs, and the share of unprofitable customers."),
    "acquisition": ("Acquisition economics per channel", kpi_plots.plot_clv_cac, "CLV : CAC and payback, ranked."),
    "segment_profile": ("Segment profiles", None, "Share of each segment's customers by attribute."),
    "surveys": ("Survey metrics", None, "NPS (-100..100), CSAT (share of 4-5), CES (mean effort, lower is better)."),
    "surveys_by_period": ("Survey metrics per period", kpi_plots.plot_nps, ""),
    "surveys_by_segment": ("Survey metrics per value segment", None, ""),
}


def _flat_index(frame: pd.DataFrame) -> pd.DataFrame:
    """Tables with a MultiIndex show ``level: value`` labels."""
    if isinstance(frame.index, pd.MultiIndex):
        frame = frame.copy()
        names = [str(n) for n in frame.index.names]
        frame.index = pd.Index([": ".join(map(str, key)) for key in frame.index], name=" / ".join(names))
    return frame


def kpi_view(kpis: KpiTables, *, settings: str = "") -> dict:
    """What the KPI part of a report shows: one item per table, with its drawing where one exists."""
    items = []
    for name, table in kpis.tables.items():
        title, draw, text = _KPI_ITEMS.get(name, (name, None, ""))
        figure = None if draw is None else _png(lambda ax, d=draw, t=table: d(t, ax=ax), title)
        items.append(_KpiItem(title, _flat_index(table), figure, text))
    return {"sections": items, "notes": kpis.notes, "settings": settings}


def render_kpi_report(kpis: KpiTables, *, title: str = "Business KPIs", settings: str = "",
                      config_sha256: str | None = None, generated: str | None = None) -> str:
    """A self-contained HTML page of the KPI tables and their drawings (no network, no script).

    Parameters
    ----------
    kpis : KpiTables
        From :func:`clvmodels.kpis.bundle.compute_kpis`.
    title, settings, config_sha256, generated : str
        Shown in the header (escaped).
    """
    return _ENV.get_template("kpis.html.j2").render(
        title=title, version=__version__, config_sha256=config_sha256, kpis=kpi_view(kpis, settings=settings),
        generated=generated or pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC"))


def render_report(comparison: Comparison, *, title: str = "Model comparison", config_sha256: str | None = None,
                  generated: str | None = None, kpis: KpiTables | None = None, kpi_settings: str = "") -> str:
    """The HTML report of a :class:`~clvmodels.reports.comparison.Comparison`.

    Parameters
    ----------
    comparison : Comparison
        From :func:`~clvmodels.reports.compare_models`.
    title : str
        Page title (escaped like everything else).
    kpis : KpiTables, optional
        Adds the business KPI section.
    kpi_settings : str
        How the KPIs were computed (period, activity window...), shown in that section.
    config_sha256 : str, optional
        Hash of the config that produced the comparison, shown in the header.
    generated : str, optional
        Timestamp shown in the header (default: now, UTC).

    Returns
    -------
    str
        A complete HTML document with no external resources.
    """
    c = comparison
    metrics, ranks, firsts = _ranking_views(c)
    models = []
    for d in c.models.values():
        view = {"name": d.name, "parameters": _table_view(d.parameters), "holdout": _table_view(d.holdout),
                "conditional": _table_view(d.conditional), "churn": _table_view(d.churn),
                "frequency": d.frequency, "notes": d.notes, "figures": _model_figures(d)}
        if d.frequency is not None:
            view.update(chi_square=d.frequency.attrs["chi_square"], df=d.frequency.attrs["df"],
                        p_value=d.frequency.attrs["p_value"])
        models.append(view)
    data = pd.DataFrame({"value": pd.Series({k: v for k, v in c.data.items() if k != "exclusions"}, dtype=object)})
    data.index.name = "data"
    return _ENV.get_template("report.html.j2").render(
        title=title, version=__version__, config_sha256=config_sha256,
        generated=generated or pd.Timestamp.now(tz="UTC").strftime("%Y-%m-%d %H:%M UTC"),
        best=c.best, reason=c.reason, metrics=metrics, ranks=ranks, firsts=firsts, fit=c.fit, data=data,
        exclusions=_exclusions(c.data), models=models, spend=c.spend, spend_name=c.spend_name,
        spend_parameters=c.spend_parameters, definitions=[m for m in METRICS if m.column in c.metrics],
        kpis=None if kpis is None else kpi_view(kpis, settings=kpi_settings),
        bayesian=None if c.bayesian is None else bayesian_view(c.bayesian))
