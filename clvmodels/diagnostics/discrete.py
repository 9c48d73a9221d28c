"""Diagnostics of the discrete-opportunity purchase model (BG/BB, Fader, Hardie & Shang 2010).

Transactions happen at discrete opportunities (a yearly fund drive): a customer's history is
``x`` repeat transactions in the ``n`` opportunities after the trial, the last at ``t_x``, as
built by :func:`clvmodels.data.discrete_summary` (``frequency``, ``recency``, ``n_periods``).
The three checks of the paper's analysis of the donations cohort:

- :func:`discrete_frequency_distribution`: customers with ``0, 1, ..., n`` repeat transactions
  in the calibration opportunities, actual against ``sum_i P(X(n_i) = x)`` (eq. 7);
- :func:`discrete_tracking`: the cohort's repeat transactions per opportunity, actual against
  the increments of ``sum_i E[X(age_i)]`` (eq. 8), across calibration and holdout;
- :func:`discrete_conditional_expectations`: mean holdout transactions by calibration frequency
  (or recency), actual against the conditional expectation of eq. (13).

Rows may stand for several customers (``weights=``), as the published pattern counts do
(:func:`clvmodels.datasets.load_donations`, ``weights="count"``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import chdtrc

from ..data.validation import invalid_rows_error, require_columns
from ..exceptions import InvalidValueError
from ..likelihoods import bgbb
from ._common import check_time_unit

KIND = "discrete_purchase"
_HINT = "Build it with clvmodels.data.discrete_summary() (or clvmodels.datasets.load_donations())."


def check_discrete_model(model) -> np.ndarray:
    """Raise unless ``model`` is a fitted discrete-opportunity purchase model; return its parameters."""
    if getattr(model, "kind", None) != KIND:
        raise TypeError(f"model must be a fitted discrete-opportunity purchase model "
                        f"(clvmodels.BetaGeoBetaBinomModel, kind {KIND!r}), got {type(model).__name__} "
                        f"(kind {getattr(model, 'kind', None)!r}). For continuous-time purchase models use "
                        "clvmodels.diagnostics.frequency_distribution(), tracking() and "
                        "conditional_expectations().")
    return model._require_fitted()


def _weights(frame: pd.DataFrame, weights) -> np.ndarray:
    """Customers per row: 1 each, a column name (e.g. ``"count"``) or one number per row."""
    if weights is None:
        return np.ones(len(frame))
    if isinstance(weights, str):
        require_columns(frame, (weights,), what="The summary",
                        hint=f"weights={weights!r} names the column holding the customers per row.")
        values = pd.to_numeric(frame[weights], errors="coerce").to_numpy(dtype=float)
        name = weights
    else:
        values = np.asarray(weights, dtype=float)
        name = "weights"
        if values.shape != (len(frame),):
            raise InvalidValueError(f"weights must hold one number per row of the summary ({len(frame)}), "
                                    f"got shape {values.shape}. Pass the customers each row stands for.")
        frame = pd.DataFrame({name: values}, index=frame.index)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise invalid_rows_error(name, "must be a finite number of customers, 0 or more", bad, frame,
                                 "Fix the counts or drop these rows.")
    if values.sum() <= 0:
        raise InvalidValueError(f"the weights ({name}) add up to 0: no customer to compare the model with. "
                                "Pass the number of customers each row stands for.")
    return values


def _history(model, summary, weights):
    """Validated ``frame, x, t_x, n, w`` of a discrete summary (the model's own checks)."""
    params = check_discrete_model(model)
    if not isinstance(summary, pd.DataFrame):
        raise TypeError(f"summary must be a pandas DataFrame (a discrete summary), got {type(summary).__name__}. "
                        f"{_HINT}")
    require_columns(summary, ("frequency", "recency", "n_periods"), what="The summary", hint=_HINT)
    check_time_unit(model, summary, what="the summary")
    frame, c = model._prediction_frame(summary)
    return params, frame, c["frequency"], c["recency"], c["n_periods"], _weights(frame, weights)


def _whole(value, name: str, *, minimum: int, rule: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)) \
            or not np.isfinite(value) or value != int(value) or value < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum} ({rule}), got {value!r}.")
    return int(value)


def _counts(values):
    """Whole-number counts as integers (customers), shares or fractional weights as floats."""
    if np.ndim(values) == 0:
        return int(values) if values == round(values) else float(values)
    return values.astype(np.int64) if np.all(values == np.round(values)) else values


def discrete_frequency_distribution(model, summary: pd.DataFrame, *, weights=None, max_frequency: int | None = None,
                                    ddof: int | None = None) -> pd.DataFrame:
    """Customers by repeat transactions ``0, 1, ..., n`` in the calibration opportunities: actual,
    expected, chi-square.

    A customer observed for ``n`` opportunities after the trial makes ``x`` repeat transactions
    with probability ``P(X(n) = x)`` (Fader, Hardie & Shang 2010, eq. 7,
    :func:`clvmodels.likelihoods.bgbb.probability_of_purchases`), so the expected number of
    customers with ``x`` is ``sum_i w_i P(X(n_i) = x)``; the last bin takes the rest. The
    in-sample fit check of the paper (its histogram of repeat transactions
    1996-2001).

    Parameters
    ----------
    model : BetaGeoBetaBinomModel
        Fitted on ``summary``.
    summary : pandas.DataFrame
        Discrete summary (``frequency``, ``recency``, ``n_periods``), one row per customer or per
        pattern with ``weights``.
    weights : str or array_like, optional
        Customers per row: a column name (``"count"`` for the published pattern counts) or one
        number per row. Default one customer per row.
    max_frequency : int, optional
        Customers with at least this many repeat transactions share the last bin ``"k+"``;
        default the largest ``n_periods`` (one bin per possible count, no pooling). At most the
        largest ``n_periods``.
    ddof : int, optional
        Degrees of freedom lost to estimation; default the model's 4 parameters. The test has
        ``bins - 1 - ddof`` degrees of freedom.

    Returns
    -------
    pandas.DataFrame
        Index ``frequency`` (labels ``"0", "1", ...``; the last is ``"k+"`` when it pools counts
        above ``k``); columns ``actual`` (customers), ``expected`` (both add up to the number of
        customers) and ``chi_square`` (``(actual - expected)^2 / expected``). ``attrs``: the
        Pearson test (``chi_square``, ``df``, ``p_value``, NaN when ``df < 1``),
        ``n_customers``, ``n_periods`` (the largest) and ``model``. The columns are those of
        :func:`frequency_distribution`, so :func:`clvmodels.plotting.plot_frequency_distribution`
        draws it too.

    Examples
    --------
    >>> from clvmodels import BetaGeoBetaBinomModel, datasets
    >>> from clvmodels.diagnostics import discrete_frequency_distribution
    >>> donations = datasets.load_donations()
    >>> model = BetaGeoBetaBinomModel().fit(donations, weights="count")
    >>> table = discrete_frequency_distribution(model, donations, weights="count")
    >>> table["actual"].tolist()
    [3464, 1823, 1430, 1085, 1036, 1063, 1203]
    >>> table["expected"].round(0).tolist()
    [3455.0, 1889.0, 1349.0, 1113.0, 1018.0, 1027.0, 1253.0]
    >>> table.attrs["df"]
    2
    """
    params, _, x, _, n, w = _history(model, summary, weights)
    most = int(n.max())
    if most < 1:
        raise InvalidValueError("every customer has n_periods = 0 (acquired in the last observed opportunity): "
                                "there are no repeat opportunities to compare. Observe the cohort for longer.")
    k = most if max_frequency is None else _whole(max_frequency, "max_frequency", minimum=1,
                                                   rule="the first pooled count of repeat transactions")
    if k > most:
        raise ValueError(f"max_frequency={k} exceeds the largest n_periods ({most}): nobody can make more repeat "
                         f"transactions than opportunities. Pass max_frequency <= {most}.")
    labels = [str(j) for j in range(k)] + [f"{k}+" if k < most else str(k)]
    actual = np.bincount(np.minimum(x, k).astype(np.int64), weights=w, minlength=k + 1)
    total = float(w.sum())
    distinct, codes = np.unique(n, return_inverse=True)
    pmf = bgbb.probability_of_purchases(params, distinct[None, :], np.arange(k, dtype=float)[:, None])
    head = pmf @ np.bincount(codes, weights=w, minlength=len(distinct))
    expected = np.append(head, total - head.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        contribution = (actual - expected) ** 2 / expected
    table = pd.DataFrame({"actual": _counts(actual), "expected": expected, "chi_square": contribution},
                         index=pd.Index(labels, name="frequency"))
    statistic = float(contribution.sum())
    df = len(labels) - 1 - (len(params) if ddof is None else int(ddof))
    table.attrs.update({"chi_square": statistic, "df": df,
                        "p_value": float(chdtrc(df, statistic)) if df >= 1 else float("nan"),
                        "n_customers": _counts(total), "n_periods": most, "model": getattr(model, "name", None)})
    return table


def _actual_increments(actual, horizon: int | None) -> np.ndarray:
    values = actual.to_numpy() if isinstance(actual, (pd.Series, pd.Index)) else np.asarray(actual)
    if values.ndim != 1 or len(values) == 0:
        raise InvalidValueError(f"actual must be a non-empty sequence of repeat transactions per opportunity "
                                f"(the first value for opportunity 1 after the trial), got shape {values.shape}.")
    try:
        values = values.astype(float)
    except (TypeError, ValueError):
        raise InvalidValueError("actual must hold numbers of repeat transactions per opportunity; some values are "
                                "not numbers.") from None
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise invalid_rows_error("actual", "must be a finite number of transactions, 0 or more", bad,
                                 pd.DataFrame({"actual": values}, index=pd.RangeIndex(1, len(values) + 1)),
                                 "Pass the cohort's repeat transactions per opportunity, opportunity 1 first.")
    if horizon is not None and len(values) > horizon:
        raise ValueError(f"actual has {len(values)} opportunities but horizon={horizon}; pass horizon >= "
                         f"{len(values)} or leave it out.")
    return values


def _calendar_labels(attrs: dict, end: int, count: int) -> list[str] | None:
    """Labels of the calendar periods ``end - P + 1 ... `` when the summary's attrs name them."""
    last, freq = attrs.get("last_period"), attrs.get("freq")
    if not last or not freq:
        return None
    try:
        stop = pd.Period(str(last), freq=freq)
    except (TypeError, ValueError):
        return None
    return [str(stop - end + k) for k in range(1, count + 1)]


def discrete_tracking(model, summary: pd.DataFrame, *, weights=None, horizon: int | None = None,
                      actual=None) -> pd.DataFrame:
    """Repeat transactions of the cohort per opportunity, expected (eq. 8) and, when given, actual.

    A customer observed for ``n_i`` opportunities after the trial made the trial ``P - n_i``
    opportunities before the earliest customer's ``P``-th (``P`` the largest ``n_periods``: the
    calibration ends with opportunity ``P``). At opportunity ``k`` the customer has had
    ``max(k - (P - n_i), 0)`` repeat opportunities, so the cohort is expected to have made
    ``sum_i w_i E[X(max(k - P + n_i, 0))]`` repeat transactions by then, with ``E[X(n)]`` of
    Fader, Hardie & Shang (2010), eq. (8); the table gives the increments and the running total,
    over the calibration (``k <= P``) and the holdout (``k > P``). For one cohort (the donations:
    everyone ``n = 6``) that is ``N (E[X(k)] - E[X(k - 1)])``, the paper's annual tracking plot.

    Parameters
    ----------
    model : BetaGeoBetaBinomModel
        Fitted on ``summary``.
    summary : pandas.DataFrame
        Discrete summary of the calibration period (``frequency``, ``recency``, ``n_periods``).
    weights : str or array_like, optional
        Customers per row (e.g. ``"count"``); default one per row.
    horizon : int, optional
        Opportunities to tabulate, from the first after the earliest trial; default the larger of
        ``P`` and ``len(actual)``. Beyond ``P`` it is a forecast.
    actual : array_like, optional
        The cohort's actual repeat transactions per opportunity (customers transacting at it),
        opportunity 1 first; at most ``horizon`` values (the rest of the column is NaN). When it
        covers the calibration, its first ``P`` values must add up to the summary's total
        ``frequency``, else the two describe different customers.

    Returns
    -------
    pandas.DataFrame
        Index ``opportunity`` (1, 2, ..., horizon); columns ``actual_incremental``,
        ``expected_incremental``, ``actual_cumulative``, ``expected_cumulative`` (actual columns NaN
        where not given) and ``period`` (``"calibration"`` or ``"holdout"``), plus
        ``calendar_period`` (e.g. ``"1996"``) when the summary's ``attrs`` hold ``last_period``
        and ``freq`` (as :func:`clvmodels.data.discrete_summary` and ``load_donations`` set
        them). ``attrs``: ``calibration_periods`` (``P``), ``n_customers``, ``time_unit`` and
        ``model``. The columns are those of :func:`tracking`, so
        :func:`clvmodels.plotting.plot_tracking` draws it too.

    Examples
    --------
    >>> from clvmodels import BetaGeoBetaBinomModel, datasets
    >>> from clvmodels.diagnostics import discrete_tracking
    >>> donations = datasets.load_donations()
    >>> model = BetaGeoBetaBinomModel().fit(donations, weights="count")
    >>> table = discrete_tracking(model, donations, weights="count", horizon=11)
    >>> table["calendar_period"].iloc[[0, 5, 10]].tolist()
    ['1996', '2001', '2006']
    >>> round(table.loc[6, "expected_cumulative"]), int((donations["frequency"] * donations["count"]).sum())
    (24653, 24615)
    """
    params, frame, x, _, n, w = _history(model, summary, weights)
    most = int(n.max())
    if horizon is not None:
        horizon = _whole(horizon, "horizon", minimum=1, rule="opportunities to tabulate")
    values = None if actual is None else _actual_increments(actual, horizon)
    if horizon is None:
        horizon = max(most, 1 if values is None else len(values))
    if values is not None and len(values) >= most:
        observed, summarised = float(values[:most].sum()), float(w @ x)
        if not np.isclose(observed, summarised, rtol=1e-9, atol=1e-9):
            raise InvalidValueError(
                f"actual adds up to {observed:g} repeat transactions over the {most} calibration opportunities, but "
                f"the summary's frequency adds up to {summarised:g}: they describe different customers or periods. "
                "Count actual from the same cohort and calibration window as the summary.")

    distinct, codes = np.unique(n, return_inverse=True)
    sizes = np.bincount(codes, weights=w, minlength=len(distinct))
    k = np.arange(1, horizon + 1, dtype=float)
    age = np.maximum(k[:, None] - most + distinct[None, :], 0.0)
    expected_cumulative = bgbb.expected_purchases_new_customer(params, age) @ sizes
    actual_incremental = np.full(horizon, np.nan)
    if values is not None:
        actual_incremental[:len(values)] = values
    table = pd.DataFrame({
        "actual_incremental": actual_incremental,
        "expected_incremental": np.diff(expected_cumulative, prepend=0.0),
        "actual_cumulative": np.cumsum(actual_incremental),
        "expected_cumulative": expected_cumulative,
        "period": np.where(k <= most, "calibration", "holdout"),
    }, index=pd.RangeIndex(1, horizon + 1, name="opportunity"))
    labels = _calendar_labels(summary.attrs, most, horizon)
    if labels is not None:
        table["calendar_period"] = labels
    table.attrs.update({"calibration_periods": most, "n_customers": _counts(float(w.sum())),
                        "time_unit": summary.attrs.get("time_unit") or getattr(model, "time_unit_", None),
                        "period_length": 1, "model": getattr(model, "name", None)})
    return table


BY = ("frequency", "recency")


def discrete_conditional_expectations(model, calibration: pd.DataFrame, *, holdout_periods: int,
                                      by: str = "frequency", weights=None) -> pd.DataFrame:
    """Mean holdout transactions by calibration frequency (or recency), actual vs model.

    Each customer's expected transactions in the ``n*`` holdout opportunities given the
    calibration history, ``E[X(n, n + n*) | x, t_x, n]`` (Fader, Hardie & Shang 2010, eq. 13),
    averaged over the customers with the same calibration ``frequency`` (or ``recency``), beside
    the mean of what they did: the paper's conditional-expectation plots for 2002-2006.

    Parameters
    ----------
    model : BetaGeoBetaBinomModel
        Fitted on the calibration columns.
    calibration : pandas.DataFrame
        Discrete summary of the calibration period (``frequency``, ``recency``, ``n_periods``)
        plus ``frequency_holdout``: each customer's repeat transactions in the ``holdout_periods``
        opportunities that follow (whole numbers from 0 to ``holdout_periods``).
    holdout_periods : int
        Opportunities in the holdout period, ``n*`` (5 for the donations 2002-2006).
    by : {"frequency", "recency"}, default "frequency"
        Calibration quantity to group by.
    weights : str or array_like, optional
        Customers per row; rows then stand for customers with the same calibration history and
        the same ``frequency_holdout``.

    Returns
    -------
    pandas.DataFrame
        Index ``by`` with every value ``0, 1, ..., max n_periods`` (also empty ones); columns
        ``n_customers``, ``actual`` (mean ``frequency_holdout``) and ``expected`` (mean conditional
        expectation), NaN for empty groups. ``attrs``: ``holdout_periods``, ``by``,
        ``n_customers``, ``actual_total`` and ``expected_total`` (holdout transactions of all
        customers) and ``model``. :func:`clvmodels.plotting.plot_conditional_expectations` draws it.

    Examples
    --------
    >>> import pandas as pd
    >>> from clvmodels import BetaGeoBetaBinomModel
    >>> from clvmodels.diagnostics import discrete_conditional_expectations
    >>> model = BetaGeoBetaBinomModel.from_params(alpha=1.204, beta=0.750, gamma=0.657, delta=2.783)
    >>> calibration = pd.DataFrame({"frequency": [0, 0, 3, 6], "recency": [0, 0, 5, 6],
    ...                             "n_periods": [6, 6, 6, 6], "frequency_holdout": [0, 1, 2, 5]})
    >>> table = discrete_conditional_expectations(model, calibration, holdout_periods=5)
    >>> table.loc[[0, 3, 6]].round(3)  # doctest: +NORMALIZE_WHITESPACE
               n_customers  actual  expected
    frequency
    0                    2     0.5     0.073
    3                    1     2.0     1.804
    6                    1     5.0     3.752
    """
    if by not in BY:
        raise ValueError(f"by must be one of {list(BY)}, got {by!r}.")
    holdout_periods = _whole(holdout_periods, "holdout_periods", minimum=1, rule="opportunities in the holdout")
    check_discrete_model(model)
    if isinstance(calibration, pd.DataFrame):
        require_columns(calibration, ("frequency", "recency", "n_periods", "frequency_holdout"),
                        what="The calibration summary",
                        hint="Add 'frequency_holdout', each customer's repeat transactions in the holdout "
                             "opportunities, to the discrete summary of the calibration period.")
    _, frame, x, t_x, n, w = _history(model, calibration, weights)
    remedy = (f"frequency_holdout counts the opportunities with a transaction among the {holdout_periods} of the "
              "holdout; recount it or fix holdout_periods.")
    holdout = pd.to_numeric(frame["frequency_holdout"], errors="coerce").to_numpy(dtype=float)
    for bad, rule in ((~np.isfinite(holdout), "must be a finite number"),
                      ((holdout < 0) | (holdout != np.round(holdout)), "must be a whole number, 0 or more"),
                      (holdout > holdout_periods, f"must not exceed holdout_periods ({holdout_periods}): at most "
                       "one transaction per opportunity")):
        if bad.any():
            raise invalid_rows_error("frequency_holdout", rule, bad, frame, remedy)
    expected = bgbb.expected_purchases(model.params_.to_numpy(), float(holdout_periods), x, t_x, n)
    groups = int(n.max()) + 1
    codes = (x if by == "frequency" else t_x).astype(np.int64)
    counts = np.bincount(codes, weights=w, minlength=groups)
    actual_sum = np.bincount(codes, weights=w * holdout, minlength=groups)
    expected_sum = np.bincount(codes, weights=w * expected, minlength=groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        table = pd.DataFrame({"n_customers": _counts(counts), "actual": actual_sum / counts,
                              "expected": expected_sum / counts}, index=pd.RangeIndex(groups, name=by))
    table.attrs.update({"holdout_periods": holdout_periods, "by": by, "n_customers": _counts(float(w.sum())),
                        "actual_total": float(actual_sum.sum()), "expected_total": float(expected_sum.sum()),
                        "model": getattr(model, "name", None)})
    return table
