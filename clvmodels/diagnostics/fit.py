"""Fit statistics of several fitted models side by side: log-likelihood, AIC, BIC."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def fit_statistics(models) -> pd.DataFrame:
    """One row per fitted model: log-likelihood, AIC, BIC, parameters and customers.

    ``AIC = 2k - 2 LL`` and ``BIC = k log(n) - 2 LL`` with ``k`` parameters and ``n`` customers
    (Akaike 1974; Schwarz 1978), as the models compute them when fitted. Compare models only on
    the same data: the same customers, the same time unit. Models built with ``from_params`` have
    no likelihood and get NaN.

    Parameters
    ----------
    models : dict or sequence of fitted models
        A dict names the rows; a sequence uses each model's registry ``name``, which must then be
        distinct.

    Returns
    -------
    pandas.DataFrame
        Index ``model``; columns ``kind`` ("purchase" or "spend"), ``n_params``, ``n_customers``,
        ``log_likelihood``, ``aic``, ``bic``, and ``delta_aic`` / ``delta_bic`` (difference from
        the smallest value among the models of the same kind, 0 for the preferred one: purchase
        and spend models describe different data and are not compared with each other).

    Examples
    --------
    >>> from clvmodels import BetaGeoModel, ModifiedBetaGeoModel, datasets
    >>> from clvmodels.diagnostics import fit_statistics
    >>> summary = datasets.load_cdnow_summary()
    >>> table = fit_statistics([BetaGeoModel().fit(summary), ModifiedBetaGeoModel().fit(summary)])
    >>> table["log_likelihood"].round(1).to_dict()
    {'bgnbd': -9582.4, 'mbgnbd': -9582.1}
    """
    if isinstance(models, Mapping):
        named = [(str(k), m) for k, m in models.items()]
    else:
        named = [(getattr(m, "name", type(m).__name__), m) for m in models]
        names = [n for n, _ in named]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"several models are named {repeated}; pass a dict to name the rows, "
                             "e.g. {'bgnbd_weekly': model_a, 'bgnbd_daily': model_b}.")
    if not named:
        raise ValueError("models is empty; pass at least one fitted model.")
    rows = {}
    for name, model in named:  # one row per model, not per customer
        params = model._require_fitted()
        ll = getattr(model, "log_likelihood_", None)
        rows[name] = {
            "kind": model.kind,
            "n_params": len(params),
            "n_customers": np.nan if model.n_customers_ is None else float(model.n_customers_),
            "log_likelihood": np.nan if ll is None else float(ll),
            "aic": np.nan if model.aic_ is None else float(model.aic_),
            "bic": np.nan if model.bic_ is None else float(model.bic_),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    by_kind = table.groupby("kind", sort=False)
    table["delta_aic"] = table["aic"] - by_kind["aic"].transform("min")
    table["delta_bic"] = table["bic"] - by_kind["bic"].transform("min")
    return table
