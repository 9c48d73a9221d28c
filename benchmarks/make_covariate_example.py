"""Generate the bundled covariate example (``clvmodels.datasets.load_covariate_example``).

A synthetic cohort of 6,000 customers with known covariate effects, drawn once with a fixed seed
from the models' own ``simulate`` functions fed per-customer parameters built with the links of
``docs/design/covariates.md`` (section 1):

- purchases, BG/NBD (``clvmodels.likelihoods.bgnbd.simulate``): ``alpha_i = alpha exp(-g_p . x_i)``
  (a positive coefficient raises the purchase rate) and ``a_i = a exp(g_d . x_i)`` with ``b``
  fixed (a positive coefficient raises the odds of dropping out after a purchase);
- spend, Gamma-Gamma (``clvmodels.likelihoods.gamma_gamma.simulate``): ``gamma_i = gamma exp(g_s .
  x_i)`` (a positive coefficient multiplies the expected spend per purchase by ``exp(g_s)``).

``bgnbd.simulate`` gives each customer's repeat count ``x`` and last repeat time ``t_x``; given
them, the other ``x - 1`` repeat times of a Poisson process are uniform on ``(0, t_x)``.
``gamma_gamma.simulate`` gives the mean of a customer's ``x + 1`` amounts (the first purchase
included); given the customer's ``nu``, the amounts are i.i.d. ``Gamma(p, nu)``, so the total
times ``Dirichlet(p, ..., p)`` shares are the individual amounts, exactly. Times are in weeks;
a purchase ``s`` weeks after the first is dated ``ceil(7 s)`` days after it (the first purchase
at the end of its day, as ``clvmodels.data.synthetic.simulate_transactions``); amounts are
rounded to cents. Repeat purchases that fall on one day merge into one occasion in
``rfm_summary(freq="D")`` (rare here).

Run from the repository root (writes the two files, byte for byte the same on every run)::

    .venv/bin/python benchmarks/make_covariate_example.py clvmodels/data/files
"""

from __future__ import annotations

import gzip
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from clvmodels import datasets
from clvmodels.likelihoods import bgnbd, gamma_gamma

SEED = 20230101
N_CUSTOMERS = 6_000
START, ACQUISITION_DAYS = "2023-01-01", 181
OBSERVATION_END = datasets.COVARIATE_EXAMPLE_OBSERVATION_END
FILES = {"transactions": "covariate_example_transactions.csv.gz",
         "customers": "covariate_example_customers.csv.gz"}

CHANNELS, CHANNEL_P = ["organic", "paid_social", "referral"], [0.45, 0.35, 0.20]
REGIONS, REGION_P = ["north", "south"], [0.55, 0.45]

#: True parameters, named as the fitted models name them, for the columns as shipped (``age`` in
#: years, so the base parameters are those of a reference customer (organic, north) aged 0); the
#: loader documents and exposes the same dictionary.
TRUE_PARAMS = datasets.COVARIATE_EXAMPLE_TRUE_PARAMS


def _eta(customers: pd.DataFrame, coefficients: dict[str, float], role: str) -> np.ndarray:
    """``g . x_i`` for one process, from coefficients named ``role:column[level]`` or ``role:column``."""
    eta = np.zeros(len(customers))
    for name, value in coefficients.items():
        prefix, _, column = name.partition(":")
        if prefix != role:
            continue
        if "[" in column:
            column, level = column[:-1].split("[")
            eta += value * (customers[column] == level).to_numpy()
        else:
            eta += value * customers[column].to_numpy(dtype=float)
    return eta


def make_tables(seed: int = SEED) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = N_CUSTOMERS
    ids = np.array([f"C{i:05d}" for i in range(1, n + 1)])
    customers = pd.DataFrame({
        "customer_id": ids,
        "channel": rng.choice(CHANNELS, n, p=CHANNEL_P),
        "region": rng.choice(REGIONS, n, p=REGION_P),
        "age": np.clip(np.round(rng.normal(40.0, 12.0, n)), 18, 80).astype(int),
    })

    first_day = np.datetime64(START, "D")
    horizon = int((np.datetime64(OBSERVATION_END, "D") - first_day).astype(int))
    acquired = rng.integers(0, ACQUISITION_DAYS, n)
    T = (horizon - acquired) / 7.0  # weeks from the end of the first purchase day to the end

    bg, gg = TRUE_PARAMS["bgnbd"], TRUE_PARAMS["gamma_gamma"]
    alpha_i = bg["alpha"] * np.exp(-_eta(customers, bg, "purchase"))
    a_i = bg["a"] * np.exp(_eta(customers, bg, "dropout"))
    draws = bgnbd.simulate([bg["r"], alpha_i, a_i, bg["b"]], T, rng=rng)
    x = draws["x"].astype(int)

    # repeat times: the last at t_x, the x - 1 others uniform on (0, t_x)
    owner = np.repeat(np.arange(n), x)
    last = np.zeros(len(owner), dtype=bool)
    last[np.cumsum(x)[x > 0] - 1] = True
    weeks = np.where(last, draws["t_x"][owner], rng.uniform(0.0, 1.0, len(owner)) * draws["t_x"][owner])
    repeat_day = acquired[owner] + np.ceil(7.0 * weeks).astype(int)

    # amounts: mean of the x + 1 amounts from gamma_gamma.simulate, split by Dirichlet(p) shares
    gamma_i = gg["gamma"] * np.exp(_eta(customers, gg, "spend"))
    mean = gamma_gamma.simulate([gg["p"], gg["q"], gamma_i], x + 1, rng=rng)
    counts = x + 1
    buyer = np.repeat(np.arange(n), counts)
    g = rng.gamma(gg["p"], 1.0, len(buyer))
    shares = g / np.bincount(buyer, weights=g)[buyer]
    amount = np.maximum(np.round(mean[buyer] * counts[buyer] * shares, 2), 0.01)

    is_first = np.zeros(len(buyer), dtype=bool)
    is_first[np.cumsum(counts) - counts] = True
    day = np.empty(len(buyer), dtype=int)
    day[is_first] = acquired
    day[~is_first] = repeat_day
    transactions = pd.DataFrame({"customer_id": ids[buyer], "date": first_day + day, "amount": amount})
    transactions = transactions.sort_values(["customer_id", "date"], kind="stable", ignore_index=True)
    transactions["date"] = transactions["date"].dt.strftime("%Y-%m-%d")
    return {"transactions": transactions, "customers": customers}


def _gzip_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes gzipped with mtime 0, so the file is the same on every run."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="") as fh:
        fh.write(frame.to_csv(index=False, lineterminator="\n").encode())
    return out.getvalue()


def main(folder: str) -> None:
    for kind, frame in make_tables().items():
        path = Path(folder) / FILES[kind]
        path.write_bytes(_gzip_csv(frame))
        print(f"{path}: {len(frame):,} rows, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "clvmodels/data/files")
