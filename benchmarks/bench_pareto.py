"""Pareto/NBD benchmark: clvmodels' ParetoNBDModel against lifetimes 0.11.3's ParetoNBDFitter.

Simulates a transaction log from the Pareto/NBD process itself (:func:`simulate_pareto_transactions`
below, CDNOW estimates, 1,000,000 customers by default) into a temporary parquet file, then runs
the same pipeline once per library, each in its own Python process so that each side's peak memory
is its own (machinery in ``_common.py``, shared with ``bench_foundation.py``):

1. RFM summary from the transactions (purchase occasions per day; recency and T in weeks = days / 7);
2. Pareto/NBD fit on all customers;
3. expected purchases in the next 52 weeks and 4. P(alive), for every customer.

Prints one table (seconds per step, ratio lifetimes / clvmodels, peak memory), the fitted
parameters of both sides with the log-likelihood each library gives them, and how far the
predictions agree: each side at its own fitted parameters, and clvmodels evaluated at lifetimes'
fitted parameters (the same parameters, so only the numerics differ). The last line compares with
the target: the Pareto/NBD fit at least 20x faster, with the predictions agreeing.

``clvmodels.data.synthetic.simulate_transactions`` draws BG/NBD logs only, and
``ParetoNBDModel.simulate`` draws summaries, not transactions; the Pareto/NBD log is therefore
drawn here, with the same cohort, calendar and day-dating as the foundation benchmark's log.

Run from the repository root, after ``make test`` has built ``.venv``::

    .venv/bin/python benchmarks/bench_pareto.py [--customers N] [--json PATH]
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import HORIZON_WEEKS, OBSERVATION_END, agreement_lines, header_lines, load_results, main, param_lines, \
    prediction_lines, ratio, relative_difference, run_pair, timing_lines

STEPS = {  # key: label in the table
    "summary": "summary from transactions",
    "pareto_nbd_fit": "Pareto/NBD fit",
    "expected_purchases": f"expected purchases ({HORIZON_WEEKS} w)",
    "p_alive": "P(alive)",
}
PREDICTIONS = ("expected_purchases", "p_alive")
PARAMS = ("r", "alpha", "s", "beta")  # the same names in lifetimes
#: Pareto/NBD fitted to CDNOW, weeks (Fader, Hardie & Lee 2005, Marketing Science 24(2), table 1:
#: 0.55, 10.58, 0.61, 11.67; these are clvmodels' estimates on the same data).
CDNOW_PARETO_NBD = (0.553, 10.578, 0.606, 11.668)
TARGET_FIT_SPEEDUP = 20.0
AGREEMENT_TOL = 1e-6  # largest relative difference of the predictions at the same parameters


# -- the synthetic log ----------------------------------------------------------------------------
def simulate_pareto_transactions(n_customers: int, *, params=CDNOW_PARETO_NBD, seed=0, start="1997-01-01",
                                 acquisition_days: int = 84, observation_end=OBSERVATION_END):
    """Simulate a transaction log of one acquisition cohort from the Pareto/NBD process.

    Each customer makes a first purchase on a day drawn uniformly from the ``acquisition_days``
    days from ``start`` (placed at the end of that day), then (Schmittlein, Morrison & Colombo
    1987; Fader & Hardie 2005, note 009, section 1):

    - buys at rate ``lambda ~ Gamma(r, rate alpha)`` per week while alive (Poisson purchases);
    - stays alive for an exponential time with rate ``mu ~ Gamma(s, rate beta)`` per week;
    - is observed until the end of ``observation_end``.

    The repeat purchases are ``N ~ Poisson(lambda A)`` uniform times on the active span
    ``A = min(lifetime, window)``; a purchase ``u`` days after the first is dated ``ceil(u)`` days
    after it, as in :func:`clvmodels.data.synthetic.simulate_transactions` (so ``T`` is exact,
    ``recency`` is half a day later on average, and same-day repeats merge into one occasion).
    Vectorised: the cost is proportional to the number of transactions.

    Returns
    -------
    pandas.DataFrame
        One row per transaction, sorted by customer and date: ``customer_id`` (int64, ``1..n``)
        and ``date`` (datetime64[ns], midnight). No amounts: the Pareto/NBD model does not use them.
    """
    import numpy as np
    import pandas as pd

    n = int(n_customers)
    r, alpha, s, beta = (float(v) for v in params)
    first_day = np.datetime64(pd.Timestamp(start).date(), "D")
    last_day = np.datetime64(pd.Timestamp(observation_end).date(), "D")
    horizon = int((last_day - first_day).astype(np.int64))
    if not 1 <= acquisition_days <= horizon + 1:
        raise ValueError(f"acquisition_days must be from 1 to {horizon + 1}, got {acquisition_days!r}.")
    rng = np.random.default_rng(seed)

    acquired = rng.integers(0, int(acquisition_days), size=n)  # day offset of the first purchase
    window_days = (horizon - acquired).astype(float)
    lam = rng.gamma(r, 1.0 / alpha, size=n)  # per week
    mu = rng.gamma(s, 1.0 / beta, size=n)  # per week; may underflow to 0 (never dies)
    with np.errstate(divide="ignore"):
        lifetime_days = 7.0 * rng.standard_exponential(size=n) / mu
    active_days = np.minimum(lifetime_days, window_days)
    x = rng.poisson(lam * active_days / 7.0)

    owner = np.repeat(np.arange(n), x)
    offset = rng.random(owner.size) * active_days[owner]
    offset = offset[np.lexsort((offset, owner))]  # owner is already sorted: order within customer
    repeat_day = acquired[owner] + np.ceil(offset).astype(np.int64)

    counts = x + 1
    is_first = np.zeros(n + owner.size, dtype=bool)
    is_first[np.cumsum(counts) - counts] = True
    day = np.empty(n + owner.size, dtype=np.int64)
    day[is_first] = acquired
    day[~is_first] = repeat_day
    return pd.DataFrame({
        "customer_id": np.repeat(np.arange(n, dtype=np.int64), counts) + 1,
        "date": (first_day + day).astype("datetime64[ns]"),
    })


# -- the two pipelines (run in a worker process) -------------------------------------------------
def _lifetimes_pipeline(tx, step):
    from lifetimes import ParetoNBDFitter
    from lifetimes.utils import summary_data_from_transaction_data

    summary = step("summary", lambda: summary_data_from_transaction_data(
        tx, "customer_id", "date", observation_period_end=OBSERVATION_END,
        freq="D", freq_multiplier=7))  # days / 7: weeks, as clvmodels' freq="D", time_unit="W"
    f, r, T = (summary[c] for c in ("frequency", "recency", "T"))
    pnbd = step("pareto_nbd_fit", lambda: ParetoNBDFitter().fit(f, r, T))
    expected = step("expected_purchases",
                    lambda: pnbd.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, f, r, T))
    alive = step("p_alive", lambda: pnbd.conditional_probability_alive(f, r, T))
    params = {k: float(pnbd.params_[k]) for k in PARAMS}
    return summary, params, {"expected_purchases": expected, "p_alive": alive}


def _clvmodels_pipeline(tx, step):
    from clvmodels import ParetoNBDModel, rfm_summary

    summary = step("summary", lambda: rfm_summary(
        tx, customer_id_col="customer_id", datetime_col="date",
        observation_period_end=OBSERVATION_END, freq="D", time_unit="W"))
    pnbd = step("pareto_nbd_fit", lambda: ParetoNBDModel().fit(summary))
    expected = step("expected_purchases", lambda: pnbd.expected_purchases(summary, HORIZON_WEEKS))
    alive = step("p_alive", lambda: pnbd.probability_alive(summary))
    params = {k: float(pnbd.params_[k]) for k in PARAMS}
    return summary, params, {"expected_purchases": expected, "p_alive": alive}


# -- untimed cross-checks in the parent ---------------------------------------------------------
def _same_params_checks(workdir: Path, sides: dict) -> dict:
    """clvmodels' predictions at lifetimes' fitted parameters on lifetimes' summary, compared with
    lifetimes' predictions; and the log-likelihood of both parameter sets by both libraries."""
    import numpy as np
    import pandas as pd
    from lifetimes import ParetoNBDFitter

    from clvmodels import ParetoNBDModel
    from clvmodels.likelihoods import pareto_nbd

    theirs = load_results(workdir, "lifetimes")
    summary = pd.DataFrame({c: theirs[c] for c in ("frequency", "recency", "T")})
    at_lifetimes = ParetoNBDModel.from_params({k: sides["lifetimes"]["params"][k] for k in PARAMS}, time_unit="W")
    ours = {"expected_purchases": at_lifetimes.expected_purchases(summary, HORIZON_WEEKS).to_numpy(),
            "p_alive": at_lifetimes.probability_alive(summary).to_numpy()}
    out = {}
    for key in PREDICTIONS:
        rel = relative_difference(ours[key], theirs[key])
        out[f"median_rel_diff_{key}"] = float(np.median(rel))
        out[f"max_rel_diff_{key}"] = float(np.max(rel))
    x, t_x, T = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    loglik = {}
    for side in ("lifetimes", "clvmodels"):
        params = [sides[side]["params"][k] for k in PARAMS]
        loglik[f"at_{side}_params"] = {
            "by_clvmodels": float(pareto_nbd.loglik(params, x, t_x, T).sum()),
            "by_lifetimes": float(ParetoNBDFitter._conditional_log_likelihood(params, x, t_x, T).sum()),
        }
    out["log_likelihood"] = loglik
    return out


# -- report ---------------------------------------------------------------------------------------
def report(results: dict) -> str:
    same, verdict = results["extra"], results["target"]
    ll = same["log_likelihood"]
    lines = [*header_lines(results, "Pareto/NBD log at the CDNOW estimates"), "",
             *timing_lines(results, STEPS), "", *param_lines(results), "",
             f"{'log-likelihood (sum)':<34}{'by lifetimes':>17}{'by clvmodels':>17}", "-" * 68]
    for side in ("lifetimes", "clvmodels"):
        values = ll[f"at_{side}_params"]
        lines.append(f"{'at ' + side + ' params':<34}{values['by_lifetimes']:>17.6f}{values['by_clvmodels']:>17.6f}")
    gain = {by: ll["at_clvmodels_params"][by] - ll["at_lifetimes_params"][by] for by in ("by_lifetimes", "by_clvmodels")}
    lines.append(f"{'clvmodels params - lifetimes params':<34}{gain['by_lifetimes']:>17.2e}{gain['by_clvmodels']:>17.2e}")
    lines += ["", "predictions, each side at its own fitted parameters:",
              *agreement_lines(results["agreement"], PREDICTIONS, prefix="  "),
              "predictions at the same parameters (clvmodels evaluated at lifetimes' fitted parameters):",
              *prediction_lines(same, PREDICTIONS, prefix="  ")]
    lines += ["", f"target (Pareto/NBD fit >= {TARGET_FIT_SPEEDUP:.0f}x faster than lifetimes' ParetoNBDFitter, "
              f"predictions at the same parameters within {AGREEMENT_TOL:.0e}): "
              f"{'MET' if verdict['met'] else 'NOT MET'} (fit {verdict['fit_speedup']:.1f}x faster, "
              f"end to end {results['end_to_end']['speedup']:.1f}x; largest prediction difference "
              f"{verdict['largest_rel_diff']:.1e})"]
    return "\n".join(lines)


def run_benchmark(n_customers: int, seed: int, repeats: int = 1) -> dict:
    results = run_pair(Path(__file__).resolve(), lambda: simulate_pareto_transactions(n_customers, seed=seed),
                       steps=STEPS, predictions=PREDICTIONS, param_names=PARAMS, repeats=repeats,
                       extra=_same_params_checks)
    fit_speedup = ratio(results["lifetimes"]["times"]["pareto_nbd_fit"], results["clvmodels"]["times"]["pareto_nbd_fit"])
    largest = max(results["extra"][f"max_rel_diff_{k}"] for k in PREDICTIONS)
    return {
        "n_customers": n_customers,
        "seed": seed,
        "simulated_params": dict(zip(PARAMS, CDNOW_PARETO_NBD)),
        **results,
        "target": {"fit_speedup_target": TARGET_FIT_SPEEDUP, "fit_speedup": fit_speedup,
                   "agreement_tol": AGREEMENT_TOL, "largest_rel_diff": largest,
                   "met": bool(fit_speedup >= TARGET_FIT_SPEEDUP and largest <= AGREEMENT_TOL)},
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], doc=__doc__, pipelines={"lifetimes": _lifetimes_pipeline,
                                                       "clvmodels": _clvmodels_pipeline},
                  benchmark=run_benchmark, report=report))
