"""The stages of a scoring job, from a :class:`~clvmodels.batch.config.RunConfig`.

- :func:`fit`: read -> summary -> fit; writes ``models/<name>.json`` and ``models/manifest.json``;
- :func:`score`: read -> summary -> score with saved models (no refit); writes ``scores.<format>``
  and ``manifest.json``;
- :func:`run`: both, writing all of the above (the manifest in ``manifest.json``).

A job writes a complete generation of outputs and publishes it in one atomic step
(:mod:`clvmodels.batch.publish`), so a failed or killed job leaves the previous outputs intact; its
manifest says what failed. Customers reconcile: every input customer is scored or listed as
excluded with the reason, and a job with a NaN or infinite score fails rather than publish it.
"""

from __future__ import annotations

import json
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pandas as pd

from .._threads import single_threaded_blas

from .._io import write_text_atomic
from ..exceptions import ConfigError, DataError, JobInterrupted
from ..models import load_model
from .config import RunConfig
from .engines import make_engine
from .inputs import read_frame
from .manifest import Manifest, json_default, logger, model_entry, reconcile, recorded_warnings, versions
from .limits import create_output_dir
from .outputs import ScoreWriter
from .scoring import infinite_by_model
from .publish import OutputDirectory

# Kept for clvmodels.batch.compare.
_json_default = json_default
_versions = versions


def read_transactions(cfg):
    """Load the configured transactions; returns the frame and a description for the manifest."""
    frame, source = read_frame(cfg)
    return frame, source.to_dict()


@contextmanager
def _stage(timings: dict, name: str, bar):
    bar.set_description(name)
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 4)
    bar.update(1)


def model_paths(config: RunConfig, out: Path, paths=None) -> list[Path]:
    """The model files to score with: ``paths``, else ``<output>/models/<name>.json`` from ``fit``."""
    if paths:
        return [Path(p) for p in paths]
    return [out / "models" / f"{spec.name}.json" for spec in config.models]


def _load(path: Path):
    """A saved model: a posterior (``.nc``, via :mod:`clvmodels.bayes`) or an MLE fit (JSON)."""
    if path.suffix.lower() != ".nc":
        return load_model(path)
    try:  # imported only for posterior files, so MLE-only jobs never import PyMC
        from ..bayes import load_model as load_posterior
    except ImportError as err:
        raise ConfigError(f"{path} is a Bayesian posterior (.nc), and reading it needs PyMC and arviz ({err}). "
                          "Install them with pip install 'clvmodels[bayes]'.") from None
    return load_posterior(path)


def is_bayesian(model) -> bool:
    """Whether ``model`` is a fitted posterior (clvmodels.bayes) rather than an MLE fit."""
    return hasattr(model, "posterior_draws")


def load_models(config: RunConfig, paths: list[Path]) -> dict:
    """Load saved models and check they are the configured ones, in the configured time unit.

    JSON files hold MLE fits; ``.nc`` files hold posteriors written by the Bayesian models' ``save``
    (:mod:`clvmodels.bayes`), which score the same columns as posterior means with credible bounds.
    A Bayesian purchase model needs a Bayesian spend model and vice versa (CLV from joint draws).
    """
    models = {}
    seen: dict = {}
    for path in paths:
        if not path.exists():
            raise DataError(f"model file {path} does not exist. Run `clvmodels fit CONFIG` first, or pass "
                            "the files with --model PATH.")
        if not path.is_file():  # a directory, a FIFO, /dev/zero: never read (it could block or never end)
            raise DataError(f"model file {path} is not a regular file; pass the .json (or .nc) file that "
                            "`clvmodels fit` (or a Bayesian model's save) wrote.")
        same = seen.setdefault(path.resolve(), path)
        if same is not path:
            raise ConfigError(f"the model file {path} is given twice ({same} and {path}); pass each configured "
                              "model's file once.")
        model = _load(path)
        name = model.mle_class.name if is_bayesian(model) else model.name
        models[name] = (model, str(path))
    wanted = sorted(spec.name for spec in config.models)
    if sorted(models) != wanted:
        raise ConfigError(f"the model files hold {sorted(models)}, but the config's models are {wanted}. "
                          "Pass the files of the configured models, or change `models:`.")
    unit = config.summary.time_unit
    for name, (model, path) in models.items():
        if model.kind == "purchase" and model.time_unit_ not in (None, unit):
            raise ConfigError(f"{path} was fitted with time unit {model.time_unit_!r}, but summary.time_unit is "
                              f"{unit!r}; scores would be in the wrong unit. Refit, or set summary.time_unit.")
    methods = {is_bayesian(m): path for m, path in models.values()}
    if len(methods) > 1:
        raise ConfigError(f"{methods[True]} is a Bayesian posterior but {methods[False]} is a maximum-likelihood "
                          "fit; scores (and CLV) need both models fitted the same way. Pass two .nc files (from "
                          "clvmodels.bayes) or two .json files (from `clvmodels fit`).")
    return models


def _job(command: str, config: RunConfig, **settings) -> dict:
    with single_threaded_blas():  # scoring overlaps writing; idle BLAS threads would spin
        return _run_job(command, config, **settings)


def _run_job(command: str, config: RunConfig, *, output_dir=None, config_text=None, progress=None,
             model_files=None, manifest_name="manifest.json") -> dict:
    out = create_output_dir(output_dir or config.output.directory,
                            key="--output-dir" if output_dir else "output.directory")
    manifest = Manifest(command, config, config_text, out / manifest_name)
    with OutputDirectory(out, command) as directory, recorded_warnings(manifest):
        if directory.cleaned:
            manifest["cleaned_up"] = directory.cleaned
            logger.info("removed what earlier jobs left unfinished: %s", directory.cleaned)
        generation = directory.new_generation()
        try:
            _build(command, config, manifest, generation, progress=progress, model_files=model_files)
            with manifest.stage("write"):  # also the failed stage if publishing fails
                kept = generation.carry_over()
                if command == "fit" and "manifest.json" in kept:
                    _mark_models_replaced(generation, manifest)
                written = generation.written()
                checksums = generation.checksums(written)
            manifest.update({"status": "succeeded", "outputs": written, "output_files": checksums,
                             "kept_from_previous": kept})
            manifest.write(generation.path(manifest_name))
            generation.publish(manifest_name)
        except BaseException as err:
            if generation.published:  # the switch happened: the job is done, only tidying was cut short
                logger.warning("%s after the outputs were published; they are complete", err)
            else:
                published = directory.abandon(generation)
                manifest.failed(err)
                manifest["published_outputs"] = published
                with suppress(Exception):  # the job's own error is the one to report
                    directory.write_failed_manifest(manifest.text())
                if manifest.tracker is not None:
                    manifest.tracker.log_failure(manifest.data)
                raise
        try:
            if generation.moved_aside:
                manifest["moved_aside"] = generation.moved_aside
                manifest.write(generation.path(manifest_name))
            if manifest.tracker is not None:
                _track(manifest.tracker, manifest, out, generation.path(manifest_name))
        except JobInterrupted as err:
            logger.warning("%s after the outputs were published; they are complete", err)
    return manifest.data


def _mark_models_replaced(generation, manifest: Manifest) -> None:
    """``fit`` keeps the scores and their manifest, whose model files it has just replaced: that
    manifest's ``output_files`` then lists only what is still in place, and says what changed."""
    path = generation.path("manifest.json")
    try:
        scores_manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    files = scores_manifest.get("output_files") or {}
    replaced = {name: info for name, info in files.items() if name.startswith("models/")}
    scores_manifest["output_files"] = {n: i for n, i in files.items() if n not in replaced}
    scores_manifest["models_replaced_since"] = {
        "by": "clvmodels fit", "started": manifest.data.get("started"), "manifest": "models/manifest.json",
        "note": "these scores were made with the models listed here, not with the models/ now in place",
        "previous_output_files": replaced}
    write_text_atomic(path, json.dumps(scores_manifest, indent=2))  # a new file: the old generation's stays


def _build(command: str, config: RunConfig, manifest: Manifest, generation, *, progress, model_files) -> None:
    """Every stage of the job up to its outputs, written into ``generation``."""
    writer = engine = None
    try:
        if config.tracking is not None and config.tracking.mlflow is not None:
            from .tracking import MlflowTracker  # mlflow is imported only when tracking is configured

            manifest.tracker = MlflowTracker(config.tracking.mlflow, command)
        loaded = {}
        if command == "score":
            with manifest.stage("load_models"):
                loaded = load_models(config, model_paths(config, generation.directory.root, model_files))
        engine = make_engine(config)
        summaries = engine.summaries(config, manifest, fit=command != "score", score=command != "fit")
        manifest.update({"input": summaries.input, "rows": summaries.rows, "summary": summaries.info,
                         "observation_period_end": summaries.info.get("observation_period_end")})
        if command == "score":
            models = {name: m for name, (m, _) in loaded.items()}
            manifest["models"] = {name: model_entry(m, source=path) for name, (m, path) in loaded.items()}
        else:
            with manifest.stage("fit"):
                models = engine.fit(config, summaries)
                for name, model in models.items():
                    model.save(generation.path(f"models/{name}.json"))
            manifest["models"] = {name: model_entry(m) for name, m in models.items()}
        customers = dict(summaries.customers)
        if command == "fit":
            customers["fitted"] = customers.pop("in_summary")
            manifest["customers"] = customers
            return
        kept = [] if config.kpis is not None else None  # the KPIs need every score at once

        def write(frame):
            writer.write(frame)
            if kept is not None:
                kept.append(frame)

        with manifest.stage("score"):
            infinite = infinite_by_model(next(m for m in models.values() if m.kind != "spend"))
            writer = ScoreWriter(generation, config.output.formats, config.output.columns,
                                 csv_formula_escape=config.output.csv_formula_escape, allowed_infinite=infinite)
            customers["scored"] = engine.score(config, summaries, models, write, progress=progress)
            writer.close()
        customers["non_finite_scores"] = writer.non_finite_rows
        if writer.out_of_range_rows:
            customers["out_of_range_scores"] = writer.out_of_range_rows
        if writer.infinite_by_model:
            manifest["infinite_by_model"] = {c: {"customers": n, "why": infinite[c]}
                                             for c, n in writer.infinite_by_model.items()}
        manifest["customers"] = reconcile(customers)
        if writer.non_finite_rows or writer.out_of_range_rows:
            manifest["non_finite_scores"] = writer.non_finite
            if writer.out_of_range:
                manifest["out_of_range_scores"] = writer.out_of_range
            raise DataError(non_finite_message(writer, models))
        if kept is not None:
            from .kpis import kpi_stage

            with manifest.stage("kpis"):
                manifest["kpis"] = kpi_stage(config, summaries.transactions, pd.concat(kept, ignore_index=True),
                                             generation, observation_period_end=manifest.data.get(
                                                 "observation_period_end"),
                                             config_sha256=manifest.data.get("config_sha256"))
        if not customers["reconciled"]:  # a bug, not bad input: exit code 1 with the traceback
            raise RuntimeError(f"customers do not reconcile (in = scored + excluded): {customers}")
    except BaseException:
        if writer is not None:
            with suppress(Exception):  # the job's own error is the one to report
                writer.close()
        raise
    finally:
        if engine is not None:
            engine.close()


def non_finite_message(writer: ScoreWriter, models: dict) -> str:
    """Why a job with NaN, infinite or impossible scores publishes nothing, and what to look at."""
    parts = []
    if writer.non_finite_rows:
        columns = ", ".join(f"{c} ({n})" for c, n in writer.non_finite.items())
        parts.append(f"{writer.non_finite_rows} customers have NaN or infinite scores (columns: {columns})")
    if writer.out_of_range_rows or writer.out_of_range:
        columns = ", ".join(f"{c} ({n})" for c, n in writer.out_of_range.items())
        other = "other " if writer.non_finite_rows else ""
        parts.append(f"{writer.out_of_range_rows} {other}customers have scores outside their range (a probability "
                     f"outside [0, 1], a negative expectation, spend or value; columns: {columns})")
    return (f"{'; '.join(parts)}; e.g. customer {', '.join(writer.non_finite_examples)}. Nothing was "
            f"published. Such numbers come from model parameters far outside their usual range (e.g. a "
            f"Gamma-Gamma q <= 1, whose mean spend is infinite) or from extreme summaries: check the parameters "
            f"of {', '.join(models)} in the manifest and these customers' rows, refit, and run again.")


def _track(tracker, manifest: Manifest, out: Path, published: Path) -> None:
    """Log a succeeded job to MLflow; a tracking failure is recorded, it does not undo the job."""
    try:
        tracker.log_success(manifest.data, out, manifest.path)
    except Exception as err:  # noqa: BLE001 - the outputs are published; say what failed and go on
        logger.warning("tracking failed: %s: %s", type(err).__name__, err)
        manifest["tracking_error"] = f"{type(err).__name__}: {err}"
        manifest.write(published)


def run(config: RunConfig, *, output_dir: str | Path | None = None, config_text: str | None = None,
        progress: bool | None = None) -> dict:
    """Fit the models and score every customer; return the manifest (also ``manifest.json``).

    Parameters
    ----------
    config : RunConfig
        The validated configuration.
    output_dir : path, optional
        Overrides ``config.output.directory``.
    config_text : str, optional
        The original config text, hashed into the manifest (default: the normalised config).
    progress : bool, optional
        True: a progress bar; False: none; None (default): a bar on a terminal, log lines otherwise.

    Returns
    -------
    dict
        The manifest.
    """
    return _job("run", config, output_dir=output_dir, config_text=config_text, progress=progress)


def fit(config: RunConfig, *, output_dir: str | Path | None = None, config_text: str | None = None,
        progress: bool | None = None) -> dict:
    """Fit the models and write ``models/<name>.json`` and ``models/manifest.json``; see :func:`run`."""
    return _job("fit", config, output_dir=output_dir, config_text=config_text, progress=progress,
                manifest_name="models/manifest.json")


def score(config: RunConfig, *, models=None, output_dir: str | Path | None = None,
          config_text: str | None = None, progress: bool | None = None) -> dict:
    """Score every customer with saved models (no refit); see :func:`run`.

    Parameters
    ----------
    models : list of paths, optional
        Model files written by :func:`fit` (default: ``<output directory>/models/<name>.json``
        for each configured model).
    """
    return _job("score", config, output_dir=output_dir, config_text=config_text, progress=progress,
                model_files=models)

