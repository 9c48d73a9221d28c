"""End-to-end benchmark: clvmodels against lifetimes 0.11.3 on one synthetic transaction log.

Generates a BG/NBD + Gamma-Gamma log (:func:`clvmodels.data.synthetic.simulate_transactions`, CDNOW
parameters, 1,000,000 customers by default) into a temporary parquet file, then runs the same
pipeline once per library, each in its own Python process so that each side's peak memory is its
own (machinery in ``_common.py``, shared with ``bench_pareto.py``):

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

import sys
from pathlib import Path

from _common import HORIZON_WEEKS, OBSERVATION_END, agreement_lines, header_lines, main, param_lines, run_pair, \
    timing_lines

CLV_MONTHS = 12
DISCOUNT = 0.01
STEPS = {  # key: label in the table
    "summary": "summary from transactions",
    "bgnbd_fit": "BG/NBD fit",
    "gamma_gamma_fit": "Gamma-Gamma fit (repeaters)",
    "expected_purchases": f"expected purchases ({HORIZON_WEEKS} w)",
    "p_alive": "P(alive)",
    "clv": f"CLV ({CLV_MONTHS} months, {DISCOUNT:.0%}/month)",
}
PREDICTIONS = ("expected_purchases", "p_alive", "clv")
BGNBD_PARAMS = ("r", "alpha", "a", "b")
GG_PARAMS = ("p", "q", "gamma")  # lifetimes calls gamma "v"
TARGET_SPEEDUP = 10.0


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


# -- report ---------------------------------------------------------------------------------------
def report(results: dict) -> str:
    e2e, verdict = results["end_to_end"], results["target"]
    lines = [*header_lines(results), "", *timing_lines(results, STEPS), "", *param_lines(results), "",
             *agreement_lines(results["agreement"], PREDICTIONS)]
    lines += ["", f"target (>= {TARGET_SPEEDUP:.0f}x faster end to end and lower peak memory): "
              f"{'MET' if verdict['met'] else 'NOT MET'} (speed-up {e2e['speedup']:.1f}x, "
              f"peak memory {'lower' if verdict['lower_memory'] else 'NOT lower'})"]
    return "\n".join(lines)


def run_benchmark(n_customers: int, seed: int, repeats: int = 1) -> dict:
    from clvmodels.data.synthetic import simulate_transactions

    results = run_pair(Path(__file__).resolve(), lambda: simulate_transactions(n_customers, seed=seed),
                       steps=STEPS, predictions=PREDICTIONS, param_names=BGNBD_PARAMS + GG_PARAMS,
                       repeats=repeats)
    speedup = results["end_to_end"]["speedup"]
    lower_memory = results["clvmodels"]["memory"]["peak_mib"] < results["lifetimes"]["memory"]["peak_mib"]
    return {
        "n_customers": n_customers,
        "seed": seed,
        **results,
        "target": {"speedup": TARGET_SPEEDUP, "met": bool(speedup >= TARGET_SPEEDUP and lower_memory),
                   "lower_memory": bool(lower_memory)},
    }


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], doc=__doc__, pipelines={"lifetimes": _lifetimes_pipeline,
                                                       "clvmodels": _clvmodels_pipeline},
                  benchmark=run_benchmark, report=report))
