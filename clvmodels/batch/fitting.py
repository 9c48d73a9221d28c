"""Fitting the configured models, on compressed sufficient statistics where the model allows.

A continuous-time purchase model reads only ``(frequency, recency, T)`` and the spend model only
``(frequency, monetary_value)``; customers with the same values collapse to one row with a count
(the models compress their data this way themselves, so the fit is the same). With the summary in
memory (pandas engine) each model is fitted on it and compresses its own rows, once; Dask reduces
on the cluster and gathers the compressed table. Discrete-time and subscription models are
fitted on the summary itself.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ..exceptions import ConfigError, DataError
from ..models import MODELS

COMPRESSIBLE = ("purchase", "spend")


def _construct(config):
    models = {}
    for i, spec in enumerate(config.models):
        try:
            models[spec.name] = MODELS[spec.name](**spec.options)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"models[{i}].options for {spec.name!r}: {err}") from None
    return models


def fit_models(config, table_for: Callable[[list[str]], pd.DataFrame] | None = None, *, summary=None,
               columns=(), time_unit: str | None = None) -> dict:
    """Fit every configured model.

    Parameters
    ----------
    table_for : callable, optional
        ``table_for(columns)`` returns the compressed table (the columns and ``count``); needed
        when ``summary`` is not given.
    summary : pandas.DataFrame, optional
        The summary in memory (pandas engine): every model is fitted on it and compresses its own
        rows. Without it (Dask engine), the compressible models are fitted on ``table_for``.
    columns : sequence of str
        The summary's columns (to tell a missing amount column apart).
    """
    fitted = {}
    for name, model in _construct(config).items():
        if model.kind == "spend" and "monetary_value" not in columns:
            raise DataError(f"model {name!r} needs amounts, but input.monetary_value is not set.")
        if summary is not None or model.kind not in COMPRESSIBLE:
            fitted[name] = model.fit(summary)  # compressed by the model itself
            continue
        table = table_for(list(model.data_columns))
        table.attrs["time_unit"] = time_unit
        fitted[name] = model.fit(table, weights="count")
        if model.kind == "spend":  # count customers, not table rows
            repeat = table["frequency"] > 0
            model.n_excluded_ = {
                "no_repeat_purchase": int(table.loc[~repeat, "count"].sum()),
                "nonpositive_monetary_value": int(table.loc[repeat & (table["monetary_value"] <= 0), "count"].sum())}
    return fitted


def split_models(models: dict):
    """The customer model and the spend model (or None) of a dict of fitted models."""
    spend = next((m for m in models.values() if m.kind == "spend"), None)
    customer = next(m for m in models.values() if m.kind != "spend")
    return customer, spend
