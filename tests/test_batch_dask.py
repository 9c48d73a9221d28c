"""The Dask engine on a ``distributed.LocalCluster`` with 2 workers gives the pandas engine's
summary, fit, scores and accounting (to 1e-9) on the same partitioned input."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import cli
from clvmodels.batch import load_config, run

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture
def log_dir(tmp_path):
    """The CDNOW sample in 3 shuffled Parquet files, with a return, an unparsable date and
    customers seen only after the observation end."""
    tx = clvmodels.datasets.load_cdnow_transactions()[["customer_id", "date", "amount"]]
    extra = pd.DataFrame({"customer_id": [90001, 90002, 90004, 90005],
                          "date": pd.to_datetime(["1997-11-01", "1997-12-01", "1997-03-01", "1997-03-02"]),
                          "amount": [10.0, 20.0, -15.0, 12.0]})
    tx = pd.concat([tx, extra], ignore_index=True)
    tx.loc[tx.index[::500], "amount"] = -1.0
    tx["date"] = tx["date"].dt.strftime("%Y%m%d")
    tx.loc[tx["customer_id"] == 90005, "date"] = "1997-03-02x"
    shuffled = tx.sample(frac=1, random_state=1)
    (tmp_path / "tx").mkdir()
    for i in range(3):
        shuffled.iloc[i::3].to_parquet(tmp_path / "tx" / f"part-{i}.parquet")
    return tmp_path / "tx"


def _config(tmp_path, log_dir, out: str, engine: str, extra: str = "",
            summary: str = "{observation_period_end: 1997-09-30}") -> str:
    path = tmp_path / f"{out}.yaml"
    path.write_text(textwrap.dedent(f"""\
        input:
          path: {log_dir}
          datetime_format: "%Y%m%d"
          on_invalid: exclude
          filters: {{exclude_returns: true}}
        summary: {summary}
        models: [bgnbd, {{name: gamma_gamma, options: {{on_nonpositive: exclude}}}}]
        predictions: {{horizons: [26, 52], intervals: {{n_draws: 20, seed: 5}}}}
        output: {{directory: {tmp_path / out}}}
        engine: {engine}
        """) + textwrap.dedent(extra))
    return str(path)


def _sorted_scores(directory) -> pd.DataFrame:
    return pd.read_parquet(directory / "scores.parquet").sort_values("customer_id", ignore_index=True)


def test_dask_equals_pandas(tmp_path, log_dir, scheduler):
    dask_engine = f"{{type: dask, scheduler: '{scheduler}', partitions: 3, chunk_size: 1000}}"
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        expected = run(load_config(_config(tmp_path, log_dir, "pandas", "{type: pandas}")), progress=False)
    got = run(load_config(_config(tmp_path, log_dir, "dask", dask_engine)), progress=False)
    a, b = _sorted_scores(tmp_path / "pandas"), _sorted_scores(tmp_path / "dask")
    assert list(a.columns) == list(b.columns) and (a["customer_id"] == b["customer_id"]).all()
    # frequency, recency, T, monetary_value (the summary) and every score column
    np.testing.assert_allclose(b.iloc[:, 1:].to_numpy(), a.iloc[:, 1:].to_numpy(), rtol=1e-9, atol=1e-12)
    for name in ("bgnbd", "gamma_gamma"):
        e, g = expected["models"][name], got["models"][name]
        assert g["params"] == pytest.approx(e["params"], rel=1e-9)
        assert g["log_likelihood"] == pytest.approx(e["log_likelihood"], rel=1e-12)
        assert g["excluded_from_fit"] == e["excluded_from_fit"] and g["n_customers"] == e["n_customers"]
    assert got["rows"] == expected["rows"] and got["customers"] == expected["customers"]
    assert got["customers"]["excluded"]["invalid_rows"] == 1 and got["customers"]["reconciled"]
    print(got["timings_s"])
    assert got["engine"] == "dask" and got["versions"]["distributed"]
    assert [f["rows"] for f in got["input"]["files"]] == [f["rows"] for f in expected["input"]["files"]]


def test_dask_fit_then_score_with_calibration(tmp_path, log_dir, scheduler, capsys):
    """`fit` on the cluster to a calibration end, `score` with the saved models: the pandas numbers."""
    summary = "{observation_period_end: 1997-09-30, calibration_period_end: 1997-06-30}"
    dask_engine = f"{{type: dask, scheduler: '{scheduler}'}}"
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        expected = run(load_config(_config(tmp_path, log_dir, "pandas", "{type: pandas}", summary=summary)), progress=False)
    config = _config(tmp_path, log_dir, "dask", dask_engine, summary=summary)
    assert cli.main(["fit", config, "--no-progress"]) == 0
    fitted = json.loads((tmp_path / "dask" / "models" / "manifest.json").read_text())
    assert fitted["summary"]["fit_observation_period_end"].startswith("1997-06-30")
    assert fitted["models"]["bgnbd"]["params"] == pytest.approx(expected["models"]["bgnbd"]["params"], rel=1e-9)
    assert cli.main(["score", config, "--no-progress"]) == 0
    a, b = _sorted_scores(tmp_path / "pandas"), _sorted_scores(tmp_path / "dask")
    np.testing.assert_allclose(b.iloc[:, 1:].to_numpy(), a.iloc[:, 1:].to_numpy(), rtol=1e-9, atol=1e-12)


def test_dask_summary_input_and_bad_rows(tmp_path, log_dir, scheduler, capsys):
    summary = clvmodels.rfm_summary(clvmodels.datasets.load_cdnow_transactions(), customer_id_col="customer_id",
                                    datetime_col="date", observation_period_end="1997-09-30")
    (tmp_path / "summary").mkdir()
    summary.reset_index().iloc[:1000].to_parquet(tmp_path / "summary" / "a.parquet")
    summary.reset_index().iloc[1000:].to_parquet(tmp_path / "summary" / "b.parquet")
    config = tmp_path / "s.yaml"
    config.write_text(f"input: {{kind: summary, path: {tmp_path / 'summary'}, monetary_value: null}}\n"
                      f"summary: {{time_unit: W}}\nmodels: [bgnbd]\noutput: {{directory: {tmp_path / 's'}}}\n"
                      f"engine: {{type: dask, scheduler: '{scheduler}'}}\n")
    manifest = run(load_config(config), progress=False)
    reference = clvmodels.BetaGeoModel().fit(summary)
    assert manifest["models"]["bgnbd"]["params"] == pytest.approx(reference.params_.to_dict(), rel=1e-9)
    scores = pd.read_parquet(tmp_path / "s" / "scores.parquet").set_index("customer_id")
    scores.index = scores.index.astype(int)  # the job reads ids as text (input.customer_id_dtype)
    np.testing.assert_allclose(scores["p_alive"], reference.probability_alive(summary).loc[scores.index], rtol=1e-9)

    strict = _config(tmp_path, log_dir, "strict", f"{{type: dask, scheduler: '{scheduler}'}}")
    with open(strict) as f:
        text = f.read().replace("on_invalid: exclude", "on_invalid: raise")
    with open(strict, "w") as f:
        f.write(text)
    assert cli.main(["run", strict]) == 2
    err = capsys.readouterr().err
    assert "must parse with format '%Y%m%d'" in err and "Traceback" not in err


def test_dask_refuses_non_rfm_models(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("input: {dataset: cdnow_sample}\nmodels: [bgbb]\nengine: {type: dask}\n")
    with pytest.raises(clvmodels.exceptions.ConfigError, match="engine type 'dask' runs the RFM summary"):
        load_config(config)
