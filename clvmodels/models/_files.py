"""Reading model files: whatever is wrong with one, a single ModelFileError names the file and the problem.

A model file is UTF-8 JSON written by :meth:`~clvmodels.models.base.MLEModel.save`. Reading one
never runs code (no pickle) and never lets a ``KeyError``, ``TypeError``, ``RecursionError`` or
``UnicodeDecodeError`` escape: :func:`read_json` turns unreadable bytes into a
:class:`~clvmodels.exceptions.ModelFileError`, and :func:`check_payload` checks every field's type
before the model is built from it.

A file must hold what a fit could produce and what the predictions are defined for
(:func:`check_params`): base parameters within :data:`PARAM_RANGE` (1e-12..1e12; the log-scale
optimiser's boundary fits stop near 1e-9 and 1e9, so only a damaged or hand-edited file goes
beyond), and the model's main predictions for a few typical customers and a new one finite and in
their range (probabilities in [0, 1], expected counts 0 or more, spend above 0; Gamma-Gamma's
q <= 1, which has no finite mean spend, fails here). :meth:`MLEModel.from_dict` also checks that
the log-likelihood and predictions of ``_probe_values`` are finite. A known covariance must be one
(square, finite, symmetric positive semi-definite: :func:`clvmodels._checks.covariance_problem`);
JSON objects with a key twice and number literals of more than :data:`MAX_NUMBER_DIGITS` digits
are refused as damaged.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from .._checks import covariance_problem
from ..exceptions import ModelFileError

FILE_FORMAT = "clvmodels.model"
FILE_FORMAT_VERSION = 1
#: Larger files are refused unread: a model file holds a few parameters (a few KiB).
MAX_FILE_BYTES = 16 * 2**20
_PICKLE_OPCODES = (b"\x80", b"(dp", b"(lp", b"ccopy_reg", b"c__builtin__")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _DuplicateKey(Exception):
    """A JSON object with a key given twice (``json`` would keep the last silently)."""


class _LongNumber(Exception):
    """A JSON number literal longer than any value a model file holds."""


#: The longest number literal read: ``repr`` of a float has at most 17 significant digits and an
#: exponent, a count or an iteration number fewer digits still.
MAX_NUMBER_DIGITS = 40


def _unique_keys(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def _bounded_int(text: str) -> int:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _LongNumber(len(text.lstrip("-")))
    return int(text)


def read_json(path) -> dict[str, Any]:
    """The JSON object in ``path``, or a :class:`ModelFileError` saying why it cannot be read."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as err:
        raise ModelFileError(f"{path} cannot be read as a model file: {err.strerror or err}.") from None
    if len(raw) > MAX_FILE_BYTES:
        raise ModelFileError(f"{path} is larger than {MAX_FILE_BYTES // 2**20} MiB, far too large for a model file "
                             "(a few KiB of JSON); was the right file given?")
    if raw.startswith(_PICKLE_OPCODES):
        raise ModelFileError(f"{path} looks like a Python pickle, not a clvmodels model file (JSON); clvmodels "
                             "never reads pickles, as loading one can run code. Save the model with "
                             "model.save(path).")
    if raw.startswith((b"\x89HDF", b"CDF")):
        raise ModelFileError(f"{path} is a NetCDF file (a Bayesian posterior?), not a model file (JSON); "
                             "load posteriors with clvmodels.bayes.load_model(path).")
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise ModelFileError(f"{path} holds binary data (a NUL byte at offset {nul}), not a "
                             "clvmodels model file (JSON text); was the right file given?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ModelFileError(f"{path} is not UTF-8 text (byte {err.start} is {raw[err.start:err.start + 1]!r}), "
                             "so it is not a model file written by clvmodels.") from None
    try:
        payload = json.loads(text, object_pairs_hook=_unique_keys, parse_int=_bounded_int)
    except _DuplicateKey as err:
        raise ModelFileError(f"{path} holds the key {err.args[0]!r} twice in one JSON object; a model file "
                             "written by clvmodels has each key once, so the file is damaged or hand-edited "
                             "(which value was meant is unknown). Keep one of them, or save the model again.") from None
    except _LongNumber as err:
        raise ModelFileError(f"{path} holds a number literal of {err.args[0]:,} digits; a model file holds "
                             f"numbers of at most {MAX_NUMBER_DIGITS} digits (a float has 17), so the file is "
                             "damaged or hand-edited. Save the model again.") from None
    except json.JSONDecodeError as err:
        raise ModelFileError(f"{path} is not valid JSON ({err}); was it written by clvmodels?") from None
    except (OverflowError, ValueError) as err:  # a float literal beyond any float, Python's int-digits limit
        raise ModelFileError(f"{path} holds a number JSON cannot turn into a value ({err}); a model file "
                             "holds ordinary floats, so it is damaged or hand-edited. Save the model again.") from None
    except RecursionError:
        raise ModelFileError(f"{path} holds JSON nested too deeply to read; a model file is nested 3 levels "
                             "deep, so this is not one.") from None
    if not isinstance(payload, dict):
        raise ModelFileError(f"{path} holds a JSON {type(payload).__name__}, not an object with the fields of "
                             f"a model file (format {FILE_FORMAT!r}).")
    return payload


def check_header(payload: dict, source: str) -> str:
    """The model name of a payload whose format and version this clvmodels reads."""
    if payload.get("format") != FILE_FORMAT:
        raise ModelFileError(f"{source} is not a clvmodels model file (no format {FILE_FORMAT!r}).")
    version = payload.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"{source} has format_version {version!r}; a clvmodels model file has a whole "
                             f"number from 1 to {FILE_FORMAT_VERSION}. The file is damaged.")
    if version > FILE_FORMAT_VERSION:
        raise ModelFileError(f"{source} was written by a newer clvmodels "
                             f"({payload.get('library_version')}, format {version}); upgrade clvmodels to read it.")
    return payload.get("model")


#: The range a fitted parameter lies in. The optimiser works on the log scale, unbounded, and stops
#: where the log-scale gradient of the per-customer mean log-likelihood is below 1e-9; at a boundary
#: of the parameter space that gradient shrinks like the parameter (towards 0) or its inverse
#: (towards infinity), so boundary fits stop near 1e-9 and 1e7..1e9 (measured: BG/NBD without
#: dropout a = 2.5e-9, alpha = 2.2e7; sBG without cancellations alpha = 2.8e-6), while interior
#: fits (CDNOW, the tests) lie within 1e-2..1e2. Values beyond this range come from a damaged or
#: hand-edited file, whatever the data's time unit (rates scale with it, by far less than 1e3).
PARAM_RANGE = (1e-12, 1e12)
#: Variances of a file's covariance are at most this (standard errors up to the largest parameter).
MAX_VARIANCE = PARAM_RANGE[1] ** 2

#: What every kind of model predicts for the probe customers (``cls._probe_rows``, plus a new
#: customer), and the range the predictions are defined in: ``(what, function, low, high, strict low)``.
_PREDICTIONS = {
    "purchase": (("P(alive)", lambda m, rows: m.probability_alive(rows), 0.0, 1.0, False),
                 ("expected purchases in 10 time units", lambda m, rows: m.expected_purchases(rows, 10.0),
                  0.0, math.inf, False),
                 ("a new customer's expected purchases in 1, 10 and 100 time units",
                  lambda m, rows: m.expected_purchases_new_customer([1.0, 10.0, 100.0]), 0.0, math.inf, False)),
    "discrete_purchase": (("P(alive)", lambda m, rows: m.probability_alive(rows), 0.0, 1.0, False),
                          ("expected transactions in 5 opportunities",
                           lambda m, rows: m.expected_purchases(rows, 5.0), 0.0, math.inf, False),
                          ("a new customer's expected transactions in 1 and 10 opportunities",
                           lambda m, rows: m.expected_purchases_new_customer([1.0, 10.0]), 0.0, math.inf, False)),
    "retention": (("survival after 1, 10 and 100 renewals", lambda m, rows: m.survival([1.0, 10.0, 100.0]),
                   0.0, 1.0, False),
                  ("retention rate at 1, 10 and 100 renewals",
                   lambda m, rows: m.retention_rate([1.0, 10.0, 100.0]), 0.0, 1.0, False)),
    "spend": (("expected spend (customers with 0, 1, 5 and 30 repeat purchases)",
               lambda m, rows: m.expected_spend(
                   {"frequency": [0.0, *rows["frequency"]], "monetary_value": [0.0, *rows["monetary_value"]]}),
               0.0, math.inf, True),),
}


def check_params(cls, params: dict, source: str, *, error=ModelFileError) -> None:
    """Refuse base parameters a fit cannot produce or at which the model's predictions are undefined.

    Every parameter must lie in :data:`PARAM_RANGE`, and the model's main predictions for a few
    typical customers and a new one (:data:`_PREDICTIONS`) must be finite and in their range:
    probabilities in [0, 1], expected counts 0 or more, spend above 0. Where a prediction is out
    of range, the message adds the meaning of each declared boundary (``cls.boundaries``) that the
    parameters are past, e.g. Gamma-Gamma's q <= 1 (no finite mean spend).
    """
    values = {name: float(params[name]) for name in cls.param_names}
    low, high = PARAM_RANGE
    outside = {name: value for name, value in values.items() if not low <= value <= high}
    if outside:
        raise error(f"{source} holds parameters {outside} outside {low:g}..{high:g}, the range any fit of a "
                    f"{cls.name!r} model lies in (boundary fits stop near 1e-9 and 1e9); such values come from "
                    "a damaged or hand-edited file and would overflow the predictions. Refit and save the model "
                    "again.")
    model = cls()
    k = len(values)
    model._set_fitted(list(values.values()), [[math.nan] * k] * k, log_likelihood=None, n_customers=None,
                      n_unique=None, n_iter=None, time_unit=None)
    rows = {column: list(v) for column, v in cls._probe_rows.items()}
    for what, predict, lo, hi, strict in _PREDICTIONS.get(cls.kind, ()):
        with np.errstate(all="ignore"):
            got = np.asarray(predict(model, rows), dtype=float).ravel()
        bad = ~np.isfinite(got) | (got > hi) | ((got <= lo) if strict else (got < lo))
        if bad.any():
            rule = f"{'above' if strict else 'at least'} {lo:g}" + ("" if math.isinf(hi) else f" and at most {hi:g}")
            why = [f"{b.param} = {values[b.param]:g}: {b.meaning}" for b in cls.boundaries  # limits included
                   if (b.below is not None and values[b.param] <= b.below)
                   or (b.above is not None and values[b.param] >= b.above)]
            raise error(f"{source} holds parameters {values} at which the {cls.name!r} model's {what} are "
                        f"{', '.join(f'{v:g}' for v in got[bad][:4])} for {int(bad.sum())} of {len(got)} probe "
                        f"values; they must be finite and {rule}, so the model cannot score customers."
                        + (f" Why: {' '.join(why)}" if why else "")
                        + " Refit (on more data, or a simpler model) and save the model again.")


def check_payload(payload: dict, cls, source: str, *, coefficients=()) -> dict[str, Any]:
    """The fields of a model file for ``cls``, type-checked: ``params``, ``covariance`` (nested
    lists, None for NaN), ``settings``, ``time_unit`` and ``fit``.

    ``coefficients`` are the covariate coefficient names of the file's design: ``params`` then
    holds them after the base parameters, as finite numbers of any sign.
    """
    def damaged(problem: str) -> ModelFileError:
        return ModelFileError(f"{source} is a damaged {cls.name!r} model file: {problem}.")

    missing = [key for key in ("params", "covariance") if key not in payload]
    if missing:
        raise damaged(f"the fields {missing} are missing")
    params = payload["params"]
    names = list(cls.param_names) + list(coefficients)
    k = len(names)
    if not isinstance(params, dict) or sorted(params) != sorted(names):
        shown = sorted(params) if isinstance(params, dict) else type(params).__name__
        raise damaged(f"params must map exactly {names} to numbers; got {shown}")
    bad = {name: value for name, value in params.items()
           if not _is_number(value) or not math.isfinite(value) or (value <= 0 and name in cls.param_names)}
    if bad:
        raise damaged("parameters must be positive finite numbers"
                      + (" (covariate coefficients: finite numbers of any sign)" if coefficients else "")
                      + f"; got {bad}")
    check_params(cls, params, source)
    cov = payload["covariance"]
    if not isinstance(cov, list) or len(cov) != k or any(not isinstance(row, list) or len(row) != k for row in cov):
        raise damaged(f"covariance must be a {k} x {k} list of lists of numbers (null for unknown)")
    if any(v is not None and (not _is_number(v) or not math.isfinite(v)) for row in cov for v in row):
        raise damaged("covariance entries must be finite numbers or null")
    problem = covariance_problem(cov, names, max_variance=MAX_VARIANCE)
    if problem:
        raise damaged(problem + "; a fit's covariance is the inverse of a positive definite Hessian, so the file "
                      "was damaged or edited by hand. Save the model again, or set the covariance to null "
                      "entries (unknown) to score without intervals")
    settings = payload.get("settings", {})
    if not isinstance(settings, dict):
        raise damaged(f"settings must be an object of constructor settings; got a {type(settings).__name__}")
    unknown = [key for key in settings if key not in cls._setting_names()]
    if unknown:
        raise damaged(f"settings has unknown keys {unknown} (known: {list(cls._setting_names())})")
    time_unit = payload.get("time_unit")
    if time_unit is not None and not isinstance(time_unit, str):
        raise damaged(f"time_unit must be a string such as 'W' or null; got {time_unit!r}")
    fit = payload.get("fit") or {}
    if not isinstance(fit, dict):
        raise damaged(f"fit must be an object; got a {type(fit).__name__}")
    rules = {"log_likelihood": lambda v: _is_number(v) and math.isfinite(v),
             "n_customers": lambda v: _is_number(v) and math.isfinite(v) and v >= 0,
             "n_unique": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
             "n_iter": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
             "excluded": lambda v: isinstance(v, dict) and all(isinstance(n, int) for n in v.values()),
             "identification_problem": lambda v: isinstance(v, str),
             "log_likelihood_0": lambda v: _is_number(v) and math.isfinite(v)}
    wrong = [key for key, ok in rules.items() if fit.get(key) is not None and not ok(fit[key])]
    if wrong:
        raise damaged(f"fit has values of the wrong type for {wrong}: {({key: fit[key] for key in wrong})}")
    if fit.get("log_likelihood") is not None and any(fit.get(key) is None for key in ("n_customers", "n_unique")):
        raise damaged("fit has a log_likelihood but no n_customers or n_unique")
    return {"params": params, "covariance": cov, "settings": settings, "time_unit": time_unit, "fit": fit}
