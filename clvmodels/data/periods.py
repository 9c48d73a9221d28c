"""Purchase-occasion periods (``freq``) and the time unit (``time_unit``) of recency and T."""

from __future__ import annotations

import numpy as np

#: Length of each period / time unit in days; "M" is a calendar month, only convertible to itself.
_DAYS = {"h": 1 / 24, "D": 1.0, "W": 7.0}
FREQS = ("h", "D", "W", "M")
TIME_UNITS = ("h", "D", "W", "M")
_ALIASES = {"H": "h", "d": "D", "w": "W", "m": "M"}


def normalise(code: str, *, what: str) -> str:
    code = _ALIASES.get(code, code)
    allowed = FREQS if what == "freq" else TIME_UNITS
    if code not in allowed:
        raise ValueError(f"{what} must be one of {allowed} (hour, day, week, calendar month), got {code!r}.")
    return code


def period_index(stamps: np.ndarray, freq: str) -> np.ndarray:
    """Integer index of the period each timestamp falls in (weeks run Monday to Sunday)."""
    if freq == "M":
        return stamps.astype("datetime64[M]").astype(np.int64)
    if freq == "h":
        return stamps.astype("datetime64[h]").astype(np.int64)
    days = stamps.astype("datetime64[D]").astype(np.int64)
    # 1970-01-01 was a Thursday: shifting by 3 days makes weeks start on Monday.
    return days if freq == "D" else (days + 3) // 7


def unit_factor(freq: str, time_unit: str) -> float:
    """How many ``time_unit`` one ``freq`` period lasts (e.g. D -> W: 1/7)."""
    if freq == time_unit:
        return 1.0
    if "M" in (freq, time_unit):
        raise ValueError(f"freq={freq!r} cannot be expressed in time_unit={time_unit!r}: calendar months "
                         "have no fixed length. Use the same unit for both, or days/weeks.")
    return _DAYS[freq] / _DAYS[time_unit]
