"""Survey metrics from a table of responses: NPS, CSAT and CES.

- Net Promoter Score (Reichheld 2003), answers 0-10: ``NPS = 100 x (promoters - detractors) / n``
  with promoters scoring 9-10 and detractors 0-6; from -100 (all detractors) to 100 (all
  promoters).
- Customer satisfaction, answers 1-5: ``CSAT = share of answers 4 or 5`` (a fraction in [0, 1]).
- Customer effort score, answers on ``ces_scale`` (1-7 by default): ``CES = mean answer``; lower
  is better (less effort).

Answers outside their scale, or not whole numbers, are an error: they usually mean a survey
coded on another scale, and silently clipping them would change the metric.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import invalid_rows_error, require_columns, require_rows
from ._common import describe, normalise_period, period_labels, period_ordinal, segment_labels

__all__ = ["nps", "csat", "ces", "survey_metrics", "QUESTION_TYPES"]

#: Question types and their default answer scales (inclusive).
QUESTION_TYPES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


def nps(scores) -> float:
    """Net Promoter Score of 0-10 answers: % promoters (9-10) minus % detractors (0-6).

    Examples
    --------
    >>> nps([10, 9, 8, 7, 6])  # 2 promoters, 1 detractor of 5: 100 x (2 - 1) / 5
    20.0
    """
    s = np.asarray(scores, dtype=float)
    return float(100 * (np.mean(s >= 9) - np.mean(s <= 6))) if len(s) else float("nan")


def csat(scores) -> float:
    """Share of 1-5 satisfaction answers that are 4 or 5.

    Examples
    --------
    >>> csat([5, 4, 3, 1])
    0.5
    """
    s = np.asarray(scores, dtype=float)
    return float(np.mean(s >= 4)) if len(s) else float("nan")


def ces(scores) -> float:
    """Mean customer effort answer (lower is better).

    Examples
    --------
    >>> ces([1, 2, 6])
    3.0
    """
    s = np.asarray(scores, dtype=float)
    return float(np.mean(s)) if len(s) else float("nan")


def _validated(responses: pd.DataFrame, *, type_col: str, score_col: str, scales: dict) -> pd.DataFrame:
    what = "The survey responses table"
    kind = responses[type_col].astype("string").str.strip().str.lower()
    unknown = (~kind.isin(list(scales)) | kind.isna()).to_numpy(dtype=bool)
    if unknown.any():
        raise invalid_rows_error(type_col, f"question type must be one of {sorted(scales)}", unknown, responses,
                                 "Rename the question types or drop the other questions.")
    raw = responses[score_col]
    score = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(score)
    if bad.any():
        raise invalid_rows_error(score_col, "score must be a number", bad, responses,
                                 "Drop unanswered questions or fix these values.")
    kind = kind.to_numpy(dtype=object)
    for name, (low, high) in scales.items():  # three scales, each checked at once
        out = (kind == name) & ((score < low) | (score > high) | (score != np.round(score)))
        if out.any():
            raise invalid_rows_error(
                score_col, f"{name.upper()} scores must be whole numbers from {low} to {high}", out, responses,
                "Check the survey's scale (recode it, or pass the scale it uses) and fix or drop these answers.")
    return pd.DataFrame({"kind": kind, "score": score}, index=responses.index)


def survey_metrics(responses: pd.DataFrame, *, period: str | None = None, segments: pd.Series | None = None,
                   customer_id_col: str = "customer_id", date_col: str = "date", type_col: str = "question_type",
                   score_col: str = "score", ces_scale: tuple[int, int] = (1, 7)) -> pd.DataFrame:
    """NPS, CSAT and CES with their numbers of responses, overall, per period and/or per segment.

    Parameters
    ----------
    responses : pandas.DataFrame
        One row per answer: customer id, date, question type (``"nps"``, ``"csat"`` or
        ``"ces"``, any case) and score.
    period : {"M", "Q", "Y"}, optional
        Group the answers by calendar period of their date.
    segments : pandas.Series, optional
        Segment of each customer (indexed by customer id), e.g. from
        :func:`~clvmodels.kpis.value_segments`; answers of customers without a segment form the
        group ``"(none)"``.
    customer_id_col, date_col, type_col, score_col : str
        Column names (``date_col`` only needed with ``period``).
    ces_scale : (int, int), default (1, 7)
        Lowest and highest CES answer.

    Returns
    -------
    pandas.DataFrame
        Columns ``nps``, ``nps_responses``, ``csat``, ``csat_responses``, ``ces``,
        ``ces_responses`` (metrics NaN without responses). One row ``"all"`` (index ``group``)
        without grouping; else indexed by ``period`` and/or ``segment``.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"customer_id": [1, 2, 3, 1], "date": pd.to_datetime(["2024-01-03"] * 4),
    ...                   "question_type": ["nps", "nps", "nps", "csat"], "score": [10, 9, 3, 4]})
    >>> survey_metrics(r).loc["all", ["nps", "nps_responses", "csat"]].round(2).tolist()  # 100 x (2 - 1) / 3
    [33.33, 3.0, 1.0]
    """
    if not isinstance(responses, pd.DataFrame):
        raise TypeError(f"responses must be a pandas DataFrame, got {type(responses).__name__}.")
    low, high = ces_scale
    if not low < high:
        raise ValueError(f"ces_scale must be (lowest, highest) with lowest < highest, got {ces_scale!r}.")
    scales = {**QUESTION_TYPES, "ces": (low, high)}
    needed = [type_col, score_col] + ([date_col] if period is not None else []) \
        + ([customer_id_col] if segments is not None else [])
    require_columns(responses, needed, what="The survey responses table",
                    hint="Pass customer_id_col=, date_col=, type_col= and score_col= naming your columns.")
    require_rows(responses, what="The survey responses table")
    answers = _validated(responses, type_col=type_col, score_col=score_col, scales=scales)
    keys = []
    if period is not None:
        period = normalise_period(period)
        dates = pd.to_datetime(responses[date_col], errors="coerce")
        if dates.isna().any():
            raise invalid_rows_error(date_col, "date must be a valid date", dates.isna().to_numpy(), responses,
                                     "Fix or drop these answers.")
        if isinstance(dates.dtype, pd.DatetimeTZDtype):
            dates = dates.dt.tz_localize(None)
        answers["period"] = period_labels(period_ordinal(dates.to_numpy(dtype="datetime64[ns]"), period), period)
        keys.append("period")
    if segments is not None:
        labels = segment_labels(segments, pd.Index(responses[customer_id_col]))
        if isinstance(labels.dtype, pd.CategoricalDtype):  # keep the segments' order, "(none)" last
            labels = labels.cat.add_categories(["(none)"]).fillna("(none)")
        else:
            labels = labels.astype(object).where(labels.notna(), "(none)")
        answers["segment"] = labels.array
        keys.append("segment")
    kind, score = answers["kind"].to_numpy(), answers["score"].to_numpy()
    answers = answers.assign(
        nps_responses=kind == "nps", promoter=(kind == "nps") & (score >= 9), detractor=(kind == "nps") & (score <= 6),
        csat_responses=kind == "csat", satisfied=(kind == "csat") & (score >= 4),
        ces_responses=kind == "ces", effort=np.where(kind == "ces", score, 0.0))
    if not keys:
        answers["group"] = "all"
        keys = ["group"]
    sums = answers.groupby(keys, sort=True, observed=True)[["nps_responses", "promoter", "detractor", "csat_responses",
                                            "satisfied", "ces_responses", "effort"]].sum()
    table = pd.DataFrame(index=sums.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        n_nps, n_csat, n_ces = (sums[c].to_numpy(dtype=float) for c in ("nps_responses", "csat_responses",
                                                                       "ces_responses"))
        table["nps"] = np.where(n_nps > 0, 100 * (sums["promoter"] - sums["detractor"]).to_numpy() / n_nps, np.nan)
        table["nps_responses"] = n_nps.astype(np.int64)
        table["csat"] = np.where(n_csat > 0, sums["satisfied"].to_numpy() / n_csat, np.nan)
        table["csat_responses"] = n_csat.astype(np.int64)
        table["ces"] = np.where(n_ces > 0, sums["effort"].to_numpy() / n_ces, np.nan)
        table["ces_responses"] = n_ces.astype(np.int64)
    return describe(table, "NPS (% promoters 9-10 minus % detractors 0-6), CSAT (share of 4-5 on 1-5) and CES "
                    f"(mean effort on {low}-{high}, lower is better) with their numbers of responses.",
                    period=period, ces_scale=[low, high])
