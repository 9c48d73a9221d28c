"""The command line and the batch runner: outputs, manifest, exit codes and config errors."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import cli
from clvmodels.batch import load_config, run
from clvmodels.exceptions import ConfigError

SAMPLE_CONFIG = """\
version: 1
input:
  dataset: cdnow_sample
summary:
  observation_period_end: 1997-09-30
models: [bgnbd, gamma_gamma]
predictions:
  horizons: [39, 52]
output:
  directory: {out}
  formats: [parquet, csv]
"""


def write(tmp_path, text, name="config.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def sample_run(tmp_path):
    config = write(tmp_path, SAMPLE_CONFIG.format(out=tmp_path / "out"))
    code = cli.main(["run", str(config), "--no-progress"])
    return code, tmp_path / "out"


def test_run_writes_scores_models_and_manifest(sample_run):
    """The CDNOW sample run reproduces the paper's BG/NBD fit and the library's own predictions."""
    code, out = sample_run
    assert code == 0
    scores = pd.read_parquet(out / "scores.parquet")
    assert list(scores.columns) == [
        "customer_id", "frequency", "recency", "T", "monetary_value", "p_alive", "churn_probability",
        "expected_purchases_39w", "expected_purchases_52w", "expected_spend", "clv"]
    assert len(scores) == 2357 and scores["customer_id"].is_unique
    pd.testing.assert_frame_equal(pd.read_csv(out / "scores.csv", dtype={"customer_id": "str"}), scores, check_dtype=False)

    model = clvmodels.load_model(out / "models" / "bgnbd.json")
    assert model.params_.round(3).to_dict() == {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    summary = scores.set_index("customer_id")
    np.testing.assert_allclose(scores["expected_purchases_52w"], model.expected_purchases(summary, 52), rtol=1e-12)
    spend = clvmodels.load_model(out / "models" / "gamma_gamma.json")
    expected_clv = clvmodels.customer_lifetime_value(model, spend, summary)
    np.testing.assert_allclose(scores["clv"], expected_clv, rtol=1e-12)
    np.testing.assert_allclose(scores["p_alive"] + scores["churn_probability"], 1.0)


def test_manifest_reconciles_rows_and_customers(sample_run):
    _, out = sample_run
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    rows = manifest["rows"]
    assert rows["read"] == 6919
    assert rows["excluded"] == {"after_observation_end": 1959}
    assert rows["used"] + sum(rows["excluded"].values()) == rows["read"]
    assert manifest["customers"] == {"in_input": 2357, "in_summary": 2357, "scored": 2357, "excluded": {},
                                     "non_finite_scores": 0, "reconciled": True}
    assert manifest["models"]["bgnbd"]["log_likelihood"] == pytest.approx(-9582.43, abs=0.01)
    assert set(manifest["timings_s"]) == {"read", "summary", "fit", "score", "write"}
    assert manifest["versions"]["clvmodels"] == clvmodels.__version__
    assert len(manifest["config_sha256"]) == 64
    assert sorted(manifest["outputs"]) == ["models/bgnbd.json", "models/gamma_gamma.json",
                                           "scores.csv", "scores.parquet"]


def test_run_is_deterministic(tmp_path):
    config = load_config(write(tmp_path, SAMPLE_CONFIG.format(out=tmp_path / "a")))
    run(config, progress=False)
    run(config, output_dir=tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "a" / "scores.parquet"),
                                  pd.read_parquet(tmp_path / "b" / "scores.parquet"))


def test_run_from_csv_with_excluded_rows(tmp_path, capsys):
    """Invalid rows are excluded on request and counted in the manifest, never dropped silently."""
    tx = clvmodels.datasets.load_cdnow_transactions()
    tx["date"] = tx["date"].dt.strftime("%Y%m%d")
    tx.loc[[0, 5], "amount"] = -1.0
    tx.loc[7, "date"] = "not a date"
    tx.to_csv(tmp_path / "tx.csv", index=False)
    config = write(tmp_path, f"""\
        input:
          path: {tmp_path / 'tx.csv'}
          datetime_format: "%Y%m%d"
          on_invalid: exclude
        summary:
          observation_period_end: 1997-09-30
        models:
          - bgnbd
          - name: gamma_gamma
            options: {{on_nonpositive: exclude}}
        output:
          directory: {tmp_path / 'out'}
        """)
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        assert cli.main(["run", str(config), "--no-progress"]) == 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    excluded = manifest["rows"]["excluded"]
    assert excluded["negative_amount"] == 2 and excluded["unparsable_date"] == 1
    assert manifest["rows"]["used"] + sum(excluded.values()) == 6919
    assert "excluded" in capsys.readouterr().out


def test_bad_input_exits_2_with_message(tmp_path, capsys):
    pd.DataFrame({"cust": [1, 2], "date": ["2020-01-01", "2020-02-01"], "amount": [1.0, 2.0]}).to_csv(
        tmp_path / "tx.csv", index=False)
    config = write(tmp_path, f"""\
        input: {{path: {tmp_path / 'tx.csv'}}}
        output: {{directory: {tmp_path / 'out'}}}
        """)
    assert cli.main(["run", str(config)]) == 2
    err = capsys.readouterr().err
    assert "missing column(s) 'customer_id'" in err and "Traceback" not in err


def test_missing_input_file_exits_2(tmp_path, capsys):
    config = write(tmp_path, f"input: {{path: {tmp_path / 'nope.csv'}}}\noutput: {{directory: {tmp_path}}}\n")
    assert cli.main(["run", str(config)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_failed_run_keeps_previous_outputs(tmp_path, monkeypatch):
    """An exception inside the writer leaves the earlier scores intact and no temporary files."""
    config = load_config(write(tmp_path, SAMPLE_CONFIG.format(out=tmp_path / "out")))
    run(config, progress=False)
    before = (tmp_path / "out" / "scores.parquet").read_bytes()

    import pyarrow.parquet as pq

    def broken(self, table, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        run(config, progress=False)
    assert (tmp_path / "out" / "scores.parquet").read_bytes() == before
    assert not [p for p in (tmp_path / "out").rglob("*.tmp")]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "disk full" in manifest["error"]


@pytest.mark.parametrize(("text", "expected"), [
    ("input: {dataset: cdnow_sample}\nsumary: {freq: D}\n", "unknown key 'sumary'; did you mean 'summary'?"),
    ("input: {dataset: cdnow_sample, customer_idd: id}\n", "input.customer_idd: unknown key 'customer_idd'; did you mean 'customer_id'?"),
    ("input: {dataset: cdnow_sample}\npredictions: {clv: {discount: 0.1}}\n",
     "predictions.clv.discount: unknown key 'discount'; did you mean 'discount_rate'?"),
    ("input: {dataset: cdnow_sample}\nmodels: [bgnb, gamma_gamma]\n", "unknown model 'bgnb'"),
    ("input: {dataset: cdnow_sample}\nmodels: [gamma_gamma]\n", "exactly one purchase model"),
    ("input: {dataset: cdnow_sample, path: x.csv}\n", "exactly one of 'dataset'"),
    ("summary: {freq: D}\n", "input: Field required"),
    ("input: {dataset: cdnow_sample}\nsummary: {freq: fortnight}\n", "summary.freq"),
    ("- just\n- a list\n", "must be a mapping"),
    ("input: [unclosed\n", "not valid YAML"),
])
def test_config_errors_name_the_key(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in str(info.value)


def test_all_config_errors_reported_at_once(tmp_path, capsys):
    path = write(tmp_path, "input: {dataset: cdnow_sample, datetme: d}\nsumary: {}\npredictions: {horizons: [-1]}\n")
    assert cli.main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "3 problems" in err and "datetme" in err and "sumary" in err and "predictions.horizons[0]" in err


def test_config_uses_safe_load(tmp_path):
    path = write(tmp_path, "input: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_demo_config_is_valid():
    from pathlib import Path

    config = load_config(Path(__file__).parents[1] / "configs" / "cdnow.yaml")
    assert config.input.dataset == "cdnow_master"


def test_help_is_enough_to_use_it(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for word in ("run", "validate", "exit codes", "manifest.json", "configs/cdnow.yaml"):
        assert word in text


def test_unexpected_failure_exits_1_with_log(tmp_path, monkeypatch, capsys):
    import tempfile

    import clvmodels.batch as batch

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(batch, "run", lambda *a, **k: 1 / 0)
    path = write(tmp_path, SAMPLE_CONFIG.format(out=tmp_path / "out"))
    assert cli.main(["run", str(path)]) == 1
    err = capsys.readouterr().err
    log = err.split("traceback is in ")[1].strip()
    assert log.startswith(str(tmp_path)) and "ZeroDivisionError" in open(log).read()


def test_interval_columns_from_parameter_uncertainty(tmp_path):
    """predictions.intervals adds _lower/_upper columns that bracket each estimate."""
    text = SAMPLE_CONFIG.format(out=tmp_path / "out").replace(
        "  horizons: [39, 52]\n", "  horizons: [52]\n  intervals: {ci_level: 0.8, n_draws: 50, seed: 1}\n")
    config = load_config(write(tmp_path, text))
    run(config, progress=False)
    scores = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    for column in ("p_alive", "expected_purchases_52w", "expected_spend", "clv"):
        lower, upper = scores[f"{column}_lower"], scores[f"{column}_upper"]
        assert (lower <= scores[column] + 1e-9).all() and (scores[column] <= upper + 1e-9).all()
        assert (upper > lower).any()
