"""Command line: ``clvmodels run``, ``fit``, ``score``, ``compare`` and ``validate``.

Exit codes: 0 success; 2 bad config or input (the message says what to fix); 1 unexpected failure
(the traceback is written to a log file whose path is printed).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import traceback
from pathlib import Path

from ._version import __version__
from .exceptions import ClvModelsError

EPILOG = """\
examples:
  clvmodels run configs/cdnow.yaml                  fit BG/NBD + Gamma-Gamma on CDNOW, write scores
  clvmodels run my.yaml --output-dir out/2026-11-23 same, writing elsewhere
  clvmodels fit my.yaml                             weekly: fit, write models/<name>.json only
  clvmodels score my.yaml                           daily: score with the models in output.directory/models
  clvmodels score my.yaml --model m/bgnbd.json m/gamma_gamma.json   score with these model files
  clvmodels compare configs/cdnow_compare.yaml      fit BG/NBD, MBG/NBD, Pareto/NBD on a 39/39-week
                                                    split of CDNOW and write a comparison report
  clvmodels validate my.yaml                        check a config without running it

configs: configs/batch_example.yaml documents every key (input files, directories or globs; filters;
summary; models; predictions; output; engine: pandas or dask; tracking: mlflow).

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
failure (the message gives the path of a log file holding the traceback).
"""


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
                       help="model files (default: <output>/models/<name>.json for each configured model)")
    compare = sub.add_parser("compare", help="fit several models on a calibration/holdout split, write a report",
                             description="Fit the configured purchase models (and a spend model) on the "
                                         "calibration period, judge them on the holdout and write report.html, "
                                         "metrics.csv and metrics.json.")
    for command in (run, fit, score):
        command.add_argument("config", help="YAML config file (every key: configs/batch_example.yaml)")
    compare.add_argument("config", help="YAML config file with a split section (see configs/cdnow_compare.yaml)")
    for command in (run, fit, score, compare):
        command.add_argument("--output-dir", help="write outputs here instead of output.directory")
        bar = command.add_mutually_exclusive_group()
        bar.add_argument("--progress", action="store_true", default=None, help="always show the progress bar")
        bar.add_argument("--no-progress", dest="progress", action="store_false",
                         help="no progress bar and no progress log lines")
        command.epilog = "exit codes: 0 success, 2 bad config or input, 1 unexpected failure (log path printed)"
    validate = sub.add_parser("validate", help="check a config file without running it",
                              description="Check a config file and report every problem at once; a file "
                                          "with a split section is checked as a comparison config.")
    validate.add_argument("config", help="YAML config file")
    return parser


def _log_to_stderr() -> logging.Handler:
    """Send the batch log (stage lines, progress lines off a terminal) to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s clvmodels %(message)s", "%H:%M:%S"))
    logger = logging.getLogger("clvmodels.batch")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from . import batch  # imported late so --help stays fast

    handler = _log_to_stderr() if getattr(args, "progress", False) is not False else None
    try:
        if args.command == "validate":
            batch.load_config(args.config, _schema_of(args.config, batch.CompareConfig))
            print(f"{args.config}: OK")
            return 0
        config = batch.load_config(args.config, batch.CompareConfig if args.command == "compare" else None)
        text = Path(args.config).read_text(encoding="utf-8")
        common = {"output_dir": args.output_dir, "progress": args.progress, "config_text": text}
        if args.command == "compare":
            manifest = batch.compare(config, **common)
        elif args.command == "score":
            manifest = batch.score(config, models=args.model, **common)
        else:
            manifest = getattr(batch, args.command)(config, **common)
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


def _schema_of(path: str, compare_schema):
    """The comparison schema for a config with a ``split`` section, else the run schema (None)."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None  # load_config reports it
    return compare_schema if isinstance(raw, dict) and "split" in raw else None


if __name__ == "__main__":
    sys.exit(main())
