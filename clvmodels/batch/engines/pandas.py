"""The pandas engine: the whole summary in this process, scored a chunk of customers at a time."""

from __future__ import annotations

import pandas as pd

from ...data.transactions import cutoff
from ...exceptions import InvalidValueError
from ...models import MODELS
from ..fitting import fit_models, split_models
from ..inputs import (apply_filters, check_spend_amounts, duplicate_rows, lost_customer_reasons, prepare_summary,
                      read_frame, row_keys, spend_models, warn_duplicates)
from ..progress import Progress
from ..scoring import score_chunks, summarise
from . import Summaries


def _summarise(frame: pd.DataFrame, config, kind: str, *, key: str, end=None) -> pd.DataFrame:
    """:func:`~clvmodels.batch.scoring.summarise`, with an end before the data named by its config key."""
    try:
        return summarise(frame, config, kind, end=end)
    except InvalidValueError as err:
        text = str(err)
        if text.startswith("observation_period_end") and "before the first transaction" in text:
            raise InvalidValueError(f"{key} {text.split(' ', 1)[1].replace('Pass a later date.', '')}"
                                    f"Set {key} to a later date.") from None
        raise


def _output_directory(config):
    """The job's output directory, if it has one (its files must not be read as input)."""
    output = getattr(config, "output", None)
    return getattr(output, "directory", None)


class PandasEngine:
    name = "pandas"

    def __init__(self, settings):
        self.settings = settings

    def close(self) -> None:
        pass

    def summaries(self, config, manifest, *, fit: bool, score: bool) -> Summaries:
        inp = config.input
        with manifest.stage("read"):
            frame, source = read_frame(inp, output_directory=_output_directory(config))
        out = Summaries(input={"kind": inp.kind, **source.to_dict()})
        with manifest.stage("summary"):
            if inp.kind == "summary":
                summary, excluded = prepare_summary(frame, inp, config.summary.time_unit)
                out.fit = out.score = summary
                out.rows = {"read": source.rows, "used": len(summary), "excluded": excluded}
                out.customers = {"in_input": len(frame), "in_summary": len(summary), "excluded": dict(excluded)}
                out.info = {"time_unit": config.summary.time_unit}
                return out
            duplicates = duplicate_rows(frame[inp.customer_id], row_keys(frame, inp))
            n_duplicates = int(duplicates.sum())
            warn_duplicates(n_duplicates, inp)
            frame, removed, filtered = apply_filters(frame, inp, duplicates=duplicates)
            out.transactions = frame
            kind = MODELS[config.customer_model.name].kind
            cal = config.summary.calibration_period_end
            if score:
                out.score = _summarise(frame, config, kind, key="summary.observation_period_end")
            if fit:
                out.fit = out.score if cal is None and score else \
                    _summarise(frame, config, kind, end=cal, key="summary.calibration_period_end")
            reference = out.score if score else out.fit
            attrs = reference.attrs
            excluded = {**filtered, **attrs["exclusions"]["rows"]}
            out.rows = {"read": source.rows, "used": attrs["n_rows_used"], "duplicates": n_duplicates,
                        "excluded": excluded}
            # the summary's last observed instant (discrete and subscription summaries: the end day)
            end = pd.Timestamp(attrs.get("observation_cutoff") or cutoff(pd.Timestamp(attrs["observation_period_end"])))
            end = end.tz_localize(None)
            if excluded or attrs["exclusions"]["customers"]:
                in_input, lost = lost_customer_reasons(frame, removed, reference.index, inp, end)
            else:  # every row was used, so every customer is in the summary
                in_input, lost = len(reference), {}
            out.customers = {"in_input": in_input, "in_summary": len(reference), "excluded": lost}
            out.info = {k: v for k, v in attrs.items() if k != "exclusions"}
            if fit and cal is not None:
                out.info["fit_observation_period_end"] = out.fit.attrs["observation_period_end"]
                out.info["fit_customers"] = len(out.fit)
        return out

    def fit(self, config, summaries: Summaries) -> dict:
        summary = summaries.fit
        if "monetary_value" in summary and spend_models(config):
            repeat = summary["frequency"].to_numpy() > 0
            check_spend_amounts(config, int(repeat.sum()), int((summary["monetary_value"].to_numpy()[repeat] > 0).sum()))
        return fit_models(config, summary=summary, columns=list(summary.columns),
                          time_unit=summary.attrs.get("time_unit"))

    def score(self, config, summaries: Summaries, models: dict, write, *, progress=None) -> int:
        customer, spend = split_models(models)
        summary = summaries.score
        bar = Progress(len(summary), enabled=progress)
        try:
            return score_chunks(summary, customer, spend, config.predictions, write,
                                chunk_size=self.settings.chunk_size, progress=bar)
        finally:
            bar.close()
