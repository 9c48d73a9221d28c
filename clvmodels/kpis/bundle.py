"""Every KPI table of a run at once, from the transactions, the model's scores and the optional
customer, cost and survey tables (what the ``kpis:`` section of a config asks for)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from .acquisition import acquisition_economics
from .cohorts import cohort_retention, repeat_purchase_rate
from .heuristic import heuristic_clv
from .profitability import customer_profitability, profitability_summary
from .retention import retention_table
from .segments import segment_profile, segment_summary, value_segments
from .surveys import survey_metrics


@dataclass
class KpiTables:
    """The KPI tables of one run, by name, in the order a report shows them; ``notes`` say what
    was left out and why (e.g. no cost table given)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    segments: pd.Series | None = None
    notes: list[str] = field(default_factory=list)


def compute_kpis(transactions: pd.DataFrame, scores: pd.DataFrame | None = None, *, period: str = "Q",
                 inactivity_window: int = 0, margin: float = 1.0, segment_options: dict | None = None,
                 customers: pd.DataFrame | None = None, attributes: list[str] | None = None, channel_col: str = "channel",
                 cac_col: str | None = "cac", costs: pd.DataFrame | None = None, cost_options: dict | None = None,
                 surveys: pd.DataFrame | None = None, survey_options: dict | None = None,
                 customer_id_col: str = "customer_id", datetime_col: str = "date", monetary_value_col: str = "amount",
                 observation_period_end=None) -> KpiTables:
    """Compute the KPI tables that the given inputs allow.

    Parameters
    ----------
    transactions : pandas.DataFrame
        The transaction log.
    scores : pandas.DataFrame, optional
        Per-customer scores of a run (``p_alive``, ``clv``, ...): enables value segments, the
        heuristic-vs-model CLV, net CLV and acquisition economics.
    period : {"M", "Q", "Y"}
        Period of the retention, cohort and survey tables.
    inactivity_window : int
        Periods a customer stays active after a purchase (see :func:`retention_table`).
    margin : float
        Margin on revenue for the heuristic CLV and the payback period (and the profitability
        when ``costs`` gives no cost column).
    segment_options : dict, optional
        Keyword arguments of :func:`value_segments` (thresholds).
    customers : pandas.DataFrame, optional
        Customer attributes: ``channel_col`` and ``cac_col`` enable acquisition economics; the
        ``attributes`` columns profile the segments.
    costs : pandas.DataFrame, optional
        Orders with costs for :func:`customer_profitability` (same id/date/amount columns as the
        transactions); ``cost_options`` are its keyword arguments (``cost_col``, ``cost_to_serve``,
        ``returns_col``).
    surveys : pandas.DataFrame, optional
        Survey responses for :func:`survey_metrics`; ``survey_options`` are its keyword arguments.
    customer_id_col, datetime_col, monetary_value_col, observation_period_end
        Columns and observation end of the transaction log.

    Returns
    -------
    KpiTables
    """
    cols = {"customer_id_col": customer_id_col, "datetime_col": datetime_col}
    out = KpiTables()
    t = out.tables
    t["retention"] = retention_table(transactions, period=period, inactivity_window=inactivity_window,
                                     observation_period_end=observation_period_end, **cols)
    t["cohort_retention"] = cohort_retention(transactions, period=period, inactivity_window=inactivity_window,
                                             observation_period_end=observation_period_end, **cols)
    t["repeat_purchase_rate"] = repeat_purchase_rate(transactions, period=period,
                                                     observation_period_end=observation_period_end, **cols)
    if scores is None:
        out.notes.append("No scores: value segments, heuristic CLV and acquisition economics need a model's scores.")
    else:
        out.segments = value_segments(scores, customer_id_col=customer_id_col, **(segment_options or {}))
        t["segments"] = segment_summary(scores, out.segments, customer_id_col=customer_id_col)
        t["heuristic_clv"] = heuristic_clv(transactions, scores, segments=out.segments, period=period,
                                           inactivity_window=inactivity_window, margin=margin,
                                           monetary_value_col=monetary_value_col,
                                           observation_period_end=observation_period_end, **cols)
    if costs is not None:
        options = dict(cost_options or {})
        if "cost_col" not in options:
            options["margin"] = margin
        profit = customer_profitability(costs, scores, customer_id_col=customer_id_col,
                                        monetary_value_col=monetary_value_col, **options)
        t["profitability"] = profitability_summary(profit, out.segments)
    else:
        out.notes.append("No cost table: customer profitability is not computed (kpis.costs).")
    if customers is not None:
        if scores is not None and cac_col is not None and cac_col in customers:
            t["acquisition"] = acquisition_economics(scores, customers, by=channel_col, cac_col=cac_col,
                                                     customer_id_col=customer_id_col, transactions=transactions,
                                                     margin=margin, period="M", datetime_col=datetime_col,
                                                     monetary_value_col=monetary_value_col,
                                                     observation_period_end=observation_period_end)
        if out.segments is not None and attributes:
            t["segment_profile"] = segment_profile(out.segments, customers, attributes=attributes,
                                                   customer_id_col=customer_id_col)
    else:
        out.notes.append("No customer table: acquisition economics and segment profiles need one (kpis.customers).")
    if surveys is not None:
        options = {"customer_id_col": customer_id_col, **(survey_options or {})}
        t["surveys"] = survey_metrics(surveys, **options)
        t["surveys_by_period"] = survey_metrics(surveys, period=period, **options)
        if out.segments is not None:
            t["surveys_by_segment"] = survey_metrics(surveys, segments=out.segments, **options)
    else:
        out.notes.append("No survey responses: NPS, CSAT and CES are not computed (kpis.surveys).")
    return out
