"""Command line: ``clvmodels run``, ``fit``, ``score``, ``compare``, ``validate`` and
``example-config``.

Exit codes: 0 success; 2 bad config or input (the message says what to fix); 1 unexpected failure
(the traceback is written to a log file whose path is printed); 130 interrupted by Ctrl-C
(SIGINT) and 143 by SIGTERM (128 + the signal's number, as shells report it): the job stops and
its manifest says ``"status": "failed"``.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import textwrap
import threading
import traceback
import warnings
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

from ._version import __version__
from .exceptions import ClvModelsError, ConfigError, JobInterrupted

#: The documented example configs shipped in the package (``clvmodels example-config``); the
#: source tree's ``configs/batch_example.yaml`` and ``configs/cdnow_compare.yaml`` are the same files.
EXAMPLES = {"run": "batch_example.yaml", "compare": "compare_example.yaml"}
KEYS_DOCUMENTED = ("every key is documented, with its default, in the example config that "
                   "`clvmodels example-config` prints (configs/batch_example.yaml in the source tree)")
EXIT_CODES = ("exit codes: 0 success, 2 bad config or input (one message saying what to fix), 1 unexpected "
              "failure (log path printed), 130 interrupted by Ctrl-C, 143 by SIGTERM (the manifest says "
              "status failed)")

EPILOG = """\
examples:
  clvmodels run configs/cdnow.yaml                  fit BG/NBD + Gamma-Gamma on CDNOW, write scores
  clvmodels run my.yaml --output-dir out/2026-11-23 same, writing elsewhere
  clvmodels fit my.yaml                             weekly: fit, write models/<name>.json only
  clvmodels score my.yaml                           daily: score with the models in output.directory/models
  clvmodels score my.yaml --model m/bgnbd.json --model m/gamma_gamma.json   score with these files
  clvmodels score --model m/bgnbd.json m/gamma_gamma.json my.yaml   the same: a config after
                                                    --model files is the last path given
  clvmodels compare configs/cdnow_compare.yaml      fit BG/NBD, MBG/NBD, Pareto/NBD on a 39/39-week
                                                    split of CDNOW and write a comparison report
  clvmodels validate my.yaml                        check a config without running it (input files'
                                                    headers, output directory; nothing is written)
  clvmodels validate --for score my.yaml            check it as score does (the model files too)
  clvmodels example-config my.yaml                  write the documented example config to my.yaml

configs: `clvmodels example-config` prints the example config that documents every key (input
files, directories or globs; filters; summary; models and their options; predictions; output;
engine: pandas or dask; tracking: mlflow; kpis); it is configs/batch_example.yaml in the source
tree. `clvmodels example-config --compare` prints the comparison example (configs/cdnow_compare.yaml).

outputs (in output.directory): scores.parquet (and scores.csv if requested) with one row per
customer; models/<name>.json (fitted parameters, reload with clvmodels.load_model);
manifest.json (input files, rows read/excluded by reason, customers in = scored + excluded by
reason, parameters, timings, versions; `fit` writes models/manifest.json). Every file is written
under a temporary name and renamed when the whole job has succeeded: a failed job leaves the
previous outputs intact and a manifest with status "failed".
compare writes report.html (one self-contained page: ranking, parameters, diagnostics, plots),
metrics.csv and metrics.json (the same numbers for machines) and manifest.json.

progress: a bar with rate and ETA on a terminal; plain log lines on stderr otherwise.
exit codes: 0 success, 2 bad config or input (one message saying what to fix), 1 unexpected
failure (the message gives the path of a log file holding the traceback), 130 interrupted by
Ctrl-C (SIGINT), 143 by SIGTERM: the job stops, earlier outputs stay as they were and the job's
manifest says "status": "failed".
"""


_EPILOG = "\n".join(textwrap.fill(line, 96) for line in (f"config: {KEYS_DOCUMENTED}.", EXIT_CODES))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clvmodels", description="Customer lifetime value from a transaction log, driven by a YAML config.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"clvmodels {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    raw = argparse.RawDescriptionHelpFormatter
    run = sub.add_parser("run", help="summarise, fit the models and score every customer (fit + score)",
                         formatter_class=raw,
                         description="Summarise the input, fit the configured models and write per-customer "
                                     "scores, model files and manifest.json.")
    fit = sub.add_parser("fit", help="summarise and fit the models; write models/<name>.json",
                         formatter_class=raw,
                         description="Summarise the input (to summary.calibration_period_end when set) and fit "
                                     "the configured models. Writes <output>/models/<name>.json and "
                                     "<output>/models/manifest.json; no scores.")
    score = sub.add_parser("score", help="score every customer with saved models (no refit)",
                           formatter_class=raw,
                           description="Summarise the input and score every customer with the model files written "
                                       "by `clvmodels fit` (no refit). Writes scores.<format> and manifest.json.")
    score.add_argument("--model", nargs="+", action="extend", metavar="PATH",
                       help="model files, one or more per flag; the flag may repeat (default: "
                            "<output>/models/<name>.json for each configured model). Give the config "
                            "first (score my.yaml --model a.json b.json) or last, after the files "
                            "(score --model a.json --model b.json my.yaml): without a config before "
                            "--model, the last path given is the config")
    compare = sub.add_parser("compare", help="fit several models on a calibration/holdout split, write a report",
                             description="Fit the configured purchase models (and a spend model) on the "
                                         "calibration period, judge them on the holdout and write report.html, "
                                         "metrics.csv and metrics.json.")
    for command in (run, fit):
        command.add_argument("config", help="YAML config file")
    score.add_argument("config", nargs="?", help="YAML config file (first, or last after the --model files)")
    compare.add_argument("config", help="YAML config file with a split section (`clvmodels example-config "
                                        "--compare` prints an example)")
    for command in (run, fit, score, compare):
        command.add_argument("--output-dir", help="write outputs here instead of output.directory")
        bar = command.add_mutually_exclusive_group()
        bar.add_argument("--progress", action="store_true", default=None, help="always show the progress bar")
        bar.add_argument("--no-progress", dest="progress", action="store_false",
                         help="no progress bar and no progress log lines")
        command.epilog = _EPILOG
    validate = sub.add_parser("validate", help="check a config file without running it",
                              formatter_class=raw, epilog=_EPILOG,
                              description="Check a config file and report every problem at once, as the "
                                          "command named by --for would (without --for, a file with a split "
                                          "section is checked as a comparison config, any other as a run's; "
                                          "the output says which). It builds what the job builds (each model "
                                          "from its options, the sizes of one scoring chunk, the score "
                                          "columns), checks that the output directory can be written and "
                                          "that the input files (and KPI tables) exist with the configured "
                                          "columns (headers only; no data are read), and for score that "
                                          "the model files are there. Nothing is written.")
    validate.add_argument("config", help="YAML config file")
    validate.add_argument("--for", dest="for_command", choices=("run", "fit", "score", "compare"),
                          help="the command the config is for (default: compare with a split section, else run)")
    example = sub.add_parser("example-config", help="print the documented example config (or write it to PATH)",
                             formatter_class=raw,
                             description="Print the example config that documents every key with its default "
                                         "and meaning, or write it to PATH (an existing file is not "
                                         "overwritten). Start a job from it: clvmodels example-config my.yaml, "
                                         "edit my.yaml, clvmodels validate my.yaml.")
    example.add_argument("path", nargs="?", metavar="PATH", help="write here instead of printing")
    example.add_argument("--compare", action="store_true",
                         help="the comparison example (clvmodels compare) instead of the scoring job's")
    return parser


def _log_to_stderr() -> logging.Handler:
    """Send the batch log (stage lines, progress lines off a terminal) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s clvmodels %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("clvmodels.batch")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def _score_config(parser: argparse.ArgumentParser, args) -> None:
    """``score --model A B CONFIG``: without a config before ``--model``, the last path is the config."""
    if args.command != "score" or args.config is not None:
        return
    if not args.model:
        parser.error("score needs a config: clvmodels score CONFIG [--model FILE ...]")
    args.config = args.model.pop()
    if Path(args.config).suffix.lower() in (".json", ".nc"):
        parser.error(f"score: {args.config} looks like a model file, and no config was given: write "
                     "`clvmodels score CONFIG --model FILE ...` or `clvmodels score --model FILE ... CONFIG`")


@contextmanager
def _signals_raise_interrupted():
    """SIGTERM and SIGINT raise :class:`JobInterrupted` (a ``BaseException``: the job's failure
    handling writes its failed manifest); the previous handlers are restored on exit. Handlers can
    only be set in the main thread: elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise JobInterrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring)."""
    parser = _parser()
    args = parser.parse_args(argv)
    _score_config(parser, args)
    problem = _source_date_epoch_problem()
    if problem:
        print(f"clvmodels: error: {problem}", file=sys.stderr)
        return 2
    shown = warnings.formatwarning
    warnings.formatwarning = _one_line_warning  # shown as clvmodels: warning: ...; filters stay as they are
    try:
        return _command(args)
    finally:
        warnings.formatwarning = shown


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as one line without the source line it came from (the CLI's users read
    messages, not clvmodels' code): ``clvmodels: warning: <Category>: <message>``."""
    text = " ".join(str(message).split())
    return f"clvmodels: warning: {category.__name__}: {text}\n"


def _source_date_epoch_problem() -> str | None:
    """Why ``SOURCE_DATE_EPOCH`` cannot be used (the time reports and manifests record), or None."""
    from .batch.manifest import MAX_EPOCH

    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None or not epoch.strip() or (epoch.strip().isdigit() and int(epoch.strip()) <= MAX_EPOCH):
        return None
    return (f"SOURCE_DATE_EPOCH is {epoch[:40]!r}; it must be a whole number of seconds since 1970-01-01 UTC, "
            f"0 to {MAX_EPOCH} (9999-12-31), e.g. $(git log -1 --format=%ct), or unset.")


def _command(args) -> int:
    if args.command == "example-config":
        try:
            return _example_config(args)
        except ClvModelsError as err:
            print(f"clvmodels: error: {err}", file=sys.stderr)
            return 2
    job = {}  # "out": the output directory once a job has started; "done": once it has returned
    with _signals_raise_interrupted():
        try:
            return _main(args, job)
        except KeyboardInterrupt:  # SIGINT without our handler (main called outside the main thread)
            return _interrupted(JobInterrupted("SIGINT"), args, job)
        except JobInterrupted as err:
            return _interrupted(err, args, job)


def _interrupted(err: JobInterrupted, args, job: dict) -> int:
    """One line saying which signal stopped what; the exit code is 128 + the signal's number."""
    name = err.signal_name
    if job.get("done"):
        what = f"the job had finished, and its outputs in {job['out']} are complete"
    elif "out" in job:
        manifest = "models/manifest.json" if args.command == "fit" else "manifest.json"
        what = (f"the job stopped; earlier outputs in {job['out']} are as they were and "
                f"{job['out'] / manifest} says \"status\": \"failed\"")
    else:
        what = "no job had started, nothing was written"
    print(f"clvmodels: interrupted by {name}; {what}.", file=sys.stderr)
    return 128 + getattr(signal, name, signal.SIGTERM).value


def _main(args, job: dict) -> int:
    from . import batch  # imported late so --help stays fast
    from .batch.limits import check_output_dir

    handler = _log_to_stderr() if getattr(args, "progress", False) is not False else None
    try:
        if args.command == "validate":
            return _validate(args, batch)
        config = batch.load_config(args.config, batch.CompareConfig if args.command == "compare" else None)
        out = check_output_dir(args.output_dir, key="--output-dir") if args.output_dir else \
            check_output_dir(config.output.directory)
        text = Path(args.config).read_text(encoding="utf-8")
        common = {"output_dir": args.output_dir, "progress": args.progress, "config_text": text}
        job["out"] = out
        if args.command == "compare":
            manifest = batch.compare(config, **common)
        elif args.command == "score":
            manifest = batch.score(config, models=args.model, **common)
        else:
            manifest = getattr(batch, args.command)(config, **common)
        job["done"] = True
    except ClvModelsError as err:
        print(f"clvmodels: error: {err}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - the scheduler gets a log path and exit code 1
        log = Path(tempfile.mkstemp(prefix="clvmodels-", suffix=".log")[1])
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(f"clvmodels: unexpected failure; the traceback is in {log}", file=sys.stderr)
        return 1
    finally:
        if handler is not None:
            logging.getLogger("clvmodels.batch").removeHandler(handler)
    _report(args, config, manifest)
    return 0


def example_config(kind: str = "run") -> str:
    """The text of a documented example config shipped in the package: ``"run"`` (every key of a
    scoring job) or ``"compare"`` (a model comparison)."""
    return resources.files("clvmodels.batch").joinpath("files", EXAMPLES[kind]).read_text(encoding="utf-8")


def _example_config(args) -> int:
    text = example_config("compare" if args.compare else "run")
    if args.path is None:
        sys.stdout.write(text)
        return 0
    path = Path(args.path)
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; give the name of the config file to write, e.g. "
                          f"{path / 'config.yaml'}.")
    try:
        with path.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise ConfigError(f"{path} exists and is not overwritten; give another path, or remove it first.") from None
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err.strerror or err}.") from None
    print(f"wrote {path}; check it with: clvmodels validate {path}")
    return 0


def _report(args, config, manifest) -> None:
    out = Path(args.output_dir or config.output.directory)
    if args.command == "compare":
        print(f"compared {', '.join(manifest['config']['models'][i]['name'] for i in range(len(config.models)))} "
              f"on {manifest['customers']:,} customers -> {out}/report.html\n  best: {manifest['reason']}")
        if manifest.get("bayesian"):
            print(f"  best by PSIS-LOO (Bayesian fits): {manifest['bayesian']['best_by_elpd_loo']}")
        return
    c = manifest["customers"]
    excluded = sum(manifest["rows"]["excluded"].values())
    done = f"fitted on {c['fitted']:,}" if args.command == "fit" else f"scored {c['scored']:,}"
    print(f"{done} customers from {manifest['rows']['read']:,} rows "
          f"({excluded:,} excluded: {manifest['rows']['excluded'] or 'none'}) -> {out}/")
    if c.get("excluded"):
        print(f"  customers not scored, by reason: {c['excluded']}")
    for name, m in manifest["models"].items():
        params = ", ".join(f"{k}={v:.4g}" for k, v in m["params"].items())
        fit = (f"log-likelihood {m['log_likelihood']:.1f}" if m.get("log_likelihood") is not None
               else f"posterior means, {m.get('method', 'bayesian')}")
        print(f"  {name}: {params}; {fit}")
    if "kpis" in manifest:
        print(f"  kpis: {len(manifest['kpis']['tables'])} tables -> {out}/kpis/report.html")


def _schema_of(path: str) -> str:
    """The command a config is for, when validate is not told: compare with a ``split`` section,
    else run."""
    from .batch.yamlsafe import read_yaml

    try:
        raw = read_yaml(path)
    except ConfigError:
        return "run"  # load_config reports it
    return "compare" if isinstance(raw, dict) and "split" in raw else "run"


def _validate(args, batch) -> int:
    """``clvmodels validate [--for COMMAND] CONFIG``: what that command checks before its job."""
    from .batch.config import check_sources
    from .batch.limits import check_output_dir

    command = args.for_command or _schema_of(args.config)
    config = batch.load_config(args.config, batch.CompareConfig if command == "compare" else None)
    check_output_dir(config.output.directory)
    files = check_sources(config)
    if command == "score":
        from .batch.runner import load_models, model_paths

        load_models(config, model_paths(config, Path(config.output.directory).absolute()))
    notes = [] if args.for_command else [
        f"checked as a {'comparison' if command == 'compare' else 'run'} config: it has "
        f"{'a' if command == 'compare' else 'no'} split section; --for names the command"]
    if files:
        notes.append(f"{files} input file{'s' if files != 1 else ''} checked")
    print(f"{args.config}: OK for clvmodels {command}" + (f" ({'; '.join(notes)})" if notes else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
