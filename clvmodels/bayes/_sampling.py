"""Posterior computation for a PyMC model: NUTS (nutpie or PyMC), MAP, or ADVI.

Every routine returns an :class:`arviz.InferenceData` whose ``posterior`` holds the natural
(positive) parameters with dims ``(chain, draw)``.

Why nutpie runs through ``from_pyfunc``
---------------------------------------
nutpie's usual route, ``nutpie.compile_pymc_model``, compiles the PyTensor graph with numba. Our
likelihood is a Python :class:`~clvmodels.bayes._op.TotalLogLik` operation (the numpy maths of the
MLE), which numba cannot compile: PyTensor falls back to calling it in numba's object mode, which
works but costs a numba compilation of about 12 s per fit and a slow call on every gradient
(measured on CDNOW: 11.5 s to compile, 14 s to sample 2 x 2,000 iterations). Instead the model's
log-density and gradient are compiled once by PyTensor's own (C) backend and handed to nutpie's
Rust sampler as a Python function (``nutpie.compiled_pyfunc.from_pyfunc``); each chain (a nutpie
thread) gets its own copy of the compiled function. JAX-based samplers (numpyro, blackjax) cannot
trace a Python operation at all, so they are not offered.

nutpie adapts a low-rank modified mass matrix (``low_rank_modified_mass_matrix=True``), which
learns the strong posterior correlations of these models (``a`` with ``b`` in BG/NBD, ``p`` with
``gamma`` in Gamma-Gamma). Measured on CDNOW with 2 chains x 500 draws: bulk ESS of ``a, b`` rose
from about 290 to 1,900 and the Gamma-Gamma fit went from 4.7 s to 1.1 s.

Chains start at the posterior mode (found by BFGS from the MLE's start point) jittered uniformly
by +-0.5 on the log scale; see :func:`posterior_mode`.
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np

from .._threads import single_threaded_blas
from ..exceptions import InvalidArgumentError

SAMPLERS = ("nutpie", "pymc")
#: Use nutpie's low-rank modified mass matrix (see the module docstring).
LOW_RANK = True


def default_sampler() -> str:
    """``"nutpie"`` when it is installed, else ``"pymc"``."""
    return "nutpie" if importlib.util.find_spec("nutpie") is not None else "pymc"


def check_sampler_name(sampler: str | None) -> None:
    """The setting ``sampler`` is None or one of :data:`SAMPLERS` (checked when a model is built)."""
    if sampler in ("numpyro", "blackjax"):
        raise InvalidArgumentError(f"sampler={sampler!r} is not available: JAX samplers cannot run the numpy "
                                   "likelihood these models share with the MLE. Use 'nutpie' (fastest) or 'pymc'.")
    if sampler is not None and (not isinstance(sampler, str) or sampler not in SAMPLERS):
        raise InvalidArgumentError(f"sampler must be one of {SAMPLERS} or None (nutpie when installed); "
                                   f"got {sampler!r}.")


def check_sampler(sampler: str | None) -> str:
    check_sampler_name(sampler)
    sampler = default_sampler() if sampler is None else sampler
    if sampler == "nutpie" and importlib.util.find_spec("nutpie") is None:
        raise ImportError("sampler='nutpie' needs the nutpie package: pip install 'clvmodels[bayes]', "
                          "or pass sampler='pymc'.")
    return sampler


#: Half-width of the uniform jitter (log scale) around the posterior mode where chains start.
INIT_JITTER = 0.5


def posterior_mode(function, param_names, start: dict[str, float]) -> np.ndarray:
    """Mode of the log-scale posterior density (BFGS on the compiled log-density and gradient).

    Chains start near it: started at PyMC's default (the prior means, ``e^4.5`` times the median
    under the default log-normal priors), a BG/NBD chain on CDNOW wandered onto the flat
    ``a, b -> infinity`` ridge and stalled there with a step size of 1e-16. ``function`` is the
    compiled ``x -> (logp, dlogp)`` of :func:`_logp_dlogp`; ``start`` the MLE start point
    (data-based, deterministic).
    """
    from scipy import optimize

    def negative(x):
        value, grad = function(x)
        value = float(value)
        if not np.isfinite(value):
            return np.inf, np.zeros_like(x)
        return -value, -np.asarray(grad, dtype=float)

    x0 = np.log([start[name] for name in param_names])
    result = optimize.minimize(negative, x0, jac=True, method="BFGS")
    return result.x if np.all(np.isfinite(result.x)) and np.isfinite(result.fun) else x0


def _initial_points(centre: np.ndarray, seed, chains: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [centre + rng.uniform(-INIT_JITTER, INIT_JITTER, size=len(centre)) for _ in range(chains)]


def _logp_dlogp(model):
    """A compiled PyTensor function ``x -> (logp, dlogp)`` on the raveled log-scale parameters."""
    function = model.logp_dlogp_function(ravel_inputs=True)
    function.set_extra_values({})
    return function._pytensor_function


def sample_nutpie(model, param_names, *, draws, tune, chains, cores, target_accept, seed, start):
    import nutpie
    from nutpie.compiled_pyfunc import from_pyfunc

    compiled = _logp_dlogp(model)
    k = len(param_names)
    centre = posterior_mode(compiled, param_names, start)

    def make_logp():
        own = compiled.copy()  # one per chain: compiled functions are not thread-safe

        def logp(x, **_):
            value, grad = own(np.asarray(x, dtype=float))
            return float(value), np.asarray(grad, dtype=float)

        return logp

    def make_expand(*_):
        def expand(x, **_):
            return {name: np.asarray(np.exp(x[i])) for i, name in enumerate(param_names)}

        return expand

    def make_initial_point(chain_seed):
        return _initial_points(centre, chain_seed, 1)[0]

    pyfunc = from_pyfunc(k, make_logp, make_expand, [np.dtype("float64")] * k, [()] * k,
                         list(param_names), make_initial_point_fn=make_initial_point)
    with single_threaded_blas():
        return nutpie.sample(pyfunc, draws=draws, tune=tune, chains=chains, cores=cores, seed=seed,
                             save_warmup=False, progress_bar=False, target_accept=target_accept,
                             low_rank_modified_mass_matrix=LOW_RANK)


def sample_pymc(model, param_names, *, draws, tune, chains, cores, target_accept, seed, start):
    import pymc as pm

    centre = posterior_mode(_logp_dlogp(model), param_names, start)
    initvals = [{n: float(np.exp(v)) for n, v in zip(param_names, point)}
                for point in _initial_points(centre, seed, chains)]
    return pm.sample(draws=draws, tune=tune, chains=chains, cores=cores, target_accept=target_accept,
                     random_seed=seed, initvals=initvals, progressbar=False,
                     compute_convergence_checks=False, model=model, var_names=list(param_names))


def fit_map(model, param_names, *, seed, start):
    """Posterior mode on the natural scale (no Jacobian), one draw in the ``posterior`` group;
    the search starts at the MLE start point ``start``."""
    import arviz as az
    import pymc as pm

    point = pm.find_MAP(start=start, model=model, progressbar=False, seed=seed)
    return az.from_dict(posterior={name: np.array([[float(point[name])]]) for name in param_names})


def fit_advi(model, param_names, *, draws, steps, seed, start):
    """Mean-field ADVI started at the posterior mode: ``steps`` optimisation steps, then ``draws``
    draws from the approximation.

    Started at the prior's support point instead, ADVI's noisy gradient steps can drift into the
    flat ``r, alpha -> infinity`` ridge of BG/NBD and stop there (seen on CDNOW: r = 58); the mode
    is cheap to find and puts the approximation where the posterior mass is.
    """
    import pymc as pm

    mode = pm.find_MAP(start=start, model=model, progressbar=False, seed=seed)
    approximation = pm.fit(n=steps, method="advi", model=model, progressbar=False, random_seed=seed,
                           start={k: v for k, v in mode.items() if k.endswith("_log__")})
    return approximation.sample(draws, random_seed=seed)


def n_cores(chains: int, cores: int | None) -> int:
    return max(1, min(chains, cores if cores is not None else (os.cpu_count() or 1)))
