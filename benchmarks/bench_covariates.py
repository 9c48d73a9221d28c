"""BG/NBD with three categorical covariates on 1,000,000 simulated customers, against the same fit
without covariates (issue 13's target: at most 3x).

Customers get a channel (4 levels), a region (3 levels) and a plan (4 levels), 48 patterns;
purchase takes all three, dropout the channel, so 8 + 3 = 11 coefficients. Data are simulated with
``likelihoods.bgnbd.simulate`` on per-customer ``alpha_i = alpha exp(-g_p . x)`` and ``a_i = a
exp(g_d . x)``. Each fit is timed five times (best of five, after a warm-up on 20,000 customers so that
imports and first-call costs are not counted); the covariate fit includes building the design,
compressing on (history, pattern), the no-covariate fit it starts from, and the Hessian.

Run: ``.venv/bin/python benchmarks/bench_covariates.py [--customers N] [--continuous]``. Prints
the timings, the ratio and the recovered coefficients next to the true ones. Writes nothing.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

import clvmodels as clv
from clvmodels.exceptions import ClvModelsWarning
from clvmodels.likelihoods import bgnbd

LEVELS = {"channel": ["app", "email", "shop", "web"], "region": ["east", "north", "south"],
          "plan": ["basic", "family", "plus", "pro"]}
PURCHASE = {"channel": [0.0, 0.2, -0.3, 0.1], "region": [0.0, -0.2, 0.15], "plan": [0.0, 0.1, 0.3, 0.45]}
DROPOUT = {"channel": [0.0, -0.3, 0.4, 0.2]}
BASE = (0.8, 6.0, 0.7, 2.5)


def simulate(n: int, seed: int = 2026, continuous: bool = False) -> tuple[pd.DataFrame, dict[str, float]]:
    rng = np.random.default_rng(seed)
    codes = {c: rng.integers(0, len(v), n) for c, v in LEVELS.items()}
    eta_p = sum(np.asarray(PURCHASE[c])[codes[c]] for c in PURCHASE)
    eta_d = sum(np.asarray(DROPOUT[c])[codes[c]] for c in DROPOUT)
    frame = pd.DataFrame({c: np.asarray(v, dtype=object)[codes[c]] for c, v in LEVELS.items()})
    truth = {f"purchase:{c}[{LEVELS[c][i]}]": g for c in PURCHASE for i, g in enumerate(PURCHASE[c]) if i}
    truth |= {f"dropout:{c}[{LEVELS[c][i]}]": g for c in DROPOUT for i, g in enumerate(DROPOUT[c]) if i}
    if continuous:
        frame["spend0"] = rng.normal(0.0, 1.0, n)
        eta_p = eta_p + 0.2 * frame["spend0"].to_numpy()
        truth["purchase:spend0"] = 0.2
    r, alpha, a, b = BASE
    T = np.round(rng.uniform(13.0, 78.0, n))  # whole weeks, as a weekly summary has them
    draws = bgnbd.simulate([r, alpha * np.exp(-eta_p), a * np.exp(eta_d), b], T, rng=rng)
    frame = frame.assign(frequency=draws["x"], recency=np.round(draws["t_x"], 1), T=draws["T"])
    frame.attrs["time_unit"] = "W"
    return frame, truth


def best_of(fn, repeat: int = 5):
    """The smallest wall time of ``repeat`` runs (the machine's noise only adds time) and the result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--continuous", action="store_true", help="add a continuous purchase covariate")
    args = parser.parse_args()
    warnings.simplefilter("ignore", ClvModelsWarning)  # a script's choice; the library never filters
    data, truth = simulate(args.customers, continuous=args.continuous)
    settings = {"purchase_covariates": list(PURCHASE) + (["spend0"] if args.continuous else []),
                "dropout_covariates": list(DROPOUT)}
    warm, _ = simulate(20_000, seed=1)
    clv.BetaGeoModel().fit(warm)
    clv.BetaGeoModel(**{"purchase_covariates": list(PURCHASE), "dropout_covariates": list(DROPOUT)}).fit(warm)

    categorical = data.astype({c: "category" for c in LEVELS})  # the same columns as pandas Categoricals

    plain_s, plain = best_of(lambda: clv.BetaGeoModel().fit(data))
    cov_s, model = best_of(lambda: clv.BetaGeoModel(**settings).fit(data))
    cat_s, _ = best_of(lambda: clv.BetaGeoModel(**settings).fit(categorical))
    print(f"customers: {len(data):,}; distinct histories: {plain.n_unique_:,}; "
          f"distinct (history, pattern) rows: {model.n_unique_:,}")
    print(f"BG/NBD without covariates: {plain_s:.2f} s ({plain.n_iter_} iterations)")
    print(f"BG/NBD with {len(truth)} coefficients, text columns:        {cov_s:.2f} s ({model.n_iter_} iterations, "
          "incl. the no-covariate start)")
    print(f"BG/NBD with {len(truth)} coefficients, Categorical columns: {cat_s:.2f} s")
    print(f"ratio: {cov_s / plain_s:.1f}x with text columns, {cat_s / plain_s:.1f}x with Categoricals "
          "(target <= 3x)")
    se = np.sqrt(np.diag(model.covariance_))
    table = pd.DataFrame({"true": pd.Series(truth), "estimate": model.params_[list(truth)],
                          "se": pd.Series(se, index=model.params_.index)[list(truth)]})
    table["z_error"] = (table["estimate"] - table["true"]) / table["se"]
    print(table.round(4).to_string())


if __name__ == "__main__":
    main()
