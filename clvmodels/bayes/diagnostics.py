"""Convergence checks of NUTS output, with a warning that names the parameter and the remedies.

Thresholds follow Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-normalization,
folding, and localization: an improved R-hat for assessing convergence of MCMC", *Bayesian
Analysis* 16(2), 667-718: rank-normalised split R-hat at most 1.01, and bulk and tail effective
sample sizes of at least 100 per chain. Any divergent transition means the sampler missed part of
the posterior (Betancourt 2017, "A conceptual introduction to Hamiltonian Monte Carlo", sec. 6).
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
