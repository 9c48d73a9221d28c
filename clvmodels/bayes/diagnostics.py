"""Convergence checks of NUTS output, with a warning that names the parameter and the remedies.

Thresholds follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC", *Bayesian
Analysis* 16(2), 667-718: rank-normalised split R-hat at most 1.01, and bulk and tail effective
sample sizes of at least 100 per chain. Any divergent transition means the sampler missed part of
the posterior (Betancourt 2017, "A conceptual introduction to Hamiltonian Monte Carlo", sec. 6).

Predictive accuracy: :func:`loo` (PSIS-LOO) and :func:`waic`, computed on the distinct histories
weighted by their counts, equal to :func:`arviz.loo` / :func:`arviz.waic` on one row per customer;
also available as ``model.loo(data)`` and ``model.waic(data)``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..exceptions import ClvModelsWarning

RHAT_MAX = 1.01
ESS_PER_CHAIN_MIN = 100


class PosteriorConvergenceWarning(ClvModelsWarning):
    """The MCMC chains have not converged: R-hat, effective sample size or divergences fail."""


def convergence_table(idata, var_names) -> pd.DataFrame:
    """R-hat, bulk and tail ESS per parameter (rank-normalised, split chains; arviz)."""
    import arviz as az

    posterior = idata.posterior[list(var_names)]
    nan = {name: np.nan for name in var_names}
    rhat = az.rhat(posterior) if posterior.sizes["chain"] > 1 else nan
    enough = posterior.sizes["draw"] > 3
    bulk = az.ess(posterior, method="bulk") if enough else nan
    tail = az.ess(posterior, method="tail") if enough else nan
    return pd.DataFrame({"r_hat": [float(rhat[n]) for n in var_names],
                         "ess_bulk": [float(bulk[n]) for n in var_names],
                         "ess_tail": [float(tail[n]) for n in var_names]},
                        index=pd.Index(list(var_names), name="parameter"))


def check_convergence(idata, var_names, *, model_name: str, stacklevel: int = 2) -> list[str]:
    """Warn (:class:`PosteriorConvergenceWarning`) when the chains fail the checks; return the problems.

    One warning lists every problem, naming each parameter with its R-hat or ESS, followed by
    numbered remedies.
    """
    posterior = idata.posterior
    chains = posterior.sizes["chain"]
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # ESS of a tiny or constant chain
        table = convergence_table(idata, var_names)
    problems = []
    if chains < 2:
        problems.append("only one chain was run, so R-hat cannot be checked (use chains >= 2)")
    for name, row in table.iterrows():
        if np.isnan(row["r_hat"]) and chains > 1 or row["r_hat"] > RHAT_MAX:
            problems.append(f"{name}: R-hat = {row['r_hat']:.3f} (should be <= {RHAT_MAX})")
        min_ess = ESS_PER_CHAIN_MIN * chains
        for kind in ("bulk", "tail"):
            ess = row[f"ess_{kind}"]
            if not ess >= min_ess:
                problems.append(f"{name}: {kind} ESS = {ess:.0f} (should be >= {min_ess}, "
                                f"{ESS_PER_CHAIN_MIN} per chain)")
    stats = idata.get("sample_stats")
    divergences = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    if divergences:
        problems.append(f"{divergences} divergent transitions")
    if problems:
        warnings.warn(
            f"{model_name}: the posterior sample is not reliable: " + "; ".join(problems) + ". Try:\n"
            "  1. more iterations: draws=2000, tune=2000 (and at least 4 chains);\n"
            "  2. for divergences, target_accept=0.95;\n"
            "  3. a more informative prior on the parameter named above (priors={...}): it may be "
            "barely identified by these data (e.g. few repeat customers);\n"
            "  4. comparing with the MLE fit: a parameter at the edge of its range there shows the "
            "same problem.",
            PosteriorConvergenceWarning, stacklevel=stacklevel + 1)
    return problems


# -- predictive accuracy: PSIS-LOO and WAIC on compressed rows --------------------------------------
#: Draws x distinct rows of pointwise log-likelihood held at once (about 32 MB).
LOGLIK_CELLS = 4_000_000


def pointwise_log_likelihood(model, data, *, weights=None):
    """Log-likelihood of every distinct history at every posterior draw.

    Parameters
    ----------
    model : fitted Bayesian model (e.g. :class:`~clvmodels.bayes.BayesBetaGeoModel`)
    data : pandas.DataFrame
        The summary the model was fitted on (the rows its likelihood uses are selected, as in ``fit``).
    weights : array_like or str, optional
        As in ``fit``.

    Returns
    -------
    values : numpy.ndarray
        Shape ``(chains, draws, m)``: ``log L`` of each of the ``m`` distinct histories.
    counts : numpy.ndarray
        Number of customers with each distinct history (length ``m``).
    """
    model._require_fitted()
    posterior = model.idata_.posterior
    if posterior.sizes["chain"] * posterior.sizes["draw"] < 2:
        raise ValueError(f"LOO and WAIC need posterior draws, but this {type(model).__name__} holds one point "
                         f"(method={model.method!r}); fit with method='mcmc' (or 'advi').")
    mle, unique, counts, _ = model._compressed(data, weights)
    arrays = tuple(unique[c] for c in mle.data_columns if c in unique)
    draws = np.stack([posterior[n].to_numpy() for n in model.param_names], axis=-1)  # (chain, draw, k)
    flat = draws.reshape(-1, draws.shape[-1])
    out = np.empty((len(flat), len(counts)))
    with np.errstate(all="ignore"):
        if getattr(model, "broadcasts_draws", True):
            chunk = max(1, LOGLIK_CELLS // len(flat))
            params = tuple(flat[:, [j]] for j in range(flat.shape[1]))
            for start in range(0, len(counts), chunk):
                rows = slice(start, start + chunk)
                out[:, rows] = mle._loglik(params, *(a[rows] for a in arrays))
        else:  # maths taking scalar parameters only: one vectorised call per draw
            for s, point in enumerate(flat):
                out[s] = mle._loglik(tuple(point), *arrays)
    return out.reshape(draws.shape[0], draws.shape[1], -1), counts


def _weighted_se(pointwise: np.ndarray, counts: np.ndarray) -> float:
    """``sqrt(n var(pointwise))`` over the ``n = sum(counts)`` customers (arviz's standard error)."""
    n = counts.sum()
    mean = counts @ pointwise / n
    return float(np.sqrt(n * (counts @ (pointwise - mean) ** 2) / n))


def _elpd_data(kind, total, se, penalty, n_samples, counts, warning, pointwise, extra):
    import arviz as az
    import xarray as xr

    row = xr.DataArray(pointwise, dims=["row"], name=f"{kind}_i")
    index = [f"elpd_{kind}", "se", f"p_{kind}", "n_samples", "n_data_points", "warning", f"{kind}_i"]
    values = [total, se, penalty, n_samples, int(counts.sum()), warning, row]
    values += list(extra.values()) + [xr.DataArray(counts, dims=["row"], name="counts"), "log"]
    index += list(extra) + ["counts", "scale"]
    return az.ELPDData(data=values, index=index)


def loo(model, data, *, weights=None):
    """PSIS-LOO of a fitted Bayesian model, computed on distinct histories weighted by their counts.

    Pareto-smoothed importance sampling leave-one-out cross-validation (Vehtari, Gelman & Gabry
    2017, "Practical Bayesian model evaluation using leave-one-out cross-validation and WAIC",
    *Statistics and Computing* 27, 1413-1432; eqs. 10 and 11 there; Vehtari, Simpson, Gelman, Yao
    & Gabry 2024, *JMLR* 25(72), for the smoothing) as :func:`arviz.loo` computes it.

    Why distinct histories suffice: a customer's pointwise quantities (the log-likelihood at each
    draw, hence the smoothed importance weights, the Pareto ``k`` and ``elpd_loo,i``) depend on
    their ``(x, t_x, T)`` only, and the relative efficiency ``r_eff`` that PSIS uses comes from
    the parameter draws (arviz: mean ESS of the posterior over the number of draws), so it is one
    number for all rows. Customers with the same history therefore have identical ``elpd_loo,i``:
    ``elpd_loo`` is ``sum_j n_j elpd_loo,j`` over distinct histories ``j`` with ``n_j`` customers,
    ``p_loo`` likewise, and the standard error ``sqrt(N var(elpd_loo,i))`` is the count-weighted
    variance over the ``N`` customers. The result equals :func:`arviz.loo` on one row per
    customer (tested) at the cost of PSIS on the distinct rows only.

    Parameters
    ----------
    model : fitted Bayesian model with MCMC draws (e.g. :class:`~clvmodels.bayes.BayesBetaGeoModel`)
    data : pandas.DataFrame
        The summary the model was fitted on.
    weights : array_like or str, optional
        As in ``fit``.

    Returns
    -------
    arviz.ELPDData
        ``elpd_loo``, ``se``, ``p_loo``, ``n_samples``, ``n_data_points`` (customers), ``warning``
        (some Pareto ``k`` above ``good_k``), ``good_k``; per distinct history ``loo_i``,
        ``pareto_k`` and ``counts`` (dimension ``row``, in the order of the compressed rows).
        Printed, arviz's table of Pareto ``k`` counts distinct histories, not customers.
    """
    import arviz as az
    import xarray as xr
    from scipy.special import logsumexp

    values, counts = pointwise_log_likelihood(model, data, weights=weights)
    chains, draws = values.shape[:2]
    n_samples = chains * draws
    if chains == 1:
        reff = 1.0
    else:
        ess = az.ess(model.idata_.posterior[list(model.param_names)], method="mean")
        reff = float(np.mean([float(ess[n]) for n in model.param_names])) / n_samples
    ll = values.reshape(n_samples, -1).T  # (rows, samples), as arviz stacks chain and draw
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # arviz's own k warning; ours is `warning`
        log_weights, k = az.psislw(-ll, reff)
    loo_i = logsumexp(log_weights + ll, axis=1)
    lppd_i = logsumexp(ll, axis=1) - np.log(n_samples)
    good_k = min(1 - 1 / np.log10(n_samples), 0.7)
    extra = {"pareto_k": xr.DataArray(k, dims=["row"], name="pareto_k"), "good_k": good_k}
    return _elpd_data("loo", float(counts @ loo_i), _weighted_se(loo_i, counts),
                      float(counts @ (lppd_i - loo_i)), n_samples, counts, bool(np.any(k > good_k)), loo_i, extra)


def waic(model, data, *, weights=None):
    """WAIC of a fitted Bayesian model on distinct histories weighted by their counts.

    ``elpd_waic,i = lppd_i - p_waic,i``, with ``lppd_i`` the log of the posterior-mean likelihood
    and ``p_waic,i`` the posterior variance of the log-likelihood (Vehtari, Gelman & Gabry 2017,
    eqs. 11-13 there; Watanabe 2010), as :func:`arviz.waic` computes them. As for :func:`loo`,
    both depend on the history only, so the totals are count-weighted sums over distinct
    histories and equal arviz's on one row per customer (tested). ``warning`` is set when some
    ``p_waic,i`` exceeds 0.4, arviz's signal that WAIC is unreliable (prefer :func:`loo`).

    Returns
    -------
    arviz.ELPDData
        ``elpd_waic``, ``se``, ``p_waic``, ``n_samples``, ``n_data_points``, ``warning``; per
        distinct history ``waic_i`` and ``counts``.
    """
    from scipy.special import logsumexp

    values, counts = pointwise_log_likelihood(model, data, weights=weights)
    n_samples = values.shape[0] * values.shape[1]
    ll = values.reshape(n_samples, -1)
    penalty_i = ll.var(axis=0)
    waic_i = logsumexp(ll, axis=0) - np.log(n_samples) - penalty_i
    return _elpd_data("waic", float(counts @ waic_i), _weighted_se(waic_i, counts), float(counts @ penalty_i),
                      n_samples, counts, bool(np.any(penalty_i > 0.4)), waic_i, {})
