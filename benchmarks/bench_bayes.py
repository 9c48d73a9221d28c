"""Bayesian BG/NBD: clvmodels.bayes against PyMC-Marketing's BetaGeoModel, plus prediction memory.

Run (see benchmarks/README.md for creating the PyMC-Marketing environment):

    .venv/bin/python benchmarks/bench_bayes.py --peer-python /tmp/pmm-venv/bin/python

Parts (``--parts``, default all):

fit
    One simulated summary of ``--customers`` customers (BG/NBD at the CDNOW estimates, cohorts
    observed for 13 to 78 weeks, times rounded to days, Gamma-Gamma spend). Each side fits it in
    its own Python process with NUTS through nutpie, 2 chains x (1,000 tune + 1,000 draws) by
    default; the report gives the fit seconds and their ratio, each process's peak RSS, the
    posterior means side by side and the agreement of the posterior-mean predictions per customer
    (P(alive) and expected purchases in 52 weeks).
cdnow
    The same comparison on the CDNOW 1/10 sample's published summary (2,357 customers); the
    posterior means sit next to the published MLE.
predict
    clvmodels only: the posterior from the fit part (all its draws) predicts P(alive) and
    52-week expected purchases, each with mean, sd and a 90 % interval, for ``--predict-customers``
    new simulated customers; seconds and the process's peak RSS.
clv
    clvmodels only: 10-year monthly discounted CLV (120 months, 1 %/month) with 90 % intervals
    for ``--clv-customers`` customers from the fitted BG/NBD and Gamma-Gamma posteriors.
large
    clvmodels only: a NUTS fit of BG/NBD on ``--large-customers`` simulated customers (default
    1,000,000) with the same sampler settings; seconds (target: under 2 minutes), peak RSS,
    R-hat, ESS and the posterior means against the true values.

Nothing is written outside a temporary directory except ``--json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import peak_rss_mib, ratio, relative_difference

PARAMS = ("r", "alpha", "a", "b")
CDNOW_BGNBD = (0.243, 4.414, 0.793, 2.426)
CDNOW_GG = (6.25, 3.74, 15.44)
HORIZON_WEEKS = 52


# -- data -----------------------------------------------------------------------------------------
def simulate_summary(n: int, seed: int):
    """BG/NBD histories at the CDNOW estimates, times rounded to days (in weeks), with spend."""
    import numpy as np

    from clvmodels import BetaGeoModel
    from clvmodels.likelihoods import gamma_gamma

    rng = np.random.default_rng(seed)
    summary = BetaGeoModel.simulate_summary(CDNOW_BGNBD, n, rng=rng)
    summary["recency"] = (summary["recency"] * 7).round() / 7
    summary["T"] = (summary["T"] * 7).round() / 7
    summary["monetary_value"] = gamma_gamma.simulate(CDNOW_GG, summary["frequency"].to_numpy(), rng=rng)
    summary.insert(0, "customer_id", np.arange(n))
    summary.attrs["time_unit"] = "W"
    return summary


# -- workers ----------------------------------------------------------------------------------------
def worker_peer(data: Path, out: Path, args) -> dict:
    """PyMC-Marketing's BetaGeoModel, called as its documentation shows, sampled by nutpie."""
    import warnings

    warnings.simplefilter("ignore")
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    import pymc_marketing
    from pymc_marketing.clv import BetaGeoModel
    import_s = time.perf_counter() - t0
    summary = pd.read_parquet(data)[["customer_id", "frequency", "recency", "T"]]
    try:
        import nutpie  # noqa: F401
        sampler = "nutpie"
    except ImportError:
        sampler = "pymc"
    model = BetaGeoModel(data=summary)
    start = time.perf_counter()
    model.fit(fit_method="mcmc", nuts_sampler=sampler, chains=args.chains, draws=args.draws, tune=args.tune,
              random_seed=args.seed, progressbar=False)
    fit_s = time.perf_counter() - start
    peak_fit = peak_rss_mib()
    posterior = model.idata.posterior
    means = {p: float(posterior[p].mean()) for p in PARAMS}
    start = time.perf_counter()
    alive, purchases = [], []
    for lo in range(0, len(summary), 10_000):  # 10,000 customers x all draws at a time
        part = summary.iloc[lo:lo + 10_000]
        alive.append(model.expected_probability_alive(part).mean(("chain", "draw")).to_numpy())
        purchases.append(model.expected_purchases(part, future_t=HORIZON_WEEKS).mean(("chain", "draw")).to_numpy())
    predict_s = time.perf_counter() - start
    np.savez(out / "peer.npz", p_alive=np.concatenate(alive), purchases=np.concatenate(purchases))
    return {"library": f"pymc-marketing {pymc_marketing.__version__}", "sampler": sampler, "import_s": import_s,
            "fit_s": fit_s, "predict_s": predict_s, "peak_after_fit_mib": peak_fit, "peak_mib": peak_rss_mib(),
            "means": means, "divergences": int(model.idata.sample_stats["diverging"].sum())}


def worker_clvmodels(data: Path, out: Path, args) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    import numpy as np
    import pandas as pd

    t0 = time.perf_counter()
    import clvmodels
    from clvmodels.bayes import BayesBetaGeoModel, BayesGammaGammaModel
    import_s = time.perf_counter() - t0
    summary = pd.read_parquet(data)
    summary.attrs["time_unit"] = "W"
    model = BayesBetaGeoModel(draws=args.draws, tune=args.tune, chains=args.chains, random_seed=args.seed)
    start = time.perf_counter()
    model.fit(summary)
    fit_s = time.perf_counter() - start
    peak_fit = peak_rss_mib()
    start = time.perf_counter()
    alive = model.probability_alive(summary)["mean"].to_numpy()
    purchases = model.expected_purchases(summary, HORIZON_WEEKS)["mean"].to_numpy()
    predict_s = time.perf_counter() - start
    np.savez(out / "clvmodels.npz", p_alive=alive, purchases=purchases)
    model.save(out / "bgnbd.nc")
    start = time.perf_counter()
    spend = BayesGammaGammaModel(draws=args.draws, tune=args.tune, chains=args.chains, random_seed=args.seed)
    spend.fit(summary)
    spend_fit_s = time.perf_counter() - start
    spend.save(out / "gamma_gamma.nc")
    summary_table = model.summary()
    return {"library": f"clvmodels {clvmodels.__version__}", "sampler": model.sampler_, "import_s": import_s,
            "fit_s": fit_s, "predict_s": predict_s, "peak_after_fit_mib": peak_fit, "peak_mib": peak_rss_mib(),
            "means": {p: float(model.params_[p]) for p in PARAMS}, "divergences": model.divergences_,
            "n_unique": model.n_unique_, "gamma_gamma_fit_s": spend_fit_s,
            "r_hat_max": float(summary_table["r_hat"].max()), "ess_bulk_min": float(summary_table["ess_bulk"].min())}


def worker_predict(data: Path, out: Path, args) -> dict:
    """P(alive) and expected purchases with intervals for many customers from the saved posterior."""
    import warnings

    warnings.simplefilter("ignore")
    from clvmodels.bayes import BayesBetaGeoModel

    model = BayesBetaGeoModel.load(out / "bgnbd.nc")
    customers = simulate_summary(args.predict_customers, args.seed + 1)[["frequency", "recency", "T"]]
    rss_before = peak_rss_mib()
    start = time.perf_counter()
    alive = model.probability_alive(customers)
    alive_s = time.perf_counter() - start
    start = time.perf_counter()
    purchases = model.expected_purchases(customers, HORIZON_WEEKS)
    purchases_s = time.perf_counter() - start
    draws = model.posterior_draws().shape[0]
    return {"customers": len(customers), "draws": draws, "distinct": int(len(customers.drop_duplicates())),
            "p_alive_s": alive_s, "purchases_s": purchases_s, "peak_before_mib": rss_before,
            "peak_mib": peak_rss_mib(), "mean_p_alive": float(alive["mean"].mean()),
            "mean_purchases": float(purchases["mean"].mean())}


def worker_clv(data: Path, out: Path, args) -> dict:
    """10-year monthly CLV with intervals from the saved BG/NBD and Gamma-Gamma posteriors."""
    import warnings

    warnings.simplefilter("ignore")
    from clvmodels.bayes import BayesBetaGeoModel, BayesGammaGammaModel, customer_lifetime_value

    purchase = BayesBetaGeoModel.load(out / "bgnbd.nc")
    spend = BayesGammaGammaModel.load(out / "gamma_gamma.nc")
    customers = simulate_summary(args.clv_customers, args.seed + 2).drop(columns="customer_id")
    rss_before = peak_rss_mib()
    start = time.perf_counter()
    clv = customer_lifetime_value(purchase, spend, customers, horizon_months=120, discount_rate=0.01,
                                  n_draws=args.clv_draws)
    clv_s = time.perf_counter() - start
    return {"customers": len(customers), "draws": clv.attrs["n_draws"], "clv_s": clv_s,
            "peak_before_mib": rss_before, "peak_mib": peak_rss_mib(), "mean_clv": float(clv["mean"].mean()),
            "mean_interval_width": float((clv.iloc[:, 3] - clv.iloc[:, 2]).mean())}


def worker_large(data: Path, out: Path, args) -> dict:
    """A NUTS fit of BG/NBD on a large simulated summary (the 2-minute target at 1,000,000)."""
    import warnings

    warnings.simplefilter("ignore")
    from clvmodels.bayes import BayesBetaGeoModel

    summary = simulate_summary(args.large_customers, args.seed + 3)
    summary.attrs["time_unit"] = "W"
    rss_before = peak_rss_mib()
    model = BayesBetaGeoModel(draws=args.draws, tune=args.tune, chains=args.chains, random_seed=args.seed)
    start = time.perf_counter()
    model.fit(summary)
    fit_s = time.perf_counter() - start
    table = model.summary()
    return {"customers": len(summary), "n_unique": model.n_unique_, "fit_s": fit_s, "sampler": model.sampler_,
            "peak_before_mib": rss_before, "peak_mib": peak_rss_mib(), "divergences": model.divergences_,
            "means": {p: float(model.params_[p]) for p in PARAMS},
            "sds": {p: float(table.loc[p, "sd"]) for p in PARAMS},
            "r_hat_max": float(table["r_hat"].max()), "ess_bulk_min": float(table["ess_bulk"].min())}


WORKERS = {"peer": worker_peer, "clvmodels": worker_clvmodels, "predict": worker_predict, "clv": worker_clv,
           "large": worker_large}


# -- parent -------------------------------------------------------------------------------------------
def run_worker(python: str, name: str, data: Path, workdir: Path, args) -> dict:
    cmd = [python, str(Path(__file__).resolve()), "--worker", name, "--data", str(data), "--workdir", str(workdir),
           "--draws", str(args.draws), "--tune", str(args.tune), "--chains", str(args.chains),
           "--seed", str(args.seed), "--predict-customers", str(args.predict_customers),
           "--clv-customers", str(args.clv_customers), "--large-customers", str(args.large_customers)]
    if args.clv_draws:
        cmd += ["--clv-draws", str(args.clv_draws)]
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)  # clvmodels from this checkout
    if name == "peer":
        env.pop("PYTHONPATH")  # the peer's environment must not see clvmodels
    load = os.getloadavg()[0]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        return {"error": f"exit {done.returncode}: {done.stderr[-3000:]}", "load_before": load}
    result = json.loads((workdir / f"{name}.json").read_text())
    result.update({"process_wall_s": wall, "load_before": load, "load_after": os.getloadavg()[0]})
    return result


def agreement(workdir: Path) -> dict:
    import numpy as np

    ours, peer = np.load(workdir / "clvmodels.npz"), np.load(workdir / "peer.npz")
    out = {}
    for key in ("p_alive", "purchases"):
        rel = relative_difference(ours[key], peer[key])
        out[key] = {"median_rel": float(np.median(rel)), "p99_rel": float(np.quantile(rel, 0.99)),
                    "max_rel": float(rel.max()), "max_abs": float(np.abs(ours[key] - peer[key]).max())}
    return out


def fit_section(ours, peer, agreement, *, missing, reference) -> list[str]:
    """The side-by-side table of one fit comparison (``reference``: label of the CDNOW values column)."""
    lines = []
    if ours and "error" not in ours:
        lines.append(f"clvmodels fit on {ours['n_unique']:,} distinct histories")
    if ours or peer:
        lines += ["", f"{'':<34}{'PyMC-Marketing':>16}{'clvmodels':>14}{'ratio':>9}", "-" * 73]
        if peer is None or "error" in peer:
            why = missing or (peer or {}).get("error", "not run")
            lines.append(f"PyMC-Marketing not run: {why}")
        if ours and "error" in ours:
            lines.append(f"clvmodels failed: {ours['error']}")
        ok_p, ok_o = peer is not None and "error" not in peer, ours is not None and "error" not in ours

        def row(label, key, fmt="{:>16.1f}", fmt2="{:>14.1f}"):
            p = peer[key] if ok_p else float("nan")
            o = ours[key] if ok_o else float("nan")
            return f"{label:<34}" + fmt.format(p) + fmt2.format(o) + (f"{ratio(p, o):>8.1f}x" if ok_p and ok_o else "")

        lines.append(row("fit seconds (NUTS, all chains)", "fit_s"))
        lines.append(row("posterior-mean predictions, s", "predict_s"))
        lines.append(row("peak RSS after fit, MiB", "peak_after_fit_mib", "{:>16.0f}", "{:>14.0f}"))
        lines.append(row("peak RSS of the process, MiB", "peak_mib", "{:>16.0f}", "{:>14.0f}"))
        lines.append(row("1-min load average before", "load_before", "{:>16.2f}", "{:>14.2f}"))
        lines.append(row("1-min load average after", "load_after", "{:>16.2f}", "{:>14.2f}"))
        if ok_p:
            lines.append(f"PyMC-Marketing: {peer['library']}, sampler {peer['sampler']}, "
                         f"{peer['divergences']} divergences")
        if ok_o:
            lines.append(f"clvmodels: {ours['library']}, sampler {ours['sampler']}, {ours['divergences']} divergences, "
                         f"max R-hat {ours['r_hat_max']:.4f}, min bulk ESS {ours['ess_bulk_min']:.0f}; "
                         f"Gamma-Gamma fit (not compared) {ours['gamma_gamma_fit_s']:.1f} s")
        lines += ["", f"{'posterior mean':<16}{'PyMC-Marketing':>16}{'clvmodels':>14}{reference:>10}", "-" * 56]
        for name, true in zip(PARAMS, CDNOW_BGNBD):
            p = peer["means"][name] if ok_p else float("nan")
            o = ours["means"][name] if ok_o else float("nan")
            lines.append(f"{name:<16}{p:>16.4f}{o:>14.4f}{true:>10.3f}")
        if agreement:
            lines += ["", "posterior-mean predictions per customer, relative difference clvmodels vs PyMC-Marketing:"]
            for key, label in (("p_alive", "P(alive)"), ("purchases", f"expected purchases, {HORIZON_WEEKS} weeks")):
                a = agreement[key]
                lines.append(f"  {label:<32} median {a['median_rel']:.2e}, 99th pct {a['p99_rel']:.2e}, "
                             f"max {a['max_rel']:.2e} (max abs {a['max_abs']:.2e})")
    return lines


def report(results: dict) -> str:
    lines = [f"Bayesian BG/NBD benchmark: {results['customers']:,} simulated customers, "
             f"{results['chains']} chains x ({results['tune']} tune + {results['draws']} draws), "
             f"seed {results['seed']}",
             f"machine: {results['machine']}"]
    lines += fit_section(results.get("clvmodels"), results.get("peer"), results.get("agreement"),
                         missing=results.get("peer_missing"), reference="true")
    cdnow = results.get("cdnow")
    if cdnow:
        lines += ["", f"CDNOW 1/10 sample ({cdnow['customers']:,} customers), same sampler settings; "
                      "the last column is the published MLE (Fader, Hardie & Lee 2005):"]
        lines += fit_section(cdnow.get("clvmodels"), cdnow.get("peer"), cdnow.get("agreement"),
                             missing=results.get("peer_missing"), reference="MLE")
    pred = results.get("predict")
    if pred:
        lines.append("")
        if "error" in pred:
            lines.append(f"predictions for many customers failed: {pred['error']}")
        else:
            lines.append(f"clvmodels predictions with 90 % intervals, {pred['customers']:,} customers "
                         f"({pred['distinct']:,} distinct histories) x {pred['draws']:,} draws "
                         f"(load {pred['load_before']:.2f}):")
            lines.append(f"  P(alive) {pred['p_alive_s']:.1f} s, expected purchases {pred['purchases_s']:.1f} s; "
                         f"peak RSS {pred['peak_mib']:.0f} MiB (process incl. imports and the summary; "
                         f"{pred['peak_before_mib']:.0f} MiB before predicting)")
    clv = results.get("clv")
    if clv:
        lines.append("")
        if "error" in clv:
            lines.append(f"CLV failed: {clv['error']}")
        else:
            lines.append(f"clvmodels 10-year monthly CLV (120 months, 1 %/month) with 90 % intervals, "
                         f"{clv['customers']:,} customers x {clv['draws']:,} joint draws "
                         f"(load {clv['load_before']:.2f}):")
            lines.append(f"  {clv['clv_s']:.1f} s; peak RSS {clv['peak_mib']:.0f} MiB "
                         f"({clv['peak_before_mib']:.0f} MiB before); mean CLV {clv['mean_clv']:.2f}, "
                         f"mean interval width {clv['mean_interval_width']:.2f}")
    large = results.get("large")
    if large:
        lines.append("")
        if "error" in large:
            lines.append(f"large fit failed: {large['error']}")
        else:
            lines.append(f"clvmodels NUTS fit, {large['customers']:,} customers ({large['n_unique']:,} distinct "
                         f"histories), {results['chains']} chains x ({results['tune']} tune + {results['draws']} "
                         f"draws), sampler {large['sampler']} (load {large['load_before']:.2f}):")
            lines.append(f"  {large['fit_s']:.1f} s; peak RSS {large['peak_mib']:.0f} MiB "
                         f"({large['peak_before_mib']:.0f} MiB with the summary, before fitting); "
                         f"{large['divergences']} divergences, max R-hat {large['r_hat_max']:.4f}, "
                         f"min bulk ESS {large['ess_bulk_min']:.0f}")
            lines.append("  posterior mean (sd) vs true: " + ", ".join(
                f"{p} {large['means'][p]:.4f} ({large['sds'][p]:.4f}) vs {t}" for p, t in zip(PARAMS, CDNOW_BGNBD)))
    return "\n".join(lines)


def fit_cdnow(workdir: Path, args) -> dict:
    """Both sides fit the CDNOW 1/10 sample's published summary (2,357 customers)."""
    from clvmodels import datasets

    workdir.mkdir()
    data = workdir / "summary.parquet"
    datasets.load_cdnow_summary().reset_index().to_parquet(data, index=False)
    out = {"customers": len(datasets.load_cdnow_summary())}
    if args.peer_python:
        out["peer"] = run_worker(args.peer_python, "peer", data, workdir, args)
    out["clvmodels"] = run_worker(sys.executable, "clvmodels", data, workdir, args)
    if "error" not in out.get("peer", {"error": 1}) and "error" not in out["clvmodels"]:
        out["agreement"] = agreement(workdir)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000, help="customers in the fitted summary (100,000)")
    parser.add_argument("--peer-python", help="Python of an environment with pymc-marketing and nutpie")
    parser.add_argument("--parts", default="fit,cdnow,predict,clv,large",
                        help="comma-separated: fit, cdnow, predict, clv, large")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--predict-customers", type=int, default=1_000_000)
    parser.add_argument("--clv-customers", type=int, default=200_000)
    parser.add_argument("--large-customers", type=int, default=1_000_000,
                        help="customers in the large NUTS fit (1,000,000)")
    parser.add_argument("--clv-draws", type=int, default=None, help="joint draws for the CLV (default: all)")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = WORKERS[args.worker](args.data, args.workdir, args)
        (args.workdir / f"{args.worker}.json").write_text(json.dumps(result))
        return 0
    parts = set(args.parts.split(","))
    if "fit" not in parts and parts & {"predict", "clv"}:
        parser.error("the predict and clv parts use the posterior of the fit part: include fit")
    results = {"customers": args.customers, "draws": args.draws, "tune": args.tune, "chains": args.chains,
               "seed": args.seed,
               "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"}
    with tempfile.TemporaryDirectory(prefix="clvmodels-bench-bayes-") as tmp:
        workdir = Path(tmp)
        data = workdir / "summary.parquet"
        simulate_summary(args.customers, args.seed).to_parquet(data, index=False)
        if "fit" in parts:
            if args.peer_python:
                results["peer"] = run_worker(args.peer_python, "peer", data, workdir, args)
            else:
                results["peer_missing"] = "no --peer-python given"
            results["clvmodels"] = run_worker(sys.executable, "clvmodels", data, workdir, args)
            if "error" not in results.get("peer", {"error": 1}) and "error" not in results["clvmodels"]:
                results["agreement"] = agreement(workdir)
        if "error" not in results.get("clvmodels", {"error": 1}):
            for part in ("predict", "clv"):
                if part in parts:
                    results[part] = run_worker(sys.executable, part, data, workdir, args)
        if "cdnow" in parts:
            results["cdnow"] = fit_cdnow(workdir / "cdnow", args)
        if "large" in parts:
            results["large"] = run_worker(sys.executable, "large", data, workdir, args)
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
