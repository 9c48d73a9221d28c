"""Survival and retention of a contract cohort, actual against the sBG model (Fader & Hardie 2007).

A cohort of customers acquired together renews (or not) at the end of each contract period. The
sBG model gives the share still active after ``t`` renewal decisions, ``S(t) = B(alpha, beta +
t) / B(alpha, beta)`` (one minus the sum of the ``P(T = t)`` of Fader & Hardie 2007, eq. 7), and
the retention rate ``r(t) = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)`` (eq. 8),
which rises with tenure. The paper's check: fit the model to the first years of a cohort and
project the survivors of the following years (its "regular" and "high end" cohorts, fitted on
years 1-7 and projected over years 8-12).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..models.sbg import check_survivors

KIND = "retention"


def check_retention_model(model) -> np.ndarray:
    """Raise unless ``model`` is a fitted contract-retention model; return its parameters."""
    if getattr(model, "kind", None) != KIND:
        raise TypeError(f"model must be a fitted retention model (clvmodels.ShiftedBetaGeoModel, kind {KIND!r}), "
                        f"got {type(model).__name__} (kind {getattr(model, 'kind', None)!r}).")
    return model._require_fitted()


def survival_table(model, survivors, *, calibration_periods: int | None = None) -> pd.DataFrame:
    """Survivors, survival and retention of a cohort per renewal, actual and expected.

    Parameters
    ----------
    model : ShiftedBetaGeoModel
        Fitted on this cohort (on its first ``calibration_periods`` renewals, to check the
        projection) or on other data.
    survivors : sequence of float or pandas.Series
        The cohort size at acquisition, then the number (or share) of its customers still active
        after each renewal decision: ``s_0, s_1, ..., s_K``, as for
        :meth:`clvmodels.ShiftedBetaGeoModel.rows_from_survival`. Must not increase.
    calibration_periods : int, optional
        Renewal decisions the model was fitted on (``1 <= k <= K``): the rows ``t <= k`` are the
        calibration, the later ones the projection. Fit the model with
        ``fit(ShiftedBetaGeoModel.rows_from_survival(survivors[:k + 1]), weights="count")``.
        Default ``K``: everything is calibration.

    Returns
    -------
    pandas.DataFrame
        Index ``tenure`` (``t = 0, 1, ..., K``, renewal decisions since acquisition); columns

        - ``actual_survivors`` (``s_t``) and ``expected_survivors`` (``s_0 S(t)``);
        - ``actual_survival`` (``s_t / s_0``) and ``expected_survival`` (``S(t)``);
        - ``actual_retention`` (``s_t / s_{t-1}``; NaN at ``t = 0`` and after a cohort of 0) and
          ``expected_retention`` (``r(t)``, NaN at ``t = 0``);
        - ``period``: ``"calibration"`` (``t <= k``) or ``"holdout"``.

        ``attrs``: ``calibration_periods``, ``n_customers`` (``s_0``), ``model`` and the mean
        absolute percentage error of the expected survivors, ``mape_calibration`` (over
        ``1 <= t <= k``) and ``mape_holdout`` (``t > k``; NaN without a holdout), in percent,
        over the renewals with survivors left.

    Examples
    --------
    The "high end" cohort of Fader & Hardie (2007), fitted on its first 7 years and projected to
    year 12 (actual 394 customers left; the model projects 378):

    >>> from clvmodels import ShiftedBetaGeoModel
    >>> from clvmodels.diagnostics import survival_table
    >>> high_end = [1000, 869, 743, 653, 593, 551, 517, 491, 468, 445, 427, 409, 394]
    >>> model = ShiftedBetaGeoModel().fit(ShiftedBetaGeoModel.rows_from_survival(high_end[:8]), weights="count")
    >>> table = survival_table(model, high_end, calibration_periods=7)
    >>> table["expected_survivors"].iloc[[1, 7, 12]].round(0).tolist()
    [851.0, 489.0, 378.0]
    >>> table["period"].value_counts().to_dict()
    {'calibration': 8, 'holdout': 5}
    """
    check_retention_model(model)
    numbers = check_survivors(survivors)
    last = len(numbers) - 1
    if calibration_periods is None:
        k = last
    else:
        if isinstance(calibration_periods, bool) or not isinstance(calibration_periods, (int, np.integer)) \
                or not 1 <= calibration_periods <= last:
            raise ValueError(f"calibration_periods must be a whole number of renewal decisions from 1 to {last} "
                             f"(the survivors cover {last}), got {calibration_periods!r}.")
        k = int(calibration_periods)
    t = np.arange(last + 1)
    survival = model.survival(t)
    retention = np.r_[np.nan, model.retention_rate(t[1:])]
    with np.errstate(divide="ignore", invalid="ignore"):
        actual_retention = np.r_[np.nan, np.where(numbers[:-1] > 0, numbers[1:] / numbers[:-1], np.nan)]
    expected_survivors = numbers[0] * survival
    whole = np.all(numbers == np.round(numbers))
    table = pd.DataFrame({
        "actual_survivors": numbers.astype(np.int64) if whole else numbers,
        "expected_survivors": expected_survivors,
        "actual_survival": numbers / numbers[0],
        "expected_survival": survival,
        "actual_retention": actual_retention,
        "expected_retention": retention,
        "period": np.where(t <= k, "calibration", "holdout"),
    }, index=pd.RangeIndex(last + 1, name="tenure"))

    def mape(mask):
        use = mask & (numbers > 0)
        if not use.any():
            return float("nan")
        return float(100 * np.mean(np.abs(expected_survivors[use] / numbers[use] - 1)))

    table.attrs.update({"calibration_periods": k, "n_customers": int(numbers[0]) if whole else float(numbers[0]),
                        "model": getattr(model, "name", None),
                        "mape_calibration": mape((t >= 1) & (t <= k)), "mape_holdout": mape(t > k)})
    return table
