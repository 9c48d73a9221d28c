"""Run a model comparison from a :class:`~clvmodels.batch.config.CompareConfig`.

Stages: read transactions -> calibration/holdout split -> fit every model on the calibration
period -> (with a ``bayesian`` section: fit the Bayesian variant of each purchase model on the same
data, PSIS-LOO and WAIC) -> diagnostics and ranking -> ``report.html``, ``metrics.csv``,
``metrics.json`` and ``manifest.json``, each written atomically.

PyMC and arviz are imported only when the config has a ``bayesian`` section.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from contextlib import suppress
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from .._version import __version__
from ..clv import customer_lifetime_value
from ..data import calibration_holdout_split, rfm_summary
from ..exceptions import ConfigError
from .config import BayesianCompareConfig, CompareConfig
from .fitting import construct_models
from .kpis import configured_kpis, kpi_settings
from .limits import create_output_dir
from .manifest import generated_label, logger, now
from .outputs import write_csv
from .publish import OutputDirectory
from .runner import _json_default, _stage, _versions, read_transactions


def _data_description(transactions: pd.DataFrame, split: pd.DataFrame, config: CompareConfig, source: dict) -> dict:
    inp = config.input
    stamps = pd.to_datetime(transactions[inp.datetime], format=inp.datetime_format, errors="coerce")
    return {
        "source": source.get("path") or f"bundled dataset {source.get('dataset')}",
        "columns (customer, date, amount)": f"{inp.customer_id}, {inp.datetime}, {inp.monetary_value}",
        "customers (cohort at the calibration end)": len(split),
        "transactions read": split.attrs["n_rows_read"],
        "transactions used": split.attrs["n_rows_used"],
        "first transaction": str(stamps.min().date()),
        "last transaction": str(stamps.max().date()),
        "calibration end": str(config.split.calibration_period_end),
        "observation end": split.attrs["observation_period_end"][:10],
        "time unit": split.attrs["time_unit"],
        "repeat purchases, calibration": int(split["frequency"].sum()),
        "repeat purchases, holdout": int(split["frequency_holdout"].sum()),
        "exclusions": split.attrs["exclusions"],
    }


def _kpis(config, transactions, split, model, spend, clv):
    """KPI tables with the scores of the best model (fitted on the calibration period) and the spend
    model, evaluated on every customer's whole history up to the observation end."""
    inp, s = config.input, config.summary
    summary = rfm_summary(transactions, customer_id_col=inp.customer_id, datetime_col=inp.datetime,
                          monetary_value_col=inp.monetary_value, observation_period_end=split.attrs["observation_period_end"],
                          freq=s.freq, time_unit=s.time_unit, datetime_format=inp.datetime_format,
                          on_invalid=inp.on_invalid)
    scores = summary.assign(
        p_alive=model.probability_alive(summary), expected_spend=spend.expected_spend(summary),
        clv=customer_lifetime_value(model, spend, summary, horizon_months=clv.horizon_months,
                                    discount_rate=clv.discount_rate, margin=clv.margin)).reset_index()
    return configured_kpis(config, transactions, scores, observation_period_end=split.attrs["observation_period_end"])


def _bayesian_variants() -> dict:
    """The Bayesian class of each MLE model name that has one (imports PyMC)."""
    from ..bayes.models import BAYES_MODELS

    return {cls.mle_class.name: cls for cls in BAYES_MODELS.values()}


def _require_bayes() -> None:
    if importlib.util.find_spec("pymc") is None or importlib.util.find_spec("arviz") is None:
        raise ConfigError("the config's 'bayesian' section fits Bayesian models, which needs PyMC and arviz: "
                          "pip install 'clvmodels[bayes]', or remove the section.")


def _fit_bayesian(settings: BayesianCompareConfig, purchase: dict, split: pd.DataFrame):
    """The Bayesian variant of each purchase model, fitted on the calibration columns of ``split``,
    compared by LOO and WAIC (a :class:`~clvmodels.reports.BayesianComparison`)."""
    from ..reports import bayesian_comparison

    variants = _bayesian_variants()
    options = settings.model_dump()
    fitted, notes = {}, []
    for name in purchase:
        cls = variants.get(name)
        if cls is None:
            notes.append(f"{name} has no Bayesian variant in clvmodels.bayes, so it is left out of the LOO / WAIC "
                         "comparison (it keeps its place in the ranking).")
            continue
        fitted[name] = cls(**options).fit(split)
    if fitted:
        notes.append(f"Fitted on the calibration period ({len(split):,} customers) with the default priors of "
                     "clvmodels.bayes; the models' constructor options in the config apply to the MLE fits only.")
    return bayesian_comparison(fitted, split, notes=notes, settings=options)


def _bayesian_json(b) -> dict:
    return {"best_by_elpd_loo": b.best, "reason": b.reason, "settings": b.settings, "notes": b.notes,
            "note": "LOO and WAIC are reported apart; the mean rank uses the 10 metrics only.",
            "information_criteria": json.loads(b.table.to_json(orient="index")),
            "convergence": json.loads(b.convergence.to_json(orient="index"))}


def _metrics_json(comparison) -> dict:
    extra = {} if comparison.bayesian is None else {"bayesian": _bayesian_json(comparison.bayesian)}
    return {
        "best": comparison.best,
        "reason": comparison.reason,
        "metrics": json.loads(comparison.metrics.to_json(orient="index")),
        "ranks": json.loads(comparison.ranks.to_json(orient="index")),
        "parameters": {name: json.loads(d.parameters.to_json(orient="index")) for name, d in comparison.models.items()},
        "fit": json.loads(comparison.fit.to_json(orient="index")),
        "data": comparison.data,
        **extra,
    }


def compare(config: CompareConfig, *, output_dir: str | Path | None = None, config_text: str | None = None,
            progress: bool | None = None) -> dict:
    """Fit the configured models on one split, compare them and write the report.

    Parameters
    ----------
    config : CompareConfig
        The validated configuration.
    output_dir : path, optional
        Overrides ``config.output.directory``.
    config_text : str, optional
        The original config text, hashed into the manifest and the report.
    progress : bool, optional
        Show a progress bar; default only on a terminal.

    Returns
    -------
    dict
        The manifest (also written as ``manifest.json``), with the best model and the reason.
    """
    out = create_output_dir(output_dir or config.output.directory,
                            key="--output-dir" if output_dir else "output.directory")
    with OutputDirectory(out, "compare") as directory:
        generation = directory.new_generation()
        try:
            return _compare(config, generation, config_text=config_text, progress=progress,
                            cleaned=directory.cleaned)
        except BaseException as err:
            if generation.published:  # the switch happened: the comparison is complete
                logger.warning("%s after the comparison was published; it is complete", err)
                return getattr(err, "manifest", {})
            published = directory.abandon(generation)
            failed = {**getattr(err, "manifest", {}), "status": "failed", "error": f"{type(err).__name__}: {err}",
                      "finished": now(), "published_outputs": published}
            with suppress(Exception):  # the job's own error is the one to report
                directory.write_failed_manifest(json.dumps(failed, indent=2, default=_json_default))
            raise


def _compare(config: CompareConfig, generation, *, config_text, progress, cleaned) -> dict:
    """The comparison, its files written into ``generation`` and published; see :func:`compare`."""
    from ..reports import compare_models, render_report  # matplotlib and jinja2: only for a comparison

    settings = config.model_dump(mode="json")
    canonical = config_text if config_text is not None else json.dumps(settings, sort_keys=True)
    manifest = {"status": "running", "command": "compare", "clvmodels_version": __version__,
                "started": now(), "config": settings,
                "config_sha256": hashlib.sha256(canonical.encode()).hexdigest(), "versions": _versions(),
                "timings_s": {}}
    if cleaned:
        manifest["cleaned_up"] = cleaned
    timings = manifest["timings_s"]
    stages = ["read", "split", "fit", *(["bayesian"] if config.bayesian is not None else []), "diagnose",
              *(["kpis"] if config.kpis is not None else []), "report"]
    bar = tqdm(total=len(stages), disable=(None if progress is None else not progress), unit="stage")
    inp, s = config.input, config.summary
    columns = {"customer_id_col": inp.customer_id, "datetime_col": inp.datetime,
               "calibration_period_end": config.split.calibration_period_end,
               "observation_period_end": s.observation_period_end, "freq": s.freq, "time_unit": s.time_unit,
               "datetime_format": inp.datetime_format, "on_invalid": inp.on_invalid}
    try:
        if config.bayesian is not None:
            _require_bayes()  # before any work
        with _stage(timings, "read", bar):
            transactions, manifest["input"] = read_transactions(inp)
        with _stage(timings, "split", bar):
            split = calibration_holdout_split(transactions, monetary_value_col=inp.monetary_value, **columns)
            manifest["exclusions"] = split.attrs["exclusions"]
        with _stage(timings, "fit", bar):
            fitted = {name: model.fit(split) for name, model in construct_models(config).items()}
            purchase = {name: m for name, m in fitted.items() if m.kind == "purchase"}
            spend = next((m for m in fitted.values() if m.kind == "spend"), None)
        bayesian = None
        if config.bayesian is not None:
            with _stage(timings, "bayesian", bar):
                bayesian = _fit_bayesian(config.bayesian, purchase, split)
                manifest["bayesian"] = {"fitted": list(bayesian.models), "best_by_elpd_loo": bayesian.best,
                                        "notes": bayesian.notes}
        with _stage(timings, "diagnose", bar):
            c = config.predictions.clv
            comparison = compare_models(
                purchase, split, transactions, spend_model=spend,
                tracking_args={**columns, "observation_period_end": split.attrs["observation_period_end"]},
                max_frequency=config.diagnostics.max_frequency, n_bins=config.diagnostics.reliability_bins,
                clv_args={"horizon_months": c.horizon_months, "discount_rate": c.discount_rate, "margin": c.margin},
                data=_data_description(transactions, split, config, manifest["input"]), bayesian=bayesian)
        kpis = None
        if config.kpis is not None:
            with _stage(timings, "kpis", bar):
                kpis = _kpis(config, transactions, split, purchase[comparison.best], spend, c)
                manifest["kpis"] = {"tables": list(kpis.tables), "notes": kpis.notes,
                                    "scored_with": comparison.best}
        with _stage(timings, "report", bar):
            html = render_report(comparison, title=config.output.title, config_sha256=manifest["config_sha256"],
                                 generated=generated_label(),
                                 kpis=kpis, kpi_settings="" if kpis is None else
                                 f"{kpi_settings(config.kpis)}; scores of {comparison.best} at the observation end")
            table = comparison.metrics.join(comparison.ranks.rename(
                columns=lambda c: c if c in ("mean_rank", "firsts") else f"rank_{c}"))
            if bayesian is not None:  # LOO / WAIC columns; empty for a model without a Bayesian variant
                table = table.join(bayesian.table)
            write_csv(table, generation.path("metrics.csv"), escape=config.output.csv_formula_escape)
            generation.path("metrics.json").write_text(json.dumps(_metrics_json(comparison), indent=2,
                                                                  default=_json_default), encoding="utf-8")
            generation.path("report.html").write_text(html, encoding="utf-8")
        written = generation.written()
        manifest.update({"status": "succeeded", "best": comparison.best, "reason": comparison.reason,
                         "customers": len(split), "outputs": written, "output_files": generation.checksums(written)})
        manifest["finished"] = now()
        generation.path("manifest.json").write_text(json.dumps(manifest, indent=2, default=_json_default),
                                                    encoding="utf-8")
        generation.publish("manifest.json")
    except BaseException as err:
        err.manifest = manifest  # what ran before the failure, for the failed manifest
        raise
    finally:
        bar.close()
    return manifest
