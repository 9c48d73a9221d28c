"""Inputs of a job: files, directories, globs, precomputed summaries, filters, and bad inputs that
stop with one paragraph and exit code 2 (no traceback)."""

from __future__ import annotations

import json
import re
import textwrap

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import cli
from clvmodels.batch import load_config, run


@pytest.fixture
def tx():
    return clvmodels.datasets.load_cdnow_transactions()[["customer_id", "date", "amount"]]


def _config(tmp_path, input_section: str, extra: str = "") -> str:
    path = tmp_path / "config.yaml"
    path.write_text(textwrap.dedent(f"""\
        input: {input_section}
        summary: {{observation_period_end: 1997-09-30}}
        output: {{directory: {tmp_path / 'out'}}}
        """) + textwrap.dedent(extra))
    return str(path)


def _scores(tmp_path) -> pd.DataFrame:
    return pd.read_parquet(tmp_path / "out" / "scores.parquet").set_index("customer_id").sort_index()


def test_directory_glob_and_single_file_agree(tmp_path, tx):
    """The log split over monthly CSV and Parquet files gives the single file's scores."""
    (tmp_path / "pq").mkdir()
    (tmp_path / "csv").mkdir()
    month = tx["date"].dt.strftime("%Y-%m")
    for i, (m, part) in enumerate(tx.groupby(month)):
        part.to_parquet(tmp_path / "pq" / f"part-{m}.parquet")
        part.to_csv(tmp_path / "csv" / f"tx-{m}.csv", index=False)
    (tmp_path / "pq" / "_SUCCESS").write_text("")  # marker files of Spark-like writers are skipped
    tx.to_parquet(tmp_path / "all.parquet")
    run(load_config(_config(tmp_path, f"{{path: {tmp_path / 'all.parquet'}}}")), progress=False)
    single = _scores(tmp_path)
    manifest = run(load_config(_config(tmp_path, f"{{path: {tmp_path / 'pq'}}}")), progress=False)
    pd.testing.assert_frame_equal(_scores(tmp_path), single, check_exact=False, rtol=1e-12)
    assert len(manifest["input"]["files"]) == 18 and manifest["input"]["rows"] == len(tx)
    assert sum(f["rows"] for f in manifest["input"]["files"]) == len(tx)
    run(load_config(_config(tmp_path, f"{{path: '{tmp_path}/csv/tx-1997-*.csv'}}")), progress=False)
    pd.testing.assert_frame_equal(_scores(tmp_path), single, check_exact=False, rtol=1e-12)


def test_precomputed_summary_input(tmp_path, tx):
    summary = clvmodels.rfm_summary(tx, customer_id_col="customer_id", datetime_col="date",
                                    monetary_value_col="amount", observation_period_end="1997-09-30")
    run(load_config(_config(tmp_path, "{dataset: cdnow_sample}")), progress=False)
    from_tx = _scores(tmp_path)
    frame = summary.reset_index()
    frame.loc[len(frame)] = [99999, 2.0, 5.0, 3.0, 10.0]  # recency > T: impossible, excluded and counted
    frame.to_parquet(tmp_path / "summary.parquet")
    config = _config(tmp_path, f"{{kind: summary, path: {tmp_path / 'summary.parquet'}, monetary_value: monetary_value, on_invalid: exclude}}")
    manifest = run(load_config(config), progress=False)
    pd.testing.assert_frame_equal(_scores(tmp_path), from_tx, check_exact=False, rtol=1e-12)
    assert manifest["customers"]["excluded"] == {"invalid_summary_row": 1} and manifest["customers"]["reconciled"]

    strict = _config(tmp_path, f"{{kind: summary, path: {tmp_path / 'summary.parquet'}, monetary_value: monetary_value}}")
    assert cli.main(["run", strict]) == 2


def test_filters_exclude_and_count(tmp_path, tx):
    tx = tx.copy()
    tx.loc[[1, 2], "amount"] = -3.0
    tx.loc[[3], "amount"] = 0.0
    tx.to_parquet(tmp_path / "tx.parquet")
    config = _config(tmp_path, f"""
        path: {tmp_path / 'tx.parquet'}
        filters: {{exclude_returns: true, exclude_zero_amounts: true, start_date: 1997-01-02}}
        """.replace("\n", "\n  "))
    manifest = run(load_config(config), progress=False)
    excluded = manifest["rows"]["excluded"]
    early, amount = tx["date"] < "1997-01-02", tx["amount"]
    assert excluded["return"] == 2 and excluded["zero_amount"] == (amount == 0).sum() > 1
    assert excluded["before_start_date"] == (early & (amount > 0)).sum() > 0
    assert manifest["rows"]["used"] + sum(excluded.values()) == len(tx)
    assert manifest["customers"]["reconciled"]


BAD_INPUTS = {
    "csv_missing_column": ("tx.csv", "missing column(s) 'amount'"),
    "parquet_wrong_dtype": ("tx.parquet", "column 'amount' has type"),
    "empty_glob": ("nothing-*.parquet", "matched no files"),
    "typo": (None, "unknown key 'custmer_id'; did you mean 'customer_id'?"),
    "mixed_formats": ("mixed", "mixes CSV and Parquet"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_inputs_exit_2_with_one_paragraph(tmp_path, tx, capsys, case):
    name, message = BAD_INPUTS[case]
    if case == "csv_missing_column":
        tx.drop(columns="amount").to_csv(tmp_path / name, index=False)
    elif case == "parquet_wrong_dtype":
        tx.assign(amount=tx["amount"].map("${:.2f}".format)).to_parquet(tmp_path / name)
    elif case == "mixed_formats":
        (tmp_path / name).mkdir()
        tx.to_csv(tmp_path / name / "a.csv", index=False)
        tx.to_parquet(tmp_path / name / "b.parquet")
    section = f"{{path: '{tmp_path / name}'}}" if name else "{dataset: cdnow_sample, custmer_id: id}"
    command = "validate" if case == "typo" else "run"
    assert cli.main([command, _config(tmp_path, section)]) == 2
    err = capsys.readouterr().err
    assert message in err, err
    if case == "parquet_wrong_dtype":
        assert "string, but it must hold numbers (integer, float or decimal)" in err
    assert "Traceback" not in err
    message_lines = [line for line in err.splitlines() if not re.match(r"\d\d:\d\d:\d\d clvmodels ", line)]
    assert message_lines[0].startswith("clvmodels: error: ")
    assert len(message_lines) <= 2  # one paragraph; a config error lists its problem below it
    if command == "run":
        manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
        assert manifest["status"] == "failed" and manifest["failed_stage"] == "read"


def test_dask_only_keys_are_refused_on_pandas(tmp_path):
    config = _config(tmp_path, "{dataset: cdnow_sample}", "engine: {partitions: 4}\n")
    with pytest.raises(clvmodels.exceptions.ConfigError, match="only apply to engine type 'dask'"):
        load_config(config)


def test_example_config_documents_every_key():
    """configs/batch_example.yaml is valid and sets every key of the schema."""
    from pathlib import Path

    from clvmodels.batch.config import RunConfig

    path = Path(__file__).parents[1] / "configs" / "batch_example.yaml"
    config = load_config(path)
    assert isinstance(config, RunConfig)
    text = path.read_text()
    missing = [name for section in ("input", "summary", "predictions", "output", "engine")
               for name in type(getattr(config, section)).model_fields if f"{name}:" not in text]
    assert not missing and "mlflow:" in text and "filters:" in text
    assert np.isfinite(config.predictions.clv.discount_rate)
