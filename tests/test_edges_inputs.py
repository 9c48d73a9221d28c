"""Edges of a job's input: every file read or refused by name, customer ids that keep their
identity, duplicated files and rows, clear messages for bad files, and one validated input path
for every stage (the KPIs included)."""

from __future__ import annotations

import json
import logging
import textwrap

import numpy as np
import pandas as pd
import pytest
import yaml

import clvmodels
from clvmodels import cli, rfm_summary
from clvmodels.data.ids import normalise_ids
from clvmodels.exceptions import InvalidValueError

ROWS = [  # customer, date, amount: ids with leading zeros that must stay distinct from '1'
    ("00001", "1997-01-01", 10.0), ("00001", "1997-01-20", 12.0), ("1", "1997-01-02", 5.0),
    ("1", "1997-02-01", 7.0), ("A7", "1997-01-05", 3.0), ("2", "1997-01-06", 4.0), ("2", "1997-02-10", 9.0),
]
N = 2357 + 4  # customers of the log with the test rows


def _base() -> pd.DataFrame:
    """The CDNOW sample (ids 'c1'..., exact duplicate rows dropped), dates as text: data that
    identify a BG/NBD fit; tests add their own rows."""
    tx = clvmodels.datasets.load_cdnow_transactions()[["customer_id", "date", "amount"]].drop_duplicates()
    return pd.DataFrame({"customer_id": "c" + tx["customer_id"].astype(str), "date": tx["date"].dt.strftime("%Y-%m-%d"),
                         "amount": tx["amount"]}).reset_index(drop=True)


BASE = _base()


def _tx(rows=ROWS) -> pd.DataFrame:
    """The seeded log, then the test's own rows."""
    return pd.concat([BASE, pd.DataFrame(rows, columns=["customer_id", "date", "amount"])], ignore_index=True)


def _special(frame: pd.DataFrame) -> list:
    return sorted(c for c in frame["customer_id"] if not str(c).startswith("c"))


def _config(tmp_path, path, input_extra: str = "", extra: str = "") -> str:
    """A run config on ``path``; ``input_extra`` adds input keys, ``extra`` replaces top-level sections."""
    raw = {"input": {"path": str(path), **(yaml.safe_load(textwrap.dedent(input_extra)) or {})},
           "summary": {"observation_period_end": "1997-09-30"}, "models": ["bgnbd"],
           "output": {"directory": str(tmp_path / "out"), "formats": ["parquet", "csv"]}}
    raw.update(yaml.safe_load(textwrap.dedent(extra)) or {})
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(raw))
    return str(cfg)


def _run(tmp_path, path, capsys, input_extra: str = "", extra: str = "") -> tuple[int, str]:
    code = cli.main(["run", _config(tmp_path, path, input_extra, extra), "--no-progress"])
    return code, capsys.readouterr().err


def _manifest(tmp_path) -> dict:
    return json.loads((tmp_path / "out" / "manifest.json").read_text())


def _scores(tmp_path) -> pd.DataFrame:
    return pd.read_parquet(tmp_path / "out" / "scores.parquet")


# -- 1. directory inputs --------------------------------------------------------------------------

def test_directory_reads_every_file_and_lists_skipped_markers(tmp_path, capsys):
    """A directory's files without a suffix are sniffed (CSV or Parquet magic) and read, a zero-byte
    `_SUCCESS` marker and a hidden file are skipped and listed with the reason, and the manifest
    lists every file read with its rows: no customer lost."""
    d = tmp_path / "in"
    d.mkdir()
    tx = _tx()
    tx.iloc[:300].to_csv(d / "part-00000", index=False)
    tx.iloc[300:600].to_csv(d / "part-00001", index=False)
    tx.iloc[600:].to_csv(d / "part-00002.csv", index=False)
    (d / "_SUCCESS").write_text("")
    (d / ".part-00000.crc").write_text("junk")
    code, err = _run(tmp_path, d, capsys)
    assert code == 0, err
    m = _manifest(tmp_path)
    files = m["input"]["files"]
    assert [f["path"].rsplit("/", 1)[-1] for f in files] == ["part-00000", "part-00001", "part-00002.csv"]
    assert [f["rows"] for f in files] == [300, 300, len(tx) - 600] and all(len(f["sha256"]) == 64 for f in files)
    assert sorted(s["path"].rsplit("/", 1)[-1] for s in m["input"]["skipped"]) == [".part-00000.crc", "_SUCCESS"]
    assert all("starts with '.' or '_'" in s["reason"] for s in m["input"]["skipped"])
    assert _special(_scores(tmp_path)) == ["00001", "1", "2", "A7"]
    assert m["customers"]["in_input"] == m["customers"]["scored"] == len(_scores(tmp_path)) == N


def test_parquet_without_suffix_is_sniffed(tmp_path, capsys):
    """Parquet files named like Spark's `part-00000` (no suffix) are recognised by their magic bytes."""
    d = tmp_path / "in"
    d.mkdir()
    _tx().iloc[:400].to_parquet(d / "part-00000")
    _tx().iloc[400:].to_parquet(d / "part-00001")
    code, err = _run(tmp_path, d, capsys)
    assert code == 0, err
    assert [f["format"] for f in _manifest(tmp_path)["input"]["files"]] == ["parquet", "parquet"]
    assert len(_scores(tmp_path)) == N


@pytest.mark.parametrize("name", ["x.tsv", "x.csv.1", "export.json"])
def test_unknown_suffix_is_refused_by_name(tmp_path, capsys, name):
    """A file whose suffix names no known format stops the job (exit 2) naming it and input.format,
    instead of being skipped while its customers go unscored."""
    d = tmp_path / "in"
    d.mkdir()
    _tx().iloc[:400].to_csv(d / "a.csv", index=False)
    _tx().iloc[400:].to_csv(d / name, index=False)
    code, err = _run(tmp_path, d, capsys)
    assert code == 2 and name in err and "input.format" in err and "Traceback" not in err
    assert not (tmp_path / "out" / "scores.parquet").exists()


def test_unknown_suffix_is_read_with_explicit_format(tmp_path, capsys):
    """With input.format: csv every file under the directory is read as CSV, whatever its name."""
    d = tmp_path / "in"
    d.mkdir()
    _tx().iloc[:400].to_csv(d / "a.csv", index=False)
    _tx().iloc[400:].to_csv(d / "a.csv.1", index=False)
    code, err = _run(tmp_path, d, capsys, "format: csv")
    assert code == 0, err
    assert _manifest(tmp_path)["input"]["rows"] == len(_tx()) and len(_scores(tmp_path)) == N


# -- 2. customer ids ------------------------------------------------------------------------------

def test_csv_ids_keep_leading_zeros(tmp_path, capsys):
    """'00001' and '1' are two customers (ids are text by default), in the scores and both outputs."""
    _tx().to_csv(tmp_path / "tx.csv", index=False)
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys)
    assert code == 0, err
    scores = _scores(tmp_path)
    assert _special(scores) == ["00001", "1", "2", "A7"]
    csv = pd.read_csv(tmp_path / "out" / "scores.csv", dtype={"customer_id": "str"})
    assert _special(csv) == ["00001", "1", "2", "A7"]
    assert scores.set_index("customer_id").loc["00001", "frequency"] == 1


def test_int_and_text_ids_across_parquet_files_are_one_customer_each(tmp_path, capsys):
    """An int id in one Parquet file and the same id as text in another are one customer (as if
    all ids were text): the customer's purchases are not split in two and nothing crashes."""
    d = tmp_path / "in"
    d.mkdir()
    numbers = BASE.assign(customer_id=BASE["customer_id"].str[1:].astype(int))  # ints 1..2357
    pd.concat([numbers.iloc[::2], pd.DataFrame({"customer_id": [9007], "date": ["1997-01-01"], "amount": [1.0]})]) \
        .to_parquet(d / "a.parquet")
    pd.concat([numbers.iloc[1::2].astype({"customer_id": str}),
               pd.DataFrame({"customer_id": ["9007"], "date": ["1997-02-01"], "amount": [3.0]})]) \
        .to_parquet(d / "b.parquet")
    code, err = _run(tmp_path, d, capsys)
    assert code == 0, err
    scores = _scores(tmp_path).set_index("customer_id")
    assert len(scores) == 2358 and scores.index.is_unique and scores.loc["9007", "frequency"] == 1
    observed = BASE[BASE["date"] <= "1997-09-30"]
    expected = observed.groupby(observed["customer_id"].str[1:])["date"].nunique() - 1
    pd.testing.assert_series_equal(scores["frequency"].drop("9007").sort_index(), expected.sort_index().astype(float),
                                   check_names=False)


def test_integer_mode_refuses_text_ids_with_examples(tmp_path, capsys):
    """With customer_id_dtype: integer, ids that are not whole numbers stop the job naming the
    column, the count and examples."""
    _tx().to_csv(tmp_path / "tx.csv", index=False)
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys, "customer_id_dtype: integer")
    assert code == 2 and "'customer_id'" in err and f"{len(_tx()) - 6} of {len(_tx())}" in err and "'c1'" in err and "Traceback" not in err


def test_integer_mode_merges_zero_padded_ids(tmp_path, capsys):
    """With customer_id_dtype: integer, '00001' and '1' are the same customer 1, scored once."""
    tx = _tx([r for r in ROWS if r[0] != "A7"])
    tx.assign(customer_id=tx["customer_id"].str.replace("c", "9000", regex=False)).to_csv(tmp_path / "tx.csv",
                                                                                          index=False)
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys, "customer_id_dtype: integer")
    assert code == 0, err
    scores = _scores(tmp_path).set_index("customer_id")
    assert len(scores) == 2359 and scores.index.is_unique and pd.api.types.is_integer_dtype(scores.index.dtype)
    assert scores.loc[1, "frequency"] == 3 and scores.loc[2, "frequency"] == 1


def test_rfm_summary_keeps_user_dtype_but_refuses_mixed_kinds():
    """The API keeps the id dtype a user passes (ints stay ints), and refuses an object column that
    mixes ints and strings with a message naming the column and both kinds."""
    tx = pd.DataFrame(ROWS, columns=["customer_id", "date", "amount"]).assign(customer_id=[1, 1, 2, 2, 3, 4, 4])
    s = rfm_summary(tx, customer_id_col="customer_id", datetime_col="date")
    assert s.index.tolist() == [1, 2, 3, 4]
    mixed = tx.assign(customer_id=pd.Series([1, "1", 2, 2, "3", 4, 4], dtype=object))
    with pytest.raises(InvalidValueError, match=r"'customer_id' mixes kinds of customer id .*int.*str|str.*int"):
        rfm_summary(mixed, customer_id_col="customer_id", datetime_col="date")


def test_normalise_ids_modes():
    """Text mode turns integers into their decimal text and keeps missing ids missing; integer mode
    reads whole-number text and refuses fractions."""
    assert normalise_ids(pd.Series([7, 10]), column="c").tolist() == ["7", "10"]
    out = normalise_ids(pd.Series(["007", None]), column="c")
    assert out.iloc[0] == "007" and pd.isna(out.iloc[1])
    assert normalise_ids(pd.Series([" 007", "8"]), "integer", column="c").tolist() == [7, 8]
    with pytest.raises(InvalidValueError, match="not whole numbers"):
        normalise_ids(pd.Series([1.5, 2.0]), "integer", column="c")


# -- 3. duplicates --------------------------------------------------------------------------------

def test_identical_files_are_refused_naming_both(tmp_path, capsys):
    """A directory holding the same content twice (a copy) is refused, naming both files: the
    spend would otherwise double."""
    d = tmp_path / "in"
    d.mkdir()
    _tx().to_csv(d / "a.csv", index=False)
    (d / "a-copy.csv").write_bytes((d / "a.csv").read_bytes())
    code, err = _run(tmp_path, d, capsys)
    assert code == 2 and "a.csv" in err and "a-copy.csv" in err and "same content" in err
    code, err = _run(tmp_path, f"{d}/a*.csv", capsys)  # a glob matching a file and its copy
    assert code == 2 and "same content" in err


def test_duplicate_rows_are_counted_warned_and_optionally_dropped(tmp_path, capsys, caplog):
    """Every row repeated: the manifest counts the duplicates and a warning is logged (and kept in
    the manifest); with drop_duplicates: false they are kept without a warning; with true they are excluded (reason duplicate_row) and the scores equal those of
    the data without the copies, every customer scored once."""
    _tx().to_csv(tmp_path / "once.csv", index=False)
    code, err = _run(tmp_path, tmp_path / "once.csv", capsys)
    assert code == 0, err
    once = _scores(tmp_path)
    assert _manifest(tmp_path)["rows"]["duplicates"] == 0
    pd.concat([_tx(), _tx()]).to_csv(tmp_path / "twice.csv", index=False)
    with caplog.at_level(logging.WARNING, logger="clvmodels.batch"):
        code, err = _run(tmp_path, tmp_path / "twice.csv", capsys)
    assert code == 0, err
    assert f"{len(_tx())} input rows repeat an earlier row exactly" in caplog.text and "drop_duplicates" in caplog.text
    m = _manifest(tmp_path)
    assert m["rows"]["duplicates"] == len(_tx()) and "duplicate_row" not in m["rows"]["excluded"]
    assert any("repeat an earlier row exactly" in w["message"] for w in m["warnings"])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="clvmodels.batch"):  # false: real repeated orders, kept quietly
        code, err = _run(tmp_path, tmp_path / "twice.csv", capsys, "filters: {drop_duplicates: false}")
    assert code == 0, err
    m = _manifest(tmp_path)
    assert "repeat an earlier row" not in caplog.text and "warnings" not in m
    assert m["rows"]["duplicates"] == len(_tx()) and "duplicate_row" not in m["rows"]["excluded"]
    code, err = _run(tmp_path, tmp_path / "twice.csv", capsys, "filters: {drop_duplicates: true}")
    assert code == 0, err
    m = _manifest(tmp_path)
    assert m["rows"]["duplicates"] == len(_tx()) and m["rows"]["excluded"]["duplicate_row"] == len(_tx())
    assert m["rows"]["used"] + sum(m["rows"]["excluded"].values()) == 2 * len(_tx()) and m["customers"]["reconciled"]
    pd.testing.assert_frame_equal(_scores(tmp_path), once)


def test_summary_listing_a_customer_in_two_files_is_refused(tmp_path, capsys):
    """A precomputed summary split over two files that both list a customer is refused (exit 2)."""
    d = tmp_path / "in"
    d.mkdir()
    s = rfm_summary(_tx(), customer_id_col="customer_id", datetime_col="date", monetary_value_col="amount",
                    observation_period_end="1997-09-30").reset_index()
    first = s.index[s["customer_id"] == "1"][0]
    s.iloc[:first + 1].to_parquet(d / "a.parquet")
    s.iloc[first:].to_parquet(d / "b.parquet")
    code, err = _run(tmp_path, d, capsys, "{kind: summary, monetary_value: monetary_value}")
    assert code == 2 and "more than once" in err and "'1'" in err


# -- 5. clear messages ----------------------------------------------------------------------------

@pytest.mark.parametrize(("sep", "words"), [(";", "';'"), ("\t", "a tab"), ("|", "'|'")])
def test_other_separator_is_named(tmp_path, capsys, sep, words):
    """A CSV written with another separator gets a message saying so and how to fix it."""
    _tx().to_csv(tmp_path / "tx.csv", index=False, sep=sep)
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys)
    assert code == 2 and f"seems to use {words} as its separator" in err and "Parquet" in err


def test_repeated_column_name_is_refused(tmp_path, capsys):
    """Two header columns named 'amount' stop the job naming the column (pandas would rename one)."""
    (tmp_path / "tx.csv").write_text("customer_id,date,amount,amount\n1,2020-01-01,5,6\n1,2020-01-09,5,6\n")
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys)
    assert code == 2 and "'amount' more than once" in err and "Traceback" not in err


def test_overflowing_amounts_are_refused(tmp_path, capsys):
    """Amounts that add up beyond the largest float stop the job with a message, not inf scores
    (refused at input validation: magnitudes above 1e15, whatever on_invalid says)."""
    rows = [("1", "1997-01-01", 1e308), ("1", "1997-01-05", 1e308), ("1", "1997-01-05", 1.5e308)]
    _tx(rows).to_csv(tmp_path / "tx.csv", index=False)
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys, extra="models: [bgnbd, gamma_gamma]\n")
    assert code == 2 and "'amount'" in err and "must not exceed 1e+15" in err and "3 of" in err
    assert not (tmp_path / "out" / "scores.parquet").exists()


def test_calibration_end_before_the_data_is_named(tmp_path, capsys):
    """summary.calibration_period_end before the first transaction names that key."""
    _tx().to_csv(tmp_path / "tx.csv", index=False)
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys, extra=(
        "summary: {observation_period_end: 1997-09-30, calibration_period_end: 1996-06-30}\n"))
    assert code == 2 and "summary.calibration_period_end" in err and "before the first transaction" in err


# -- 7. one input path ----------------------------------------------------------------------------

def test_kpis_use_the_inputs_date_format_and_exclusions(tmp_path, capsys):
    """A run with a kpis section on integer dates (datetime_format '%Y%m%d') and on_invalid:
    exclude with a bad row succeeds (exit 0): the KPI stage sees the rows the summary used, and
    the KPI tables' customers are the scores' customers."""
    tx = BASE.assign(date=BASE["date"].str.replace("-", "").astype(int))
    tx = pd.concat([tx, pd.DataFrame({"customer_id": ["c1"], "date": [19971399], "amount": [5.0]})])
    tx.to_csv(tmp_path / "tx.csv", index=False)
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        code, err = _run(tmp_path, tmp_path / "tx.csv", capsys, '{datetime_format: "%Y%m%d", on_invalid: exclude}',
                         extra="models: [bgnbd, {name: gamma_gamma, options: {on_nonpositive: exclude}}]\n"
                               "kpis: {period: M}\n")
    assert code == 0, err
    m = _manifest(tmp_path)
    late = int((BASE["date"] > "1997-09-30").sum())
    assert m["rows"]["excluded"] == {"after_observation_end": late, "unparsable_date": 1}
    retention = pd.read_csv(tmp_path / "out" / "kpis" / "retention.csv")
    assert len(retention) == 9  # January to September 1997
    segments = pd.read_csv(tmp_path / "out" / "kpis" / "customer_segments.csv", dtype={"customer_id": "str"})
    assert len(segments) == 2357 and set(segments["customer_id"]) == set(_scores(tmp_path)["customer_id"])


# -- ids of different kinds across files, ids padded with spaces (issue 12, breaks 5 and 9) --------

def test_zero_padded_text_id_equal_to_an_integer_id_in_another_file_is_refused(tmp_path, capsys):
    """Customer 4 as int64 in a.parquet and '00004' as text in b.parquet: read as text they would be
    two customers, silently; the job stops (exit 2) naming both files, the count, an example and
    both remedies. With customer_id_dtype: integer they are one customer."""
    d = tmp_path / "in"
    d.mkdir()
    numbers = BASE.assign(customer_id=BASE["customer_id"].str[1:].astype(int))
    counts = numbers["customer_id"].value_counts()
    who = int(counts[counts > 1].index.min())  # a customer with several rows
    in_a = (numbers["customer_id"] % 2 == 1) & (numbers["customer_id"] != who)
    in_a[numbers.index[numbers["customer_id"] == who][0]] = True
    numbers[in_a].to_parquet(d / "a.parquet")  # int64 ids, one row of customer `who`
    text = numbers[~in_a].astype({"customer_id": str})
    text.loc[text["customer_id"] == str(who), "customer_id"] = f"{who:05d}"  # the others, zero-padded
    text.to_parquet(d / "b.parquet")
    code, err = _run(tmp_path, d, capsys)
    assert code == 2 and "Traceback" not in err
    assert "a.parquet" in err and "b.parquet" in err and "1 text id(s)" in err and f"'{who:05d}'" in err
    assert "input.customer_id_dtype: integer" in err and "fix the job that writes" in err
    code, err = _run(tmp_path, d, capsys, "customer_id_dtype: integer")
    assert code == 0, err
    assert len(_scores(tmp_path)) == 2357


def test_ids_with_surrounding_spaces_are_stripped_counted_and_merged(tmp_path, capsys, caplog):
    """' c4' and 'c4' are one customer: spaces around an id are stripped, the changed ids and the
    merged customers are counted in the manifest and named in a warning."""
    tx = BASE.copy()
    tx.loc[tx.index[::2], "customer_id"] = " " + tx["customer_id"]  # half the rows padded
    tx.loc[tx.index[1], "customer_id"] = "c9999 "  # padded, no unpadded twin
    tx.to_csv(tmp_path / "tx.csv", index=False)
    with caplog.at_level(logging.WARNING, logger="clvmodels"):
        code, err = _run(tmp_path, tmp_path / "tx.csv", capsys)
    assert code == 0, err
    scores = _scores(tmp_path)
    assert not scores["customer_id"].str.contains(" ").any() and "c9999" in set(scores["customer_id"])
    padded = tx["customer_id"][tx["customer_id"].str.contains(" ")]
    merged = padded.str.strip()[padded.str.strip().isin(tx["customer_id"])].nunique()
    m = _manifest(tmp_path)
    assert m["input"]["ids_stripped"] == padded.nunique() and m["input"]["ids_merged"] == merged > 1000
    assert len(scores) == tx["customer_id"].str.strip().nunique()
    assert any(f"{padded.nunique()} customer id(s)" in r.message and "merged" in r.message for r in caplog.records)


# -- amounts: huge, all zero, negative (issue 12, breaks 27, 28, 29) -----------------------------

SPEND = "models: [bgnbd, {name: gamma_gamma, options: {on_nonpositive: exclude}}]"


@pytest.mark.parametrize(("scale", "fmt", "on_invalid"), [(1e200, "csv", "raise"), (1e300, "parquet", "exclude")])
def test_huge_amounts_are_refused_at_input_validation(tmp_path, capsys, scale, fmt, on_invalid):
    """Amounts of 1e200 (or x1e300) used to end in a Gamma-Gamma non-convergence; the input check
    refuses them naming the column, the count, examples and the remedy (units), even with exclude."""
    tx = BASE.assign(amount=BASE["amount"] * scale + scale)
    path = tmp_path / f"tx.{fmt}"
    tx.to_csv(path, index=False) if fmt == "csv" else tx.to_parquet(path)
    code, err = _run(tmp_path, path, capsys, f"{{monetary_value: amount, on_invalid: {on_invalid}}}", SPEND)
    assert code == 2 and "Traceback" not in err
    assert "column 'amount'" in err and "must not exceed 1e+15" in err and f"{len(tx)} of {len(tx)} rows" in err
    assert "unit" in err


def test_all_zero_amounts_name_the_amount_column_not_frequency(tmp_path, capsys):
    """All amounts 0 (a wrong column or a lost export): the message names the amount column and
    input.monetary_value, not 'frequency' and a longer observation period."""
    BASE.assign(amount=0.0).to_csv(tmp_path / "tx.csv", index=False)
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys, "{monetary_value: amount}", SPEND)
    assert code == 2 and "Traceback" not in err
    assert "'amount' (input.monetary_value)" in err and "gamma_gamma" in err and "longer observation" not in err


def test_negative_amounts_message_offers_exclude_returns(tmp_path, capsys):
    """Negative amounts: the message names input.filters.exclude_returns, which then runs."""
    tx = BASE.copy()
    tx.loc[tx.index[::7], "amount"] = -tx["amount"]
    tx.to_csv(tmp_path / "tx.csv", index=False)
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys, "{monetary_value: amount}", SPEND)
    assert code == 2 and "input.filters.exclude_returns: true" in err and "Traceback" not in err
    code, err = _run(tmp_path, tmp_path / "tx.csv", capsys,
                     "{monetary_value: amount, filters: {exclude_returns: true}}", SPEND)
    assert code == 0, err


# -- issue 12, break 32: an empty file's remedy, outputs inside the input -------------------------

def test_empty_file_message_gives_a_remedy(tmp_path, capsys):
    """A zero-byte CSV in the input directory is named with what to do about it."""
    d = tmp_path / "in"
    d.mkdir()
    BASE.to_csv(d / "a.csv", index=False)
    (d / "empty.csv").write_text("")
    code, err = _run(tmp_path, d, capsys)
    assert code == 2 and "empty.csv is empty" in err and "Remove it from the input" in err and "Traceback" not in err


def test_output_directory_inside_the_input_is_refused_with_that_cause(tmp_path, capsys):
    """An output directory under a directory input is refused from the first run; a glob that
    reaches into a clvmodels output directory (its scores.csv) is refused naming that directory,
    instead of an unknown-suffix error about manifest.json or reading the scores as transactions."""
    d = tmp_path / "in"
    d.mkdir()
    BASE.to_csv(d / "a.csv", index=False)
    out = {"output": {"directory": str(d / "out"), "formats": ["csv"]}}
    code, err = _run(tmp_path, d, capsys, extra=yaml.safe_dump(out))
    assert code == 2 and "reaches into the output directory" in err and str(d / "out") in err
    assert "output.directory" in err and "Traceback" not in err
    glob_path = str(d) + "/**/*.csv"
    code, err = _run(tmp_path, glob_path, capsys, extra=yaml.safe_dump(out))
    assert code == 0, err  # nothing written there yet: the glob matches the input only
    code, err = _run(tmp_path, glob_path, capsys, extra=yaml.safe_dump(out))
    assert code == 2 and "reaches into the output directory" in err and "Traceback" not in err
