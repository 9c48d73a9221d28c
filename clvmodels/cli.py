"""Command line: ``clvmodels run``, ``clvmodels compare`` and ``clvmodels validate``.

Exit codes: 0 success; 2 bad config or input (the message says what to fix); 1 unexpected failure
(the traceback is written to a log file whose path is printed).
"""

from __future__ import annotations

import argparse
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
  clvmodels compare configs/cdnow_compare.yaml      fit BG/NBD, MBG/NBD, Pareto/NBD on a 39/39-week
                                                    split of CDNOW and write a comparison report
  clvmodels validate my.yaml                        check a config without running it

outputs (in output.directory): scores.parquet (and scores.csv if requested) with one row per
customer; models/<name>.json (fitted parameters, reload with clvmodels.load_model);
manifest.json (rows read/excluded by reason, customers scored, parameters, timings, versions).
compare writes report.html (one self-contained page: ranking, parameters, diagnostics, plots),
metrics.csv and metrics.json (the same numbers for machines) and manifest.json.

exit codes: 0 success, 2 bad config or input, 1 unexpected failure (see the printed log path).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clvmodels", description="Customer lifetime value from a transaction log, driven by a YAML config.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"clvmodels {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser("run", help="summarise transactions, fit the models, score every customer",
                         description="Summarise transactions, fit the configured models and write "
                                     "per-customer scores, model files and a manifest.")
    run.add_argument("config", help="YAML config file (see configs/cdnow.yaml)")
    compare = sub.add_parser("compare", help="fit several models on a calibration/holdout split, write a report",
                             description="Fit the configured purchase models (and a spend model) on the "
                                         "calibration period, judge them on the holdout and write report.html, "
                                         "metrics.csv and metrics.json.")
    compare.add_argument("config", help="YAML config file with a split section (see configs/cdnow_compare.yaml)")
    for command in (run, compare):
        command.add_argument("--output-dir", help="write outputs here instead of output.directory")
        bar = command.add_mutually_exclusive_group()
        bar.add_argument("--progress", action="store_true", default=None, help="always show the progress bar")
        bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show the progress bar")
    validate = sub.add_parser("validate", help="check a config file without running it",
                              description="Check a config file and report every problem at once; a file "
                                          "with a split section is checked as a comparison config.")
    validate.add_argument("config", help="YAML config file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .batch import CompareConfig, compare, load_config, run  # imported late so --help stays fast

    try:
        if args.command == "validate":
            load_config(args.config, _schema_of(args.config, CompareConfig))
            print(f"{args.config}: OK")
            return 0
        config = load_config(args.config, CompareConfig if args.command == "compare" else None)
        text = Path(args.config).read_text(encoding="utf-8")
        if args.command == "compare":
            manifest = compare(config, output_dir=args.output_dir, progress=args.progress, config_text=text)
        else:
            manifest = run(config, output_dir=args.output_dir, progress=args.progress, config_text=text)
    except ClvModelsError as err:
        print(f"clvmodels: error: {err}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - the scheduler gets a log path and exit code 1
        log = Path(tempfile.mkstemp(prefix="clvmodels-", suffix=".log")[1])
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(f"clvmodels: unexpected failure; the traceback is in {log}", file=sys.stderr)
        return 1
    out = Path(args.output_dir or config.output.directory)
    if args.command == "compare":
        print(f"compared {', '.join(manifest['config']['models'][i]['name'] for i in range(len(config.models)))} "
              f"on {manifest['customers']:,} customers -> {out}/report.html\n  best: {manifest['reason']}")
        return 0
    c = manifest["customers"]
    excluded = sum(manifest["rows"]["excluded"].values())
    print(f"scored {c['scored']:,} customers from {manifest['rows']['read']:,} rows "
          f"({excluded:,} excluded: {manifest['rows']['excluded'] or 'none'}) -> {out}/")
    for name, m in manifest["models"].items():
        params = ", ".join(f"{k}={v:.4g}" for k, v in m["params"].items())
        print(f"  {name}: {params}; log-likelihood {m['log_likelihood']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


def _schema_of(path: str, compare_schema):
    """The comparison schema for a config with a ``split`` section, else the run schema (None)."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None  # load_config reports it
    return compare_schema if isinstance(raw, dict) and "split" in raw else None
