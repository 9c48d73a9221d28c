"""Checks and small pieces shared by the diagnostics: model kinds, split columns, frequency bins."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data.validation import check_summary, require_columns

SPLIT_HINT = "Build it with clvmodels.calibration_holdout_split()."


def check_model(model, kind: str, *, argument: str) -> np.ndarray:
    """Raise unless ``model`` is a fitted model of ``kind`` ("purchase" or "spend"); return its parameters."""
    if getattr(model, "kind", None) != kind:
        example = "BetaGeoModel" if kind == "purchase" else "GammaGammaModel"
        raise TypeError(f"{argument} must be a fitted {kind} model (e.g. clvmodels.{example}), "
                        f"got {type(model).__name__}.")
    return model._require_fitted()


def check_time_unit(model, data: pd.DataFrame, *, what: str) -> None:
    """Raise when the model and the data say they are in different time units."""
    model_unit, data_unit = getattr(model, "time_unit_", None), data.attrs.get("time_unit")
    if model_unit and data_unit and model_unit != data_unit:
        raise ValueError(f"{type(model).__name__} was fitted in time unit {model_unit!r} but {what} is in "
                         f"{data_unit!r}; rebuild the data with time_unit={model_unit!r} or refit the model.")


def check_split(split: pd.DataFrame, columns: tuple[str, ...], *, what: str = "The calibration/holdout split",
                hint: str = SPLIT_HINT) -> None:
    """Validate a split (or summary): the columns exist, are finite and not negative."""
    require_columns(split, columns, what=what, hint=hint)
    check_summary(split, columns, what=what)
    if "frequency_holdout" in columns:
        x = split["frequency_holdout"].to_numpy(dtype=float)
        if np.any(x != np.round(x)):
            bad = split.index[x != np.round(x)][:5].tolist()
            raise ValueError(f"column 'frequency_holdout' must hold whole numbers of purchases; "
                             f"{int(np.sum(x != np.round(x)))} rows do not (first: {bad}). {hint}")


def check_max_frequency(max_frequency) -> int:
    if int(max_frequency) != max_frequency or max_frequency < 1:
        raise ValueError(f"max_frequency must be a whole number of at least 1, got {max_frequency!r}.")
    return int(max_frequency)


def frequency_bins(frequency: np.ndarray, max_frequency: int) -> tuple[np.ndarray, pd.Index]:
    """Bin code of each customer (``min(frequency, max_frequency)``) and the bin labels.

    Labels are ``"0", "1", ..., "<max_frequency>+"``, as the x axis of the classic plots.
    """
    codes = np.minimum(np.asarray(frequency, dtype=float), max_frequency).astype(np.int64)
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    return codes, pd.Index(labels, name="frequency")


def holdout_expected_purchases(model, split: pd.DataFrame) -> np.ndarray:
    """``E[X(T, T + duration_holdout)]`` per customer, one model call per distinct duration."""
    duration = split["duration_holdout"].to_numpy(dtype=float)
    codes, horizons = pd.factorize(duration)
    if len(horizons) == 1:
        return model.expected_purchases(split, float(horizons[0])).to_numpy()
    grid = model.expected_purchases_grid(split, np.asarray(horizons, dtype=float))
    return grid[codes, np.arange(len(split))]


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation; NaN when either side is constant or there are fewer than two values."""
    if len(x) < 2:
        return float("nan")
    dx, dy = x - x.mean(), y - y.mean()
    denominator = np.sqrt((dx @ dx) * (dy @ dy))
    return float((dx @ dy) / denominator) if denominator > 0 else float("nan")
