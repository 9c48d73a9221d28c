"""Calibration fit: how many customers made 0, 1, ..., k+ repeat purchases, actual vs model.

A customer observed for ``T`` since the first purchase makes ``x`` repeat purchases with
probability ``P(X(T) = x)`` (Fader, Hardie & Lee 2005, eq. 8 for BG/NBD; Fader & Hardie,
http://brucehardie.com/notes/013/, for Pareto/NBD), so the expected number
of customers with ``x`` repeat purchases is ``sum_i P(X(T_i) = x)``; the last bin takes the rest.
This is the histogram of Fader, Hardie & Lee (2005), Figure 2, and of Fader, Hardie & Lee (2007),
"Creating a fit histogram for the BG/NBD model", http://brucehardie.com/notes/014/.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from ._common import check_max_frequency, check_model, check_split, check_time_unit, frequency_bins


def frequency_distribution(purchase_model, summary: pd.DataFrame, *, max_frequency: int = 7,
                           ddof: int | None = None) -> pd.DataFrame:
    """Number of customers by repeat purchases ``0, 1, ..., k+``: actual, expected, chi-square.

    Parameters
    ----------
    purchase_model : fitted purchase model
        A model providing ``probability_of_purchases`` (:class:`~clvmodels.BetaGeoModel`,
        :class:`~clvmodels.ModifiedBetaGeoModel`, :class:`~clvmodels.ParetoNBDModel`).
    summary : pandas.DataFrame
        The data the model was fitted on: ``frequency`` and ``T`` per customer (an RFM summary or
        the calibration columns of a split).
    max_frequency : int, default 7
        Customers with at least this many repeat purchases share the last bin ``"k+"``.
    ddof : int, optional
        Degrees of freedom lost to estimation; default the number of model parameters (they were
        estimated from these data). The test has ``bins - 1 - ddof`` degrees of freedom.

    Returns
    -------
    pandas.DataFrame
        Index ``frequency`` (labels ``"0", ..., "<k>+"``); columns ``actual`` (customers),
        ``expected`` (``sum_i P(X(T_i) = x)``; the last bin is the number of customers minus the
        other bins, so both columns add up to the number of customers) and ``chi_square``
        (``(actual - expected)^2 / expected``). ``attrs`` holds the Pearson goodness-of-fit test:
        ``chi_square`` (sum of the column), ``df``, ``p_value`` (upper tail of the chi-square
        distribution; NaN when ``df < 1``) and ``n_customers``. The chi-square approximation
        needs expected counts of about 5 or more per bin: lower ``max_frequency`` otherwise.

    Examples
    --------
    >>> from clvmodels import BetaGeoModel, datasets
    >>> from clvmodels.diagnostics import frequency_distribution
    >>> summary = datasets.load_cdnow_summary()
    >>> table = frequency_distribution(BetaGeoModel().fit(summary), summary)
    >>> table["actual"].tolist()
    [1411, 439, 214, 100, 62, 38, 29, 64]
    >>> table.attrs["df"]
    3
    """
    params = check_model(purchase_model, "purchase", argument="purchase_model")
    max_frequency = check_max_frequency(max_frequency)
    check_split(summary, ("frequency", "T"), what="The summary", hint="Build it with clvmodels.rfm_summary().")
    check_time_unit(purchase_model, summary, what="the summary")
    ddof = len(params) if ddof is None else int(ddof)

    codes, labels = frequency_bins(summary["frequency"].to_numpy(), max_frequency)
    actual = np.bincount(codes, minlength=len(labels))
    n = len(summary)
    # P(X(T) = x) depends on T only: evaluate on the distinct T, weight by their counts.
    t_codes, t_values = pd.factorize(summary["T"].to_numpy(dtype=float))
    pmf = purchase_model.probability_of_purchases(np.asarray(t_values, dtype=float)[None, :],
                                                  np.arange(max_frequency, dtype=float)[:, None])
    head = pmf @ np.bincount(t_codes, minlength=len(t_values))
    expected = np.append(head, n - head.sum())
    contribution = (actual - expected) ** 2 / expected
    table = pd.DataFrame({"actual": actual.astype(np.int64), "expected": expected, "chi_square": contribution},
                         index=labels)
    statistic = float(contribution.sum())
    df = len(labels) - 1 - ddof
    table.attrs.update({"chi_square": statistic, "df": df,
                        "p_value": float(chdtrc(df, statistic)) if df >= 1 else float("nan"),
                        "n_customers": n})
    return table
