"""The KPI stage of a run: read the optional customer, cost and survey tables, compute every KPI
table (:func:`clvmodels.kpis.bundle.compute_kpis`) and write ``kpis/<table>.csv`` and
``kpis/report.html`` into the job's generation of outputs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import datasets
from ..data.ids import normalise_ids
from ..exceptions import DataError, EmptyDataError
from .inputs import validated_transactions

_LOADERS = {"example_channels": datasets.load_example_channels, "example_costs": datasets.load_example_costs,
            "example_surveys": datasets.load_example_surveys}


def read_table(cfg, what: str, input_cfg=None) -> pd.DataFrame:
    """A KPI input table from a bundled dataset or a CSV/Parquet file.

    With ``input_cfg`` (the run's ``input`` section), the table's customer id column (named
    ``input.customer_id``) is read as the transactions' ids are (text unless
    ``input.customer_id_dtype: integer``), so that its customers match the scores'.
    """
    table = _read(cfg, what, None if input_cfg is None else input_cfg.customer_id)
    if input_cfg is not None and input_cfg.customer_id in table.columns:
        ids = normalise_ids(table[input_cfg.customer_id], input_cfg.customer_id_dtype,
                            column=input_cfg.customer_id, what=f"kpis.{what}")
        table = table.assign(**{input_cfg.customer_id: ids})
    return table


def _read(cfg, what: str, id_column: str | None) -> pd.DataFrame:
    if cfg.dataset is not None:
        return _LOADERS[cfg.dataset]()
    path = Path(cfg.path)
    if not path.is_file():
        raise DataError(f"kpis.{what}.path {str(path)!r} does not exist or is not a file "
                        f"(paths are relative to the working directory {Path.cwd()}).")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype={id_column: "str"} if id_column else None)
    except pd.errors.EmptyDataError:
        raise EmptyDataError(f"kpis.{what}.path {path} is empty: it has no header and no rows.") from None
    except (ValueError, OSError) as err:
        raise DataError(f"cannot read kpis.{what}.path {path}: {err}. Give a CSV or Parquet file.") from None


def _settings(k) -> str:
    active = "bought in the period" + (f" or the {k.inactivity_window} before" if k.inactivity_window else "")
    return f"period {k.period}; active = {active}; margin {k.margin:g}"


def configured_kpis(config, transactions: pd.DataFrame, scores: pd.DataFrame, *, observation_period_end=None):
    """The :class:`~clvmodels.kpis.bundle.KpiTables` that ``config.kpis`` asks for.

    ``transactions`` are the input's rows as read (after the filters); they are validated with the
    input's own options (``datetime_format``, ``on_invalid``) into the frame the summary used
    (:func:`~clvmodels.batch.inputs.validated_transactions`), so the KPIs see the same rows, dates
    and ids as the scores. The customer, cost and survey tables' ids are read the same way.
    """
    from ..kpis.bundle import compute_kpis

    k, inp = config.kpis, config.input
    transactions = validated_transactions(transactions, inp)
    observation_period_end = _as_day(observation_period_end)
    customers = read_table(k.customers, "customers", inp) if k.customers else None
    costs = read_table(k.costs, "costs", inp) if k.costs else None
    surveys = read_table(k.surveys, "surveys", inp) if k.surveys else None
    cost_options = None
    if k.costs is not None:
        cost_options = {"cost_to_serve": k.costs.cost_to_serve}
        if k.costs.cost:
            cost_options["cost_col"] = k.costs.cost
        if k.costs.returns:
            cost_options["returns_col"] = k.costs.returns
    survey_options = None if k.surveys is None else {
        "date_col": k.surveys.date, "type_col": k.surveys.question_type, "score_col": k.surveys.score,
        "ces_scale": tuple(k.surveys.ces_scale)}
    bundle = compute_kpis(
        transactions, scores, period=k.period, inactivity_window=k.inactivity_window, margin=k.margin,
        segment_options=k.segments.model_dump(), customers=customers,
        attributes=k.customers.attributes if k.customers else None,
        channel_col=k.customers.channel if k.customers else "channel",
        cac_col=k.customers.cac if k.customers else None, costs=costs, cost_options=cost_options,
        surveys=surveys, survey_options=survey_options, customer_id_col=inp.customer_id,
        datetime_col=inp.datetime, monetary_value_col=inp.monetary_value or "amount",
        observation_period_end=observation_period_end)
    return bundle


def _as_day(end):
    """The summary's end (an isoformat string from its ``attrs``) as the config gave it: a job's ends
    are days (``summary.observation_period_end`` is a date; the default end, the last transaction,
    covers its whole day when it falls at midnight), so a midnight end is that whole day."""
    if end is None:
        return None
    stamp = pd.Timestamp(end)
    return stamp.date() if stamp == stamp.normalize() else stamp


def kpi_settings(k) -> str:
    """How the KPIs were computed, in words, for the report."""
    return _settings(k)


def kpi_stage(config, transactions: pd.DataFrame, scores: pd.DataFrame, generation, *, observation_period_end=None,
              config_sha256: str | None = None) -> dict:
    """Compute the configured KPIs and write their files into the job's ``generation``
    (:class:`~clvmodels.batch.publish.Generation`); returns a description for the manifest."""
    from ..reports.html import render_kpi_report
    from .manifest import generated_label
    from .outputs import write_csv

    k, inp = config.kpis, config.input
    bundle = configured_kpis(config, transactions, scores, observation_period_end=observation_period_end)
    files = []
    for name, table in bundle.tables.items():
        write_csv(table, generation.path(f"kpis/{name}.csv"), escape=config.output.csv_formula_escape)
        files.append(f"kpis/{name}.csv")
    segments = bundle.segments.rename("segment").rename_axis(inp.customer_id).reset_index()
    write_csv(segments, generation.path("kpis/customer_segments.csv"), escape=config.output.csv_formula_escape,
              index=False)
    html = render_kpi_report(bundle, title="Business KPIs", settings=_settings(k), config_sha256=config_sha256,
                             generated=generated_label())
    generation.path("kpis/report.html").write_text(html, encoding="utf-8")
    return {"tables": list(bundle.tables), "notes": bundle.notes,
            "files": [*files, "kpis/customer_segments.csv", "kpis/report.html"]}
