"""Config edges (issue 12): one validation path, hostile YAML, sizes that cannot fit.

``load_config`` (and so ``clvmodels validate`` and every command) refuses what a job would refuse,
each problem at its location, with a ConfigError: model options as the models are built, KPI
thresholds, seeds, sizes, and YAML that is too large, too deep, an alias bomb, repeats a key or is
not UTF-8.
"""

from __future__ import annotations

import os
import time
import warnings

import pytest

from clvmodels.batch import CompareConfig, load_config
from clvmodels.batch.fitting import construct_models, option_problems
from clvmodels.batch.limits import CHUNK_MEMORY_LIMIT, chunk_memory
from clvmodels.batch.yamlsafe import MAX_BYTES, MAX_DEPTH, MAX_NODES, loads_yaml
from clvmodels.exceptions import ConfigError
from clvmodels.models import GammaGammaModel

BASE = "input: {dataset: cdnow_sample}\n"
COMPARE = BASE + "split: {calibration_period_end: 1997-09-30}\n"


def write(tmp_path, text: str, name: str = "config.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path, text: str, schema=None) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), schema)
    return str(info.value)


@pytest.mark.parametrize(("options", "location", "words"), [
    ("{max_iter: -1}", "models[1].options.max_iter", "whole number of at least 1"),
    ("{max_iter: 2.5}", "models[1].options.max_iter", "whole number of at least 1"),
    ("{ci_level: 95}", "models[1].options.ci_level", "between 0 and 1"),
    ("{start: {p: -1}}", "models[1].options.start", "positive finite"),
    ("{start: {r: 1}}", "models[1].options.start", "not parameters of this model (its parameters: p, q, gamma)"),
    ("{on_nonpositive: 5}", "models[1].options.on_nonpositive", "'raise' or 'exclude'"),
    ("{on_nonpositiv: exclude}", "models[1].options.on_nonpositiv", "did you mean 'on_nonpositive'?"),
])
def test_model_options_are_refused_where_they_are(tmp_path, options, location, words):
    """Every option the model would refuse when the job builds it is refused by load_config, at
    models[i].options.<option>, in a run and in a comparison alike."""
    models = f"models: [bgnbd, {{name: gamma_gamma, options: {options}}}]\n"
    for text, schema in ((BASE + models, None), (COMPARE + models, CompareConfig)):
        message = refused(tmp_path, text, schema)
        assert f"{location}:" in message and words in message and "1 problem" in message


def test_every_bad_option_is_listed_at_once(tmp_path):
    """Several bad options of several models: one line each, all in one message."""
    message = refused(tmp_path, BASE + "models: [{name: bgnbd, options: {max_iter: 0, colour: red}},\n"
                                       "         {name: gamma_gamma, options: {ci_level: 1.5}}]\n")
    assert "3 problems" in message
    for where in ("models[0].options.max_iter:", "models[0].options.colour: unknown option",
                  "models[1].options.ci_level:"):
        assert where in message


def test_construct_models_is_the_job_path(tmp_path):
    """construct_models builds the configured models (what fit_models fits) and names the location
    of a bad option when given specs that bypassed the schema."""
    config = load_config(write(tmp_path, BASE + "models: [bgnbd, {name: gamma_gamma, options: "
                                                "{on_nonpositive: exclude, max_iter: 50}}]\n"))
    models = construct_models(config)
    assert list(models) == ["bgnbd", "gamma_gamma"]
    assert isinstance(models["gamma_gamma"], GammaGammaModel) and models["gamma_gamma"].max_iter == 50
    config.models[1].options["max_iter"] = -5  # as if the config had not been validated
    with pytest.raises(ConfigError, match=r"models\[1\]\.options\.max_iter: must be a whole number of at least 1"):
        construct_models(config)
    assert option_problems("bgnbd", {"start": {"r": 1, "alpha": 1, "a": 1, "b": 1}}) == []


@pytest.mark.parametrize(("text", "location", "words"), [
    ("kpis: {segments: {alive_low: 0.8, alive_high: 0.2}}\n", "kpis.segments", "alive_low (0.8) must not exceed"),
    ("kpis: {surveys: {dataset: example_surveys, ces_scale: [7, 1]}}\n", "kpis.surveys.ces_scale", "lowest < highest"),
    ("kpis: {costs: {dataset: example_costs, cost_to_serve: -2}}\n", "kpis.costs.cost_to_serve", "0 or more"),
    ("predictions: {intervals: {seed: -1}}\n", "predictions.intervals.seed", "greater than or equal to 0"),
    ("predictions: {clv: {margin: .nan}}\n", "predictions.clv.margin", "finite"),
    ("models: [bgbb]\npredictions: {clv: {discount_rate: 0}}\n", "predictions.clv.discount_rate", "must be positive"),
    ("models: [sbg]\npredictions: {clv: {discount_rate: -0.5}}\n", "predictions.clv.discount_rate", "0 or more"),
])
def test_rules_the_job_would_enforce(tmp_path, text, location, words):
    """KPI thresholds in the wrong order, negative seeds, a discount rate the model refuses ...:
    refused at config level, at their location."""
    message = refused(tmp_path, BASE + text)
    assert f"{location}:" in message and words in message


def test_negative_bayesian_seed_in_compare(tmp_path):
    """compare's bayesian.random_seed must be a valid seed (0 to 2**32 - 1)."""
    message = refused(tmp_path, COMPARE + "models: [bgnbd]\nbayesian: {random_seed: -3}\n", CompareConfig)
    assert "bayesian.random_seed:" in message and "greater than or equal to 0" in message


@pytest.mark.parametrize(("text", "key", "words"), [
    ("predictions: {intervals: {n_draws: 1e9}}\n", "predictions.intervals.n_draws", ["100,000", "lower it"]),
    ("predictions: {clv: {horizon_months: 1e8}}\n", "predictions.clv.horizon_months", ["1200 months", "Lower it"]),
    ("engine: {chunk_size: 1e12}\n", "engine.chunk_size", ["10000000"]),
    ("predictions: {clv: {horizon_months: 1200}}\n", "predictions.clv.horizon_months",
     ["GiB of memory per chunk", "4.0 GiB", "lower engine.chunk_size (about"]),
    ("engine: {chunk_size: 10000000}\npredictions: {horizons: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], intervals: {}}\n",
     "engine.chunk_size", ["GiB of memory per chunk", "Lower engine.chunk_size (about"]),
])
def test_sizes_that_cannot_fit_are_refused(tmp_path, text, key, words):
    """Absurd sizes (YAML 1e9 included) and combinations whose chunk would need more than 4 GiB are
    refused naming the key, the estimate or limit and the remedy."""
    message = refused(tmp_path, BASE + text)
    assert f"{key}:" in message
    for word in words:
        assert word in message


def test_memory_estimate_scales_and_the_default_fits(tmp_path):
    """The chunk estimate grows with the months and the chunk; the example-sized job fits easily,
    and the compare CLV (all customers, 250,000 at a time) is bounded too."""
    small = sum(chunk_memory(chunk_size=250_000, horizon_months=12, n_draws=200, n_horizons=1).values())
    big = sum(chunk_memory(chunk_size=250_000, horizon_months=1200, n_draws=None, n_horizons=1).values())
    assert small < CHUNK_MEMORY_LIMIT / 4 < CHUNK_MEMORY_LIMIT < big
    load_config(write(tmp_path, BASE + "predictions: {clv: {horizon_months: 1200}}\nengine: {chunk_size: 50000}\n"))
    message = refused(tmp_path, COMPARE + "predictions: {clv: {horizon_months: 1200}}\n", CompareConfig)
    assert "predictions.clv.horizon_months:" in message and "engine.chunk_size" not in message


def test_exponent_numbers_are_numbers():
    """1e9 and 1.5e3 are numbers (YAML 1.2), not text; quoted they stay text."""
    assert loads_yaml("a: 1e9\nb: 1.5e3\nc: -2E-3\nd: '1e9'\ne: 12\n") == {
        "a": 1e9, "b": 1500.0, "c": -0.002, "d": "1e9", "e": 12}


def test_duplicate_keys_name_the_key_and_both_lines(tmp_path):
    """Two summary sections (or a key twice in a nested section) are an error naming both lines;
    YAML would keep the last one silently."""
    message = refused(tmp_path, BASE + "summary: {freq: D}\nmodels: [bgnbd]\nsummary: {freq: W}\n")
    assert "'summary' appears twice" in message and "lines 2 and 4" in message and "config.yaml" in message
    message = refused(tmp_path, "input:\n  dataset: cdnow_sample\n  datetime: d\n  datetime: e\n")
    assert "'datetime' appears twice" in message and "lines 3 and 4" in message


def test_merge_keys_may_be_overridden():
    """A YAML merge (<<: *base) followed by an explicit key is not a duplicate."""
    assert loads_yaml("base: &b {x: 1, y: 2}\nd: {<<: *b, x: 3}\n")["d"] == {"x": 3, "y": 2}


def test_alias_bomb_is_refused_quickly(tmp_path):
    """A "billion laughs" config (9 ** 9 values from ten lines) is refused in well under a second,
    naming the file and the limit."""
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(8):
        prev, name = chr(97 + i), chr(98 + i)
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    path = write(tmp_path, BASE + "\n".join(lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert time.perf_counter() - start < 0.5
    assert str(path) in str(info.value) and f"{MAX_NODES:,} values" in str(info.value)


def test_recursive_alias_is_refused():
    """An alias inside its own anchor is an endless value: refused."""
    with pytest.raises(ConfigError, match="contains it"):
        loads_yaml("a: &a [1, *a]\n")


@pytest.mark.parametrize("text", ["a: " + "[" * 100_000 + "]" * 100_000 + "\n",
                                  "a: " + "{b: " * 60 + "1" + "}" * 60 + "\n",
                                  "".join("  " * i + f"k{i}:\n" for i in range(60)) + "  " * 60 + "v: 1\n"])
def test_deep_nesting_is_refused(tmp_path, text):
    """Nesting deeper than 50 levels (flow or block) is refused with the limit, not a RecursionError."""
    message = refused(tmp_path, text)
    assert f"deeper than {MAX_DEPTH} levels" in message


def test_depth_through_aliases_is_refused():
    """An anchored value 30 levels deep used 25 levels down nests 55 levels once expanded: refused,
    though neither part alone is too deep."""
    deep = "{a: " * 30 + "1" + "}" * 30
    text = f"x: &x {deep}\ny: " + "{b: " * 25 + "*x" + "}" * 25 + "\n"
    with pytest.raises(ConfigError, match=f"nested deeper than {MAX_DEPTH} levels"):
        loads_yaml(text)
    assert loads_yaml(f"x: &x {deep}\ny: [*x]\n")["y"][0] == loads_yaml(f"x: {deep}\n")["x"]


def test_large_file_is_refused(tmp_path):
    """A config over 1 MiB is refused before it is parsed."""
    message = refused(tmp_path, BASE + "# " + "x" * MAX_BYTES + "\n")
    assert "larger than 1 MiB" in message and "config.yaml" in message


def test_not_utf8_is_a_config_error(tmp_path):
    """Latin-1 bytes: a ConfigError saying the file is not UTF-8 (not a UnicodeDecodeError)."""
    path = tmp_path / "latin1.yaml"
    path.write_bytes(BASE.encode() + "output: {directory: 'r\u00e9sultats'}\n".encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text") as info:
        load_config(path)
    assert str(path) in str(info.value)
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())  # a UTF-8 byte-order mark is fine
    assert load_config(path).input.dataset == "cdnow_sample"


def test_missing_and_directory_configs(tmp_path):
    """A missing config or a directory given as the config: ConfigError naming it."""
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_the_example_configs_are_valid():
    """The shipped examples pass every check."""
    from pathlib import Path

    root = Path(__file__).parents[1] / "configs"
    assert load_config(root / "batch_example.yaml").engine.chunk_size == 250_000
    assert load_config(root / "cdnow_compare.yaml", CompareConfig).split is not None


@pytest.mark.parametrize(("character", "code"), [("\x00", "U+0000"), ("\x07", "U+0007"), ("\x7f", "U+007F"),
                                                 ("\uffff", "U+FFFF")])
def test_control_characters_are_a_config_error(tmp_path, character, code):
    """NUL, BEL, DEL or U+FFFF in a config (PyYAML's ReaderError, raised before parsing): a
    ConfigError naming the file, the line and column and the character, with the remedy."""
    message = refused(tmp_path, BASE + f"output: {{directory: 'o{character}ut'}}\n")
    assert "config.yaml" in message and "line 2, column 23" in message and code in message and "Remove it" in message


def test_a_config_that_is_not_a_regular_file_is_refused_without_reading(tmp_path):
    """A FIFO (reading would block until a writer comes) or a device is refused by name."""
    fifo = tmp_path / "config.yaml"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        with pytest.raises(ConfigError, match="is not a regular file"):
            load_config(path)


@pytest.mark.parametrize(("text", "location", "words"), [
    ("output: {formats: []}\n", "output.formats", ["at least one format"]),
    ("output: {formats: [csv, csv]}\n", "output.formats", ["each format once"]),
    ("predictions: {horizons: [52, 52.0000001]}\n", "predictions.horizons",
     ["52.0 and 52.0000001", "expected_purchases_52", "6 significant digits"]),
    ("predictions: {horizons: [4, 52, 52]}\n", "predictions.horizons", ["52 is given twice"]),
    ("output: {columns: [clv, clv, customer_id]}\n", "output.columns", ["'clv' given more than once"]),
    ("output: {columns: [p_alive, nope]}\n", "output.columns",
     ["'nope' is not a column", "p_alive, churn_probability, expected_purchases_52w, expected_spend, clv"]),
    ("predictions: {clv: {discount_rate: -0.5}}\n", "predictions.clv.discount_rate", ["0 or more", "-0.5"]),
    ("kpis: {segments: {high_value: -5}}\n", "kpis.segments.high_value", ["greater than or equal to 0"]),
    ("kpis: {segments: {high_value: 500, high_value_quantile: 0.9}}\n", "kpis.segments", ["not both"]),
])
def test_outputs_the_job_could_not_write_are_refused(tmp_path, text, location, words):
    """Rules whose break the job found late (no format: nothing published and the old scores
    removed; two horizons or columns of one name: one column or a pyarrow error; a column the job
    does not produce; a negative discount rate or CLV threshold) are config errors at their key."""
    message = refused(tmp_path, BASE + "models: [bgnbd, gamma_gamma]\n" + text)
    assert f"{location}:" in message and "1 problem" in message
    for word in words:
        assert word in message


def test_posterior_bounds_are_known_columns(tmp_path):
    """Score with posterior files (.nc) adds bounds to every prediction: such names are accepted
    for a continuous-time purchase model, not for sbg (which has no posterior variant)."""
    load_config(write(tmp_path, BASE + "output: {columns: [churn_probability_lower, clv_upper]}\n"))
    message = refused(tmp_path, BASE + "models: [sbg]\noutput: {columns: [derl_lower]}\n")
    assert "'derl_lower' is not a column" in message and "tenure, churned" in message


@pytest.mark.parametrize("extra", [
    "models: [bgnbd, {name: gamma_gamma, options: {on_nonpositive: exclude}}]\n"
    "predictions: {horizons: [4, 52.5], intervals: {n_draws: 20}}\n",
    "models: [pareto_nbd]\nsummary: {time_unit: D}\n",
    "input: {dataset: cdnow_sample, monetary_value: null}\nmodels: [mbgnbd]\n",
    "models: [bgbb]\nsummary: {period: M}\npredictions: {clv: {discount_rate: 0.1}, intervals: {n_draws: 20}}\n",
    "models: [sbg]\npredictions: {intervals: {n_draws: 20}}\n",
    "input: {dataset: cdnow_sample, monetary_value: null}\nmodels: [sbg]\n",
])
def test_score_columns_are_those_of_a_real_run(tmp_path, extra):
    """config.score_columns (what validate checks output.columns against) names exactly the columns
    a run writes, in order, for each model kind, with and without intervals and amounts."""
    import pandas as pd

    from clvmodels.batch import run
    from clvmodels.batch.config import score_columns

    text = (extra if extra.startswith("input") else BASE + extra) + f"output: {{directory: {tmp_path / 'out'}}}\n"
    config = load_config(write(tmp_path, text))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run(config, progress=False)
    assert list(pd.read_parquet(tmp_path / "out" / "scores.parquet").columns) == score_columns(config)
