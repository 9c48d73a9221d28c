"""End-to-end benchmark: clvmodels against lifetimes 0.11.3 on one synthetic transaction log.

Generates a BG/NBD + Gamma-Gamma log (:func:`clvmodels.data.synthetic.simulate_transactions`, CDNOW
parameters, 1,000,000 customers by default) into a temporary parquet file, then runs the same
pipeline once per library, each in its own Python process so that each side's peak memory is its
own:

1. RFM summary from the transactions (purchase occasions per day; recency and T in weeks = days / 7);
2. BG/NBD fit on all customers;
3. Gamma-Gamma fit on the repeat customers;
4. expected purchases in the next 52 weeks and 5. P(alive), for every customer;
6. 12-month CLV, discount 1 % a month, for every customer.

Prints one table (seconds per step, ratio lifetimes / clvmodels, end-to-end totals, peak memory)
and checks that both sides computed the same summary, parameters and predictions.

Run from the repository root, after ``make test`` has built ``.venv``::

    .venv/bin/python benchmarks/bench_foundation.py [--customers N] [--json PATH]
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
from pathlib import Path

OBSERVATION_END = "1998-06-30"
HORIZON_WEEKS = 52
CLV_MONTHS = 12
DISCOUNT = 0.01
SIDES = ("lifetimes", "clvmodels")
STEPS = {  # key: label in the table
    "summary": "summary from transactions",
    "bgnbd_fit": "BG/NBD fit",
    "gamma_gamma_fit": "Gamma-Gamma fit (repeaters)",
    "expected_purchases": f"expected purchases ({HORIZON_WEEKS} w)",
    "p_alive": "P(alive)",
    "clv": f"CLV ({CLV_MONTHS} months, {DISCOUNT:.0%}/month)",
}
BGNBD_PARAMS = ("r", "alpha", "a", "b")
GG_PARAMS = ("p", "q", "gamma")  # lifetimes calls gamma "v"
TARGET_SPEEDUP = 10.0


# -- memory -------------------------------------------------------------------------------------
def _proc_status_mib(field: str) -> float | None:
    """A ``VmRSS`` / ``VmHWM`` line of /proc/self/status in MiB (None off Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_rss_mib() -> float:
    """This process's peak resident memory so far (ru_maxrss: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


# -- the two pipelines (run in a worker process) -------------------------------------------------
def _lifetimes_pipeline(tx, step):
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    summary = step("summary", lambda: summary_data_from_transaction_data(
        tx, "customer_id", "date", monetary_value_col="amount", observation_period_end=OBSERVATION_END,
        freq="D", freq_multiplier=7))  # days / 7: weeks, as clvmodels' freq="D", time_unit="W"
    f, r, T, m = (summary[c] for c in ("frequency", "recency", "T", "monetary_value"))
    bgf = step("bgnbd_fit", lambda: BetaGeoFitter().fit(f, r, T))

    def fit_gamma_gamma():
        repeaters = summary[summary["frequency"] > 0]
        return GammaGammaFitter().fit(repeaters["frequency"], repeaters["monetary_value"])

    ggf = step("gamma_gamma_fit", fit_gamma_gamma)
    expected = step("expected_purchases",
                    lambda: bgf.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, f, r, T))
    alive = step("p_alive", lambda: bgf.conditional_probability_alive(f, r, T))
    clv = step("clv", lambda: ggf.customer_lifetime_value(bgf, f, r, T, m, time=CLV_MONTHS,
                                                          discount_rate=DISCOUNT, freq="W"))
    params = {**{k: float(bgf.params_[k]) for k in BGNBD_PARAMS},
              **{k: float(ggf.params_["v" if k == "gamma" else k]) for k in GG_PARAMS}}
    return summary, params, {"expected_purchases": expected, "p_alive": alive, "clv": clv}


def _clvmodels_pipeline(tx, step):
    from clvmodels import BetaGeoModel, GammaGammaModel, customer_lifetime_value, rfm_summary

    summary = step("summary", lambda: rfm_summary(
        tx, customer_id_col="customer_id", datetime_col="date", monetary_value_col="amount",
        observation_period_end=OBSERVATION_END, freq="D", time_unit="W"))
    bgf = step("bgnbd_fit", lambda: BetaGeoModel().fit(summary))
    ggf = step("gamma_gamma_fit", lambda: GammaGammaModel().fit(summary))  # uses frequency > 0 only
    expected = step("expected_purchases", lambda: bgf.expected_purchases(summary, HORIZON_WEEKS))
    alive = step("p_alive", lambda: bgf.probability_alive(summary))
    clv = step("clv", lambda: customer_lifetime_value(bgf, ggf, summary, horizon_months=CLV_MONTHS,
                                                      discount_rate=DISCOUNT))
    params = {**{k: float(bgf.params_[k]) for k in BGNBD_PARAMS},
              **{k: float(ggf.params_[k]) for k in GG_PARAMS}}
    return summary, params, {"expected_purchases": expected, "p_alive": alive, "clv": clv}


def run_worker(side: str, data: Path, out: Path) -> None:
    """Run one side's pipeline on the parquet log; write timings, memory and results under ``out``."""
    warnings.simplefilter("ignore")  # lifetimes/autograd deprecation noise; not part of the measure
    import numpy as np
    import pandas as pd

    times: dict[str, float] = {}
    t0 = time.perf_counter()
    if side == "lifetimes":
        import lifetimes  # noqa: F401
        pipeline = _lifetimes_pipeline
    else:
        import clvmodels  # noqa: F401
        pipeline = _clvmodels_pipeline
    times["import"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    tx = pd.read_parquet(data)
    times["load"] = time.perf_counter() - t0
    gc.collect()
    memory = {"rss_after_load_mib": _proc_status_mib("VmRSS"), "peak_after_load_mib": _peak_rss_mib()}

    def step(name, fn):
        gc.collect()
        start = time.perf_counter()
        result = fn()
        times[name] = time.perf_counter() - start
        return result

    summary, params, predictions = pipeline(tx, step)
    memory["peak_mib"] = _peak_rss_mib()

    # Untimed: results on a common customer order for the cross-check in the parent.
    order = np.sort(summary.index.to_numpy())
    arrays = {c: summary[c].reindex(order).to_numpy(dtype=float)
              for c in ("frequency", "recency", "T", "monetary_value")}
    arrays.update({k: pd.Series(np.asarray(v, dtype=float), index=summary.index).reindex(order).to_numpy()
                   for k, v in predictions.items()})
    np.savez(out / f"{side}.npz", customer_id=order, **arrays)
    (out / f"{side}.json").write_text(json.dumps({"times": times, "memory": memory, "params": params}))


# -- parent: generate, run both, compare, report --------------------------------------------------
def _run_side(side: str, data: Path, workdir: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", side, "--data", str(data),
           "--workdir", str(workdir)]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"The {side} worker failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    result = json.loads((workdir / f"{side}.json").read_text())
    result["process_wall_s"] = wall
    return result


def _compare(workdir: Path) -> dict:
    import numpy as np

    ours, theirs = (np.load(workdir / f"{s}.npz") for s in ("clvmodels", "lifetimes"))
    if not np.array_equal(ours["customer_id"], theirs["customer_id"]):
        return {"same_customers": False}
    out = {"same_customers": True}
    for key in ("frequency", "recency", "T", "monetary_value"):
        out[f"summary_max_abs_diff_{key}"] = float(np.max(np.abs(ours[key] - theirs[key])))
    for key in ("expected_purchases", "p_alive", "clv"):
        a, b = ours[key], theirs[key]
        scale = np.maximum(np.abs(b), 1e-12)
        out[f"max_rel_diff_{key}"] = float(np.max(np.abs(a - b) / scale))
        out[f"median_rel_diff_{key}"] = float(np.median(np.abs(a - b) / scale))
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else float("inf")


def report(results: dict) -> str:
    lt, cm = results["lifetimes"], results["clvmodels"]
    load = "n/a" if results["load_average_before"] is None else f"{results['load_average_before']:.2f}"
    lines = [
        f"clvmodels {results['versions']['clvmodels']} vs lifetimes {results['versions']['lifetimes']}: "
        f"{results['n_customers']:,} customers, {results['n_transactions']:,} transactions "
        f"(generated in {results['generate_s']:.1f} s; {results['machine']})",
        f"best of {results['repeats']} run(s) per side; 1-minute load average before the runs: {load}",
        "",
        f"{'step':<34}{'lifetimes s':>12}{'clvmodels s':>13}{'ratio':>9}",
        "-" * 68,
    ]
    row = "{:<34}{:>12.2f}{:>13.2f}{:>8.1f}x"
    for key, label in STEPS.items():
        lines.append(row.format(label, lt["times"][key], cm["times"][key], _ratio(lt["times"][key], cm["times"][key])))
    lines.append("-" * 68)
    e2e = results["end_to_end"]
    lines.append(row.format("end to end (steps above)", e2e["lifetimes_s"], e2e["clvmodels_s"], e2e["speedup"]))
    lines.append("")
    lines.append(row.format("import (not in end to end)", lt["times"]["import"], cm["times"]["import"],
                            _ratio(lt["times"]["import"], cm["times"]["import"])))
    lines.append(row.format("read parquet (same code both)", lt["times"]["load"], cm["times"]["load"],
                            _ratio(lt["times"]["load"], cm["times"]["load"])))
    mem = "{:<34}{:>12.0f}{:>13.0f}{:>8.2f}x"
    lines.append(mem.format("RSS after reading the log, MiB", lt["memory"]["rss_after_load_mib"] or float("nan"),
                            cm["memory"]["rss_after_load_mib"] or float("nan"),
                            _ratio(lt["memory"]["rss_after_load_mib"] or 0, cm["memory"]["rss_after_load_mib"] or 1)))
    lines.append(mem.format("peak RSS, MiB", lt["memory"]["peak_mib"], cm["memory"]["peak_mib"],
                            _ratio(lt["memory"]["peak_mib"], cm["memory"]["peak_mib"])))
    inc = results["peak_increment_mib"]
    lines.append(mem.format("peak RSS - RSS after reading, MiB", inc["lifetimes"], inc["clvmodels"],
                            _ratio(inc["lifetimes"], inc["clvmodels"])))

    lines += ["", f"{'parameter':<12}{'lifetimes':>14}{'clvmodels':>14}{'rel. diff':>12}", "-" * 52]
    for name, d in results["param_rel_diff"].items():
        lines.append(f"{name:<12}{lt['params'][name]:>14.6g}{cm['params'][name]:>14.6g}{d:>12.2e}")
    agree = results["agreement"]
    lines.append("")
    if not agree["same_customers"]:
        lines.append("predictions: the two summaries have different customers (not compared)")
    else:
        worst_summary = max(v for k, v in agree.items() if k.startswith("summary_max_abs_diff"))
        lines.append(f"summaries: largest absolute difference over frequency/recency/T/monetary_value "
                     f"{worst_summary:.2e}")
        for key in ("expected_purchases", "p_alive", "clv"):
            lines.append(f"{key:<20} relative difference: median {agree[f'median_rel_diff_{key}']:.2e}, "
                         f"max {agree[f'max_rel_diff_{key}']:.2e}")
    verdict = results["target"]
    lines += ["", f"target (>= {TARGET_SPEEDUP:.0f}x faster end to end and lower peak memory): "
              f"{'MET' if verdict['met'] else 'NOT MET'} (speed-up {e2e['speedup']:.1f}x, "
              f"peak memory {'lower' if verdict['lower_memory'] else 'NOT lower'})"]
    return "\n".join(lines)


def _best(runs: list[dict]) -> dict:
    """Fastest time per step and smallest peak memory over repeated runs of one side."""
    best = dict(runs[0])
    best["times"] = {k: min(r["times"][k] for r in runs) for k in runs[0]["times"]}
    best["memory"] = {k: min((r["memory"][k] for r in runs if r["memory"][k] is not None), default=None)
                      for k in runs[0]["memory"]}
    best["end_to_end_per_run_s"] = [sum(r["times"][k] for k in STEPS) for r in runs]
    return best


def run_benchmark(n_customers: int, seed: int, repeats: int = 1) -> dict:
    import lifetimes
    import pandas as pd

    import clvmodels
    from clvmodels.data.synthetic import simulate_transactions

    with tempfile.TemporaryDirectory(prefix="clvmodels-bench-") as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        tx = simulate_transactions(n_customers, seed=seed)
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
                runs[side].append(_run_side(side, data, workdir))
        sides = {side: _best(runs[side]) for side in SIDES}
        agreement = _compare(workdir)

    totals = {s: sum(sides[s]["times"][k] for k in STEPS) for s in SIDES}
    increments = {s: sides[s]["memory"]["peak_mib"] - (sides[s]["memory"]["rss_after_load_mib"] or 0.0)
                  for s in SIDES}
    rel = {k: abs(sides["clvmodels"]["params"][k] - sides["lifetimes"]["params"][k]) / abs(sides["lifetimes"]["params"][k])
           for k in BGNBD_PARAMS + GG_PARAMS}
    speedup = _ratio(totals["lifetimes"], totals["clvmodels"])
    lower_memory = sides["clvmodels"]["memory"]["peak_mib"] < sides["lifetimes"]["memory"]["peak_mib"]
    return {
        "n_customers": n_customers,
        "n_transactions": n_transactions,
        "seed": seed,
        "repeats": repeats,
        "load_average_before": load_before,
        "generate_s": generate_s,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                   f"pandas {pd.__version__}",
        "versions": {"clvmodels": clvmodels.__version__, "lifetimes": lifetimes.__version__},
        **sides,
        "end_to_end": {"lifetimes_s": totals["lifetimes"], "clvmodels_s": totals["clvmodels"], "speedup": speedup},
        "peak_increment_mib": increments,
        "param_rel_diff": rel,
        "agreement": agreement,
        "target": {"speedup": TARGET_SPEEDUP, "met": bool(speedup >= TARGET_SPEEDUP and lower_memory),
                   "lower_memory": bool(lower_memory)},
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
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
        run_worker(args.worker, args.data, args.workdir)
        return 0
    if args.customers < 1:
        parser.error("--customers must be at least 1")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    results = run_benchmark(args.customers, args.seed, args.repeats)
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
