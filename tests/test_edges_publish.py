"""Publishing (issue 12): one atomic commit per job, whatever kills it and wherever.

A job writes a complete generation and switches ``out/current`` to it in one rename
(:mod:`clvmodels.batch.publish`). Checked here: a job killed (``os._exit``, as ``kill -9``) at each
commit point leaves either the old outputs or the new ones, never a mix, and the manifest beside them
describes them (checksums); the next job removes what it left and counts it; two jobs cannot write
into one directory; names a job did not write disappear; older versions' plain files are moved
aside, not lost; NaN / inf scores fail the job; formula-leading CSV cells are neutralised;
``SOURCE_DATE_EPOCH`` fixes the recorded times; the job's warnings are in its manifest.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import clvmodels
from clvmodels import cli
from clvmodels.batch import load_config, run
from clvmodels.batch.publish import published_files

ROOT = Path(__file__).parents[1]


def _config(tmp_path, *, horizons=(52,), formats=("parquet", "csv"), extra="", name="config.yaml",
            source="{dataset: cdnow_sample}", output_extra="") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(f"""\
        input: {source}
        summary: {{observation_period_end: 1997-09-30}}
        models: [bgnbd, gamma_gamma]
        predictions: {{horizons: [{", ".join(map(str, horizons))}]}}
        output: {{directory: "{tmp_path / 'out'}", formats: [{", ".join(formats)}]{output_extra}}}
        """) + textwrap.dedent(extra), encoding="utf-8")
    return str(path)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_consistent(out: Path) -> dict:
    """The published view is one generation: every output its manifest lists has that checksum,
    and every published name resolves into ``current``."""
    manifest = json.loads((out / "current" / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    for name, info in manifest["output_files"].items():
        assert _sha(out / name) == info["sha256"], name
    current = os.path.realpath(out / "current")
    for entry in out.iterdir():
        if entry.is_symlink() and entry.name not in ("current", "manifest.json"):
            assert os.path.realpath(entry).startswith(current + os.sep), entry
    return manifest


def _regular_files(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and not p.is_symlink()}


_KILLED_JOB = textwrap.dedent("""\
    import os, sys
    from clvmodels import cli
    from clvmodels.batch import outputs, publish

    def die(*args, **kwargs):
        os._exit(137)  # like kill -9: no handler, no cleanup

    point = sys.argv[2]
    if point == "scores":
        real = outputs.ScoreWriter.write
        def write(self, frame):
            real(self, frame)
            die()
        outputs.ScoreWriter.write = write
    elif point == "carry_over":
        publish.Generation.carry_over = die
    elif point == "publish":
        publish.Generation.publish = die
    elif point == "switch":
        real_point = publish._point
        def point_(link, target, state):
            if link.name == "current":
                die()
            real_point(link, target, state)
        publish._point = point_
    elif point == "after_switch":
        publish.Generation._after_switch = die
    sys.exit(cli.main(["run", sys.argv[1], "--no-progress"]))
    """)


@pytest.mark.parametrize("point", ["scores", "carry_over", "publish", "switch", "after_switch"])
def test_a_job_killed_at_each_commit_point_leaves_one_whole_generation(tmp_path, point):
    """kill -9 at each point: the old outputs (or, once switched, the new ones) whole; the next job
    removes what the killed one left and says so."""
    assert cli.main(["run", _config(tmp_path, horizons=(39,)), "--no-progress"]) == 0
    out = tmp_path / "out"
    old = assert_consistent(out)
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_JOB)
    proc = subprocess.run([sys.executable, str(script), _config(tmp_path, horizons=(52,), name="new.yaml"), point],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 137, proc.stderr
    published = assert_consistent(out)
    columns = pd.read_parquet(out / "scores.parquet").columns
    if point == "after_switch":
        assert published["config"]["predictions"]["horizons"] == [52.0] and "expected_purchases_52w" in columns
    else:
        assert published == old and "expected_purchases_39w" in columns and "expected_purchases_52w" not in columns
    pd.testing.assert_frame_equal(pd.read_csv(out / "scores.csv", dtype={"customer_id": str}),
                                  pd.read_parquet(out / "scores.parquet"), check_dtype=False)

    manifest = run(load_config(_config(tmp_path, horizons=(26,), name="next.yaml")), progress=False)
    assert manifest["cleaned_up"]["leftover_generations"] == 1 and manifest["cleaned_up"]["bytes"] > 0
    assert_consistent(out)
    generations = {p.name for p in (out / ".clvmodels" / "generations").iterdir()}
    assert len(generations) == 2  # the current one and the one before it, nothing else
    assert not [name for name in _regular_files(out) if name.endswith(".tmp") or "/.link-" in name]


def test_a_failed_job_publishes_nothing_and_its_manifest_says_so(tmp_path, monkeypatch, capsys):
    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 0
    out = tmp_path / "out"
    before = {name: (out / "current" / name).read_bytes() for name in published_files(out)}
    import pyarrow.parquet as pq

    monkeypatch.setattr(pq.ParquetWriter, "write_table", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 1
    assert {name: (out / "current" / name).read_bytes() for name in published_files(out)} == before
    failed = json.loads((out / "manifest.json").read_text())
    assert failed["status"] == "failed" and "disk full" in failed["error"]
    assert failed["published_outputs"].startswith("unchanged")
    assert _regular_files(out) == {".clvmodels/lock", ".clvmodels/failed/manifest.json",
                                   *(f"{os.path.relpath(os.path.realpath(out / 'current'), out)}/{n}" for n in before)}
    monkeypatch.undo()
    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 0  # the next success points back
    assert json.loads((out / "manifest.json").read_text())["status"] == "succeeded"
    assert_consistent(out)


def test_a_second_job_in_the_same_directory_is_refused(tmp_path, capsys):
    config = _config(tmp_path)
    lock = tmp_path / "out" / ".clvmodels" / "lock"
    lock.parent.mkdir(parents=True)
    with open(lock, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("pid 4242, clvmodels run, started today\n")
        held.flush()
        assert cli.main(["run", config, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert "in use by another clvmodels job (pid 4242, clvmodels run" in err and "Traceback" not in err
        assert not published_files(tmp_path / "out")
    assert cli.main(["run", config, "--no-progress"]) == 0  # released: the next job runs


def test_two_concurrent_cli_jobs_one_refused(tmp_path):
    """Two processes started together into one directory: one publishes, the other (if it overlaps)
    exits 2 naming the lock; the directory holds one whole generation."""
    config = _config(tmp_path)
    procs = [subprocess.Popen([sys.executable, "-m", "clvmodels", "run", config, "--no-progress"], cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results
    for code, err in results:
        if code == 2:
            assert "in use by another clvmodels job" in err
    assert_consistent(tmp_path / "out")


def test_names_the_new_job_did_not_write_disappear(tmp_path):
    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 0
    out = tmp_path / "out"
    assert (out / "scores.csv").is_file()
    assert cli.main(["run", _config(tmp_path, formats=("parquet",)), "--no-progress"]) == 0
    assert not os.path.lexists(out / "scores.csv") and "scores.csv" not in published_files(out)
    assert sorted(p.name for p in out.iterdir()) == [".clvmodels", "current", "manifest.json", "models",
                                                     "scores.parquet"]


def test_fit_keeps_the_scores_and_score_keeps_the_models(tmp_path):
    config = load_config(_config(tmp_path))
    run(config, progress=False)
    out = tmp_path / "out"
    scores = (out / "scores.parquet").read_bytes()
    fitted = clvmodels.batch.fit(config, progress=False)
    assert "scores.parquet" in fitted["kept_from_previous"] and (out / "scores.parquet").read_bytes() == scores
    kept = assert_consistent(out)  # the scores' manifest lists only what is in place, and says what changed
    assert "models/bgnbd.json" not in kept["output_files"] and "scores.parquet" in kept["output_files"]
    assert kept["models_replaced_since"]["previous_output_files"]["models/bgnbd.json"]["sha256"]
    assert json.loads((out / "manifest.json").read_text())["command"] == "fit"  # the last job's manifest
    assert json.loads((out / "current" / "manifest.json").read_text())["command"] == "run"
    scored = clvmodels.batch.score(config, progress=False)
    assert "models/bgnbd.json" in scored["kept_from_previous"]
    assert scored["models"]["bgnbd"]["params"] == fitted["models"]["bgnbd"]["params"]
    assert_consistent(out)


def test_an_older_versions_plain_files_are_moved_aside_not_lost(tmp_path):
    out = tmp_path / "out"
    (out / "models").mkdir(parents=True)
    (out / "scores.parquet").write_bytes(b"old scores")
    (out / "models" / "bgnbd.json").write_text("{}")
    (out / "manifest.json").write_text("{}")
    (out / ".scores.parquet.x1y2.tmp").write_bytes(b"\0" * 1000)  # a killed old job's temporary file
    (out / "notes.txt").write_text("mine")  # not an output name: untouched
    manifest = run(load_config(_config(tmp_path)), progress=False)
    assert manifest["cleaned_up"] == {"leftover_generations": 0, "temporary_files": 1, "bytes": 1000}
    aside = out / manifest["moved_aside"]["to"]
    assert sorted(manifest["moved_aside"]["names"]) == ["manifest.json", "models", "scores.parquet"]
    assert (aside / "scores.parquet").read_bytes() == b"old scores" and (aside / "models" / "bgnbd.json").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert_consistent(out)
    assert json.loads((out / "manifest.json").read_text())["moved_aside"] == manifest["moved_aside"]


def test_non_finite_scores_fail_the_job(tmp_path, monkeypatch, capsys):
    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 0
    out = tmp_path / "out"
    before = assert_consistent(out)
    from clvmodels.batch import scoring

    real = scoring.score

    def broken(summary, *args, **kwargs):
        frame = real(summary, *args, **kwargs)
        frame.loc[frame.index[:3], "clv"] = np.nan
        frame.loc[frame.index[3], "p_alive"] = np.inf
        return frame

    monkeypatch.setattr(scoring, "score", broken)
    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "4 customers have NaN or infinite scores (columns: p_alive (1), clv (3)" in err and "Traceback" not in err
    assert assert_consistent(out) == before
    failed = json.loads((out / "manifest.json").read_text())
    assert failed["status"] == "failed" and failed["customers"]["non_finite_scores"] == 4
    assert failed["customers"]["reconciled"] is False and failed["non_finite_scores"] == {"p_alive": 1, "clv": 3}


def _hostile_ids(tmp_path) -> Path:
    tx = clvmodels.datasets.load_cdnow_transactions()
    tx["customer_id"] = tx["customer_id"].astype(str)
    hostile = {"1": '=HYPERLINK("http://x","y")', "2": "+1", "3": "-2", "4": "@SUM(A1)", "5": "\tx"}
    tx["customer_id"] = tx["customer_id"].replace(hostile)
    tx.to_parquet(tmp_path / "tx.parquet")
    return tmp_path / "tx.parquet"


@pytest.mark.parametrize("escape", [True, False])
def test_csv_cells_that_start_like_formulas_are_neutralised(tmp_path, escape):
    path = _hostile_ids(tmp_path)
    config = _config(tmp_path, source=f"{{path: {path}}}", output_extra=f", csv_formula_escape: {str(escape).lower()}")
    run(load_config(config), progress=False)
    csv = pd.read_csv(tmp_path / "out" / "scores.csv", dtype={"customer_id": str}, keep_default_na=False)
    ids = set(pd.read_parquet(tmp_path / "out" / "scores.parquet")["customer_id"])
    assert {'=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)", "\tx"} <= ids  # Parquet keeps the ids
    quoted = {"'=HYPERLINK(\"http://x\",\"y\")", "'+1", "'-2", "'@SUM(A1)", "'\tx"}
    if escape:
        assert quoted <= set(csv["customer_id"]) and not {"+1", "-2"} & set(csv["customer_id"])
    else:
        assert {"+1", "-2", "@SUM(A1)"} <= set(csv["customer_id"]) and not quoted & set(csv["customer_id"])
    assert len(csv) == len(ids)


def test_source_date_epoch_fixes_the_recorded_times(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    manifest = run(load_config(_config(tmp_path)), progress=False)
    assert manifest["started"] == manifest["finished"] == "2023-11-14T22:13:20+00:00"
    first = {n: (tmp_path / "out" / "current" / n).read_bytes() for n in published_files(tmp_path / "out")}
    run(load_config(_config(tmp_path)), progress=False)
    second = {n: (tmp_path / "out" / "current" / n).read_bytes() for n in published_files(tmp_path / "out")}
    assert {n: v for n, v in first.items() if n != "manifest.json"} == \
        {n: v for n, v in second.items() if n != "manifest.json"}  # the manifest also holds timings


def test_the_jobs_warnings_are_in_its_manifest_and_still_emitted(tmp_path):
    tx = clvmodels.datasets.load_cdnow_transactions()
    tx["date"] = tx["date"].dt.strftime("%Y-%m-%d")
    tx.loc[len(tx) - 1, "date"] = "not a date"
    tx.to_parquet(tmp_path / "tx.parquet")
    config = _config(tmp_path, source=f"{{path: {tmp_path / 'tx.parquet'}, on_invalid: exclude}}")
    with pytest.warns(clvmodels.exceptions.ExcludedRowsWarning):
        manifest = run(load_config(config), progress=False)
    categories = {w["category"]: w for w in manifest["warnings"]}
    assert "unparsable_date" in categories["ExcludedRowsWarning"]["message"]
    assert "repeat an earlier row exactly" in categories["logged"]["message"]  # CDNOW repeats 21 rows


def test_compare_publishes_its_files_together(tmp_path, monkeypatch):
    """A failed comparison leaves the last one whole; with SOURCE_DATE_EPOCH its report is
    byte-identical when run again."""
    from tests.conftest import SAMPLE_COMPARE

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    config = tmp_path / "compare.yaml"
    config.write_text(SAMPLE_COMPARE.format(out=tmp_path / "out").replace(
        "kpis: {period: Q, margin: 0.3, surveys: {dataset: example_surveys}}\n", ""))
    assert cli.main(["compare", str(config), "--no-progress"]) == 0
    out = tmp_path / "out"
    before = assert_consistent(out)
    compare = sys.modules["clvmodels.batch.compare"]  # clvmodels.batch.compare is also the function

    monkeypatch.setattr(compare, "write_csv", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    assert cli.main(["compare", str(config), "--no-progress"]) == 1
    assert assert_consistent(out) == before
    assert json.loads((out / "manifest.json").read_text())["status"] == "failed"
    report = (out / "report.html").read_bytes()
    assert b"generated 2023-11-14 22:13 UTC" in report
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert cli.main(["compare", str(config), "--no-progress"]) == 0
    assert (out / "report.html").read_bytes() == report and assert_consistent(out)["output_files"] == before[
        "output_files"]


def test_an_unidentified_fit_is_refused_or_flagged_never_silent(tmp_path, capsys):
    """Every customer bought once: the default refuses the job (exit 2, what the data lack); with
    on_unidentified: warn the scores are published and the manifest carries the problem."""
    tx = pd.DataFrame({"customer_id": [f"c{i}" for i in range(200)],
                       "date": pd.Timestamp("1997-01-01") + pd.to_timedelta(np.arange(200) % 60, unit="D"),
                       "amount": 10.0})
    tx.to_parquet(tmp_path / "once.parquet")
    source = f"{{path: {tmp_path / 'once.parquet'}}}"
    config = _config(tmp_path, source=source)
    assert cli.main(["run", config, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "repeat purchase" in err and "Traceback" not in err
    assert not published_files(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "manifest.json").read_text())["status"] == "failed"
    flagged = Path(config).read_text().replace(
        "models: [bgnbd, gamma_gamma]", "models: [{name: bgnbd, options: {on_unidentified: warn}}]")
    Path(config).write_text(flagged)
    with pytest.warns(clvmodels.exceptions.IdentificationWarning):
        manifest = run(load_config(config), progress=False)
    assert manifest["status"] == "succeeded" and "repeat purchase" in manifest["models"]["bgnbd"]["identification_problem"]
    assert any(w["category"] == "IdentificationWarning" for w in manifest["warnings"])


def test_a_relative_output_directory_keeps_the_generation_before(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = Path(_config(tmp_path)).read_text().replace(f'directory: "{tmp_path / "out"}"', 'directory: "out"')
    Path("config.yaml").write_text(config)
    for _ in range(3):
        assert cli.main(["run", "config.yaml", "--no-progress"]) == 0
    generations = sorted(p.name for p in (tmp_path / "out" / ".clvmodels" / "generations").iterdir())
    assert len(generations) == 2
    assert (tmp_path / "out" / ".clvmodels" / "previous").read_text().strip() == generations[0]
    assert_consistent(tmp_path / "out")


def test_a_linked_state_directory_is_refused_and_its_target_untouched(tmp_path, capsys):
    victim = tmp_path / "victim"
    (victim / "important").mkdir(parents=True)
    (victim / "important" / "data.txt").write_text("keep")
    (tmp_path / "out" / ".clvmodels").mkdir(parents=True)
    (tmp_path / "out" / ".clvmodels" / "generations").symlink_to(victim)
    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "is a symbolic link" in err and "Traceback" not in err
    assert (victim / "important" / "data.txt").read_text() == "keep"


def test_a_current_folder_copied_as_plain_files_is_kept_aside(tmp_path):
    """`cp -rL` / `rsync -L` turn the links into plain folders: the next job keeps them (moved
    aside, the generations not removed as leftovers) and publishes normally."""
    import shutil

    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 0
    out, copy = tmp_path / "out", tmp_path / "copy"
    shutil.copytree(out, copy, symlinks=False)  # follows the links
    assert not (copy / "current").is_symlink()
    before = (copy / "current" / "scores.parquet").read_bytes()
    manifest = run(load_config(_copy_config(tmp_path, copy)), progress=False)
    assert manifest["status"] == "succeeded" and "cleaned_up" not in manifest
    assert_consistent(copy)
    aside = copy / manifest["moved_aside"]["to"]
    assert (aside / "scores.parquet").read_bytes() == before
    assert not [p for p in (copy / ".clvmodels").glob(".link-*")]


def _copy_config(tmp_path, directory) -> str:
    text = Path(_config(tmp_path)).read_text().replace(f'directory: "{tmp_path / "out"}"', f'directory: "{directory}"')
    path = tmp_path / "copy.yaml"
    path.write_text(text)
    return str(path)


def test_a_signal_right_after_the_switch_leaves_a_published_succeeded_job(tmp_path, monkeypatch):
    """SIGTERM arriving just after `current` is replaced (before any flag could be set): the job
    is complete, its generation is not discarded, and run returns its manifest."""
    from clvmodels.batch import publish
    from clvmodels.exceptions import JobInterrupted

    real = publish._point

    def switch_then_signal(link, target, state):
        real(link, target, state)
        if link.name == "current":
            raise JobInterrupted("SIGTERM")

    monkeypatch.setattr(publish, "_point", switch_then_signal)
    manifest = run(load_config(_config(tmp_path)), progress=False)
    assert manifest["status"] == "succeeded"
    assert assert_consistent(tmp_path / "out")["status"] == "succeeded"


def test_formula_neutralising_covers_headers_categories_and_index_levels():
    from clvmodels.batch.outputs import neutralise_formulas

    frame = pd.DataFrame({"=cmd|calc": ["=a", "b"], "v": pd.Categorical(["=cmd|x", "y"]), "n": [-1.0, 2.0]},
                         index=pd.MultiIndex.from_tuples([("-x", 1), ("b", 2)], names=["region", "@n"]))
    text = neutralise_formulas(frame, index=True).to_csv()
    assert text.splitlines() == ["region,'@n,'=cmd|calc,v,n", "'-x,1,'=a,'=cmd|x,-1.0", "b,2,b,y,2.0"]
    assert neutralise_formulas(frame, index=True) is not frame and frame.columns[0] == "=cmd|calc"  # a copy
    plain = pd.DataFrame({"a": [1.0, -2.0], "b": ["x", "y"]})
    assert neutralise_formulas(plain) is plain  # nothing to change: no copy


def test_a_formula_in_the_id_column_name_is_neutralised_in_the_header(tmp_path):
    tx = clvmodels.datasets.load_cdnow_transactions().rename(columns={"customer_id": "=cmd|calc"})
    tx.to_parquet(tmp_path / "tx.parquet")
    run(load_config(_config(tmp_path, source=f"{{path: {tmp_path / 'tx.parquet'}, customer_id: '=cmd|calc'}}")),
        progress=False)
    header = (tmp_path / "out" / "scores.csv").read_text().splitlines()[0]
    assert header.startswith("'=cmd|calc,") and "=cmd|calc" in pd.read_parquet(tmp_path / "out" / "scores.parquet")


@pytest.mark.parametrize("value", ["abc", "99999999999999", "-5"])
def test_a_bad_source_date_epoch_is_a_clear_error(tmp_path, monkeypatch, capsys, value):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "SOURCE_DATE_EPOCH" in err and "Traceback" not in err


def test_model_files_that_are_not_regular_files_or_given_twice(tmp_path, capsys):
    config = _config(tmp_path)
    assert cli.main(["fit", config, "--no-progress"]) == 0
    models = tmp_path / "out" / "models"
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for argv, words in ([["--model", "/dev/zero", "--model", str(models / "gamma_gamma.json")], "not a regular file"],
                        [["--model", str(fifo), "--model", str(models / "gamma_gamma.json")], "not a regular file"],
                        [["--model", str(models / "bgnbd.json"), "--model", str(models / "bgnbd.json")],
                         "is given twice"]):
        assert cli.main(["score", config, *argv, "--no-progress"]) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err


def test_impossible_scores_fail_the_job(tmp_path, monkeypatch, capsys):
    """A negative spend (Gamma-Gamma with q <= 1) or a probability above 1 is not published either."""
    from clvmodels.batch import scoring

    real = scoring.score

    def broken(summary, *args, **kwargs):
        frame = real(summary, *args, **kwargs)
        frame.loc[frame.index[:2], "expected_spend"] = -5.0
        frame.loc[frame.index[2], "p_alive"] = 1.5
        return frame

    monkeypatch.setattr(scoring, "score", broken)
    assert cli.main(["run", _config(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "3 customers have scores outside their range" in err and "columns: p_alive (1), expected_spend (2)" in err
    failed = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert failed["customers"]["out_of_range_scores"] == 3 and failed["customers"]["reconciled"] is False
    assert not published_files(tmp_path / "out")
