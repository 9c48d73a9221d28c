"""The YAML run configuration: a versioned pydantic schema with helpful errors.

Unknown keys are rejected with a "did you mean" hint, and every problem is reported at once with
its location (``summary.freq``, ``models[1].options.max_iter``...). Paths are relative to the
working directory.

Validation builds what the job builds: each model is constructed from its options (the checks of
:func:`clvmodels.batch.fitting.option_problems`), sizes are bounded (:mod:`.limits`: the working
memory of one scoring chunk is estimated and refused above 4 GiB), and the YAML is read with the
limits of :mod:`.yamlsafe` (size, depth, aliases, duplicate keys, UTF-8). So ``load_config``, and
with it every command and ``clvmodels validate``, refuses the same configs.
"""

from __future__ import annotations

import datetime as dt
import difflib
import typing
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from ..exceptions import ConfigError
from ..models import MODELS
from . import limits
from .fitting import option_problems
from .scoring import DEFAULT_HORIZONS, DEFAULT_PERIOD
from .yamlsafe import read_yaml

DATASETS = ("cdnow_sample", "cdnow_master")
#: Model kinds that describe customers' purchases or renewals; a run has exactly one of them.
CUSTOMER_KINDS = ("purchase", "discrete_purchase", "retention")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FiltersConfig(_Section):
    """Rows left out on purpose before the summary; each is counted in the manifest by reason."""

    exclude_returns: bool = Field(False, description="Leave out rows with a negative amount (returns, refunds).")
    exclude_zero_amounts: bool = Field(False, description="Leave out rows with an amount of exactly 0.")
    start_date: dt.date | None = Field(None, description="Leave out rows dated before this day.")
    drop_duplicates: bool | None = Field(
        None, description="Rows that repeat an earlier row exactly (every needed column equal) are always "
                          "counted in the manifest; true leaves them out, false keeps them as real orders "
                          "(said once in the log), unset keeps them with a warning.")


class InputConfig(_Section):
    """Where the data come from and which columns hold what.

    ``kind: transactions`` (default) reads one row per transaction; ``kind: summary`` reads a
    precomputed RFM summary (columns ``frequency``, ``recency``, ``T`` and optionally
    ``monetary_value``, times in ``summary.time_unit``) and skips the summary stage.
    """

    kind: Literal["transactions", "summary"] = "transactions"
    dataset: Literal["cdnow_sample", "cdnow_master"] | None = Field(
        None, description="A bundled dataset instead of a file.")
    path: str | None = Field(None, description="CSV or Parquet file, a directory of them, or a glob "
                                               "such as 'data/2026-*/part-*.parquet'.")
    format: Literal["auto", "csv", "parquet"] = "auto"
    customer_id: str = "customer_id"
    customer_id_dtype: Literal["string", "integer"] = Field(
        "string", description="How customer ids are read: as text (default; '00001' and '1' stay two "
                              "customers) or as integers (every id must be a whole number).")
    datetime: str = "date"
    monetary_value: str | None = Field("amount", description="The amount (currency) column; null for none.")
    datetime_format: str | None = None
    on_invalid: Literal["raise", "exclude"] = "raise"
    filters: FiltersConfig = Field(default_factory=FiltersConfig)

    @model_validator(mode="after")
    def _one_source(self):
        if (self.dataset is None) == (self.path is None):
            raise ValueError("give exactly one of 'dataset' (a bundled dataset: "
                             f"{', '.join(DATASETS)}) or 'path' (a CSV or Parquet file, directory or glob)")
        if self.kind == "summary" and self.dataset is not None:
            raise ValueError("kind 'summary' reads a summary file: give 'path', not 'dataset'")
        f = self.filters
        if self.monetary_value is None and (f.exclude_returns or f.exclude_zero_amounts):
            raise ValueError("filters on amounts need an amount column: set 'monetary_value'")
        return self


class SummaryConfig(_Section):
    """How transactions become the customer summary the model needs.

    ``freq`` and ``time_unit`` shape the RFM summary of continuous-time purchase models (bgnbd,
    pareto_nbd, mbgnbd); ``period`` is the opportunity of a discrete-time model (bgbb, default a
    year) or the contract period of a subscription model (sbg, default a month).
    """

    freq: Literal["h", "D", "W", "M"] = "D"
    time_unit: Literal["h", "D", "W", "M"] = "W"
    period: Literal["Y", "Q", "M", "W", "D"] | None = None
    observation_period_end: dt.date | None = None
    calibration_period_end: dt.date | None = Field(
        None, description="Fit on the transactions up to this day; score on those up to observation_period_end.")

    @model_validator(mode="after")
    def _ordered(self):
        cal, end = self.calibration_period_end, self.observation_period_end
        if cal is not None and end is not None and cal >= end:
            raise ValueError(f"calibration_period_end ({cal}) must come before observation_period_end ({end})")
        return self


class ModelSpec(_Section):
    """A model by registry name, with constructor options."""

    name: str
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _known(cls, name):
        if name not in MODELS:
            close = difflib.get_close_matches(name, list(MODELS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"unknown model {name!r} (available: {', '.join(sorted(MODELS))}){hint}")
        return name

    @model_validator(mode="after")
    def _builds(self):
        """Build the model as the job will (the same checks as ``fitting.construct_models``)."""
        problems = option_problems(self.name, self.options)
        if problems:  # format_errors lists each at models[i].options.<key>
            raise PydanticCustomError("model_option", "{message}", {"message": "; ".join(
                f"{'' if key is None else f'{key}: '}{message}" for key, message in problems), "problems": problems})
        return self


class ClvConfig(_Section):
    horizon_months: Annotated[int, Field(ge=1)] = Field(
        12, description=f"Months of CLV, at most {limits.MAX_HORIZON_MONTHS} (100 years).")
    discount_rate: Annotated[float, Field(allow_inf_nan=False)] = Field(
        0.01, description="0 or more: per month for continuous-time models, per period for bgbb (positive) and sbg.")
    margin: Annotated[float, Field(gt=0, allow_inf_nan=False)] = 1.0

    @field_validator("discount_rate")
    @classmethod
    def _rate(cls, rate):
        if rate < 0:  # the models' CLV functions refuse it: the same rule here
            raise ValueError(f"a discount rate must be 0 or more (e.g. 0.01 a month), got {rate:g}")
        return rate

    @field_validator("horizon_months")
    @classmethod
    def _months(cls, months):
        if months > limits.MAX_HORIZON_MONTHS:
            raise ValueError(f"at most {limits.MAX_HORIZON_MONTHS} months (100 years), got {months:,}: with any "
                             "positive discount rate later months add next to nothing, and each month is "
                             "evaluated for every customer. Lower it")
        return months


class IntervalsConfig(_Section):
    """Intervals from parameter uncertainty: adds ``<column>_lower`` / ``<column>_upper``."""

    ci_level: Annotated[float, Field(gt=0, lt=1)] = 0.9
    n_draws: Annotated[int, Field(ge=10)] = Field(
        200, description=f"Parameter draws, 10 to {limits.MAX_N_DRAWS:,}; 200 to 2,000 give stable intervals.")
    seed: Annotated[int, Field(ge=0)] = Field(0, description="Seed of the draws (0 or more): same seed, same intervals.")

    @field_validator("n_draws")
    @classmethod
    def _draws(cls, n_draws):
        if n_draws > limits.MAX_N_DRAWS:
            raise ValueError(f"at most {limits.MAX_N_DRAWS:,} draws, got {n_draws:,}: each draw evaluates the "
                             "models once for every customer (and holds a copy of them). 200 to 2,000 give "
                             "stable intervals; lower it")
        return n_draws


class PredictionsConfig(_Section):
    """What to predict: horizons, CLV settings, intervals.

    ``horizons`` are in the summary's ``time_unit`` for continuous-time models (default 52) and in
    periods for bgbb (whole numbers; default 1 and 5). ``clv.discount_rate`` is per month for
    continuous-time models and per period for bgbb and sbg.
    """

    horizons: list[Annotated[float, Field(gt=0, allow_inf_nan=False)]] | None = Field(
        None, max_length=limits.MAX_HORIZONS, description=f"At most {limits.MAX_HORIZONS} horizons (a score column each).")
    clv: ClvConfig = Field(default_factory=ClvConfig)
    intervals: IntervalsConfig | None = None

    @field_validator("horizons")
    @classmethod
    def _distinct(cls, horizons):
        """Each horizon names a score column (``expected_purchases_{h:g}<unit>``): two horizons
        that repeat, or that print alike (52 and 52.0000001), would give one column."""
        if horizons is None:
            return horizons
        seen: dict[str, float] = {}
        for h in horizons:
            label = f"{h:g}"
            if label in seen and seen[label] == h:
                raise ValueError(f"{label} is given twice; each horizon gives its own score column "
                                 f"(expected_purchases_{label}<unit>), so give each horizon once")
            if label in seen:
                raise ValueError(f"{seen[label]!r} and {h!r} both name the score column expected_purchases_{label}"
                                 "<unit> (a horizon is written with 6 significant digits), so one would "
                                 "overwrite the other; give horizons that differ within 6 digits")
            seen[label] = h
        return horizons


class OutputConfig(_Section):
    directory: str = "out"
    csv_formula_escape: bool = Field(
        True, description="In CSV outputs, prefix text cells that a spreadsheet would run as a formula "
                          "(starting with =, +, -, @, tab or carriage return) with a single quote.")
    formats: list[Literal["parquet", "csv"]] = Field(
        default_factory=lambda: ["parquet"], description="One or both of parquet and csv.")
    columns: list[str] | None = Field(None, description="Score columns to write (the customer id always "
                                                        "comes first); default all.")

    @field_validator("formats")
    @classmethod
    def _formats(cls, formats):
        if not formats:
            raise ValueError("give at least one format (parquet, csv): a job without a format would publish no "
                             "scores and remove the scores published before")
        if len(set(formats)) != len(formats):
            raise ValueError(f"each format once, got {formats}")
        return formats

    @field_validator("columns")
    @classmethod
    def _columns(cls, columns):
        repeated = sorted({c for c in columns or [] if columns.count(c) > 1})
        if repeated:
            raise ValueError(f"{', '.join(map(repr, repeated))} given more than once; a score table has each "
                             "column once, so list each name once")
        return columns


class EngineConfig(_Section):
    """Where the summary and the scoring run: in this process (pandas) or on a Dask cluster."""

    type: Literal["pandas", "dask"] = "pandas"
    chunk_size: Annotated[int, Field(ge=1000, le=limits.MAX_CHUNK_SIZE)] = Field(
        250_000, description=f"Customers scored at a time (bounds memory), 1,000 to {limits.MAX_CHUNK_SIZE:,}; "
                             "with the horizons and intervals, one chunk may need at most 4 GiB.")
    scheduler: str | None = Field(None, description="dask: 'local' (a LocalCluster on this machine) or a "
                                                    "scheduler address such as 'tcp://10.0.0.5:8786'.")
    partitions: Annotated[int, Field(ge=1)] | None = Field(
        None, description="dask: partitions of the customer summary (default: 4 per worker).")
    workers: Annotated[int, Field(ge=1)] = Field(2, description="dask, local scheduler: worker processes.")
    memory_limit: str = Field("auto", description="dask, local scheduler: memory per worker, e.g. '4GiB'.")

    @model_validator(mode="after")
    def _dask_keys(self):
        if self.type == "pandas":
            given = [k for k in ("scheduler", "partitions", "workers", "memory_limit") if k in self.model_fields_set]
            if given:
                raise ValueError(f"{', '.join(given)} only apply to engine type 'dask'")
        elif self.scheduler is None:
            self.scheduler = "local"
        return self


class MlflowConfig(_Section):
    uri: str = Field(description="Tracking URI, e.g. 'file:///srv/mlruns' or 'http://mlflow:5000'.")
    experiment: str = "clvmodels"
    run_name: str | None = None
    log_scores: bool = Field(False, description="Also log the score files as artifacts (they can be large).")


class TrackingConfig(_Section):
    mlflow: MlflowConfig | None = None


class KpiTableConfig(_Section):
    """An extra table for the KPIs: a file, or one of the bundled illustrative example tables. Its
    customer id column has the name of ``input.customer_id`` (and, for costs and surveys, the
    date and amount columns those of ``input.datetime`` / ``input.monetary_value``)."""

    dataset: Literal["example_channels", "example_costs", "example_surveys"] | None = Field(
        None, description="A bundled illustrative table for the CDNOW customers.")
    path: str | None = Field(None, description="CSV or Parquet file.")

    @model_validator(mode="after")
    def _one_source(self):
        if (self.dataset is None) == (self.path is None):
            raise ValueError("give exactly one of 'dataset' (example_channels, example_costs, example_surveys) or "
                             "'path' (a CSV or Parquet file)")
        return self


class KpiCustomersConfig(KpiTableConfig):
    """Customer attributes: acquisition channel and cost (CAC) for the acquisition economics, and
    attributes that profile the value segments."""

    channel: str = "channel"
    cac: str | None = "cac"
    attributes: list[str] = Field(default_factory=list, description="Columns to profile the segments by.")


class KpiCostsConfig(KpiTableConfig):
    """Orders with costs for customer profitability (without ``cost``, ``kpis.margin`` is used)."""

    cost: str | None = Field(None, description="Cost of goods per order.")
    cost_to_serve: float | str = Field(0.0, description="Cost to serve per order: a number (0 or more) or a column.")

    @field_validator("cost_to_serve")
    @classmethod
    def _cost(cls, cost):
        if isinstance(cost, float) and not (cost >= 0 and cost != float("inf")):
            raise ValueError(f"a cost to serve per order is a finite number, 0 or more, or a column name; got {cost!r}")
        return cost
    returns: str | None = Field(None, description="Refunded amount per order.")


class KpiSurveysConfig(KpiTableConfig):
    """Survey responses: customer id, date, question type (nps, csat, ces) and score."""

    date: str = "date"
    question_type: str = "question_type"
    score: str = "score"
    ces_scale: tuple[int, int] = (1, 7)

    @field_validator("ces_scale")
    @classmethod
    def _ordered(cls, scale):
        if not scale[0] < scale[1]:
            raise ValueError(f"ces_scale is [lowest, highest] with lowest < highest, got {list(scale)}")
        return scale


class SegmentsConfig(_Section):
    """Thresholds of the value segments (see :func:`clvmodels.kpis.value_segments`)."""

    alive_high: Annotated[float, Field(ge=0, le=1)] = 0.7
    alive_low: Annotated[float, Field(ge=0, le=1)] = 0.3
    high_value_quantile: Annotated[float, Field(ge=0, le=1)] = 0.8
    high_value: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = Field(
        None, description="An absolute CLV threshold of high value, instead of high_value_quantile (give one).")
    high_spend_quantile: Annotated[float, Field(ge=0, le=1)] = 0.8
    loyal_min_frequency: Annotated[int, Field(ge=1)] = 2
    new_max_age: Annotated[float, Field(gt=0)] | None = 13.0

    @model_validator(mode="after")
    def _ordered(self):
        if self.high_value is not None and "high_value_quantile" in self.model_fields_set:
            raise ValueError(f"give one of high_value (a CLV threshold, {self.high_value:g}) or high_value_quantile "
                             f"(a share of customers, {self.high_value_quantile:g}), not both: an absolute "
                             "threshold replaces the quantile")
        if self.alive_low > self.alive_high:
            raise ValueError(f"alive_low ({self.alive_low:g}) must not exceed alive_high ({self.alive_high:g}): "
                             "customers below alive_low are lost, those at alive_high or above are alive")
        return self


class KpisConfig(_Section):
    """Business KPIs beside the scores: tables in ``kpis/`` and a page ``kpis/report.html``."""

    period: Literal["M", "Q", "Y"] = "Q"
    inactivity_window: Annotated[int, Field(ge=0)] = 0
    margin: Annotated[float, Field(gt=0, le=1)] = 1.0
    segments: SegmentsConfig = Field(default_factory=SegmentsConfig)
    customers: KpiCustomersConfig | None = None
    costs: KpiCostsConfig | None = None
    surveys: KpiSurveysConfig | None = None


def _check_memory(parts: dict, **kwargs) -> None:
    try:
        limits.check_chunk_memory(parts, **kwargs)
    except limits.TooBig as err:
        raise _located(err.key, str(err)) from None


class RunConfig(_Section):
    """A whole scoring job. ``configs/batch_example.yaml`` documents every key; ``configs/cdnow.yaml``
    is the demo."""

    version: Literal[1] = 1
    input: InputConfig
    summary: SummaryConfig = Field(default_factory=SummaryConfig)
    models: list[ModelSpec] = Field(default_factory=lambda: [ModelSpec(name="bgnbd"), ModelSpec(name="gamma_gamma")])
    predictions: PredictionsConfig = Field(default_factory=PredictionsConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    engine: EngineConfig = Field(default_factory=EngineConfig)
    tracking: TrackingConfig | None = None
    kpis: KpisConfig | None = None

    @field_validator("models", mode="before")
    @classmethod
    def _names_to_specs(cls, value):
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @model_validator(mode="after")
    def _one_of_each_kind(self):
        kinds = [MODELS[m.name].kind for m in self.models]
        customer = [k for k in kinds if k in CUSTOMER_KINDS]
        if len(customer) != 1 or kinds.count("spend") > 1 or (kinds.count("spend") and customer != ["purchase"]):
            raise ValueError("models must list exactly one purchase model (bgnbd, pareto_nbd, mbgnbd; or bgbb "
                             "for discrete opportunities, sbg for subscriptions) and at most one spend model "
                             f"(gamma_gamma, only beside a continuous-time purchase model); got "
                             f"{[m.name for m in self.models]}")
        if customer == ["discrete_purchase"] and self.predictions.horizons is not None:
            fractional = [h for h in self.predictions.horizons if h != int(h)]
            if fractional:
                raise ValueError(f"predictions.horizons count whole periods for a discrete-time model; got {fractional}")
        if self.input.kind == "summary" and self.summary.calibration_period_end is not None:
            raise ValueError("summary.calibration_period_end cuts transactions; a precomputed summary "
                             "(input.kind: summary) cannot be cut, so leave it out")
        if customer != ["purchase"]:
            if self.input.kind == "summary":
                raise ValueError("input kind 'summary' holds an RFM summary, for continuous-time purchase models "
                                 "(bgnbd, pareto_nbd, mbgnbd) only")
            if self.engine.type == "dask":
                raise ValueError("engine type 'dask' runs the RFM summary, for continuous-time purchase models "
                                 "(bgnbd, pareto_nbd, mbgnbd) only")
            if self.summary.calibration_period_end is not None:
                raise ValueError("summary.calibration_period_end applies to continuous-time purchase models only")
        if self.kpis is not None and (customer != ["purchase"] or kinds.count("spend") != 1
                                      or self.input.kind != "transactions" or self.engine.type != "pandas"):
            raise ValueError("kpis need transactions (input.kind: transactions), a continuous-time purchase model "
                             "with a spend model (for CLV) and the pandas engine")
        rate = self.predictions.clv.discount_rate
        if customer == ["discrete_purchase"] and rate <= 0:
            raise _located("predictions.clv.discount_rate", f"per opportunity for a discrete-time model (bgbb), "
                           f"it must be positive (e.g. 0.1), got {rate:g}")
        if self.output.columns is not None:
            known = score_columns(self) + (score_columns(self, bayesian=True) if customer == ["purchase"] else [])
            unknown = [c for c in self.output.columns if c not in known]
            if unknown:
                raise _located("output.columns", f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} "
                               f"not a column of this job's scores; its columns are {', '.join(score_columns(self))} "
                               "(with posterior model files (.nc), every prediction also has _lower and _upper). "
                               "Fix the names, or leave output.columns out for all")
        p = self.predictions
        clv = customer == ["purchase"] and kinds.count("spend") == 1
        _check_memory(limits.chunk_memory(
            chunk_size=self.engine.chunk_size, horizon_months=p.clv.horizon_months if clv else None,
            n_draws=None if p.intervals is None else p.intervals.n_draws,
            n_horizons=len(p.horizons or [1, 5])), chunk_size=self.engine.chunk_size)
        return self

    @property
    def customer_model(self) -> ModelSpec:
        """The model of the customers' purchases or renewals (not the spend model)."""
        return next(m for m in self.models if MODELS[m.name].kind in CUSTOMER_KINDS)


def score_columns(config: RunConfig, *, bayesian: bool = False) -> list[str]:
    """The columns of the scores a job with ``config`` writes, the customer id first, as
    :mod:`clvmodels.batch.scoring` names them (before ``output.columns`` selects from them).

    ``bayesian``: scored with posterior model files (``.nc``), whose predictions always have
    credible bounds (``<column>_lower`` / ``<column>_upper``), churn included.
    """
    kind = MODELS[config.customer_model.name].kind
    spend = any(MODELS[m.name].kind == "spend" for m in config.models)
    amounts = config.input.monetary_value is not None
    p, s = config.predictions, config.summary
    bounded = bayesian or p.intervals is not None
    columns = [config.input.customer_id]

    def add(name: str, band: bool = True) -> None:
        columns.extend([name, f"{name}_lower", f"{name}_upper"] if band and bounded else [name])

    if kind == "retention":
        columns += ["tenure", "churned"] + (["monetary_value"] if amounts else [])
        add("expected_remaining_lifetime", band=False)
        add("derl")
        if amounts:
            add("clv")
        return columns
    columns += ["frequency", "recency", "T"] if kind == "purchase" else ["frequency", "recency", "n_periods"]
    if kind == "purchase" and amounts:
        columns.append("monetary_value")
    add("p_alive")
    add("churn_probability", band=bayesian)
    unit = (s.time_unit if kind == "purchase" else s.period or DEFAULT_PERIOD[kind]).lower()
    for h in p.horizons or DEFAULT_HORIZONS[kind]:
        add(f"expected_purchases_{h:g}{unit}")
    if kind == "discrete_purchase":
        add("dert")
    elif spend:
        add("expected_spend")
        add("clv")
    return columns


class SplitConfig(_Section):
    """The calibration/holdout split: models are fitted up to ``calibration_period_end`` and judged
    on the purchases after it, up to ``summary.observation_period_end``."""

    calibration_period_end: dt.date


class DiagnosticsConfig(_Section):
    """Bins of the diagnostic tables."""

    max_frequency: Annotated[int, Field(ge=1, le=limits.MAX_DIAGNOSTIC_BINS)] = 7
    reliability_bins: Annotated[int, Field(ge=2, le=limits.MAX_DIAGNOSTIC_BINS)] = 10


class ReportOutputConfig(_Section):
    directory: str = "out/compare"
    title: str = "Model comparison"
    csv_formula_escape: bool = Field(
        True, description="In metrics.csv, prefix text cells that a spreadsheet would run as a formula "
                          "with a single quote (as output.csv_formula_escape of a run).")


class BayesianCompareConfig(_Section):
    """Also fit the Bayesian variant of each purchase model and compare them by PSIS-LOO and WAIC.

    Each purchase model with a Bayesian variant in :mod:`clvmodels.bayes` (bgnbd, mbgnbd,
    pareto_nbd) is fitted again on the same calibration data with these settings; the report gets
    a "Bayesian comparison (LOO / WAIC)" section (``arviz.compare`` table, R-hat and divergences
    per fit) and ``metrics.csv`` / ``metrics.json`` get the numbers. The 10-metric ranking is not
    changed: the best model by ``elpd_loo`` is named apart. A model without a Bayesian variant
    is left out of that section with a note. Needs ``pip install 'clvmodels[bayes]'``.

    ``method: map`` is refused: it keeps the posterior mode only, and LOO and WAIC need draws.
    """

    method: Literal["mcmc", "advi"] = Field("mcmc", description="mcmc (NUTS, the reference) or advi "
                                            "(variational; draws * chains draws from the approximation).")
    sampler: Literal["nutpie", "pymc"] | None = Field(None, description="NUTS implementation; default "
                                                      "nutpie when installed.")
    draws: Annotated[int, Field(ge=1, le=limits.MAX_BAYES_DRAWS)] = Field(
        1000, description=f"Kept draws per chain, at most {limits.MAX_BAYES_DRAWS:,}.")
    tune: Annotated[int, Field(ge=0, le=limits.MAX_BAYES_DRAWS)] = Field(
        1000, description=f"Warm-up iterations per chain, at most {limits.MAX_BAYES_DRAWS:,}.")
    chains: Annotated[int, Field(ge=1, le=limits.MAX_BAYES_CHAINS)] = Field(
        4, description=f"Chains (at least 2 for R-hat), at most {limits.MAX_BAYES_CHAINS}.")
    cores: Annotated[int, Field(ge=1)] | None = Field(None, description="Chains run in parallel "
                                                      "(default: one per chain, up to the CPU count).")
    target_accept: Annotated[float, Field(gt=0, lt=1)] = Field(0.8, description="Raise to 0.95 when fits "
                                                               "report divergences.")
    random_seed: Annotated[int, Field(ge=0, le=2**32 - 1)] | None = Field(
        0, description="Seed of every fit (0 to 2**32 - 1): same seed, same report.")

    @field_validator("method", mode="before")
    @classmethod
    def _draws_needed(cls, method):
        if method == "map":
            raise ValueError("method 'map' keeps the posterior mode only, and LOO and WAIC need posterior "
                             "draws: use 'mcmc' (or 'advi')")
        return method


class CompareConfig(_Section):
    """A model comparison (``clvmodels compare``). See ``configs/cdnow_compare.yaml``.

    The optional ``bayesian`` section (:class:`BayesianCompareConfig`) adds a PSIS-LOO / WAIC
    comparison of the Bayesian variants of the purchase models, e.g.
    ``bayesian: {method: mcmc, draws: 500, tune: 500, chains: 2, random_seed: 0}``.
    """

    version: Literal[1] = 1
    input: InputConfig
    summary: SummaryConfig = Field(default_factory=SummaryConfig)
    split: SplitConfig
    models: list[ModelSpec] = Field(default_factory=lambda: [ModelSpec(name="bgnbd"), ModelSpec(name="gamma_gamma")])
    predictions: PredictionsConfig = Field(default_factory=PredictionsConfig)
    diagnostics: DiagnosticsConfig = Field(default_factory=DiagnosticsConfig)
    output: ReportOutputConfig = Field(default_factory=ReportOutputConfig)
    kpis: KpisConfig | None = Field(None, description="Adds a business KPI section to the report, from the "
                                    "best model's scores at the observation end.")
    bayesian: BayesianCompareConfig | None = Field(
        None, description="Also fit the Bayesian variant of each purchase model and compare them by "
                          "PSIS-LOO and WAIC (needs clvmodels[bayes]).")

    _names_to_specs = field_validator("models", mode="before")(RunConfig._names_to_specs.__func__)

    @model_validator(mode="after")
    def _comparable(self):
        kinds = [MODELS[m.name].kind for m in self.models]
        names = [m.name for m in self.models]
        if kinds.count("purchase") < 1 or kinds.count("spend") > 1 or set(kinds) - {"purchase", "spend"}:
            raise ValueError("models must list one or more continuous-time purchase models (bgnbd, pareto_nbd, "
                             f"mbgnbd) and at most one spend model (gamma_gamma); got {names}")
        if self.kpis is not None and kinds.count("spend") != 1:
            raise ValueError("kpis need a spend model (gamma_gamma) for the customers' CLV")
        if len(set(names)) != len(names):
            raise ValueError(f"models must not repeat a name; got {names}")
        if self.summary.calibration_period_end is not None:
            raise ValueError("a comparison takes its calibration end from split.calibration_period_end; "
                             "remove summary.calibration_period_end")
        if self.input.kind != "transactions":
            raise ValueError("a comparison needs transactions (input.kind: transactions)")
        end = self.summary.observation_period_end
        if end is not None and self.split.calibration_period_end >= end:
            raise ValueError(f"split.calibration_period_end ({self.split.calibration_period_end}) must come before "
                             f"summary.observation_period_end ({end}): the holdout period would be empty")
        if kinds.count("spend"):  # the report's CLV, all customers in chunks of the CLV function
            _check_memory(limits.chunk_memory(
                chunk_size=limits.CLV_CHUNK, horizon_months=self.predictions.clv.horizon_months, n_draws=None,
                n_horizons=0), chunk_size=limits.CLV_CHUNK, chunk_key=None)
        return self


def _located(where: str, message: str) -> PydanticCustomError:
    """An error of a section's validator located at the key ``where`` (dotted, within the section)."""
    return PydanticCustomError("located", "{where}: {message}", {"where": where, "message": message})


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the section at ``loc`` (for 'did you mean' hints)."""
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        nested = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        nested += [a for c in candidates for a in typing.get_args(c) if isinstance(a, type) and issubclass(a, BaseModel)]
        if not nested:
            return []
        model = nested[0]
    return list(model.model_fields)


def _location(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def format_errors(err: ValidationError, source: str, schema: type[BaseModel] = RunConfig) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if p not in ("function-after",))
        if e["type"] == "extra_forbidden":
            key = loc[-1]
            close = difflib.get_close_matches(str(key), _fields_at(schema, loc[:-1]), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            lines.append(f"  - {_location(loc)}: unknown key {key!r}{hint}")
        elif e["type"] == "model_option":  # a model's constructor options (ModelSpec._builds)
            for key, message in e["ctx"]["problems"]:
                lines.append(f"  - {_location((*loc, 'options', *([] if key is None else [key])))}: {message}")
        elif e["type"] == "located":  # a rule on several keys, blamed on one (_located)
            lines.append(f"  - {_location((*loc, *e['ctx']['where'].split('.')))}: {e['ctx']['message']}")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            lines.append(f"  - {_location(loc)}: {msg}")
    count = len(lines)
    return f"{source}: {count} problem{'s' if count > 1 else ''} in the configuration:\n" + "\n".join(lines)


def parse_config(raw: Any, *, source: str = "config", schema: type[BaseModel] = RunConfig):
    """Validate an already-loaded mapping as a :class:`RunConfig` (or another ``schema``)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the configuration must be a mapping of sections "
                          f"(input, summary, models, ...), got {type(raw).__name__}.")
    try:
        return schema.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_errors(err, source, schema)) from None


def load_config(path: str | Path, schema: type[BaseModel] | None = None):
    """Read a YAML config (:func:`~clvmodels.batch.yamlsafe.read_yaml`: ``yaml.safe_load`` with
    limits on size, depth and aliases, duplicate keys refused) and validate it as ``schema`` (a
    :class:`RunConfig` by default, :class:`CompareConfig` for ``clvmodels compare``).

    Raises
    ------
    ConfigError
        Listing every problem with its location, and the closest valid key for unknown keys.
    """
    return parse_config(read_yaml(path), source=str(path), schema=schema or RunConfig)


def check_sources(config: RunConfig | CompareConfig) -> int:
    """Check what the job will read, without reading the data: every file that ``input.path``
    names exists (a file, a directory or a glob, by the reader's rules) and its header (CSV) or
    schema (Parquet footer) has the configured columns; each ``kpis`` table file exists and has
    the columns its keys name. Messages are the reader's own. Returns the number of files checked.

    Raises
    ------
    DataError
        A missing file, a missing column, a file that cannot be read as its format.
    """
    from .inputs import check_csv_header, check_parquet, csv_header, resolve_files

    checked = 0
    if config.input.path is not None:
        for file, fmt in resolve_files(config.input):
            if fmt == "parquet":
                check_parquet(file, config.input)
            else:
                check_csv_header(csv_header(file), file, config.input)
            checked += 1
    kpis = config.kpis
    if kpis is None:
        return checked
    inp = config.input
    tables = {"customers": kpis.customers, "costs": kpis.costs, "surveys": kpis.surveys}
    for what, table in tables.items():
        if table is None:
            continue
        header = _table_header(table, what)
        keys = {"input.customer_id": inp.customer_id}
        if what == "customers":
            keys.update({f"kpis.customers.attributes[{i}]": a for i, a in enumerate(table.attributes)})
            if table.cac is not None and table.cac in header:  # the acquisition table needs its channel too
                keys["kpis.customers.channel"] = table.channel
        elif what == "costs":
            keys["input.monetary_value"] = inp.monetary_value or "amount"
            keys.update({f"kpis.costs.{k}": getattr(table, k) for k in ("cost", "returns")
                         if getattr(table, k) is not None})
            if isinstance(table.cost_to_serve, str):
                keys["kpis.costs.cost_to_serve"] = table.cost_to_serve
        else:
            keys.update({f"kpis.surveys.{k}": getattr(table, k) for k in ("date", "question_type", "score")})
        missing = [key for key, column in keys.items() if column not in header]
        if missing:
            from ..data.validation import require_columns
            import pandas as pd

            require_columns(pd.DataFrame(columns=header), [keys[k] for k in missing],
                            what=f"kpis.{what}.path {table.path!r}" if table.path else f"kpis.{what}.dataset "
                                 f"{table.dataset!r}",
                            hint=f"Set {', '.join(missing)} to the table's column names, or fix the table.")
        checked += table.path is not None
    return checked


def _table_header(table: KpiTableConfig, what: str) -> list[str]:
    """The column names of a KPI table, read as the KPI stage reads it (a file: Parquet by suffix,
    from its footer, else the CSV header; a bundled table: loaded, it is small)."""
    from ..exceptions import DataError
    from .inputs import csv_header

    if table.dataset is not None:
        from .. import datasets

        return [str(c) for c in getattr(datasets, f"load_{table.dataset}")().columns]
    path = Path(table.path)
    if not path.is_file():
        raise DataError(f"kpis.{what}.path {str(path)!r} does not exist or is not a file "
                        f"(paths are relative to the working directory {Path.cwd()}).")
    if path.suffix.lower() not in (".parquet", ".pq"):
        return csv_header(path)
    import pyarrow.parquet as pq

    try:
        return list(pq.ParquetFile(path).schema_arrow.names)
    except (OSError, ValueError) as err:
        raise DataError(f"cannot read kpis.{what}.path {path}: {err}. Give a CSV or Parquet file.") from None
