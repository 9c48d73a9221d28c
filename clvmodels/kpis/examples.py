"""Generator of the illustrative example tables shipped for the CDNOW master customers.

The CDNOW log has no acquisition channels, costs or surveys, so these tables are **synthetic**:
drawn deterministically (fixed seed) from simple rules that tie them loosely to each customer's
real purchases, so that the KPIs show patterns worth looking at. They illustrate the KPI functions
and must not be read as facts about CDNOW.

- channels (``example_channels.csv.gz``): one row per customer (ids 1..23570) with
  ``channel``, ``campaign``, ``cac`` (acquisition cost, dollars), ``region`` and ``age_band``.
  Heavier buyers come more often from referral and email, one-off buyers more often from display
  and social; costs per channel differ (paid search and display dear, referral and organic cheap).
- costs (``example_costs.csv.gz``): one row per order (a customer's purchases on one day, amounts
  added up as in the master log) with ``amount``, ``cost`` (cost of goods, 55-80 % of the amount),
  ``cost_to_serve`` (2.50 per order plus 0.40 per CD after the first) and ``returned`` (about 3 %
  of orders return part or all of their amount).
- surveys (``example_surveys.csv``): about 6,000 answers by a random tenth of the customers,
  dated after their first purchase, to NPS (0-10), CSAT (1-5) and CES (1-7) questions, more
  favourable for customers with more purchases.

Regenerate the files (identical output) with ``python -m clvmodels.kpis.examples <folder>``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["make_example_tables", "write_example_tables", "SEED", "FILES"]

SEED = 19970101
FILES = {"channels": "example_channels.csv.gz", "costs": "example_costs.csv.gz", "surveys": "example_surveys.csv"}

_CHANNELS = ["organic_search", "paid_search", "email", "referral", "social", "display"]
#: Channel probabilities for one-off, occasional and frequent buyers.
_CHANNEL_P = np.array([[0.20, 0.25, 0.05, 0.05, 0.20, 0.25],
                       [0.25, 0.25, 0.15, 0.10, 0.15, 0.10],
                       [0.25, 0.15, 0.25, 0.25, 0.05, 0.05]])
#: Mean acquisition cost per channel (dollars); each customer's cost is gamma around it.
_CAC_MEAN = np.array([4.0, 22.0, 9.0, 6.0, 14.0, 26.0])
_CAMPAIGNS = {"organic_search": ["seo"], "paid_search": ["brand_terms", "generic_terms"],
              "email": ["newsletter", "win_back"], "referral": ["friend_discount"],
              "social": ["launch_97", "summer_97"], "display": ["banner_97", "portal_deal"]}
_REGIONS, _REGION_P = ["Northeast", "Midwest", "South", "West"], [0.22, 0.21, 0.35, 0.22]
_AGES, _AGE_P = ["18-24", "25-34", "35-44", "45-54", "55+"], [0.18, 0.32, 0.25, 0.15, 0.10]


def _orders(master: pd.DataFrame) -> pd.DataFrame:
    orders = master.groupby(["customer_id", "date"], sort=True, as_index=False).agg(
        quantity=("quantity", "sum"), amount=("amount", "sum"))
    orders["amount"] = orders["amount"].round(2)
    return orders


def _channels(orders: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    counts = orders.groupby("customer_id").size()
    ids = counts.index.to_numpy()
    tier = np.digitize(counts.to_numpy(), [2, 4])  # 1 order, 2-3, 4+
    u = rng.random(len(ids))
    channel = (u[:, None] > np.cumsum(_CHANNEL_P[tier], axis=1)).sum(axis=1).clip(0, len(_CHANNELS) - 1)
    names = np.array(_CHANNELS, dtype=object)[channel]
    pick = rng.random(len(ids))
    campaign = np.empty(len(ids), dtype=object)
    for name, options in _CAMPAIGNS.items():  # one pass per channel
        here = names == name
        campaign[here] = np.array(options, dtype=object)[(pick[here] * len(options)).astype(np.int64)]
    cac = rng.gamma(4.0, _CAC_MEAN[channel] / 4.0).round(2)
    return pd.DataFrame({"customer_id": ids, "channel": names, "campaign": campaign, "cac": cac,
                         "region": rng.choice(_REGIONS, size=len(ids), p=_REGION_P),
                         "age_band": rng.choice(_AGES, size=len(ids), p=_AGE_P)})


def _costs(orders: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(orders)
    amount = orders["amount"].to_numpy()
    cost = (amount * rng.uniform(0.55, 0.80, size=n)).round(2)
    serve = 2.5 + 0.4 * (orders["quantity"].to_numpy() - 1)
    returned = np.where(rng.random(n) < 0.03, (amount * rng.choice([0.25, 0.5, 1.0], size=n)).round(2), 0.0)
    return pd.DataFrame({"customer_id": orders["customer_id"].to_numpy(),
                         "date": orders["date"].dt.strftime("%Y-%m-%d").to_numpy(), "amount": amount,
                         "cost": cost, "cost_to_serve": serve.round(2), "returned": np.minimum(returned, amount)})


def _surveys(orders: pd.DataFrame, rng: np.random.Generator, end: str = "1998-06-30") -> pd.DataFrame:
    per_customer = orders.groupby("customer_id").agg(first=("date", "min"), n_orders=("date", "size"))
    chosen = per_customer[rng.random(len(per_customer)) < 0.10]
    repeats = rng.integers(1, 5, size=len(chosen))  # 1-4 answers each
    who = np.repeat(np.arange(len(chosen)), repeats)
    first = chosen["first"].to_numpy()[who].astype("datetime64[D]")
    span = (np.datetime64(end, "D") - first).astype(np.int64)
    date = first + (rng.random(len(who)) * (span + 1)).astype(np.int64)
    kind = rng.choice(["nps", "csat", "ces"], size=len(who), p=[0.5, 0.3, 0.2])
    loyal = np.minimum(chosen["n_orders"].to_numpy()[who] - 1, 6) / 6  # 0 for one-off buyers, 1 for 7+ orders
    noise = rng.normal(size=len(who))
    nps = np.clip(np.round(7.2 + 2.8 * loyal + 2.0 * noise), 0, 10)
    csat = np.clip(np.round(3.3 + 1.2 * loyal + 1.0 * noise), 1, 5)
    ces = np.clip(np.round(3.8 - 1.5 * loyal - 1.3 * noise), 1, 7)
    score = np.select([kind == "nps", kind == "csat"], [nps, csat], ces).astype(np.int64)
    table = pd.DataFrame({"customer_id": chosen.index.to_numpy()[who],
                          "date": pd.to_datetime(date).strftime("%Y-%m-%d"), "question_type": kind, "score": score})
    return table.sort_values(["date", "customer_id"], kind="stable").reset_index(drop=True)


def make_example_tables(master: pd.DataFrame | None = None, *, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """Draw the three example tables (see the module docstring) from the CDNOW master log.

    Parameters
    ----------
    master : pandas.DataFrame, optional
        The master log (default :func:`clvmodels.datasets.load_cdnow_master`).
    seed : int
        Seed of the random generator; the shipped files use :data:`SEED`.

    Returns
    -------
    dict of pandas.DataFrame
        ``"channels"``, ``"costs"`` and ``"surveys"``, with dates as ``YYYY-MM-DD`` text.
    """
    if master is None:
        from ..datasets import load_cdnow_master
        master = load_cdnow_master()
    rng = np.random.default_rng(seed)
    orders = _orders(master)
    return {"channels": _channels(orders, rng), "costs": _costs(orders, rng), "surveys": _surveys(orders, rng)}


def write_example_tables(folder, **kwargs) -> dict[str, Path]:
    """Write the example tables into ``folder`` under the names in :data:`FILES` (gzip without a
    time stamp, so that the bytes are reproducible); return the paths."""
    folder = Path(folder)
    paths = {}
    for name, table in make_example_tables(**kwargs).items():
        path = folder / FILES[name]
        compression = {"method": "gzip", "mtime": 0} if path.suffix == ".gz" else None
        table.to_csv(path, index=False, compression=compression, lineterminator="\n")
        paths[name] = path
    return paths


if __name__ == "__main__":  # pragma: no cover - the script that made the shipped files
    write_example_tables(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parents[1] / "data" / "files")
