"""Run a scoring job from a :class:`~clvmodels.batch.config.RunConfig`.

Stages: read transactions -> RFM summary -> fit models -> score customers -> write outputs and a
manifest. Every file is written atomically; customers in and out reconcile in the manifest.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from .._io import atomic_path, write_text_atomic
from .._version import __version__
from .. import datasets
from ..exceptions import DataError, EmptyDataError
from ..models import MODELS
from .config import RunConfig
from .scoring import score, summarise

_DEPENDENCIES = ("numpy", "scipy", "pandas", "pyarrow", "pydantic", "pyyaml")


def read_transactions(cfg) -> tuple[pd.DataFrame, dict]:
    """Load the configured transactions; returns the frame and a description for the manifest."""
    if cfg.dataset is not None:
        frame = datasets.load_cdnow_transactions() if cfg.dataset == "cdnow_sample" else datasets.load_cdnow_master()
        return frame, {"dataset": cfg.dataset, "rows": len(frame)}
    path = Path(cfg.path)
    if not path.is_file():
        raise DataError(f"input.path {str(path)!r} does not exist or is not a file "
                        f"(paths are relative to the working directory {Path.cwd()}).")
    fmt = cfg.format if cfg.format != "auto" else ("parquet" if path.suffix.lower() in (".parquet", ".pq") else "csv")
    try:
        frame = pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)
    except (ValueError, OSError) as err:
        raise DataError(f"cannot read {path} as {fmt}: {err}. Check input.format and the file.") from None
    except pd.errors.EmptyDataError:
        raise EmptyDataError(f"{path} is empty: it has no header and no rows.") from None
    return frame, {"path": str(path.resolve()), "format": fmt, "bytes": path.stat().st_size, "rows": len(frame)}


def _versions() -> dict:
    out = {"python": platform.python_version(), "clvmodels": __version__}
    for name in _DEPENDENCIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


@contextmanager
def _stage(timings: dict, name: str, bar):
    bar.set_description(name)
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 4)
    bar.update(1)


def _write_table(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)


def run(config: RunConfig, *, output_dir: str | Path | None = None, config_text: str | None = None,
        progress: bool | None = None) -> dict:
    """Run the whole job and return the manifest (also written as ``manifest.json``).

    Parameters
    ----------
    config : RunConfig
        The validated configuration.
    output_dir : path, optional
        Overrides ``config.output.directory``.
    config_text : str, optional
        The original config text, hashed into the manifest (default: the normalised config).
    progress : bool, optional
        Show a progress bar; default only on a terminal.

    Returns
    -------
    dict
        The manifest.
    """
    out = Path(output_dir or config.output.directory)
    out.mkdir(parents=True, exist_ok=True)
    settings = config.model_dump(mode="json")
    canonical = config_text if config_text is not None else json.dumps(settings, sort_keys=True)
    manifest = {
        "status": "running",
        "clvmodels_version": __version__,
        "started": pd.Timestamp.now(tz="UTC").isoformat(),
        "config": settings,
        "config_sha256": hashlib.sha256(canonical.encode()).hexdigest(),
        "versions": _versions(),
        "timings_s": {},
    }
    timings = manifest["timings_s"]
    stages = ["read", "summary", "fit", "score", "write"]
    bar = tqdm(total=len(stages), disable=(None if progress is None else not progress), unit="stage")
    try:
        with _stage(timings, "read", bar):
            transactions, source = read_transactions(config.input)
            manifest["input"] = source
        with _stage(timings, "summary", bar):
            summary = summarise(transactions, config, MODELS[config.customer_model.name].kind)
            manifest["exclusions"] = summary.attrs["exclusions"]
            manifest["summary"] = {k: v for k, v in summary.attrs.items() if k != "exclusions"}
            manifest["observation_period_end"] = summary.attrs["observation_period_end"]
        with _stage(timings, "fit", bar):
            fitted = {}
            for spec in config.models:
                model = MODELS[spec.name](**spec.options)
                if model.kind == "spend" and "monetary_value" not in summary:
                    raise DataError(f"model {spec.name!r} needs amounts, but input.monetary_value is not set.")
                fitted[spec.name] = model.fit(summary)
            customer_model = fitted[config.customer_model.name]
            spend = next((m for m in fitted.values() if m.kind == "spend"), None)
        with _stage(timings, "score", bar):
            scores = score(summary, customer_model, spend, config.predictions)
        with _stage(timings, "write", bar):
            files = []
            for fmt in config.output.formats:
                path = out / f"scores.{fmt}"
                _write_table(scores, path, fmt)
                files.append(path.name)
            for name, model in fitted.items():
                path = out / "models" / f"{name}.json"
                model.save(path)
                files.append(f"models/{name}.json")
        rows_used = source["rows"] - sum(manifest["exclusions"]["rows"].values())
        manifest.update({
            "status": "succeeded",
            "rows": {"read": source["rows"], "used": int(rows_used), "excluded": manifest["exclusions"]["rows"]},
            "customers": {"in_summary": len(summary), "scored": len(scores),
                          "excluded": manifest["exclusions"]["customers"]},
            "models": {name: {"class": type(m).__name__, "params": m.params_.to_dict(),
                              "std_errors": dict(zip(m.param_names, np.sqrt(np.diag(m.covariance_.to_numpy())).tolist())),
                              "log_likelihood": m.log_likelihood_, "aic": m.aic_, "bic": m.bic_,
                              "n_customers": m.n_customers_, "n_unique": m.n_unique_,
                              "excluded_from_fit": getattr(m, "n_excluded_", {})}
                       for name, m in fitted.items()},
            "outputs": files,
        })
    except BaseException as err:
        manifest.update({"status": "failed", "error": f"{type(err).__name__}: {err}"})
        raise
    finally:
        bar.close()
        manifest["finished"] = pd.Timestamp.now(tz="UTC").isoformat()
        write_text_atomic(out / "manifest.json", json.dumps(manifest, indent=2, default=_json_default))
    return manifest


def _json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    return str(value)
