"""Compare fitted Bayesian purchase models by PSIS-LOO and WAIC, with a convergence summary per fit
(no drawing; :mod:`clvmodels.reports.html` shows the tables).

The expected log pointwise predictive density of a new customer's calibration history is
estimated by Pareto-smoothed importance-sampling leave-one-out cross-validation (``elpd_loo``)
and by WAIC (``elpd_waic``): Vehtari, Gelman & Gabry (2017), "Practical Bayesian model evaluation
using leave-one-out cross-validation and WAIC", *Statistics and Computing* 27, 1413-1432, eqs.
(4), (10)-(13) and (22)-(24) for the standard errors. The models' ``loo``/``waic``
(:mod:`clvmodels.bayes.diagnostics`) compute them on the distinct histories weighted by their
counts; :func:`arviz.compare` then gives the differences to the best model, their standard
errors and the stacking weights (Yao, Vehtari, Simpson & Gelman 2018, "Using stacking to average
Bayesian predictive distributions", *Bayesian Analysis* 13(3), 917-1007, eq. 4).

Why the pointwise values are repeated per customer before :func:`arviz.compare`: the standard
error of a difference, ``sqrt(N var_i(elpd_i^A - elpd_i^B))``, and the stacking objective,
``sum_i log(sum_k w_k exp(elpd_i^k))``, run over customers. On the distinct histories arviz
would count each history once whatever its number of customers; repeating each history's value
for its customers gives the numbers arviz computes on one row per customer (tested), at the cost
of one float per customer and model.

The ELPDs of different models are comparable because every purchase model's likelihood is of
the same data: each customer's purchase times in the calibration period (the same quantity whose
log-likelihood enters the AIC and BIC of the main ranking).

Only :func:`information_criteria_table` and :func:`bayesian_comparison` import arviz; importing
this module does not.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: Pareto ``k`` above which a customer's PSIS-LOO estimate is unreliable (Vehtari et al. 2024,
#: "Pareto smoothed importance sampling", *JMLR* 25(72), sec. 3.2.4: ``k > 0.7``).
PARETO_K_HIGH = 0.7

#: Columns of :func:`information_criteria_table`, with their meaning (shown in the report).
COLUMNS = {
    "loo_rank": "rank by elpd_loo (1 = best)",
    "elpd_loo": "expected log predictive density of a left-out customer's calibration history, summed "
                "over customers (PSIS-LOO; higher is better)",
    "se_elpd_loo": "standard error of elpd_loo",
    "p_loo": "effective number of parameters (log predictive density of the fitted data minus elpd_loo)",
    "elpd_loo_diff": "elpd_loo of the best model minus this model's (0 for the best)",
    "se_elpd_loo_diff": "standard error of that difference, from the per-customer differences",
    "stacking_weight": "weight of the model in the stacking of the predictive distributions (arviz.compare); "
                       "stacking keeps the models that add something, so of two near-identical models it may "
                       "keep one: a weight near 0 alone does not make a model poor",
    "elpd_waic": "the same expected log predictive density estimated by WAIC",
    "se_elpd_waic": "standard error of elpd_waic",
    "p_waic": "WAIC's effective number of parameters (sum of the posterior variances of the log-likelihood)",
    f"pareto_k_over_{PARETO_K_HIGH}": f"customers whose Pareto k exceeds {PARETO_K_HIGH}: their PSIS-LOO "
                                      "estimate is unreliable",
    "pareto_k_max": "largest Pareto k over the customers",
    "loo_warning": "arviz's LOO warning: some Pareto k above its threshold for this number of draws",
    "waic_warning": "arviz's WAIC warning: some customer's posterior variance of the log-likelihood above 0.4",
    "ic_warning": "what the warnings mean for this model",
}


@dataclass
class BayesianComparison:
    """The Bayesian part of a comparison report.

    ``table`` is :func:`information_criteria_table` (one row per compared model, best
    ``elpd_loo`` first; empty when no model could be compared), ``convergence`` is
    :func:`convergence_summary`, ``best`` the model with the highest ``elpd_loo`` and ``reason``
    one sentence on how clearly it leads. ``notes`` say which models were left out and why;
    ``settings`` are the sampler settings shown in the report.
    """

    table: pd.DataFrame
    convergence: pd.DataFrame
    best: str | None
    reason: str
    notes: list[str] = field(default_factory=list)
    settings: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict, repr=False)


def _per_customer(elpd, kind: str):
    """``elpd`` with its pointwise values (one per distinct history) repeated for each customer."""
    import arviz as az
    import xarray as xr

    counts = elpd["counts"].to_numpy()
    whole = np.rint(counts)
    if not np.allclose(counts, whole):
        raise ValueError("information_criteria_table compares models on whole customers, but the distinct "
                         "histories carry fractional counts (weights): fit and compare without weights.")
    pointwise = xr.DataArray(np.repeat(elpd[f"{kind}_i"].to_numpy(), whole.astype(np.int64)), dims=["customer"],
                             name=f"{kind}_i")
    keys = [k for k in elpd.index if k not in ("pareto_k", "counts")]
    return az.ELPDData(data=[pointwise if k == f"{kind}_i" else elpd[k] for k in keys], index=keys)


def _check_aligned(loos: dict) -> None:
    """Every model must have read the same distinct histories (same columns, same rows, same order)."""
    names = list(loos)
    first = loos[names[0]]["counts"].to_numpy()
    for name in names[1:]:
        counts = loos[name]["counts"].to_numpy()
        if counts.shape != first.shape or not np.array_equal(counts, first):
            raise ValueError(f"{name} and {names[0]} were evaluated on different customers or histories "
                             f"({int(counts.sum())} and {int(first.sum())} customers in {len(counts)} and "
                             f"{len(first)} distinct histories): compare models fitted on the same summary "
                             "with the same columns.")


def _warning_text(loo, waic, high: int, n_high_rows: int) -> str:
    parts = []
    if high:
        rows = f"{n_high_rows:,} distinct {'history' if n_high_rows == 1 else 'histories'}"
        parts.append(f"{high:,} customers ({rows}) have Pareto k > {PARETO_K_HIGH}: "
                     "their LOO estimates are unreliable, and elpd_loo with them; refit with more draws, or "
                     "check those histories (often the heaviest buyers)")
    elif bool(loo["warning"]):
        parts.append(f"some Pareto k exceed {float(loo['good_k']):.2f}, arviz's threshold for "
                     f"{int(loo['n_samples'])} draws: more draws make LOO more reliable")
    if bool(waic["warning"]):
        parts.append("WAIC is unreliable here (some posterior variance of the log-likelihood exceeds 0.4): "
                     "prefer LOO")
    return "; ".join(parts)


def _table_from_elpd(loos: dict, waics: dict) -> pd.DataFrame:
    """The table of :func:`information_criteria_table` from precomputed LOO and WAIC results."""
    import arviz as az

    _check_aligned(loos)
    with warnings.catch_warnings():  # arviz 0.23 sorts in place, which pandas 3 deprecates
        warnings.filterwarnings("ignore", message="The inplace keyword", category=DeprecationWarning)
        compared = az.compare({name: _per_customer(loo, "loo") for name, loo in loos.items()}, ic="loo",
                              method="stacking", scale="log")
    rows = {}
    for name in compared.index:
        loo, waic = loos[name], waics[name]
        k = loo["pareto_k"].to_numpy()
        counts = loo["counts"].to_numpy()
        bad = k > PARETO_K_HIGH
        high = int(round(float(counts[bad].sum())))
        rows[name] = {
            "loo_rank": int(compared.loc[name, "rank"]) + 1,
            "elpd_loo": float(loo["elpd_loo"]), "se_elpd_loo": float(loo["se"]), "p_loo": float(loo["p_loo"]),
            "elpd_loo_diff": float(compared.loc[name, "elpd_diff"]),
            "se_elpd_loo_diff": float(compared.loc[name, "dse"]),
            "stacking_weight": float(compared.loc[name, "weight"]),
            "elpd_waic": float(waic["elpd_waic"]), "se_elpd_waic": float(waic["se"]),
            "p_waic": float(waic["p_waic"]),
            f"pareto_k_over_{PARETO_K_HIGH}": high, "pareto_k_max": float(np.max(k)),
            "loo_warning": bool(loo["warning"]), "waic_warning": bool(waic["warning"]),
            "ic_warning": _warning_text(loo, waic, high, int(bad.sum())),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")[list(COLUMNS)]
    table.index.name = "model"
    return table


def information_criteria_table(models: dict, data: pd.DataFrame) -> pd.DataFrame:
    """PSIS-LOO and WAIC of fitted Bayesian models on the same data, compared with :func:`arviz.compare`.

    Parameters
    ----------
    models : dict of str to fitted Bayesian model
        Models of :mod:`clvmodels.bayes` fitted by ``method="mcmc"`` (or ``"advi"``) on ``data``,
        by the name to show; at least one.
    data : pandas.DataFrame
        The summary they were fitted on (for a comparison report, the calibration split).

    Returns
    -------
    pandas.DataFrame
        One row per model, best ``elpd_loo`` first, with the columns of :data:`COLUMNS`:
        ``elpd_loo``, ``se_elpd_loo``, ``p_loo`` (``model.loo(data)``), ``elpd_loo_diff`` and
        ``se_elpd_loo_diff`` to the best model and ``stacking_weight`` (:func:`arviz.compare`
        with stacking, on one value per customer), ``elpd_waic``, ``se_elpd_waic``, ``p_waic``
        (``model.waic(data)``), the number of customers with Pareto ``k`` above
        :data:`PARETO_K_HIGH`, the largest ``k``, arviz's two warning flags and ``ic_warning``,
        a sentence saying what they mean (empty when all is well).

    Raises
    ------
    ValueError
        When a model holds one point (``method="map"``), the models read different histories, or
        the counts of the histories are fractional (weights).

    Examples
    --------
    >>> from clvmodels import datasets
    >>> from clvmodels.bayes import BayesBetaGeoModel, BayesModifiedBetaGeoModel  # doctest: +SKIP
    >>> summary = datasets.load_cdnow_summary()
    >>> settings = {"draws": 500, "tune": 500, "chains": 2, "random_seed": 0}
    >>> fitted = {"bgnbd": BayesBetaGeoModel(**settings).fit(summary),  # doctest: +SKIP
    ...           "mbgnbd": BayesModifiedBetaGeoModel(**settings).fit(summary)}
    >>> information_criteria_table(fitted, summary)[["elpd_loo", "elpd_loo_diff", "stacking_weight"]]  # doctest: +SKIP
    """
    if not models:
        raise ValueError("information_criteria_table needs at least one fitted Bayesian model.")
    loos = {name: model.loo(data) for name, model in models.items()}
    waics = {name: model.waic(data) for name, model in models.items()}
    return _table_from_elpd(loos, waics)


def convergence_summary(models: dict) -> pd.DataFrame:
    """R-hat, effective sample sizes and divergences of each Bayesian fit, one row per model.

    Columns: ``method``, ``sampler``, ``chains``, ``draws`` (per chain), ``divergences``,
    ``max_r_hat``, ``min_ess_bulk``, ``min_ess_tail`` over the parameters (from
    ``model.summary()``), ``fit_seconds``, ``converged`` and ``problems``: the checks of
    :func:`clvmodels.bayes.diagnostics.check_convergence` (R-hat at most 1.01, bulk and tail ESS
    of at least 100 per chain, no divergences; Vehtari et al. 2021), which fail for ADVI (one
    approximation, no chains to compare).
    """
    from ..bayes.diagnostics import PosteriorConvergenceWarning, check_convergence

    rows = {}
    for name, model in models.items():
        posterior = model.idata_.posterior
        chains, draws = int(posterior.sizes["chain"]), int(posterior.sizes["draw"])
        summary = model.summary()
        if model.method == "mcmc":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", PosteriorConvergenceWarning)  # reported in the table
                problems = check_convergence(model.idata_, model.param_names, model_name=name)
        else:
            problems = [f"method {model.method!r}: an approximation, no chains to check"]
        rows[name] = {"method": model.method, "sampler": model.sampler_ or "", "chains": chains, "draws": draws,
                      "divergences": model.divergences_, "max_r_hat": float(summary["r_hat"].max()),
                      "min_ess_bulk": float(summary["ess_bulk"].min()),
                      "min_ess_tail": float(summary["ess_tail"].min()),
                      "fit_seconds": float(model.fit_seconds_), "converged": not problems,
                      "problems": "; ".join(problems)}
    table = pd.DataFrame.from_dict(rows, orient="index",
                                   columns=["method", "sampler", "chains", "draws", "divergences", "max_r_hat",
                                            "min_ess_bulk", "min_ess_tail", "fit_seconds", "converged",
                                            "problems"])
    table.index.name = "model"
    return table


def _reason(table: pd.DataFrame) -> str:
    """Which model leads on elpd_loo, and by how many standard errors of the difference each other trails."""
    best, first = str(table.index[0]), table.iloc[0]
    if len(table) == 1:
        return f"{best} is the only Bayesian model compared (elpd_loo {first['elpd_loo']:,.1f})."
    others = []
    for name, row in table.iloc[1:].iterrows():
        diff, dse = row["elpd_loo_diff"], row["se_elpd_loo_diff"]
        verdict = "more than 2 standard errors: a clear gap" if diff > 2 * dse else \
            "within 2 standard errors: not told apart by these data"
        others.append(f"{name} is {diff:.1f} lower (standard error of the difference {dse:.1f}, {verdict})")
    text = f"{best} has the highest elpd_loo ({first['elpd_loo']:,.1f}); " + "; ".join(others) + "."
    if table["loo_warning"].any() or table[f"pareto_k_over_{PARETO_K_HIGH}"].gt(0).any():
        text += " Some LOO estimates are flagged unreliable (see the warnings below the table)."
    return text


def bayesian_comparison(models: dict, data: pd.DataFrame, *, notes: list[str] | None = None,
                        settings: dict | None = None) -> BayesianComparison:
    """The Bayesian section of a comparison report: :func:`information_criteria_table`,
    :func:`convergence_summary` and the best model by ``elpd_loo`` with the reason.

    Parameters
    ----------
    models : dict of str to fitted Bayesian model
        Fitted on ``data``; may be empty (then only ``notes`` are shown).
    data : pandas.DataFrame
        The summary they were fitted on.
    notes : list of str, optional
        Shown under the tables (e.g. models left out for having no Bayesian variant).
    settings : dict, optional
        The fitting settings, shown above the tables.

    Returns
    -------
    BayesianComparison
        Pass it to :func:`~clvmodels.reports.compare_models` as ``bayesian=``.
    """
    notes = list(notes or [])
    if not models:
        return BayesianComparison(table=pd.DataFrame(columns=list(COLUMNS)), convergence=convergence_summary({}),
                                  best=None, reason="No model has a Bayesian variant to compare.", notes=notes,
                                  settings=dict(settings or {}))
    table = information_criteria_table(models, data)
    return BayesianComparison(table=table, convergence=convergence_summary(models).loc[table.index],
                              best=str(table.index[0]), reason=_reason(table), notes=notes,
                              settings=dict(settings or {}), models=dict(models))
