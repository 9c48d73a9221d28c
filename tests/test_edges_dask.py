"""The Dask engine keeps the input promises of the pandas engine: ids as text across files of
different id types, exact duplicate rows counted and dropped the same way, and a customer listed
in two summary files refused (the engine used to score them twice)."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import cli

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _config(tmp_path, path, out: str, engine: str, input_extra: str = "") -> str:
    cfg = tmp_path / f"{out}.yaml"
    cfg.write_text(textwrap.dedent(f"""\
        input: {{path: "{path}"{input_extra}}}
        summary: {{observation_period_end: 1997-09-30}}
        models: [bgnbd]
        output: {{directory: "{tmp_path / out}"}}
        engine: {engine}
        """))
    return str(cfg)


def _scores(directory) -> pd.DataFrame:
    return pd.read_parquet(directory / "scores.parquet").sort_values("customer_id", ignore_index=True)


def test_dask_ids_and_duplicates_match_pandas(tmp_path, scheduler, capsys):
    """Int ids in one Parquet file and text ids in another, every row of one file delivered twice
    inside another: with drop_duplicates both engines count the same duplicates, exclude the same
    rows and give the same scores, each customer once, ids as text."""
    tx = clvmodels.datasets.load_cdnow_transactions()[["customer_id", "date", "amount"]].drop_duplicates()
    (tmp_path / "in").mkdir()
    tx.iloc[::2].to_parquet(tmp_path / "in" / "a.parquet")  # int64 ids
    odd = tx.iloc[1::2].astype({"customer_id": str})
    pd.concat([odd, odd.iloc[:300]]).to_parquet(tmp_path / "in" / "b.parquet")  # text ids, 300 repeated rows
    extra = ", filters: {drop_duplicates: true}"
    dask = f"{{type: dask, scheduler: '{scheduler}', partitions: 3}}"
    assert cli.main(["run", _config(tmp_path, tmp_path / "in", "pandas", "{type: pandas}", extra),
                     "--no-progress"]) == 0
    assert cli.main(["run", _config(tmp_path, tmp_path / "in", "dask", dask, extra), "--no-progress"]) == 0
    capsys.readouterr()
    expected, got = (json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("pandas", "dask"))
    assert got["rows"] == expected["rows"] and got["rows"]["duplicates"] == 300
    assert got["rows"]["excluded"]["duplicate_row"] == 300
    assert got["customers"] == expected["customers"] and got["customers"]["scored"] == 2357
    a, b = _scores(tmp_path / "pandas"), _scores(tmp_path / "dask")
    assert (a["customer_id"] == b["customer_id"]).all() and b["customer_id"].is_unique
    assert sorted(b["customer_id"])[:2] == ["1", "10"]
    np.testing.assert_allclose(b.iloc[:, 1:].to_numpy(), a.iloc[:, 1:].to_numpy(), rtol=1e-9, atol=1e-12)


def test_dask_refuses_a_customer_in_two_summary_files(tmp_path, scheduler, capsys):
    """A customer listed in two summary files stops the Dask job (exit 2) as it stops the pandas one."""
    tx = clvmodels.datasets.load_cdnow_transactions()
    s = clvmodels.rfm_summary(tx, customer_id_col="customer_id", datetime_col="date",
                              observation_period_end="1997-09-30").reset_index()
    (tmp_path / "in").mkdir()
    s.iloc[:1000].to_parquet(tmp_path / "in" / "a.parquet")
    s.iloc[999:].to_parquet(tmp_path / "in" / "b.parquet")  # customer of row 999 in both
    dask = f"{{type: dask, scheduler: '{scheduler}'}}"
    for engine, out in (("{type: pandas}", "p"), (dask, "d")):
        config = _config(tmp_path, tmp_path / "in", out, engine, ", kind: summary, monetary_value: null")
        assert cli.main(["run", config, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "more than once" in err and f"'{s['customer_id'][999]}'" in err and "Traceback" not in err
        assert not (tmp_path / out / "scores.parquet").exists()


def test_dask_refuses_padded_text_ids_equal_to_integer_ids_and_strips_spaces(tmp_path, scheduler, capsys):
    """Like the pandas engine: int 4 in one Parquet file and '00004' in another stop the job naming
    both files; ids padded with spaces are stripped, and the stripped and merged ids are counted the
    same way in the manifest."""
    tx = clvmodels.datasets.load_cdnow_transactions()[["customer_id", "date", "amount"]].drop_duplicates()
    (tmp_path / "in").mkdir()
    multi = int(tx["customer_id"].value_counts().pipe(lambda c: c[c > 1]).index.min())
    rows = tx.index[tx["customer_id"] == multi]
    tx.drop(rows[1:]).to_parquet(tmp_path / "in" / "a.parquet")
    tx.loc[rows[1:]].assign(customer_id=f"{multi:05d}").to_parquet(tmp_path / "in" / "b.parquet")
    dask = f"{{type: dask, scheduler: '{scheduler}', partitions: 3}}"
    assert cli.main(["run", _config(tmp_path, tmp_path / "in", "d1", dask), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "a.parquet" in err and "b.parquet" in err and f"'{multi:05d}'" in err and "customer_id_dtype" in err
    padded = tx.astype({"customer_id": str})
    padded.loc[padded.index[::2], "customer_id"] = " " + padded["customer_id"] + " "
    padded.to_csv(tmp_path / "spaced.csv", index=False)
    for engine, out in (("{type: pandas}", "p"), (dask, "d")):
        assert cli.main(["run", _config(tmp_path, tmp_path / "spaced.csv", out, engine), "--no-progress"]) == 0
    capsys.readouterr()
    expected, got = (json.loads((tmp_path / d / "manifest.json").read_text()) for d in ("p", "d"))
    assert got["input"]["ids_stripped"] == expected["input"]["ids_stripped"] > 1000
    assert got["input"]["ids_merged"] == expected["input"]["ids_merged"] > 1000
    assert got["customers"]["scored"] == expected["customers"]["scored"] == 2357


def test_dask_reads_dst_offsets_and_refuses_parquet_files_of_two_zones(tmp_path, scheduler, capsys):
    """Dates of one zone with summer and winter offsets are read as in the pandas engine (same
    scores); a Parquet file of naive dates beside one of Europe/Berlin dates is refused naming both."""
    tx = clvmodels.datasets.load_cdnow_transactions()[["customer_id", "date", "amount"]]
    aware = tx["date"].dt.tz_localize("Europe/Berlin")
    tx.assign(date=aware.map(lambda t: t.isoformat())).to_csv(tmp_path / "dst.csv", index=False)
    dask = f"{{type: dask, scheduler: '{scheduler}', partitions: 3}}"
    for engine, out in (("{type: pandas}", "p"), (dask, "d")):
        assert cli.main(["run", _config(tmp_path, tmp_path / "dst.csv", out, engine), "--no-progress"]) == 0
    np.testing.assert_allclose(_scores(tmp_path / "d").iloc[:, 1:].to_numpy(),
                               _scores(tmp_path / "p").iloc[:, 1:].to_numpy(), rtol=1e-9, atol=1e-12)
    (tmp_path / "in").mkdir()
    tx.iloc[::2].assign(date=aware.iloc[::2]).to_parquet(tmp_path / "in" / "a.parquet")
    tx.iloc[1::2].to_parquet(tmp_path / "in" / "b.parquet")
    capsys.readouterr()
    assert cli.main(["run", _config(tmp_path, tmp_path / "in", "d2", dask), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "a.parquet" in err and "b.parquet" in err and "Europe/Berlin" in err and "Traceback" not in err
