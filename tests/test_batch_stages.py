"""The job's stages: `fit` writes models, `score` uses them without refitting, `run` does both;
chunked scoring, customer reconciliation, all-or-nothing outputs."""

from __future__ import annotations

import json
import os
import textwrap

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import cli
from clvmodels.batch import fit, load_config, run
from clvmodels.batch.publish import published_files


def _log(tmp_path) -> pd.DataFrame:
    """The CDNOW sample plus three customers seen only after the observation end, one whose only
    row is a return and one whose only date is unparsable."""
    tx = clvmodels.datasets.load_cdnow_transactions()
    extra = pd.DataFrame({"customer_id": [90001, 90002, 90003, 90004, 90005],
                          "date": pd.to_datetime(["1997-11-01", "1997-12-01", "1998-01-01", "1997-03-01", "1997-03-01"]),
                          "amount": [10.0, 20.0, 5.0, -15.0, 12.0]})
    tx = pd.concat([tx, extra], ignore_index=True)
    tx["date"] = tx["date"].dt.strftime("%Y-%m-%d")
    tx.loc[tx["customer_id"] == 90005, "date"] = "not a date"
    tx.to_parquet(tmp_path / "tx.parquet")
    return tx


def _config(tmp_path, extra: str = "", out: str = "out") -> str:
    path = tmp_path / f"{out}.yaml"
    path.write_text(textwrap.dedent(f"""\
        input:
          path: {tmp_path / 'tx.parquet'}
          on_invalid: exclude
          filters: {{exclude_returns: true}}
        summary: {{observation_period_end: 1997-09-30}}
        models: [bgnbd, {{name: gamma_gamma, options: {{on_nonpositive: exclude}}}}]
        predictions: {{horizons: [52]}}
        output: {{directory: {tmp_path / out}, formats: [parquet, csv]}}
        """) + textwrap.dedent(extra))
    return str(path)


def _with(tmp_path, out: str, sections: str) -> str:
    """The base config into ``out`` with its top-level ``sections`` replaced (a key may appear once)."""
    import yaml

    path = _config(tmp_path, out=out)
    merged = {**yaml.safe_load(open(path)), **yaml.safe_load(sections)}
    with open(path, "w") as f:
        yaml.safe_dump(merged, f)
    return path


@pytest.fixture
def log(tmp_path):
    return _log(tmp_path)


def test_every_input_customer_is_scored_or_excluded_with_a_reason(tmp_path, log):
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        manifest = run(load_config(_config(tmp_path)), progress=False)
    c = manifest["customers"]
    assert c["in_input"] == 2362 and c["scored"] == 2357
    assert c["excluded"] == {"after_observation_end": 3, "return": 1, "invalid_rows": 1}
    assert c["reconciled"] and c["in_input"] == c["scored"] + sum(c["excluded"].values())
    rows = manifest["rows"]
    assert rows["excluded"] == {"return": 1, "unparsable_date": 1, "after_observation_end": 1962}
    assert rows["used"] + sum(rows["excluded"].values()) == rows["read"] == len(log)
    assert manifest["input"]["files"][0]["rows"] == len(log) and manifest["input"]["files"][0]["bytes"] > 0
    assert set(manifest["timings_s"]) == {"read", "summary", "fit", "score", "write"}


def test_fit_then_score_equals_run(tmp_path, log, capsys):
    """`fit` writes only models; `score` reads them (no refit) and gives `run`'s scores exactly."""
    config = _config(tmp_path)
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        assert cli.main(["fit", config, "--no-progress"]) == 0
    out = tmp_path / "out"
    assert published_files(out) == ["models/bgnbd.json", "models/gamma_gamma.json", "models/manifest.json"]
    assert sorted(p.name for p in out.iterdir()) == [".clvmodels", "current", "manifest.json", "models"]
    assert json.loads((out / "manifest.json").read_text()) == json.loads((out / "models" / "manifest.json").read_text())
    fitted = json.loads((out / "models" / "manifest.json").read_text())
    assert fitted["command"] == "fit" and fitted["customers"]["fitted"] == 2357
    assert "fitted on 2,357 customers" in capsys.readouterr().out

    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        assert cli.main(["score", config, "--no-progress"]) == 0
    scored = json.loads((out / "manifest.json").read_text())
    assert scored["command"] == "score" and "fit" not in scored["timings_s"]
    assert published_files(out) == ["manifest.json", "models/bgnbd.json", "models/gamma_gamma.json",
                                    "models/manifest.json", "scores.csv", "scores.parquet"]
    assert scored["kept_from_previous"] == ["models/bgnbd.json", "models/gamma_gamma.json", "models/manifest.json"]
    assert scored["models"]["bgnbd"]["file"].endswith("models/bgnbd.json")

    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        assert cli.main(["run", _config(tmp_path, out="b"), "--no-progress"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "scores.parquet"), pd.read_parquet(tmp_path / "b" / "scores.parquet"))
    assert scored["models"]["bgnbd"]["params"] == json.loads((tmp_path / "b" / "manifest.json").read_text())[
        "models"]["bgnbd"]["params"]


def test_score_with_model_paths_and_wrong_models(tmp_path, log, capsys):
    config = _config(tmp_path)
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        fit(load_config(config), progress=False)
    models = tmp_path / "out" / "models"
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        assert cli.main(["score", config, "--no-progress", "--output-dir", str(tmp_path / "elsewhere"),
                         "--model", str(models / "bgnbd.json"), str(models / "gamma_gamma.json")]) == 0
    assert (tmp_path / "elsewhere" / "scores.parquet").is_file()
    assert cli.main(["score", config, "--model", str(models / "bgnbd.json")]) == 2
    assert "the config's models are ['bgnbd', 'gamma_gamma']" in capsys.readouterr().err
    assert cli.main(["score", config, "--output-dir", str(tmp_path / "none")]) == 2
    assert "clvmodels fit CONFIG" in capsys.readouterr().err


def test_chunked_scoring_changes_nothing_and_is_deterministic(tmp_path, log):
    """Chunks of 1,000 customers (intervals included) give the single-chunk numbers exactly."""
    extra = "predictions: {horizons: [52], intervals: {n_draws: 20, seed: 3}}\n"
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        run(load_config(_with(tmp_path, "a", extra + "engine: {chunk_size: 1000}\n")), progress=False)
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        run(load_config(_with(tmp_path, "b", extra + "engine: {chunk_size: 100000}\n")), progress=False)
    a, b = (pd.read_parquet(tmp_path / d / "scores.parquet") for d in "ab")
    pd.testing.assert_frame_equal(a, b)
    assert pq_row_groups(tmp_path / "a" / "scores.parquet") == 3
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "a" / "scores.csv", dtype={"customer_id": "str"}), a, check_dtype=False)
    first = {name: (tmp_path / "a" / name).read_bytes() for name in ("scores.parquet", "scores.csv")}
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        run(load_config(_with(tmp_path, "a", extra + "engine: {chunk_size: 1000}\n")), progress=False)
    assert first == {name: (tmp_path / "a" / name).read_bytes() for name in first}


def pq_row_groups(path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).num_row_groups


def test_failure_mid_write_keeps_previous_outputs(tmp_path, log, monkeypatch):
    """The writer raises after two chunks: the previous scores and models stay, no partial file,
    and the manifest says what failed and where."""
    import pyarrow.parquet as pq

    config = load_config(_config(tmp_path, "engine: {chunk_size: 1000}\n"))
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        run(config, progress=False)
    out = tmp_path / "out"
    generation = os.path.realpath(out / "current")
    before = {name: (out / "current" / name).read_bytes() for name in published_files(out)}
    real, calls = pq.ParquetWriter.write_table, []

    def dies_on_third_chunk(self, table, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return real(self, table, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", dies_on_third_chunk)
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning), pytest.raises(KeyboardInterrupt):
        run(config, progress=False)
    assert os.path.realpath(out / "current") == generation
    assert {name: (out / "current" / name).read_bytes() for name in published_files(out)} == before
    # nothing else is left: no partial generation, no temporary file
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and not p.is_symlink()}
    kept = os.path.relpath(generation, out)
    assert files == {".clvmodels/lock", ".clvmodels/failed/manifest.json", *(f"{kept}/{n}" for n in before)}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["failed_stage"] == "score" and "killed" in manifest["error"]
    assert json.loads((out / "current" / "manifest.json").read_text())["status"] == "succeeded"


def test_output_columns_and_calibration_end(tmp_path, log, capsys):
    extra = """\
        summary: {observation_period_end: 1997-09-30, calibration_period_end: 1997-06-30}
        output: {directory: %s, columns: [p_alive, clv]}
        """ % (tmp_path / "out")
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        manifest = run(load_config(_write(tmp_path, _config(tmp_path), extra)), progress=False)
    scores = pd.read_parquet(tmp_path / "out" / "scores.parquet")
    assert list(scores.columns) == ["customer_id", "p_alive", "clv"] and len(scores) == 2357
    assert manifest["summary"]["fit_observation_period_end"].startswith("1997-06-30")
    assert manifest["models"]["bgnbd"]["n_customers"] == 2357  # the cohort was acquired by March
    model = clvmodels.load_model(tmp_path / "out" / "models" / "bgnbd.json")
    full = clvmodels.rfm_summary(log.assign(date=pd.to_datetime(log["date"], errors="coerce")).dropna(),
                                 customer_id_col="customer_id", datetime_col="date",
                                 observation_period_end="1997-06-30")
    reference = clvmodels.BetaGeoModel().fit(full)
    np.testing.assert_allclose(model.params_, reference.params_, rtol=1e-9)

    bad = _write(tmp_path, _config(tmp_path), "output: {columns: [p_alive, clvv]}\n")
    assert cli.main(["run", bad]) == 2  # refused with the config, before any work
    assert "output.columns: 'clvv' is not a column of this job's scores" in capsys.readouterr().err


def _write(tmp_path, base: str, extra: str) -> str:
    """``base`` config with the sections in ``extra`` replacing its own."""
    import yaml

    raw = yaml.safe_load(open(base).read())
    for key, value in yaml.safe_load(textwrap.dedent(extra)).items():
        raw[key] = {**raw.get(key, {}), **value} if isinstance(value, dict) else value
    path = tmp_path / "merged.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def test_progress_lines_when_not_a_terminal(tmp_path, capsys):
    """Off a terminal the CLI logs stages and progress as plain lines on stderr."""
    path = tmp_path / "c.yaml"
    path.write_text(f"input: {{dataset: cdnow_sample}}\nsummary: {{observation_period_end: 1997-09-30}}\n"
                    f"output: {{directory: {tmp_path / 'out'}}}\n")
    assert cli.main(["run", str(path)]) == 0
    err = capsys.readouterr().err
    assert "score: 2,357/2,357 customers (100%)" in err and "ETA" in err and "fit done in" in err
    assert "\r" not in err
    assert cli.main(["run", str(path), "--progress"]) == 0  # the bar, as on a terminal: rate and ETA
    bar = capsys.readouterr().err
    assert "2.36k/2.36k [" in bar and "customer/s]" in bar and "<00:00" in bar


def test_help_lists_the_stages(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    text = capsys.readouterr().out
    for word in ("fit", "score", "--model", "configs/batch_example.yaml", "exit codes", "Dask".lower()):
        assert word in text
    with pytest.raises(SystemExit):
        cli.main(["score", "--help"])
    text = capsys.readouterr().out
    assert "--model PATH" in text and "no refit" in text
