"""Fitting the configured models, on compressed sufficient statistics where the model allows.

A continuous-time purchase model reads only ``(frequency, recency, T)`` and the spend model only
``(frequency, monetary_value)``; customers with the same values collapse to one row with a count
(the models compress their data this way themselves, so the fit is the same). With the summary in
memory (pandas engine) each model is fitted on it and compresses its own rows, once; Dask reduces
on the cluster and gathers the compressed table. Discrete-time and subscription models are
fitted on the summary itself.

The models are built in one place, :func:`construct_models` (with :func:`option_problems`, the
checks the config schema runs too), so that ``clvmodels validate`` refuses every model option
that ``run``, ``fit`` or ``compare`` would.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable

import pandas as pd

from ..exceptions import ConfigError, DataError
from ..models import MODELS

COMPRESSIBLE = ("purchase", "spend")


def model_options(cls) -> list[str]:
    """The keyword options a model class's constructor takes (``ci_level``, ``max_iter``, ...)."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names += [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name not in names]
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return names


def option_problems(name: str, options: dict) -> list[tuple[str | None, str]]:
    """Every problem of a model's constructor options, as ``(option or None, message)`` pairs.

    Unknown options are named with the closest known one; each known option is checked by
    building the model with it alone (the constructor checks its settings),
    then all together. An empty list: the model builds.
    """
    cls = MODELS[name]
    known = model_options(cls)
    problems: list[tuple[str | None, str]] = []
    for key in options:
        if key not in known:
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append((key, f"unknown option for {name!r} (its options: {', '.join(known)}){hint}"))
            continue
        try:
            cls(**{key: options[key]})
        except (TypeError, ValueError) as err:
            problems.append((key, str(err).rstrip(".").removeprefix(f"{key} ")))
    if not problems:
        try:
            cls(**options)
        except (TypeError, ValueError) as err:
            problems.append((None, str(err).rstrip(".")))
    return problems


def build_model(name: str, options: dict, *, where: str = "options"):
    """The model ``name`` built with ``options``, exactly as a job builds it.

    Raises
    ------
    ConfigError
        Naming ``<where>.<option>`` and what is wrong, for every bad option.
    """
    problems = option_problems(name, options)
    if problems:
        raise ConfigError("; ".join(f"{where}{'' if key is None else f'.{key}'}: {msg}" for key, msg in problems) + ".")
    return MODELS[name](**options)


def construct_models(config) -> dict:
    """Every configured model, unfitted, by name: what ``run``, ``fit``, ``compare`` and
    ``validate`` all build (the config schema calls the same checks, :func:`option_problems`).

    Raises
    ------
    ConfigError
        With the location ``models[i].options.<option>`` of each bad option.
    """
    return {spec.name: build_model(spec.name, spec.options, where=f"models[{i}].options")
            for i, spec in enumerate(config.models)}


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
    for name, model in construct_models(config).items():
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
