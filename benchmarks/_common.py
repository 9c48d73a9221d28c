"""Machinery shared by the benchmarks that run clvmodels against lifetimes 0.11.3.

A benchmark script declares its timed steps (``{key: label}``), one pipeline per library and how
to simulate its transaction log, then hands them to :func:`main`. The parent process simulates the
log into a temporary parquet file and runs each library's pipeline in its own Python process (the
same script, called with ``--worker``), so each side's peak memory is its own and neither pays for
the other's imports or arrays. A pipeline is ``pipeline(tx, step) -> (summary, params,
predictions)``, where ``step(key, fn)`` times ``fn()`` after a ``gc.collect()`` and returns its
result; ``predictions`` maps a name to one value per customer of ``summary``.

The workers write their timings, memory and parameters as JSON and their summaries and
predictions, on a common customer order, as ``.npz`` files in the temporary directory; nothing is
written anywhere else except the ``--json`` file.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

OBSERVATION_END = "1998-06-30"
HORIZON_WEEKS = 52
SIDES = ("lifetimes", "clvmodels")
SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")  # those present are compared


# -- memory -------------------------------------------------------------------------------------
def proc_status_mib(field: str) -> float | None:
    """A ``VmRSS`` / ``VmHWM`` line of /proc/self/status in MiB (None off Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mib() -> float:
    """This process's peak resident memory so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


# -- worker: one library's pipeline in its own process ------------------------------------------
def run_worker(side: str, pipeline: Callable, data: Path, out: Path) -> None:
    """Run one side's pipeline on the parquet log; write timings, memory and results under ``out``."""
    warnings.simplefilter("ignore")  # lifetimes/autograd deprecation noise; not part of the measure
    import numpy as np
    import pandas as pd

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    if side == "lifetimes":
        import lifetimes  # noqa: F401
    else:
        import clvmodels  # noqa: F401
    times["import"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    tx = pd.read_parquet(data)
    times["load"] = time.perf_counter() - t0
    gc.collect()
    memory = {"rss_after_load_mib": proc_status_mib("VmRSS"), "peak_after_load_mib": peak_rss_mib()}

    def step(name, fn):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times[name] = time.perf_counter() - start
        return result

    summary, params, predictions = pipeline(tx, step)
    memory["peak_mib"] = peak_rss_mib()

    # Untimed: results on a common customer order for the cross-checks in the parent.
    order = np.sort(summary.index.to_numpy())
    arrays = {c: summary[c].reindex(order).to_numpy(dtype=float) for c in SUMMARY_COLUMNS if c in summary}
    arrays.update({k: pd.Series(np.asarray(v, dtype=float), index=summary.index).reindex(order).to_numpy()
                   for k, v in predictions.items()})
    np.savez(out / f"{side}.npz", customer_id=order, **arrays)
    (out / f"{side}.json").write_text(json.dumps({"times": times, "memory": memory, "params": params}))


# -- parent: run both sides, compare ------------------------------------------------------------
def _run_side(script: Path, side: str, data: Path, workdir: Path) -> dict:
    cmd = [sys.executable, str(script), "--worker", side, "--data", str(data), "--workdir", str(workdir)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"The {side} worker failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    result = json.loads((workdir / f"{side}.json").read_text())
    result["process_wall_s"] = wall
    return result


def _best(runs: list[dict], steps) -> dict:
    """Fastest time per step and smallest peak memory over repeated runs of one side."""
    best = dict(runs[0])
    best["times"] = {k: min(r["times"][k] for r in runs) for k in runs[0]["times"]}
    best["memory"] = {k: min((r["memory"][k] for r in runs if r["memory"][k] is not None), default=None)
                      for k in runs[0]["memory"]}
    best["end_to_end_per_run_s"] = [sum(r["times"][k] for k in steps) for r in runs]
    return best


def relative_difference(a, b):
    """``|a - b| / |b|`` elementwise, ``b`` the reference (floored at 1e-12)."""
    import numpy as np

    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-12)


def load_results(workdir: Path, side: str) -> dict:
    """A worker's summary and predictions as arrays on the common customer order."""
    import numpy as np

    with np.load(workdir / f"{side}.npz") as npz:
        return {k: npz[k] for k in npz.files}


def compare(workdir: Path, predictions) -> dict:
    """Largest summary difference and median / max relative difference of each prediction."""
    import numpy as np

    ours, theirs = load_results(workdir, "clvmodels"), load_results(workdir, "lifetimes")
    if not np.array_equal(ours["customer_id"], theirs["customer_id"]):
        return {"same_customers": False}
    out = {"same_customers": True}
    for key in SUMMARY_COLUMNS:
        if key in ours and key in theirs:
            out[f"summary_max_abs_diff_{key}"] = float(np.max(np.abs(ours[key] - theirs[key])))
    for key in predictions:
        rel = relative_difference(ours[key], theirs[key])
        out[f"max_rel_diff_{key}"] = float(np.max(rel))
        out[f"median_rel_diff_{key}"] = float(np.median(rel))
    return out


def ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def run_pair(script: Path, simulate: Callable, *, steps, predictions, param_names, repeats: int = 1,
             extra: Callable[[Path, dict], dict] | None = None) -> dict:
    """Simulate the log, save it to a temporary parquet file, run both sides and compare them.

    ``simulate()`` returns the transaction log (``customer_id``, ``date``[, ``amount``]); it is
    timed and the parent drops the log before the workers start. ``extra(workdir, sides)``, if
    given, is called before the temporary directory is removed (the workers' ``.npz`` files are
    still there) and its result is stored under ``"extra"``. Returns the part of the results
    common to every benchmark.
    """
    import lifetimes
    import pandas as pd

    import clvmodels

    with tempfile.TemporaryDirectory(prefix="clvmodels-bench-") as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        tx = simulate()
        generate_s = time.perf_counter() - start
        n_transactions = len(tx)
        data = workdir / "transactions.parquet"
        tx.to_parquet(data, index=False)
        del tx
        gc.collect()
        load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
        runs = {side: [] for side in SIDES}
        for _ in range(repeats):  # alternate sides so background load hits both alike
            for side in SIDES:
                runs[side].append(_run_side(script, side, data, workdir))
        sides = {side: _best(runs[side], steps) for side in SIDES}
        agreement = compare(workdir, predictions)
        extra_results = extra(workdir, sides) if extra is not None else None

    totals = {s: sum(sides[s]["times"][k] for k in steps) for s in SIDES}
    increments = {s: sides[s]["memory"]["peak_mib"] - (sides[s]["memory"]["rss_after_load_mib"] or 0.0)
                  for s in SIDES}
    lt, cm = sides["lifetimes"]["params"], sides["clvmodels"]["params"]
    results = {
        "n_transactions": n_transactions,
        "repeats": repeats,
        "load_average_before": load_before,
        "generate_s": generate_s,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                   f"pandas {pd.__version__}",
        "versions": {"clvmodels": clvmodels.__version__, "lifetimes": lifetimes.__version__},
        **sides,
        "end_to_end": {"lifetimes_s": totals["lifetimes"], "clvmodels_s": totals["clvmodels"],
                       "speedup": ratio(totals["lifetimes"], totals["clvmodels"])},
        "peak_increment_mib": increments,
        "param_rel_diff": {k: abs(cm[k] - lt[k]) / abs(lt[k]) for k in param_names},
        "agreement": agreement,
    }
    if extra is not None:
        results["extra"] = extra_results
    return results


# -- report -------------------------------------------------------------------------------------
def header_lines(results: dict, log: str | None = None) -> list[str]:
    """Versions, size of the log (``log`` says what it was drawn from), machine and load."""
    load = "n/a" if results["load_average_before"] is None else f"{results['load_average_before']:.2f}"
    source = f"{log}, " if log else ""
    return [
        f"clvmodels {results['versions']['clvmodels']} vs lifetimes {results['versions']['lifetimes']}: "
        f"{results['n_customers']:,} customers, {results['n_transactions']:,} transactions "
        f"({source}generated in {results['generate_s']:.1f} s; {results['machine']})",
        f"best of {results['repeats']} run(s) per side; 1-minute load average before the runs: {load}",
    ]


def timing_lines(results: dict, steps: dict[str, str]) -> list[str]:
    """Seconds per step and ratio, end-to-end total, import and read times, memory per side."""
    lt, cm = results["lifetimes"], results["clvmodels"]
    row = "{:<34}{:>12.2f}{:>13.2f}{:>8.1f}x"
    lines = [f"{'step':<34}{'lifetimes s':>12}{'clvmodels s':>13}{'ratio':>9}", "-" * 68]
    for key, label in steps.items():
        lines.append(row.format(label, lt["times"][key], cm["times"][key], ratio(lt["times"][key], cm["times"][key])))
    lines.append("-" * 68)
    e2e = results["end_to_end"]
    lines.append(row.format("end to end (steps above)", e2e["lifetimes_s"], e2e["clvmodels_s"], e2e["speedup"]))
    lines.append("")
    lines.append(row.format("import (not in end to end)", lt["times"]["import"], cm["times"]["import"],
                            ratio(lt["times"]["import"], cm["times"]["import"])))
    lines.append(row.format("read parquet (same code both)", lt["times"]["load"], cm["times"]["load"],
                            ratio(lt["times"]["load"], cm["times"]["load"])))
    mem = "{:<34}{:>12.0f}{:>13.0f}{:>8.2f}x"
    lines.append(mem.format("RSS after reading the log, MiB", lt["memory"]["rss_after_load_mib"] or float("nan"),
                            cm["memory"]["rss_after_load_mib"] or float("nan"),
                            ratio(lt["memory"]["rss_after_load_mib"] or 0, cm["memory"]["rss_after_load_mib"] or 1)))
    lines.append(mem.format("peak RSS, MiB", lt["memory"]["peak_mib"], cm["memory"]["peak_mib"],
                            ratio(lt["memory"]["peak_mib"], cm["memory"]["peak_mib"])))
    inc = results["peak_increment_mib"]
    lines.append(mem.format("peak RSS - RSS after reading, MiB", inc["lifetimes"], inc["clvmodels"],
                            ratio(inc["lifetimes"], inc["clvmodels"])))
    return lines


def param_lines(results: dict) -> list[str]:
    """Each fitted parameter on both sides and their relative difference."""
    lt, cm = results["lifetimes"]["params"], results["clvmodels"]["params"]
    lines = [f"{'parameter':<12}{'lifetimes':>14}{'clvmodels':>14}{'rel. diff':>12}", "-" * 52]
    for name, d in results["param_rel_diff"].items():
        lines.append(f"{name:<12}{lt[name]:>14.6g}{cm[name]:>14.6g}{d:>12.2e}")
    return lines


def agreement_lines(agree: dict, predictions, *, prefix: str = "") -> list[str]:
    """The largest summary difference and each prediction's median / max relative difference."""
    if not agree["same_customers"]:
        return ["predictions: the two summaries have different customers (not compared)"]
    worst = max(v for k, v in agree.items() if k.startswith("summary_max_abs_diff"))
    columns = "/".join(k.removeprefix("summary_max_abs_diff_") for k in agree if k.startswith("summary_max_abs_diff"))
    lines = [f"{prefix}summaries: largest absolute difference over {columns} {worst:.2e}"]
    return lines + prediction_lines(agree, predictions, prefix=prefix)


def prediction_lines(agree: dict, predictions, *, prefix: str = "") -> list[str]:
    return [f"{prefix}{key:<20} relative difference: median {agree[f'median_rel_diff_{key}']:.2e}, "
            f"max {agree[f'max_rel_diff_{key}']:.2e}" for key in predictions]


# -- command line ---------------------------------------------------------------------------------
def main(argv, *, doc: str, pipelines: dict[str, Callable], benchmark: Callable, report: Callable) -> int:
    """Parse the common options; run a worker (``--worker``) or the whole benchmark and print it.

    ``benchmark(n_customers, seed, repeats) -> dict`` and ``report(results) -> str``.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000, help="customers to simulate (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic log (default 0)")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run each side this many times (alternating) and keep the fastest time per step")
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this path")
    parser.add_argument("--worker", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        run_worker(args.worker, pipelines[args.worker], args.data, args.workdir)
        return 0
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    results = benchmark(args.customers, args.seed, args.repeats)
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nresults written to {args.json}")
    return 0
