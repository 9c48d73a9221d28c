"""Optional MLflow tracking against a local file store, and lazy imports: without a tracking
section mlflow is never imported, and without a dask engine neither is dask."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from clvmodels import cli
from clvmodels.batch import load_config, run
from clvmodels.exceptions import DataError

mlflow = pytest.importorskip("mlflow")


def _config(tmp_path, tracking: str = "") -> str:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(f"""\
        input: {{dataset: cdnow_sample}}
        summary: {{observation_period_end: 1997-09-30}}
        output: {{directory: {tmp_path / 'out'}}}
        """) + tracking)
    return str(path)


def test_run_is_logged_to_mlflow(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = (tmp_path / "mlruns").as_uri()
    config = _config(tmp_path, f"tracking: {{mlflow: {{uri: '{store}', experiment: nightly, run_name: t1, "
                               "log_scores: true}}\n")
    manifest = run(load_config(config), progress=False)
    assert "tracking_error" not in manifest

    from mlflow.tracking import MlflowClient

    client = MlflowClient(store)
    (logged,) = client.search_runs([client.get_experiment_by_name("nightly").experiment_id])
    assert logged.info.status == "FINISHED" and logged.info.run_name == "t1"
    assert logged.data.params["input.dataset"] == "cdnow_sample"
    assert logged.data.params["config_sha256"] == manifest["config_sha256"]
    assert logged.data.metrics["bgnbd.r"] == pytest.approx(manifest["models"]["bgnbd"]["params"]["r"])
    assert logged.data.metrics["customers.scored"] == 2357
    assert logged.data.metrics["bgnbd.log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    assert "seconds.fit" in logged.data.metrics
    artifacts = {a.path for a in client.list_artifacts(logged.info.run_id)}
    assert artifacts == {"config.json", "manifest.json", "models", "scores.parquet"}
    models = {a.path for a in client.list_artifacts(logged.info.run_id, "models")}
    assert models == {"models/bgnbd.json", "models/gamma_gamma.json"}


def test_failed_run_is_marked_failed(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    store = (tmp_path / "mlruns").as_uri()
    path = tmp_path / "failing.yaml"
    path.write_text(f"input: {{dataset: cdnow_sample}}\nsummary: {{observation_period_end: 1997-09-30}}\n"
                    f"output: {{directory: {tmp_path / 'out'}}}\n"
                    f"tracking: {{mlflow: {{uri: '{store}'}}}}\n")
    from clvmodels.batch import scoring

    def fails(*args, **kwargs):
        raise DataError("output.columns: the scoring broke")  # a failure after the run was opened

    monkeypatch.setattr(scoring, "score", fails)
    with pytest.raises(DataError, match="output.columns"):
        run(load_config(path), progress=False)

    from mlflow.tracking import MlflowClient

    client = MlflowClient(store)
    (logged,) = client.search_runs([client.get_experiment_by_name("clvmodels").experiment_id])
    assert logged.info.status == "FAILED" and "output.columns" in logged.data.tags["clvmodels.error"]


def test_file_store_refused_is_a_config_error(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    config = _config(tmp_path, f"tracking: {{mlflow: {{uri: '{(tmp_path / 'mlruns').as_uri()}'}}}}\n")
    code = cli.main(["run", config])
    err = capsys.readouterr().err
    if code == 0:  # an MLflow that still accepts file stores without the opt-in
        return
    assert code == 2 and "MLFLOW_ALLOW_FILE_STORE" in err and "Traceback" not in err


def test_nothing_extra_is_imported_unless_configured(tmp_path):
    """A pandas run without tracking imports neither mlflow nor dask (checked in a fresh process)."""
    config = _config(tmp_path)
    code = textwrap.dedent(f"""\
        import sys
        from clvmodels import cli
        assert cli.main(["run", {config!r}, "--no-progress"]) == 0
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("mlflow", "dask", "distributed")))
        """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert "mlflow-skinny" not in manifest["versions"] and "dask" not in manifest["versions"]


def test_an_unreachable_server_fails_fast_and_the_environment_is_restored(monkeypatch):
    """MLflow's own retries (7, with back-off) made an unreachable server a silent wait of minutes:
    while the run is opened they are lowered, unless the user set them, and restored after."""
    import os

    import mlflow.tracking

    from clvmodels.batch.tracking import QUICK_FAILURE, MlflowTracker
    from clvmodels.exceptions import ConfigError

    seen = {}

    class Unreachable:
        def __init__(self, tracking_uri):
            seen.update({k: os.environ.get(k) for k in QUICK_FAILURE})
            raise ConnectionError("refused")

    monkeypatch.setattr(mlflow.tracking, "MlflowClient", Unreachable)
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "99")  # the user's value wins
    settings = type("S", (), {"uri": "http://127.0.0.1:1", "experiment": "x", "run_name": None})()
    with pytest.raises(ConfigError, match="tracking.mlflow.uri 'http://127.0.0.1:1'"):
        MlflowTracker(settings, "run")
    assert seen == {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "99"}
    assert "MLFLOW_HTTP_REQUEST_MAX_RETRIES" not in os.environ and os.environ["MLFLOW_HTTP_REQUEST_TIMEOUT"] == "99"
