"""Synthetic transaction logs drawn from the BG/NBD and Gamma-Gamma generative stories.

Used for benchmarks and for parameter-recovery checks: a log simulated from known parameters is
summarised with :func:`clvmodels.rfm_summary` and fitted, and the estimates should land within
their standard errors of the truth.

References
----------
Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
alternative to the Pareto/NBD model. *Marketing Science*, 24(2), 275-284 (section 3, assumptions
i-v).

Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value. Note
(brucehardie.com/notes/025), section 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_transactions"]

#: CDNOW estimates (Fader, Hardie & Lee 2005, table 1; weeks) and (Fader & Hardie 2013, section 4).
CDNOW_BGNBD = (0.243, 4.414, 0.793, 2.426)
CDNOW_GAMMA_GAMMA = (6.25, 3.74, 15.44)


def _positive(name: str, values, size: int) -> tuple[float, ...]:
    values = tuple(float(v) for v in values)
    if len(values) != size or not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"{name} must be {size} positive finite numbers, got {values}.")
    return values


def simulate_transactions(n_customers: int, *, params_bgnbd=CDNOW_BGNBD, params_gamma_gamma=CDNOW_GAMMA_GAMMA,
                          start="1997-01-01", acquisition_days: int = 84, observation_end="1998-06-30",
                          time_unit_days: float = 7, seed=0) -> pd.DataFrame:
    """Simulate a transaction log of one acquisition cohort (BG/NBD purchases, Gamma-Gamma spend).

    Each customer makes a first purchase on a day drawn uniformly from the ``acquisition_days``
    days from ``start``, then, following Fader, Hardie & Lee (2005, section 3):

    - buys at rate ``lambda ~ Gamma(r, rate alpha)`` per time unit while alive (Poisson purchases);
    - after each repeat purchase drops out with probability ``p ~ Beta(a, b)``, so the number of
      repeat purchases allowed before dropout is geometric on ``1, 2, ...``;
    - is observed until the end of ``observation_end``.

    Every purchase (the first included) has value ``z ~ Gamma(p, rate nu)`` with a per-customer
    ``nu ~ Gamma(q, rate gamma)`` (Fader & Hardie 2013, eqs. 1-2).

    The draw is vectorised: the repeat purchases in the window are the first ``x = min(J, N)`` of
    ``N ~ Poisson(lambda T)`` uniform arrival times (``J`` the geometric dropout count), taken as
    ``S_k / S_{N+1}`` with ``S`` a running sum of unit exponential gaps and
    ``S_{N+1} = S_x + Gamma(N + 1 - x)``. The cost is proportional to the number of transactions.

    Purchases are dated to the day: a purchase ``s`` days after the first is dated ``ceil(s)``
    days after it, i.e. the first purchase is placed at the end of its day. With
    ``rfm_summary(..., freq="D", time_unit="W")`` the summary's ``T`` is then exact and ``recency``
    exceeds the continuous-time value by half a day on average; repeat purchases that fall on the
    same day merge into one purchase occasion (rare at the default parameters).

    Parameters
    ----------
    n_customers : int
        Number of customers in the cohort (ids ``1..n_customers``).
    params_bgnbd : sequence of float, default CDNOW estimates
        ``(r, alpha, a, b)``; ``alpha`` per ``time_unit_days``.
    params_gamma_gamma : sequence of float, default CDNOW estimates
        ``(p, q, gamma)``.
    start : date-like, default "1997-01-01"
        First day of the acquisition window.
    acquisition_days : int, default 84
        Length of the acquisition window in days (12 weeks, as CDNOW's first-quarter cohort).
    observation_end : date-like, default "1998-06-30"
        Last day observed (inclusive); must not precede the end of the acquisition window.
    time_unit_days : float, default 7
        Length in days of the time unit of ``alpha`` (7: the parameters are weekly).
    seed : int or numpy.random.Generator, default 0
        Seed of (or) the random generator; the same seed gives the same log.

    Returns
    -------
    pandas.DataFrame
        One row per transaction, sorted by customer and date: ``customer_id`` (int64), ``date``
        (datetime64[ns], midnight) and ``amount`` (float64, positive). At the defaults there are
        about 2.8 transactions per customer.

    Examples
    --------
    >>> from clvmodels import rfm_summary
    >>> from clvmodels.data.synthetic import simulate_transactions
    >>> tx = simulate_transactions(1_000, seed=1)
    >>> list(tx.columns), tx["customer_id"].nunique()
    (['customer_id', 'date', 'amount'], 1000)
    >>> summary = rfm_summary(tx, customer_id_col="customer_id", datetime_col="date",
    ...                       monetary_value_col="amount", observation_period_end="1998-06-30")
    >>> bool(summary["T"].between(66, 78).all())
    True
    """
    if isinstance(n_customers, bool) or int(n_customers) != n_customers or n_customers < 0:
        raise ValueError(f"n_customers must be a non-negative whole number, got {n_customers!r}.")
    n = int(n_customers)
    r, alpha, a, b = _positive("params_bgnbd (r, alpha, a, b)", params_bgnbd, 4)
    p_shape, q, gamma = _positive("params_gamma_gamma (p, q, gamma)", params_gamma_gamma, 3)
    (unit,) = _positive("time_unit_days", (time_unit_days,), 1)
    first_day = np.datetime64(pd.Timestamp(start).date(), "D")
    last_day = np.datetime64(pd.Timestamp(observation_end).date(), "D")
    horizon = int((last_day - first_day).astype(np.int64))  # days from start to observation_end
    if horizon < 0:
        raise ValueError(f"observation_end {last_day} is before start {first_day}; pass a later observation_end.")
    if int(acquisition_days) != acquisition_days or not 1 <= acquisition_days <= horizon + 1:
        raise ValueError(f"acquisition_days must be a whole number from 1 to {horizon + 1} (the days from "
                         f"start {first_day} to observation_end {last_day}), got {acquisition_days!r}.")
    rng = np.random.default_rng(seed)

    # -- per customer: first purchase, window, rate, dropout, counts --------------------------------
    acquired = rng.integers(0, int(acquisition_days), size=n)  # day offset of the first purchase
    window_days = (horizon - acquired).astype(float)  # first purchase at the end of its day
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = np.maximum(rng.beta(a, b, size=n), np.finfo(float).tiny)  # a Beta draw may underflow to 0
    allowed = rng.geometric(p)  # repeat purchases made before dropping out
    arrivals = rng.poisson(lam * window_days / unit)  # Poisson purchases in the window if alive
    x = np.minimum(allowed, arrivals)

    # -- repeat purchase times: first x of N uniform order statistics -------------------------------
    total_repeats = int(x.sum())
    owner = np.repeat(np.arange(n), x)
    running = np.cumsum(rng.standard_exponential(total_repeats))
    ends = np.cumsum(x)
    before = np.concatenate(([0.0], running))[ends - x]  # running sum before each customer's gaps
    s_k = running - before[owner]
    s_x = np.zeros(n)
    has = x > 0
    s_x[has] = s_k[ends[has] - 1]
    s_total = s_x + rng.standard_gamma(arrivals - x + 1.0)  # S_{N+1}
    repeat_day = acquired[owner] + np.ceil(window_days[owner] * s_k / s_total[owner]).astype(np.int64)

    # -- assemble: each customer's first purchase followed by the repeats --------------------------
    counts = x + 1
    is_first = np.zeros(n + total_repeats, dtype=bool)
    is_first[np.cumsum(counts) - counts] = True
    day = np.empty(n + total_repeats, dtype=np.int64)
    day[is_first] = acquired
    day[~is_first] = repeat_day
    nu = rng.gamma(q, 1.0 / gamma, size=n)
    customer = np.repeat(np.arange(n), counts)
    amount = rng.gamma(p_shape, 1.0, size=len(day)) / nu[customer]
    return pd.DataFrame({
        "customer_id": customer.astype(np.int64) + 1,
        "date": (first_day + day).astype("datetime64[ns]"),
        "amount": amount,
    })
