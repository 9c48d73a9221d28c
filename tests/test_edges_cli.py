"""Command-line edges (issue 12): every user error exits 2 with one paragraph and no traceback;
signals exit 130 / 143 with one line; ``score --model`` works options first; the documented example
config ships with the package (``clvmodels example-config``)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel

from clvmodels import cli
from clvmodels.batch.config import RunConfig
from clvmodels.exceptions import DataError, JobInterrupted

ROOT = Path(__file__).parents[1]
BASE = "input: {dataset: cdnow_sample}\n"


def write(tmp_path, text: str, name: str = "config.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def exit_2(capsys, argv, *words) -> str:
    """Run the CLI, expect exit 2 and one message with ``words`` and no traceback."""
    assert cli.main(argv) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out and out.err.startswith("clvmodels: error: ")
    for word in words:
        assert word in out.err
    return out.err


@pytest.mark.parametrize(("text", "words"), [
    ("models: [bgnbd, {name: gamma_gamma, options: {max_iter: -1}}]\n", ["models[1].options.max_iter"]),
    ("models: [{name: bgnbd, options: {start: {r: -1}}}]\n", ["models[0].options.start", "positive"]),
    ("models: [bgnbd, {name: gamma_gamma, options: {on_nonpositive: 5}}]\n", ["models[1].options.on_nonpositive"]),
    ("kpis: {segments: {alive_low: 0.9, alive_high: 0.1}}\n", ["kpis.segments", "alive_low"]),
    ("predictions: {intervals: {seed: -1}}\n", ["predictions.intervals.seed"]),
    ("predictions: {intervals: {n_draws: 1e9}}\n", ["predictions.intervals.n_draws", "100,000"]),
    ("predictions: {clv: {horizon_months: 1e8}}\n", ["predictions.clv.horizon_months", "1200"]),
    ("summary: {freq: D}\nsummary: {freq: W}\n", ["'summary' appears twice", "lines 2 and 3"]),
])
def test_validate_refuses_what_run_refuses(tmp_path, capsys, text, words):
    """validate and run give the same exit 2 and message for configs the job would reject."""
    path = write(tmp_path, BASE + text + f"output: {{directory: {tmp_path / 'out'}}}\n")
    first = exit_2(capsys, ["validate", path], *words)
    assert exit_2(capsys, ["run", path, "--no-progress"], *words) == first
    assert not (tmp_path / "out").exists()  # refused before anything was written


def test_compare_refuses_unknown_model_options(tmp_path, capsys):
    """compare (and validate of a compare config) refuse an unknown model option at config level."""
    path = write(tmp_path, BASE + "split: {calibration_period_end: 1997-09-30}\n"
                                  "models: [bgnbd, {name: pareto_nbd, options: {maxiter: 10}}]\n")
    for command in ("validate", "compare"):
        exit_2(capsys, [command, path], "models[1].options.maxiter", "did you mean 'max_iter'?")


def test_missing_directory_and_non_utf8_configs(tmp_path, capsys):
    """A missing config, a directory given as config and a non-UTF-8 file: exit 2 naming the file."""
    exit_2(capsys, ["validate", str(tmp_path / "nope.yaml")], "nope.yaml", "does not exist")
    exit_2(capsys, ["run", str(tmp_path)], "is a directory")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(BASE.encode() + "output: {directory: 'r\u00e9sultats'}\n".encode("latin-1"))
    exit_2(capsys, ["validate", str(latin)], "latin.yaml", "not UTF-8")


def test_alias_bomb_exits_2_quickly(tmp_path, capsys):
    """A billion-laughs config exits 2 naming the limit."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)]
    exit_2(capsys, ["validate", write(tmp_path, BASE + "\n".join(lines) + "\n")], "100,000 values")


def test_output_directory_that_is_a_file(tmp_path, capsys):
    """output.directory (or --output-dir) naming a file, or a path inside a file: exit 2 naming the key."""
    (tmp_path / "taken").write_text("x")
    path = write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'taken'}}}\n")
    exit_2(capsys, ["validate", path], "output.directory", "is a file")
    exit_2(capsys, ["run", path], "output.directory", "is a file")
    good = write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'out'}}}\n", "good.yaml")
    exit_2(capsys, ["run", good, "--output-dir", str(tmp_path / "taken" / "sub")], "--output-dir",
           "inside", "which is a file")
    assert not (tmp_path / "out").exists()


def test_output_directory_not_writable(tmp_path, capsys, monkeypatch):
    """A directory this user cannot write: exit 2 naming the key (os.access is faked: tests may run
    as root, who can write anywhere)."""
    import clvmodels.batch.limits as limits

    real = os.access
    monkeypatch.setattr(limits.os, "access", lambda p, mode: False if Path(p) == tmp_path / "ro" else real(p, mode))
    (tmp_path / "ro").mkdir()
    path = write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'ro' / 'new'}}}\n")
    exit_2(capsys, ["validate", path], "output.directory", "not writable", "created in")


@pytest.mark.skipif(not Path("/proc/self/mounts").exists(), reason="reads the mounts of Linux")
@pytest.mark.parametrize(("directory", "words"), [
    ("/proc/clvtest", ["would be created in /proc", "proc filesystem"]),
    ("/sys/kernel/x", ["would be created in /sys/kernel", "sysfs filesystem"]),
    ("/sys/kernel", ["is on the sysfs filesystem"]),
])
def test_output_directory_on_a_kernel_filesystem(tmp_path, capsys, directory, words):
    """/proc and /sys accept no directories (ENOENT, EPERM), even for root, whom os.access lets
    write there: validate and run both exit 2 naming the key and the filesystem."""
    from clvmodels.batch.limits import filesystem_of

    if (filesystem_of(directory) or ("", ""))[1] not in ("proc", "sysfs"):
        pytest.skip(f"{directory} is not on a kernel filesystem here")
    path = write(tmp_path, BASE + f"output: {{directory: {directory}}}\n")
    assert exit_2(capsys, ["validate", path], "output.directory", *words) == \
        exit_2(capsys, ["run", path, "--no-progress"], "output.directory", *words)


def test_an_output_directory_that_cannot_be_created_is_a_config_error(tmp_path, monkeypatch):
    """create_output_dir: an OSError of mkdir (no space, a read-only mount) is a ConfigError
    naming the key and the reason."""
    import errno

    from clvmodels.batch.limits import create_output_dir
    from clvmodels.exceptions import ConfigError

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "mkdir", full)
    with pytest.raises(ConfigError, match="--output-dir .* cannot be created: No space left on device"):
        create_output_dir(tmp_path / "new", key="--output-dir")


def _fake_job(monkeypatch, error: BaseException, seen: dict | None = None):
    import clvmodels.batch as batch

    def job(config, **kwargs):
        if seen is not None:
            seen.update(kwargs, handler=signal.getsignal(signal.SIGTERM))
        raise error

    for name in ("run", "fit", "score", "compare"):
        monkeypatch.setattr(batch, name, job)


@pytest.mark.parametrize(("error", "code", "name"), [(JobInterrupted("SIGTERM"), 143, "SIGTERM"),
                                                     (JobInterrupted("SIGINT"), 130, "SIGINT"),
                                                     (KeyboardInterrupt(), 130, "SIGINT")])
def test_interrupted_job_exits_with_one_line(tmp_path, capsys, monkeypatch, error, code, name):
    """JobInterrupted (from the signal handlers) and a bare KeyboardInterrupt end in exit 130/143 and
    one line naming the signal and the failed manifest, no traceback; the handlers are restored."""
    before = signal.getsignal(signal.SIGTERM)
    seen = {}
    _fake_job(monkeypatch, error, seen)
    path = write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'out'}}}\n")
    assert cli.main(["run", path, "--no-progress"]) == code
    err = capsys.readouterr().err
    assert f"interrupted by {name}" in err and '"status": "failed"' in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert seen["handler"] not in (before, signal.SIG_DFL) and signal.getsignal(signal.SIGTERM) == before


_SLOW_JOB = textwrap.dedent("""\
    import sys, time
    import clvmodels.batch.runner as runner
    from clvmodels import cli

    class Slow:
        def summaries(self, *args, **kwargs):
            print("started", flush=True)
            time.sleep(60)

        def close(self):
            pass

    runner.make_engine = lambda config: Slow()
    sys.exit(cli.main(["run", sys.argv[1], "--no-progress"]))
    """)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_during_a_job_fails_the_manifest(tmp_path, sig, code):
    """A real job (its engine stalled) sent SIGTERM or SIGINT: exit 143 / 130, one line on stderr, no
    traceback, and the job's manifest says "status": "failed"."""
    path = write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'out'}}}\n")
    script = tmp_path / "slow.py"
    script.write_text(_SLOW_JOB)
    proc = subprocess.Popen([sys.executable, str(script), path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT)
    try:
        assert proc.stdout.readline().strip() == "started"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == code, err
    assert f"interrupted by {signal.Signals(sig).name}" in err and "Traceback" not in err
    manifests = [json.loads(p.read_text()) for p in (tmp_path / "out").rglob("manifest.json")]
    assert manifests and all(m["status"] == "failed" for m in manifests)


def _fake_score(monkeypatch):
    seen = {}
    import clvmodels.batch as batch

    def score(config, *, models, **kwargs):
        seen["models"], seen["output"] = models, config.output.directory
        raise DataError("stop here")

    monkeypatch.setattr(batch, "score", score)
    return seen


@pytest.mark.parametrize("order", ["config first", "options first, repeated", "options first, one flag"])
def test_score_model_flag_in_any_order(tmp_path, capsys, monkeypatch, order):
    """score CONFIG --model A B, score --model A --model B CONFIG and score --model A B CONFIG all
    score with A and B and the config."""
    seen = _fake_score(monkeypatch)
    path = write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'out'}}}\n")
    a, b = str(tmp_path / "a.json"), str(tmp_path / "b.json")
    argv = {"config first": ["score", path, "--model", a, b],
            "options first, repeated": ["score", "--model", a, "--model", b, path],
            "options first, one flag": ["score", "--model", a, b, path]}[order]
    exit_2(capsys, argv, "stop here")
    assert seen == {"models": [a, b], "output": str(tmp_path / "out")}


def test_score_without_a_config_is_a_usage_error(tmp_path, capsys):
    """score --model A.json (no config): a usage error saying how to give both, not a YAML error."""
    with pytest.raises(SystemExit) as info:
        cli.main(["score", "--model", str(tmp_path / "a.json")])
    assert info.value.code == 2
    assert "looks like a model file" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "fit", "score", "validate"])
def test_help_says_where_keys_are_documented(capsys, command):
    """Each config command's --help names the example-config command and the exit codes 130 / 143."""
    with pytest.raises(SystemExit):
        cli.main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "clvmodels example-config" in text and "configs/batch_example.yaml" in text
    assert "130" in text and "143" in text
    if command == "score":
        assert "--model a.json --model b.json my.yaml" in text


def test_example_config_prints_writes_and_never_overwrites(tmp_path, capsys):
    """example-config prints the shipped example (identical to configs/batch_example.yaml), writes
    it to PATH, and refuses to overwrite (exit 2, the file unchanged)."""
    documented = (ROOT / "configs" / "batch_example.yaml").read_text(encoding="utf-8")
    assert cli.main(["example-config"]) == 0
    assert capsys.readouterr().out == documented
    target = tmp_path / "my.yaml"
    assert cli.main(["example-config", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == documented
    target.write_text("mine")
    exit_2(capsys, ["example-config", str(target)], "exists", "not overwritten")
    assert target.read_text() == "mine"
    exit_2(capsys, ["example-config", str(tmp_path)], "is a directory")
    assert cli.main(["example-config", "--compare"]) == 0
    assert capsys.readouterr().out == (ROOT / "configs" / "cdnow_compare.yaml").read_text(encoding="utf-8")


def test_shipped_examples_equal_the_source_configs():
    """The package's copies are the configs/ files (edit both together)."""
    for kind, source in (("run", "batch_example.yaml"), ("compare", "cdnow_compare.yaml")):
        assert cli.example_config(kind) == (ROOT / "configs" / source).read_text(encoding="utf-8"), source


def _keys(model: type[BaseModel]):
    for name, field in model.model_fields.items():
        yield name
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        candidates += [a for c in candidates for a in typing.get_args(c)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if nested:
            yield from _keys(nested[0])


def test_example_config_documents_every_key():
    """Every key of the run schema appears in the example config (as `key:`), which validates."""
    text = cli.example_config("run")
    assert [k for k in _keys(RunConfig) if f"{k}:" not in text] == []


@pytest.mark.parametrize("value", ["99999999999999", "-1", "1.5", "abc"])
def test_bad_source_date_epoch_exits_2_before_anything(tmp_path, capsys, monkeypatch, value):
    """A SOURCE_DATE_EPOCH that is not a whole number of seconds 0..9999-12-31 is refused by the
    CLI before the config is read (the manifest's clock would fail with OutOfBoundsDatetime)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    path = write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'out'}}}\n")
    for command in ("validate", "run"):
        exit_2(capsys, [command, path], "SOURCE_DATE_EPOCH", repr(value), "253402300799")
    assert not (tmp_path / "out").exists()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert cli.main(["validate", path]) == 0


def test_validate_for_names_the_command_and_says_which(tmp_path, capsys):
    """validate --for run|fit|score|compare checks as that command does (the same message), and
    without --for says which schema it guessed."""
    run_config = write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'out'}}}\n")
    compare_config = write(tmp_path, BASE + "split: {calibration_period_end: 1997-09-30}\n", "cmp.yaml")
    assert cli.main(["validate", run_config]) == 0
    assert "OK for clvmodels run (checked as a run config: it has no split section" in capsys.readouterr().out
    assert cli.main(["validate", compare_config]) == 0
    assert "OK for clvmodels compare (checked as a comparison config" in capsys.readouterr().out
    assert cli.main(["validate", "--for", "fit", run_config]) == 0
    assert capsys.readouterr().out.strip() == f"{run_config}: OK for clvmodels fit"
    first = exit_2(capsys, ["validate", "--for", "compare", run_config], "split: Field required")
    assert exit_2(capsys, ["compare", run_config]) == first
    exit_2(capsys, ["validate", "--for", "run", compare_config], "split: unknown key 'split'")


def test_validate_for_score_needs_the_model_files(tmp_path, capsys):
    """--for score checks the model files score would load (default <output>/models/<name>.json)."""
    path = write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'out'}}}\n")
    exit_2(capsys, ["validate", "--for", "score", path], "bgnbd.json does not exist", "clvmodels fit")


def _table(tmp_path, name: str, frame) -> str:
    file = tmp_path / name
    frame.to_parquet(file) if name.endswith(".parquet") else frame.to_csv(file, index=False)
    return str(file)


def test_validate_checks_the_named_files_and_columns(tmp_path, capsys):
    """Missing input files, input files without a configured column (CSV header, Parquet schema),
    missing KPI tables and KPI columns: validate exits 2 as the job would, reading headers only."""
    import pandas as pd

    tx = pd.DataFrame({"customer_id": ["a", "b"], "date": ["2020-01-01", "2020-02-01"], "amount": [1.0, 2.0]})
    out = f"output: {{directory: {tmp_path / 'out'}}}\n"
    missing = write(tmp_path, f"input: {{path: {tmp_path / 'nope.csv'}}}\n" + out)
    first = exit_2(capsys, ["validate", missing], "input.path", "nope.csv", "does not exist")
    assert exit_2(capsys, ["run", missing, "--no-progress"]) == first
    for name in ("tx.csv", "tx.parquet"):
        no_amount = write(tmp_path, f"input: {{path: {_table(tmp_path, name, tx)}, monetary_value: amt}}\n" + out)
        first = exit_2(capsys, ["validate", no_amount], name, "missing column(s) 'amt'")
        assert exit_2(capsys, ["run", no_amount, "--no-progress"]) == first
    tx_csv = _table(tmp_path, "tx.csv", tx)
    costs = _table(tmp_path, "costs.csv", tx.assign(cost=0.5))
    kpis = "models: [bgnbd, gamma_gamma]\nkpis: {costs: {path: %s, cost: %s}}\n"
    exit_2(capsys, ["validate", write(tmp_path, f"input: {{path: {tx_csv}}}\n" + out + kpis % (
        tmp_path / "nope.csv", "cost"))], "kpis.costs.path", "does not exist")
    exit_2(capsys, ["validate", write(tmp_path, f"input: {{path: {tx_csv}}}\n" + out + kpis % (costs, "cst"))],
           "kpis.costs.path", "missing column(s) 'cst' (did you mean 'cost'?)", "kpis.costs.cost")
    bundled = "models: [bgnbd, gamma_gamma]\nkpis: {customers: {dataset: example_channels, attributes: [regio]}}\n"
    exit_2(capsys, ["validate", write(tmp_path, BASE + out + bundled)], "kpis.customers.dataset 'example_channels'",
           "missing column(s) 'regio' (did you mean 'region'?)", "kpis.customers.attributes[0]")
    good = write(tmp_path, f"input: {{path: {tx_csv}}}\n" + out + kpis % (costs, "cost"))
    assert cli.main(["validate", good]) == 0 and "2 input files checked" in capsys.readouterr().out


def test_cli_warnings_are_one_line(tmp_path, capsys, monkeypatch):
    """While the CLI runs, a warning (the library's or numpy's) is shown as one line
    'clvmodels: warning: <Category>: <message>' without the source line; restored afterwards."""
    import warnings

    seen = {}

    def job(config, **kwargs):
        seen["format"] = warnings.formatwarning
        raise DataError("stop")

    import clvmodels.batch as batch

    monkeypatch.setattr(batch, "run", job)
    before = warnings.formatwarning
    cli.main(["run", write(tmp_path, BASE + f"output: {{directory: {tmp_path / 'out'}}}\n")])
    assert warnings.formatwarning is before and seen["format"] is not before
    line = seen["format"](RuntimeWarning("overflow encountered\n in exp"), RuntimeWarning, "x.py", 3, "y = exp(x)")
    assert line == "clvmodels: warning: RuntimeWarning: overflow encountered in exp\n"


def test_cli_warnings_in_a_real_run(tmp_path):
    """A real run with an excluded row: its ExcludedRowsWarning is one line on stderr, no source."""
    import pandas as pd

    data = pd.DataFrame({"customer_id": ["1", "1", "2", "3", "3", "4"], "amount": [1.0, 2, 3, 4, 5, 6],
                         "date": ["2020-01-01", "2020-03-01", "2020-01-05", "2020-02-01", "2020-05-01", "bad"]})
    path = write(tmp_path, f"input: {{path: {_table(tmp_path, 'tx.csv', data)}, on_invalid: exclude}}\n"
                           f"models: [bgnbd]\noutput: {{directory: {tmp_path / 'out'}}}\n")
    proc = subprocess.run([sys.executable, "-m", "clvmodels.cli", "run", path, "--no-progress"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    warned = [line for line in proc.stderr.splitlines() if "ExcludedRowsWarning" in line]
    assert warned and warned[0].startswith("clvmodels: warning: ExcludedRowsWarning: "), proc.stderr
    assert "warnings.warn" not in proc.stderr and ".py:" not in proc.stderr, proc.stderr
