"""Optional experiment tracking in MLflow (``tracking: {mlflow: {uri: ...}}``).

Each job becomes one MLflow run: the config (flattened as params and whole as ``config.json``),
the model parameters and fit statistics, the customer and row counts, the timings per stage, and
the manifest and model files as artifacts (scores too with ``log_scores: true``). A failed job is
marked FAILED with its error. This module, and mlflow with it, is imported only when tracking is
configured. It uses an explicit ``MlflowClient``: no global MLflow state is changed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from pathlib import Path

from ..exceptions import ConfigError

logger = logging.getLogger("clvmodels.batch")

MAX_PARAM_CHARS = 500


def _flatten(value, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    text = value if isinstance(value, str) else json.dumps(value)
    return {prefix: text[:MAX_PARAM_CHARS]}


def run_metrics(manifest: dict) -> dict[str, float]:
    """Numbers worth plotting across runs: model parameters and fit statistics, counts, timings."""
    metrics = {}
    for name, model in manifest.get("models", {}).items():
        for key, value in model["params"].items():
            metrics[f"{name}.{key}"] = value
        for key in ("log_likelihood", "aic", "bic", "n_customers"):
            if model.get(key) is not None:
                metrics[f"{name}.{key}"] = model[key]
    for key, value in manifest.get("customers", {}).items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[f"customers.{key}"] = value
    metrics["customers.excluded"] = sum(manifest.get("customers", {}).get("excluded", {}).values())
    for key in ("read", "used"):
        if key in manifest.get("rows", {}):
            metrics[f"rows.{key}"] = manifest["rows"][key]
    metrics["rows.excluded"] = sum(manifest.get("rows", {}).get("excluded", {}).values())
    for key, value in manifest.get("timings_s", {}).items():
        metrics[f"seconds.{key}"] = value
    return {k: float(v) for k, v in metrics.items()}


#: While the job opens its MLflow run: MLflow's own HTTP retries would otherwise make an unreachable
#: server a silent wait of minutes (7 retries with back-off, 120 s each). Values the user set win.
QUICK_FAILURE = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "15"}


@contextlib.contextmanager
def _quick_failure():
    """Lower MLflow's retry settings for the connection check only, then restore the environment."""
    added = {k: v for k, v in QUICK_FAILURE.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


class MlflowTracker:
    """One MLflow run per job, opened when the job starts."""

    def __init__(self, settings, command: str):
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise ConfigError("tracking.mlflow is set but mlflow is not installed; install it with "
                              "pip install 'clvmodels[tracking]' or remove the tracking section.") from None
        self.settings = settings
        logger.info("connecting to MLflow at %s (experiment %r) ...", settings.uri, settings.experiment)
        try:
            with _quick_failure():
                self.client = MlflowClient(tracking_uri=settings.uri)
                experiment = self.client.get_experiment_by_name(settings.experiment)
                experiment_id = (experiment.experiment_id if experiment is not None
                                 else self.client.create_experiment(settings.experiment))
                self.run_id = self.client.create_run(experiment_id, run_name=settings.run_name,
                                                     tags={"clvmodels.command": command}).info.run_id
        except Exception as err:  # noqa: BLE001 - MlflowException, connection errors: a config to fix
            raise ConfigError(f"tracking.mlflow.uri {settings.uri!r}: MLflow refused it ({type(err).__name__}: "
                              f"{err}). Check the address; a local file store (file:///path) also needs "
                              "MLFLOW_ALLOW_FILE_STORE=true in the environment with MLflow 3.") from None

    def log_success(self, manifest: dict, out: Path, manifest_path: Path) -> None:
        import time

        from mlflow.entities import Metric, Param

        now = int(time.time() * 1000)
        params = _flatten(manifest["config"])
        params["config_sha256"] = manifest["config_sha256"]
        self.client.log_batch(self.run_id, params=[Param(k, v) for k, v in sorted(params.items())],
                              metrics=[Metric(k, v, now, 0) for k, v in sorted(run_metrics(manifest).items())])
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "config.json"
            path.write_text(json.dumps(manifest["config"], indent=2), encoding="utf-8")
            self.client.log_artifact(self.run_id, str(path))
        folder = manifest_path.parent.relative_to(out).as_posix()
        self.client.log_artifact(self.run_id, str(manifest_path), artifact_path=None if folder == "." else folder)
        for name in manifest.get("outputs", []):
            if name.startswith("scores.") and not self.settings.log_scores:
                continue
            folder = str(Path(name).parent) if "/" in name else None
            self.client.log_artifact(self.run_id, str(out / name), artifact_path=folder)
        self.client.set_terminated(self.run_id, status="FINISHED")

    def log_failure(self, manifest: dict) -> None:
        try:
            self.client.set_tag(self.run_id, "clvmodels.error", manifest.get("error", "")[:MAX_PARAM_CHARS])
            self.client.set_terminated(self.run_id, status="FAILED")
        except Exception:  # noqa: BLE001 - the job's own error is the one to report
            pass
