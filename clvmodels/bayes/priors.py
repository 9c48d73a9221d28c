"""Prior distributions of the Bayesian models: plain-data specifications and their PyMC variables.

A prior is a small dict, ``{"dist": "LogNormal", "mu": 0.0, "sigma": 3.0}``, so it can be written
into a model file as JSON and read back without running code. Only distributions on the positive
half-line are allowed (every parameter of these models is positive), and PyMC samples each of them
on the log scale.

Defaults (:func:`default_priors`)
---------------------------------
Every parameter gets a log-normal prior with log-sd 3, that is a normal prior on the log scale
where NUTS works: weakly informative, spanning about ``e^(+-6)`` (a factor of 400) either side of
its median with 95 % probability.

- Shape parameters (``r, a, b`` of BG/NBD; ``p, q`` of Gamma-Gamma; all four of BG/BB and both
  of sBG, whose ``alpha, beta`` are beta-mixing shapes, not scales) have median 1. They are
  dimensionless; fitted values in the literature lie between about 0.1 and 20. For the beta
  mixtures median 1 is the uniform ``Beta(1, 1)``.
- Scale parameters carry the data's units (``alpha`` of BG/NBD is a time, ``gamma`` of
  Gamma-Gamma an amount of money), so a fixed prior would mean different things in days and in
  weeks. Their median is the data's own scale: ``alpha`` at the mean observation length per
  repeat purchase (the ``alpha`` of a gamma with ``r = 1`` matching the average purchase rate;
  the MLE start point), ``gamma`` at the mean spend of the repeat customers. With this choice,
  rescaling time (or currency) rescales the posterior of the scale parameter only, as it does
  the MLE.

The medians are computed from the data at ``fit`` and stored with the model, so a saved posterior
records exactly the priors it was sampled under.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Allowed prior families and their parameters (PyMC names). All have positive support.
DISTRIBUTIONS: dict[str, tuple[str, ...]] = {
    "LogNormal": ("mu", "sigma"),
    "HalfNormal": ("sigma",),
    "HalfStudentT": ("nu", "sigma"),
    "HalfCauchy": ("beta",),
    "Gamma": ("alpha", "beta"),
    "InverseGamma": ("alpha", "beta"),
    "Exponential": ("lam",),
    "Weibull": ("alpha", "beta"),
    "HalfFlat": (),
}
#: log-sd of the default log-normal priors.
DEFAULT_LOG_SD = 3.0


def lognormal(median: float, log_sd: float = DEFAULT_LOG_SD) -> dict[str, Any]:
    """A log-normal prior spec with the given median and log-sd."""
    return {"dist": "LogNormal", "mu": float(math.log(median)), "sigma": float(log_sd)}


def default_priors(shape_params, scale_params: dict[str, float]) -> dict[str, dict[str, Any]]:
    """The default priors: log-normal with median 1 for shapes, at the data's scale for scales.

    Parameters
    ----------
    shape_params : sequence of str
        Dimensionless parameters.
    scale_params : dict
        Scale parameter name -> the data's scale (positive), used as the prior median.
    """
    priors = {name: lognormal(1.0) for name in shape_params}
    for name, scale in scale_params.items():
        scale = float(scale)
        priors[name] = lognormal(scale if np.isfinite(scale) and scale > 0 else 1.0)
    return priors


def check_prior(name: str, spec) -> dict[str, Any]:
    """Validate one prior spec and return it as a plain dict of floats."""
    if not isinstance(spec, dict) or "dist" not in spec:
        raise ValueError(f"The prior of {name!r} must be a dict with a 'dist' key, e.g. "
                         f"{{'dist': 'LogNormal', 'mu': 0.0, 'sigma': 3.0}}; got {spec!r}.")
    dist = spec["dist"]
    if dist not in DISTRIBUTIONS:
        raise ValueError(f"The prior of {name!r} is {dist!r}, which is not allowed: the parameter is "
                         f"positive, so use one of {sorted(DISTRIBUTIONS)}.")
    expected = set(DISTRIBUTIONS[dist])
    given = set(spec) - {"dist"}
    if given != expected:
        raise ValueError(f"The {dist} prior of {name!r} needs exactly the arguments {sorted(expected)}; "
                         f"got {sorted(given)}.")
    values = {k: float(spec[k]) for k in DISTRIBUTIONS[dist]}
    bad = [k for k, v in values.items() if not np.isfinite(v) or (k != "mu" and v <= 0)]
    if bad:
        raise ValueError(f"The {dist} prior of {name!r} has invalid {bad}: they must be finite "
                         "(and positive, except mu).")
    return {"dist": dist, **values}


def resolve_priors(param_names, defaults: dict[str, dict], given: dict | None) -> dict[str, dict[str, Any]]:
    """Defaults overridden by the user's specs; unknown parameter names are an error."""
    given = dict(given or {})
    unknown = sorted(set(given) - set(param_names))
    if unknown:
        raise ValueError(f"priors has unknown parameters {unknown}; the parameters are {tuple(param_names)}.")
    return {name: check_prior(name, given.get(name, defaults[name])) for name in param_names}


def prior_variable(name: str, spec: dict[str, Any]):
    """The PyMC random variable for ``spec`` (inside a ``pm.Model`` context)."""
    import pymc as pm

    kwargs = {k: v for k, v in spec.items() if k != "dist"}
    return getattr(pm, spec["dist"])(name, **kwargs)
