"""Bundled datasets (files in ``clvmodels/data/files``): the CDNOW transaction logs used throughout
the CLV literature, and the donations cohort of the BG/BB paper.

CDNOW: purchases of a cohort of 23,570 customers who made their first purchase at the online CD
retailer CDNOW in the first quarter of 1997, followed to the end of June 1998 (Fader & Hardie,
http://www.brucehardie.com/datasets/). The 1/10 sample (2,357 customers) is the data of
Fader, Hardie & Lee (2005).

Donations: the 1995 cohort of 11,104 first-time supporters of a non-profit organisation, followed
for the six yearly giving opportunities 1996-2001, as published (22 recency/frequency patterns
with counts) by Fader, Hardie & Shang (2010), Marketing Science 29(6), 1086-1108.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_cdnow", "load_cdnow_transactions", "load_cdnow_master", "load_cdnow_summary",
           "CDNOW_CALIBRATION_END", "CDNOW_OBSERVATION_END", "load_donations"]

#: The calibration end of Fader, Hardie & Lee (2005): 39 weeks after 1 January 1997.
CDNOW_CALIBRATION_END = "1997-09-30"
#: The last day of the CDNOW logs (78 weeks).
CDNOW_OBSERVATION_END = "1998-06-30"


def _file(name: str):
    return resources.files("clvmodels.data").joinpath("files", name)


def _read_log(name: str, columns: list[str], *, header: bool) -> pd.DataFrame:
    with _file(name).open("rb") as fh:
        frame = pd.read_csv(fh, sep=r"\s+", header=None, names=columns, compression="gzip",
                            dtype={"date": str}, skiprows=1 if header else 0)
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    return frame


def load_cdnow_transactions() -> pd.DataFrame:
    """The CDNOW 1/10 sample as raw transactions (6,919 rows, 2,357 customers).

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (sample id 1..2357, as in the published summary), ``master_id``, ``date``
        (datetime), ``quantity`` (number of CDs) and ``amount`` (dollars).
    """
    frame = _read_log("CDNOW_sample.txt.gz", ["master_id", "customer_id", "date", "quantity", "amount"],
                      header=False)
    return frame[["customer_id", "master_id", "date", "quantity", "amount"]]


def load_cdnow_master() -> pd.DataFrame:
    """The full CDNOW log (69,659 rows, 23,570 customers): ``customer_id, date, quantity, amount``."""
    return _read_log("CDNOW_master.txt.gz", ["customer_id", "date", "quantity", "amount"], header=True)


def load_cdnow_summary() -> pd.DataFrame:
    """The published summary of the 1/10 sample (calibration end 1997-09-30, weeks).

    The ``ID, x, t_x, T, zbar`` columns of Fader, Hardie & Lee's data file, renamed to
    ``frequency, recency, T, monetary_value`` and indexed by ``customer_id``;
    ``attrs["time_unit"] == "W"``.
    """
    with _file("cdnow_sample_summary.csv").open("rb") as fh:
        raw = pd.read_csv(fh)
    frame = raw.rename(columns={"ID": "customer_id", "x": "frequency", "t_x": "recency", "zbar": "monetary_value"})
    frame = frame.set_index("customer_id")
    frame["frequency"] = frame["frequency"].astype(float)
    frame.attrs.update({"time_unit": "W", "freq": "D", "observation_period_end": CDNOW_CALIBRATION_END})
    return frame


def load_cdnow(kind: str = "sample") -> pd.DataFrame:
    """Load a CDNOW dataset by name: ``"sample"`` (raw 1/10 sample), ``"master"`` (full log) or
    ``"summary"`` (published summary of the sample)."""
    loaders = {"sample": load_cdnow_transactions, "master": load_cdnow_master, "summary": load_cdnow_summary}
    if kind not in loaders:
        raise ValueError(f"kind must be one of {sorted(loaders)}, got {kind!r}.")
    return loaders[kind]()


def load_donations() -> pd.DataFrame:
    """The donations data of Fader, Hardie & Shang (2010): 11,104 donors, 6 repeat opportunities.

    The 1995 cohort of first-time donors to a non-profit, each observed for the six yearly
    opportunities 1996-2001, as the paper publishes it: one row per (frequency, recency) pattern
    with the number of donors showing it. The same table ships with lifetimes 0.11.3 as
    ``lifetimes/datasets/donations.csv`` (columns ``frequency, recency, periods, weights``).

    Returns
    -------
    pandas.DataFrame
        ``frequency``, ``recency``, ``n_periods`` and ``count`` (22 rows); fit with
        ``BetaGeoBetaBinomModel().fit(data, weights="count")``. ``attrs["time_unit"] == "Y"``.
    """
    with _file("donations.csv").open("rb") as fh:
        frame = pd.read_csv(fh)
    frame.attrs.update({"time_unit": "Y", "freq": "Y", "first_period": "1995", "last_period": "2001"})
    return frame


# Illustrative example tables for the KPIs (clvmodels.kpis), drawn for the CDNOW master customers.

__all__ += ["load_example_channels", "load_example_costs", "load_example_surveys"]


def load_example_channels() -> pd.DataFrame:
    """Synthetic acquisition channels and costs of the 23,570 CDNOW master customers.

    **Illustrative only**: CDNOW published no channels or costs; this table was drawn
    deterministically by :mod:`clvmodels.kpis.examples` (loosely tied to each customer's real
    number of orders) to demonstrate :func:`clvmodels.kpis.acquisition_economics` and
    :func:`clvmodels.kpis.segment_profile`.

    Returns
    -------
    pandas.DataFrame
        One row per customer: ``customer_id`` (1..23570, as in :func:`load_cdnow_master`),
        ``channel``, ``campaign``, ``cac`` (acquisition cost in dollars), ``region`` and
        ``age_band``.

    Examples
    --------
    >>> from clvmodels import datasets
    >>> channels = datasets.load_example_channels()
    >>> len(channels), channels["customer_id"].is_unique
    (23570, True)
    """
    with _file("example_channels.csv.gz").open("rb") as fh:
        return pd.read_csv(fh, compression="gzip")


def load_example_costs() -> pd.DataFrame:
    """Synthetic costs of every CDNOW master order (a customer's purchases on one day).

    **Illustrative only**, drawn deterministically by :mod:`clvmodels.kpis.examples`: ``amount``
    is the real amount of the order (master log rows of that customer and day added up);
    ``cost`` (cost of goods), ``cost_to_serve`` and ``returned`` (refunded amount) are synthetic.
    Use it with :func:`clvmodels.kpis.customer_profitability`.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``date`` (datetime), ``amount``, ``cost``, ``cost_to_serve`` and
        ``returned`` (67,591 rows).

    Examples
    --------
    >>> from clvmodels import datasets
    >>> costs = datasets.load_example_costs()
    >>> bool((costs["returned"] <= costs["amount"]).all())
    True
    """
    with _file("example_costs.csv.gz").open("rb") as fh:
        frame = pd.read_csv(fh, compression="gzip")
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    return frame


def load_example_surveys() -> pd.DataFrame:
    """Synthetic survey answers (NPS 0-10, CSAT 1-5, CES 1-7) of a tenth of the CDNOW customers.

    **Illustrative only**, drawn deterministically by :mod:`clvmodels.kpis.examples` (more
    favourable answers from customers with more orders). Use it with
    :func:`clvmodels.kpis.survey_metrics`.

    Returns
    -------
    pandas.DataFrame
        ``customer_id``, ``date`` (datetime), ``question_type`` (``"nps"``, ``"csat"`` or
        ``"ces"``) and ``score``.

    Examples
    --------
    >>> from clvmodels import datasets
    >>> sorted(datasets.load_example_surveys()["question_type"].unique())
    ['ces', 'csat', 'nps']
    """
    with _file("example_surveys.csv").open("rb") as fh:
        frame = pd.read_csv(fh)
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    return frame


# A synthetic cohort with known covariate effects (issue 13), drawn by
# benchmarks/make_covariate_example.py from these parameters.

__all__ += ["load_covariate_example", "COVARIATE_EXAMPLE_OBSERVATION_END", "COVARIATE_EXAMPLE_TRUE_PARAMS"]

#: The last day of the covariate example's transaction log.
COVARIATE_EXAMPLE_OBSERVATION_END = "2024-06-30"

#: The parameters the covariate example was drawn from, named as the fitted models name them.
COVARIATE_EXAMPLE_TRUE_PARAMS = {
    "bgnbd": {"r": 0.8, "alpha": 12.0, "a": 0.7, "b": 2.5,
              "purchase:channel[paid_social]": -0.5, "purchase:channel[referral]": 0.4,
              "purchase:region[south]": 0.3, "purchase:age": 0.02,
              "dropout:channel[paid_social]": 0.6, "dropout:channel[referral]": -0.4},
    "gamma_gamma": {"p": 6.0, "q": 4.0, "gamma": 10.0,
                    "spend:channel[paid_social]": -0.2, "spend:channel[referral]": 0.25, "spend:age": 0.01},
}


def load_covariate_example(kind: str = "transactions") -> pd.DataFrame:
    """A synthetic cohort of 6,000 customers whose purchases, dropout and spend depend on known
    covariates: ``"transactions"`` (the log) or ``"customers"`` (one row per customer).

    **Synthetic**, drawn once with a fixed seed by ``benchmarks/make_covariate_example.py`` from the
    models' own ``simulate`` functions with per-customer parameters (the links of
    ``docs/design/covariates.md``, section 1; weeks):

    - BG/NBD purchases: ``alpha_i = alpha exp(-g_p . x_i)``, dropout ``a_i = a exp(g_d . x_i)``
      (``b`` fixed), with ``r = 0.8, alpha = 12.0, a = 0.7, b = 2.5``;
    - Gamma-Gamma spend per purchase: ``gamma_i = gamma exp(g_s . x_i)`` with
      ``p = 6.0, q = 4.0, gamma = 10.0``.

    ``x_i`` is treatment coded against the first sorted level (``channel`` "organic", ``region``
    "north", as the models code it) plus ``age`` in years. A positive coefficient raises the purchase
    rate (purchase), the odds of dropping out after a purchase (dropout) or the mean spend (spend),
    by the factor ``exp(coefficient)``:

    ========================  ========  =========  ========  ===========================
    column                    purchase  dropout    spend     customers
    ========================  ========  =========  ========  ===========================
    ``channel[paid_social]``  -0.5      0.6        -0.2      35 %
    ``channel[referral]``     0.4       -0.4       0.25      20 % (organic 45 %)
    ``region[south]``         0.3       --         --        45 % (north 55 %)
    ``age`` (per year)        0.02      --         0.01      Normal(40, 12), 18..80, whole
    ========================  ========  =========  ========  ===========================

    The base parameters are those of an organic customer from the north aged 0 (``age`` is not
    centred); at age 40 ``alpha`` is ``12 exp(-0.8) = 5.39`` and ``gamma`` ``10 exp(0.4) = 14.9``.
    Fit on ``age - 40`` to read those as the base: the coefficients are the same.
    The first purchases fall uniformly on 2023-01-01..2023-06-30 and the log ends on
    :data:`COVARIATE_EXAMPLE_OBSERVATION_END` (52 to 78 weeks per customer). A summary from
    ``rfm_summary(..., freq="D", time_unit="W")`` joined with the customers table on
    ``customer_id`` recovers these values within sampling error (tested).

    Parameters
    ----------
    kind : {"transactions", "customers"}, default "transactions"

    Returns
    -------
    pandas.DataFrame
        ``"transactions"``: ``customer_id`` (text, ``"C00001"`` .. ``"C06000"``), ``date``
        (datetime) and ``amount`` (dollars), one row per purchase (33,320 rows), sorted by customer
        and date. ``"customers"``: ``customer_id``, ``channel`` ("organic", "paid_social",
        "referral"), ``region`` ("north", "south") and ``age`` (int). Both carry
        ``attrs["true_params"]``: ``{"bgnbd": {...}, "gamma_gamma": {...}}`` keyed by the fitted
        models' parameter names (``"purchase:channel[referral]"``, ...), and
        ``attrs["observation_period_end"]``.

    Examples
    --------
    >>> from clvmodels import datasets
    >>> customers = datasets.load_covariate_example("customers")
    >>> len(customers), sorted(customers["channel"].unique())
    (6000, ['organic', 'paid_social', 'referral'])
    >>> customers.attrs["true_params"]["bgnbd"]["purchase:channel[referral]"]
    0.4
    """
    files = {"transactions": "covariate_example_transactions.csv.gz",
             "customers": "covariate_example_customers.csv.gz"}
    if kind not in files:
        raise ValueError(f"kind must be one of {sorted(files)}, got {kind!r}.")
    with _file(files[kind]).open("rb") as fh:
        frame = pd.read_csv(fh, compression="gzip", dtype={"customer_id": str})
    if kind == "transactions":
        frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    frame.attrs.update({"true_params": {k: dict(v) for k, v in COVARIATE_EXAMPLE_TRUE_PARAMS.items()},
                        "observation_period_end": COVARIATE_EXAMPLE_OBSERVATION_END})
    return frame
