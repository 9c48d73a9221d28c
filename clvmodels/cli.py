"""Command line: ``clvmodels run CONFIG.yaml`` and ``clvmodels validate CONFIG.yaml``.

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
  clvmodels validate my.yaml                        check a config without running it

outputs (in output.directory): scores.parquet (and scores.csv if requested) with one row per
customer; models/<name>.json (fitted parameters, reload with clvmodels.load_model);
manifest.json (rows read/excluded by reason, customers scored, parameters, timings, versions).

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
    run.add_argument("--output-dir", help="write outputs here instead of output.directory")
    bar = run.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None, help="always show the progress bar")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show the progress bar")
    validate = sub.add_parser("validate", help="check a config file without running it",
                              description="Check a config file and report every problem at once.")
    validate.add_argument("config", help="YAML config file")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .batch import load_config, run  # imported late so --help stays fast

    try:
        config = load_config(args.config)
        if args.command == "validate":
            print(f"{args.config}: OK")
            return 0
        manifest = run(config, output_dir=args.output_dir, progress=args.progress,
                       config_text=Path(args.config).read_text(encoding="utf-8"))
    except ClvModelsError as err:
        print(f"clvmodels: error: {err}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - the scheduler gets a log path and exit code 1
        log = Path(tempfile.mkstemp(prefix="clvmodels-", suffix=".log")[1])
        log.write_text(traceback.format_exc(), encoding="utf-8")
        print(f"clvmodels: unexpected failure; the traceback is in {log}", file=sys.stderr)
        return 1
    out = Path(args.output_dir or config.output.directory)
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
