"""Batch-job benchmarks: the whole `clvmodels run` against the equivalent lifetimes script, chunked
scoring from a 10 M-customer summary, and the Dask engine on a 4-worker local cluster.

Usage (from the repository root; everything is written to a temporary directory)::

    python benchmarks/bench_batch.py e2e       [--customers 1000000] [--repeats 1]  # run vs lifetimes
    python benchmarks/bench_batch.py summary   [--customers 10000000]  # score from a summary, peak RSS
    python benchmarks/bench_batch.py dask      [--customers 10000000] [--workers 4]

``e2e`` simulates one transaction log (clvmodels.data.synthetic, seed 0), writes it as Parquet and
runs each side in its own Python process, timed from process start to exit (imports, reading,
summary, fits, predictions and writing the score file all included): ``clvmodels run`` through the
CLI entry point, and a script doing the same with lifetimes 0.11.3 (summary, BG/NBD, Gamma-Gamma,
52-week expected purchases, P(alive), 12-month CLV, scores written as Parquet). It prints the wall
times, the ratio, each side's peak RSS and the agreement of the scores.

``summary`` simulates a BG/NBD + Gamma-Gamma summary of N customers, writes it as Parquet and runs
``clvmodels run`` (input kind summary, pandas engine, chunked scoring) in a child process; it
reports the wall time and the child's peak RSS (target: under 3 GB for 10 M customers).

``dask`` simulates N customers' transactions into 20 Parquet files, starts a LocalCluster with
``--workers`` worker processes and runs the job on it (engine dask); it reports the wall time per
stage, the client's peak RSS and each worker's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

OBSERVATION_END = "1998-06-30"
TARGET_SPEEDUP = 10.0
PEAK_LIMIT_MIB = 3e9 / 2**20  # 3 GB

CHILD_PEAK = "import json, resource, sys; print('PEAK_MIB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"


def _run_child(code: str, cwd: Path) -> tuple[float, float, str]:
    """Run ``code`` in a fresh Python; return wall seconds, its peak RSS in MiB and its output."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code + "\n" + CHILD_PEAK], cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"child failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    peak = float(next(line.split()[1] for line in done.stdout.splitlines() if line.startswith("PEAK_MIB")))
    return wall, peak, done.stdout


def _config(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body))
    return path


LIFETIMES_SCRIPT = """
import warnings; warnings.simplefilter("ignore")
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import summary_data_from_transaction_data
tx = pd.read_parquet("tx.parquet")
s = summary_data_from_transaction_data(tx, "customer_id", "date", monetary_value_col="amount",
                                       observation_period_end="{end}", freq="D", freq_multiplier=7)
bgf = BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
rep = s[s["frequency"] > 0]
ggf = GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
f, r, T, m = s["frequency"], s["recency"], s["T"], s["monetary_value"]
s["p_alive"] = bgf.conditional_probability_alive(f, r, T)
s["expected_purchases_52w"] = bgf.conditional_expected_number_of_purchases_up_to_time(52, f, r, T)
s["expected_spend"] = ggf.conditional_expected_average_profit(f, m)
s["clv"] = ggf.customer_lifetime_value(bgf, f, r, T, m, time=12, discount_rate=0.01, freq="W")
s.reset_index().to_parquet("lifetimes_scores.parquet", index=False)
"""


def bench_e2e(n: int, work: Path, repeats: int = 1) -> str:
    import numpy as np
    import pandas as pd

    from clvmodels.data.synthetic import simulate_transactions

    start = time.perf_counter()
    tx = simulate_transactions(n, seed=0)
    tx.to_parquet(work / "tx.parquet", index=False)
    made = time.perf_counter() - start
    n_tx = len(tx)
    del tx
    config = _config(work / "job.yaml", f"""\
        input: {{path: tx.parquet}}
        summary: {{freq: D, time_unit: W, observation_period_end: {OBSERVATION_END}}}
        models: [bgnbd, gamma_gamma]
        predictions: {{horizons: [52], clv: {{horizon_months: 12, discount_rate: 0.01}}}}
        output: {{directory: out, formats: [parquet]}}
        """)
    # pip compiles an installed package's bytecode (lifetimes' __pycache__ holds it); an editable
    # checkout run with PYTHONDONTWRITEBYTECODE has none, so compile it first, as an install would
    import clvmodels

    subprocess.run([sys.executable, "-m", "compileall", "-q", str(Path(clvmodels.__file__).parent)], check=True)
    load = os.getloadavg()[0]
    ours_code = f"from clvmodels import cli; assert cli.main(['run', '{config}', '--no-progress']) == 0"
    runs = [(_run_child(ours_code, work), _run_child(LIFETIMES_SCRIPT.format(end=OBSERVATION_END), work))
            for _ in range(repeats)]  # alternate the sides so both see the same machine load
    ours = min((r[0] for r in runs), key=lambda r: r[0])
    theirs = min((r[1] for r in runs), key=lambda r: r[0])
    a = pd.read_parquet(work / "out" / "scores.parquet").set_index("customer_id").sort_index()
    b = pd.read_parquet(work / "lifetimes_scores.parquet").set_index("customer_id").sort_index()
    manifest = json.loads((work / "out" / "manifest.json").read_text())
    agreement = {c: float(np.max(np.abs(a[c] - b[c]) / np.maximum(np.abs(b[c]), 1e-12)))
                 for c in ("p_alive", "expected_purchases_52w", "expected_spend", "clv")}
    speedup = theirs[0] / ours[0]
    lines = [
        _header(f"e2e: {n:,} customers, {n_tx:,} transactions (simulated in {made:.1f} s); best of {repeats} "
                f"run(s) per side; 1-minute load average before the runs: {load:.2f}"),
        f"{'':34}{'lifetimes':>12}{'clvmodels':>12}{'ratio':>9}",
        f"{'end to end, process start-exit, s':34}{theirs[0]:12.2f}{ours[0]:12.2f}{speedup:8.1f}x",
        f"{'peak RSS, MiB':34}{theirs[1]:12.0f}{ours[1]:12.0f}{theirs[1] / ours[1]:8.2f}x",
        f"clvmodels stages of the last run (s): {manifest['timings_s']}",
        f"customers: {manifest['customers']}",
        "max relative difference of the scores, clvmodels vs lifetimes: "
        + ", ".join(f"{k} {v:.1e}" for k, v in agreement.items()),
        f"target (>= {TARGET_SPEEDUP:.0f}x faster end to end): {'MET' if speedup >= TARGET_SPEEDUP else 'NOT MET'}",
    ]
    return "\n".join(lines)


def bench_summary(n: int, work: Path) -> str:
    import numpy as np
    import pandas as pd

    from clvmodels import BetaGeoModel, GammaGammaModel
    from clvmodels.data.synthetic import CDNOW_BGNBD, CDNOW_GAMMA_GAMMA

    rng = np.random.default_rng(0)
    start = time.perf_counter()
    summary = BetaGeoModel.simulate_summary(CDNOW_BGNBD, n, rng=rng)
    # A summary built from daily transactions: times on a grid of days, in weeks.
    summary["T"] = np.round(summary["T"] * 7) / 7
    summary["recency"] = np.minimum(np.round(summary["recency"] * 7) / 7, summary["T"])
    summary.loc[summary["frequency"] == 0, "recency"] = 0.0
    spend = GammaGammaModel.simulate(CDNOW_GAMMA_GAMMA, summary["frequency"].to_numpy(), rng=rng)
    frame = pd.DataFrame({"customer_id": np.arange(1, n + 1), **{c: summary[c].to_numpy() for c in ("frequency", "recency", "T")},
                          "monetary_value": np.asarray(spend, dtype=float)})
    frame.to_parquet(work / "summary.parquet", index=False)
    made = time.perf_counter() - start
    del summary, frame, spend
    config = _config(work / "job.yaml", """\
        input: {kind: summary, path: summary.parquet, monetary_value: monetary_value}
        summary: {time_unit: W}
        models: [bgnbd, gamma_gamma]
        predictions: {horizons: [52]}
        output: {directory: out, formats: [parquet]}
        engine: {chunk_size: 250000}
        """)
    wall, peak, _ = _run_child(f"from clvmodels import cli; assert cli.main(['run', '{config}', '--no-progress']) == 0", work)
    manifest = json.loads((work / "out" / "manifest.json").read_text())
    size = (work / "summary.parquet").stat().st_size / 2**20
    return "\n".join([
        _header(f"summary: clvmodels run from a {n:,}-customer summary ({size:.0f} MiB Parquet, made in {made:.1f} s)"),
        f"wall time, process start-exit: {wall:.1f} s; stages (s): {manifest['timings_s']}",
        f"peak RSS of the job: {peak:,.0f} MiB (limit 3 GB = {PEAK_LIMIT_MIB:,.0f} MiB: {'MET' if peak < PEAK_LIMIT_MIB else 'NOT MET'})",
        f"customers: {manifest['customers']}",
    ])


def bench_dask(n: int, work: Path, workers: int, memory_limit: str) -> str:
    import distributed

    from clvmodels.batch import load_config, run
    from clvmodels.data.synthetic import simulate_transactions

    start = time.perf_counter()
    (work / "tx").mkdir()
    n_tx, files, per_file = 0, 20, -(-n // 20)
    for i in range(files):  # simulate in 20 slices so the parent never holds the whole log
        lo = i * per_file
        part = simulate_transactions(min(per_file, n - lo), seed=1000 + i)
        part["customer_id"] += lo
        part.to_parquet(work / "tx" / f"part-{i:03d}.parquet", index=False)
        n_tx += len(part)
        del part
    made = time.perf_counter() - start
    size = sum(p.stat().st_size for p in (work / "tx").iterdir()) / 2**20
    t0 = time.perf_counter()
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=memory_limit,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as client:
        started = time.perf_counter() - t0
        config = _config(work / "job.yaml", f"""\
            input: {{path: {work / 'tx'}}}
            summary: {{freq: D, time_unit: W, observation_period_end: {OBSERVATION_END}}}
            models: [bgnbd, gamma_gamma]
            predictions: {{horizons: [52]}}
            output: {{directory: {work / 'out'}, formats: [parquet]}}
            engine: {{type: dask, scheduler: '{cluster.scheduler_address}'}}
            """)
        t1 = time.perf_counter()
        manifest = run(load_config(config), progress=False)
        wall = time.perf_counter() - t1
        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return "\n".join([
        _header(f"dask: {n:,} customers, {n_tx:,} transactions in {files} Parquet files ({size:.0f} MiB, "
                f"simulated in {made:.0f} s); LocalCluster of {workers} workers x 1 thread, memory_limit {memory_limit}"),
        f"cluster start {started:.1f} s; job wall time {wall:.1f} s; stages (s): {manifest['timings_s']}",
        f"summary partitions: {manifest['summary'].get('partitions')}",
        "peak RSS per worker, MiB: " + ", ".join(f"{v:,.0f}" for v in peaks.values()),
        f"peak RSS of the client (this process, simulation included), MiB: {client_peak:,.0f}",
        f"customers: {manifest['customers']}",
        f"rows: {manifest['rows']}",
    ])


def _header(title: str) -> str:
    import pandas as pd

    import clvmodels

    return (f"{title}\nclvmodels {clvmodels.__version__}; {platform.machine()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, pandas {pd.__version__}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("e2e", "summary", "dask"))
    parser.add_argument("--customers", type=int)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--memory-limit", default="4GiB", help="dask: memory per worker")
    parser.add_argument("--repeats", type=int, default=1, help="e2e: runs per side, the best is reported")
    args = parser.parse_args(argv)
    default = {"e2e": 1_000_000, "summary": 10_000_000, "dask": 10_000_000}[args.mode]
    n = args.customers or default
    with tempfile.TemporaryDirectory(prefix="clvmodels-bench-") as tmp:
        work = Path(tmp)
        if args.mode == "e2e":
            text = bench_e2e(n, work, args.repeats)
        elif args.mode == "summary":
            text = bench_summary(n, work)
        else:
            text = bench_dask(n, work, args.workers, args.memory_limit)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
