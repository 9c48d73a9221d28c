"""The run manifest: what ran, on what, with which result, written beside the outputs.

It records the config and its hash, the input files with sizes and row counts, rows excluded by
reason, customers in and out (``in_input == scored + sum(excluded)``), the model parameters, the
timings per stage, library versions and, when a run fails, what failed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import platform
import time
import warnings
from contextlib import contextmanager, suppress
from pathlib import Path

import numpy as np
import pandas as pd

from .._io import write_text_atomic
from .._version import __version__
from ..exceptions import ClvModelsWarning, ConfigError

logger = logging.getLogger("clvmodels.batch")
DEPENDENCIES = ("numpy", "scipy", "pandas", "pyarrow", "pydantic", "pyyaml")
OPTIONAL = {"dask": ("dask", "distributed"), "mlflow": ("mlflow-skinny", "mlflow")}


def versions(extra: tuple[str, ...] = ()) -> dict:
    """Python, clvmodels and dependency versions (read from package metadata, nothing imported)."""
    out = {"python": platform.python_version(), "clvmodels": __version__}
    for name in (*DEPENDENCIES, *extra):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


MAX_EPOCH = 253_402_300_799  # 9999-12-31 23:59:59 UTC


def now() -> str:
    """The time to record, in UTC: ``SOURCE_DATE_EPOCH`` (seconds since 1970) when it is set, so
    that a rebuild records the same time (reproducible-builds.org); else the clock."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:
        return pd.Timestamp.now(tz="UTC").isoformat()
    if not epoch.isdigit() or int(epoch) > MAX_EPOCH:
        raise ConfigError(f"SOURCE_DATE_EPOCH is {epoch[:40]!r}; it must be a whole number of seconds since "
                          f"1970-01-01 UTC, 0 to {MAX_EPOCH} (e.g. $(git log -1 --format=%ct)), or unset.")
    return pd.Timestamp(int(epoch), unit="s", tz="UTC").isoformat()


def generated_label() -> str:
    """:func:`now` as a report writes it (``2026-12-08 09:30 UTC``)."""
    return pd.Timestamp(now()).strftime("%Y-%m-%d %H:%M UTC")


@contextmanager
def recorded_warnings(manifest: "Manifest"):
    """Record the job's clvmodels warnings in ``manifest["warnings"]`` (each distinct message once,
    with how often it came) as they come; afterwards each is emitted again to the caller, under
    the caller's own warning filters."""
    caught: list = []
    handler = _LogRecorder(caught)
    logging.getLogger("clvmodels").addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ClvModelsWarning)  # in this block only: a repeat in a later job counts
            handler.into = manifest.caught = caught
            yield
    except BaseException:
        with suppress(Exception):  # an "error" filter must not hide the job's own error
            _emit_again(caught)
        raise
    else:
        _emit_again(caught)
    finally:
        logging.getLogger("clvmodels").removeHandler(handler)


class _LogRecorder(logging.Handler):
    """Keeps the job's logged warnings (e.g. duplicate rows) beside its Python warnings."""

    def __init__(self, into: list):
        super().__init__(level=logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


def _emit_again(caught) -> None:
    seen = set()
    for w in caught:
        if isinstance(w, logging.LogRecord):
            continue  # logged already
        key = (w.category, str(w.message), w.filename, w.lineno)
        if key not in seen:
            seen.add(key)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def warning_entries(caught) -> list[dict]:
    """The clvmodels warnings among ``caught`` (and warnings logged by clvmodels, category
    ``logged``): category, message and count, in order of arrival."""
    counts: dict = {}
    for w in caught:
        if isinstance(w, logging.LogRecord):
            key = ("logged", w.getMessage())
        elif issubclass(w.category, ClvModelsWarning):
            key = (w.category.__name__, str(w.message))
        else:
            continue
        counts[key] = counts.get(key, 0) + 1
    return [{"category": c, "message": m, "count": n} for (c, m), n in counts.items()]


def json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return str(value)


def model_entry(model, source: str | None = None) -> dict:
    """Parameters and fit statistics of a fitted model (of a posterior: its method, size and means)."""
    if hasattr(model, "posterior_draws"):
        entry = _posterior_entry(model)
    else:
        std_errors = np.sqrt(np.diag(model.covariance_.to_numpy())).tolist()
        entry = {"class": type(model).__name__, "params": model.params_.to_dict(),
                 "std_errors": dict(zip(model.param_names, std_errors)),
                 "log_likelihood": model.log_likelihood_, "aic": model.aic_, "bic": model.bic_,
                 "n_customers": model.n_customers_, "n_unique": model.n_unique_,
                 "excluded_from_fit": getattr(model, "n_excluded_", None) or {}}
        if getattr(model, "identification_problem_", None):  # fitted with on_unidentified="warn"
            entry["identification_problem"] = model.identification_problem_
    if source is not None:
        entry["file"] = source
    return entry


def _posterior_entry(model) -> dict:
    """A posterior's method and size, posterior means (``params``) and sds. It has no single
    log-likelihood: ``log_likelihood`` is null (kept so readers of MLE entries keep working)."""
    posterior = model.idata_.posterior
    draws = model.posterior_draws()
    return {"class": type(model).__name__, "method": model.method, "sampler": model.sampler_,
            "chains": int(posterior.sizes["chain"]), "draws": int(posterior.sizes["chain"] * posterior.sizes["draw"]),
            "divergences": model.divergences_, "params": model.params_.to_dict(),
            "posterior_sd": draws.std(ddof=0).to_dict(), "log_likelihood": None,
            "n_customers": model.n_customers_, "n_unique": model.n_unique_,
            "excluded_from_fit": getattr(model, "n_excluded_", None) or {}}


class Manifest:
    """A manifest being filled in by a run; :meth:`write` saves it atomically as JSON."""

    def __init__(self, command: str, config, config_text: str | None, path: Path):
        settings = config.model_dump(mode="json")
        canonical = config_text if config_text is not None else json.dumps(settings, sort_keys=True)
        extra = OPTIONAL["dask"] if config.engine.type == "dask" else ()
        if config.tracking is not None and config.tracking.mlflow is not None:
            extra += OPTIONAL["mlflow"]
        self.path = path
        self.data = {
            "status": "running",
            "command": command,
            "clvmodels_version": __version__,
            "started": now(),
            "config": settings,
            "config_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
            "engine": config.engine.type,
            "versions": versions(extra),
            "timings_s": {},
        }
        self.current = None
        self.tracker = None
        self.caught: list = []  # warnings, filled by recorded_warnings

    def __getitem__(self, key):
        return self.data[key]

    def __setitem__(self, key, value):
        self.data[key] = value

    def update(self, values: dict) -> None:
        self.data.update(values)

    @contextmanager
    def stage(self, name: str):
        """Time a stage; the log says when it starts and how long it took."""
        logger.info("%s ...", name)
        self.current = name
        start = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            self.data["timings_s"][name] = round(self.data["timings_s"].get(name, 0.0) + elapsed, 4)
        logger.info("%s done in %.2f s", name, elapsed)

    def failed(self, err: BaseException) -> None:
        self.data.update({"status": "failed", "failed_stage": self.current, "error": f"{type(err).__name__}: {err}"})

    def text(self) -> str:
        """The manifest as JSON, its ``finished`` time set."""
        self.data["finished"] = now()
        if warning_entries(self.caught):
            self.data["warnings"] = warning_entries(self.caught)
        return json.dumps(self.data, indent=2, default=json_default)

    def write(self, path: Path | None = None) -> None:
        """Save the manifest atomically to ``path`` (default: where the job's manifest is read)."""
        write_text_atomic(path or self.path, self.text())


def reconcile(customers: dict) -> dict:
    """Check that every input customer is scored or excluded with a reason, and that no score is
    NaN or infinite (``non_finite_scores``); add ``reconciled``."""
    excluded = sum(customers.get("excluded", {}).values())
    customers["reconciled"] = (customers["in_input"] == customers["scored"] + excluded
                               and not customers.get("non_finite_scores", 0)
                               and not customers.get("out_of_range_scores", 0))
    return customers
