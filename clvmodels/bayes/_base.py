"""The Bayesian base: priors, the shared likelihood on compressed rows, sampling, summary, files.

A subclass names the maximum-likelihood class it parallels (``mle_class``); validation, the rows
the likelihood uses, compression to distinct histories and the fused objective all come from that
class, so the Bayesian and the MLE fits read the same data through the same maths.
"""

from __future__ import annotations

import json
import time
import warnings
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from .._io import atomic_path
from .._version import __version__
from .. import _checks
from ..exceptions import InvalidArgumentError, ModelFileError, NotFittedError
from ..models.base import MLEModel, compress
from . import _sampling
from ._op import TotalLogLik
from . import diagnostics
from .diagnostics import check_convergence, convergence_table
from .priors import check_prior, default_priors, prior_variable, resolve_priors

FILE_FORMAT = "clvmodels.posterior"
FILE_FORMAT_VERSION = 1
METHODS = ("mcmc", "map", "advi")


class BayesModel:
    """Base of the Bayesian models: the MLE model's likelihood with priors, sampled by NUTS.

    Parameters
    ----------
    method : {"mcmc", "map", "advi"}, default "mcmc"
        ``"mcmc"``: NUTS, the reference. ``"map"``: the posterior mode only (no uncertainty; every
        prediction interval collapses to the point). ``"advi"``: mean-field variational
        approximation, fast but it understates posterior sd and ignores posterior correlation.
    sampler : {"nutpie", "pymc"}, optional
        NUTS implementation for ``method="mcmc"``; nutpie when installed (much faster).
    draws, tune, chains : int, default 1000, 1000, 4
        Kept draws and warm-up iterations per chain, and the number of chains. ``"advi"`` returns
        ``draws * chains`` draws from the approximation.
    cores : int, optional
        Chains run in parallel (default: one per chain, up to the CPU count).
    target_accept : float, default 0.8
        NUTS target acceptance rate; raise it (0.95) when the fit reports divergences.
    advi_steps : int, default 20000
        Optimisation steps of ``"advi"``.
    priors : dict, optional
        Prior spec per parameter overriding the defaults, e.g.
        ``{"r": {"dist": "Gamma", "alpha": 2.0, "beta": 2.0}}``; see :mod:`clvmodels.bayes.priors`.
    ci_level : float, default 0.9
        Probability of the credible intervals of :meth:`summary` (HDI) and of the predictions
        (equal-tailed: 5 % and 95 % by default).
    random_seed : int, optional
        Seed of the sampler, the initial points and the draws used by predictions.
    """

    mle_class: ClassVar[type[MLEModel]]
    name: ClassVar[str]
    shape_params: ClassVar[tuple[str, ...]]

    def __init__(self, *, method: str = "mcmc", sampler: str | None = None, draws: int = 1000,
                 tune: int = 1000, chains: int = 4, cores: int | None = None, target_accept: float = 0.8,
                 advi_steps: int = 20_000, priors: dict | None = None, ci_level: float = 0.9,
                 random_seed: int | None = None) -> None:
        self.method = method
        self.sampler = sampler
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.cores = cores
        self.target_accept = target_accept
        self.advi_steps = advi_steps
        self.priors = priors
        self.ci_level = ci_level
        self.random_seed = random_seed
        self._check_settings()

    @property
    def param_names(self) -> tuple[str, ...]:
        return self.mle_class.param_names

    @property
    def kind(self) -> str:
        """The kind of the MLE model paralleled: ``"purchase"`` or ``"spend"``."""
        return self.mle_class.kind

    def get_settings(self) -> dict[str, Any]:
        """The constructor settings."""
        names = ("method", "sampler", "draws", "tune", "chains", "cores", "target_accept", "advi_steps",
                 "priors", "ci_level", "random_seed")
        return {n: getattr(self, n) for n in names}

    # -- hooks ----------------------------------------------------------------------------------
    def _data_scales(self, columns: dict[str, np.ndarray], weights: np.ndarray) -> dict[str, float]:
        """The data's scale for each scale parameter (the default prior medians)."""
        raise NotImplementedError  # pragma: no cover - abstract

    # -- data -----------------------------------------------------------------------------------
    def _mle(self) -> MLEModel:
        return self.mle_class()

    def _compressed(self, data, weights):
        """The rows the MLE would fit, compressed: ``(arrays, counts, frame)``."""
        mle = self._mle()
        frame, columns = mle._columns(data, signed=mle.fit_signed_columns)
        w = mle._weights(frame, weights)
        used = mle._fit_rows(frame, w)
        columns = {c: v[used] for c, v in columns.items()}
        w = w[used]
        mle._check_fit(frame, columns, w)
        if hasattr(mle, "n_excluded_"):
            self.n_excluded_ = mle.n_excluded_
        unique, counts = compress(columns, w)
        keep = counts > 0
        unique, counts = {c: v[keep] for c, v in unique.items()}, counts[keep]
        return mle, unique, counts, frame

    def build_model(self, data, *, weights=None):
        """The PyMC model: the priors and the total log-likelihood of the compressed rows.

        The likelihood enters as a ``pm.Potential`` of a :class:`~clvmodels.bayes._op.TotalLogLik`
        operation over the distinct histories with their counts, so its cost grows with the
        number of distinct histories, not of customers. Returns ``(pm.Model, resolved priors)``.
        """
        model, priors, _, _ = self._prepare(data, weights)
        return model, priors

    def _prepare(self, data, weights):
        """The PyMC model, its priors, the MLE's start point (dict) and facts about the data."""
        import pymc as pm
        import pytensor.tensor as pt

        mle, unique, counts, frame = self._compressed(data, weights)
        arrays = tuple(unique[c] for c in mle.data_columns if c in unique)
        priors = resolve_priors(self.param_names,
                                default_priors(self.shape_params, self._data_scales(unique, counts)),
                                self.priors)
        loglik = TotalLogLik(mle._objective(arrays, counts), self.name)
        with pm.Model() as model:
            params = [prior_variable(name, priors[name]) for name in self.param_names]
            pm.Potential("loglik", loglik(pt.stack(params)))
        start = dict(zip(self.param_names, mle._start_vector(unique, counts)))
        info = {"n_customers": float(counts.sum()), "n_unique": int(len(counts)),
                "time_unit": frame.attrs.get("time_unit")}
        return model, priors, start, info

    def _check_settings(self) -> None:
        """Every setting against its rule (called by ``__init__``; cheap: nothing is imported)."""
        _checks.choice(self.method, METHODS, name="method")
        _sampling.check_sampler_name(self.sampler)
        for name in ("draws", "tune", "chains", "advi_steps"):
            _checks.positive_int(getattr(self, name), name=name, minimum=0 if name == "tune" else 1)
        if self.cores is not None:
            _checks.positive_int(self.cores, name="cores")
        _checks.level(self.target_accept, name="target_accept", example="0.8, or 0.95 when fits diverge")
        _checks.level(self.ci_level, name="ci_level")
        if self.random_seed is not None:
            _checks.positive_int(self.random_seed, name="random_seed", minimum=0)
        if self.priors is not None:
            if not isinstance(self.priors, dict):
                raise InvalidArgumentError(f"priors must map parameter names ({', '.join(self.param_names)}) "
                                           f"to prior specs; got {self.priors!r}.")
            try:
                resolve_priors(self.param_names, {n: {"dist": "LogNormal", "mu": 0.0, "sigma": 1.0}
                                                  for n in self.param_names}, self.priors)
            except (TypeError, ValueError) as err:
                message = str(err)
                raise InvalidArgumentError(message if message.startswith("priors") else f"priors: {message}") from None

    # -- fitting --------------------------------------------------------------------------------
    def fit(self, data, *, weights=None):
        """Compute the posterior of the parameters given a customer summary.

        Parameters
        ----------
        data : pandas.DataFrame
            A summary with the columns the MLE model reads (see ``mle_class``).
        weights : array_like or str, optional
            Number of customers each row stands for, or the name of a column holding it.

        Returns
        -------
        self
            With ``idata_`` (an :class:`arviz.InferenceData`; ``posterior`` holds the parameters),
            ``params_`` (posterior means), ``priors_`` (the priors used), ``n_customers_``,
            ``n_unique_``, ``time_unit_`` and ``fit_seconds_``. ``method="mcmc"`` warns with a
            :class:`~clvmodels.bayes.PosteriorConvergenceWarning` when R-hat, the effective
            sample sizes or divergences show the chains have not converged.
        """
        sampler = _sampling.check_sampler(self.sampler) if self.method == "mcmc" else None
        start = time.perf_counter()
        model, priors, start_point, info = self._prepare(data, weights)
        names = list(self.param_names)
        if self.method == "mcmc":
            run = _sampling.sample_nutpie if sampler == "nutpie" else _sampling.sample_pymc
            idata = run(model, names, draws=int(self.draws), tune=int(self.tune), chains=int(self.chains),
                        cores=_sampling.n_cores(self.chains, self.cores), target_accept=self.target_accept,
                        seed=self.random_seed, start=start_point)
        elif self.method == "map":
            idata = _sampling.fit_map(model, names, seed=self.random_seed, start=start_point)
        else:
            idata = _sampling.fit_advi(model, names, draws=int(self.draws * self.chains),
                                       steps=int(self.advi_steps), seed=self.random_seed, start=start_point)
        self._set_posterior(idata, priors, sampler=sampler, fit_seconds=time.perf_counter() - start, **info)
        if self.method == "mcmc":
            check_convergence(self.idata_, names, model_name=type(self).__name__, stacklevel=2)
        return self

    def _set_posterior(self, idata, priors, *, sampler, fit_seconds, n_customers, n_unique, time_unit):
        import arviz as az

        names = list(self.param_names)
        posterior = idata.posterior[names]
        groups = {"posterior": posterior}
        if "sample_stats" in idata.groups():
            groups["sample_stats"] = idata.sample_stats
        self.idata_ = az.InferenceData(**groups)
        self.priors_ = priors
        self.sampler_ = sampler
        self.n_customers_ = n_customers
        self.n_unique_ = n_unique
        self.time_unit_ = time_unit
        self.fit_seconds_ = fit_seconds
        self.params_ = pd.Series([float(posterior[n].mean()) for n in names], index=names, name="posterior_mean")

    # -- fitted state ---------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "idata_")

    def _require_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet: call fit(summary) "
                                 f"or {type(self).__name__}.load(path) before predicting.")

    def posterior_draws(self) -> pd.DataFrame:
        """All posterior draws, one row per (chain, draw), one column per parameter."""
        self._require_fitted()
        posterior = self.idata_.posterior
        return pd.DataFrame({n: posterior[n].to_numpy().ravel() for n in self.param_names})

    def summary(self) -> pd.DataFrame:
        """Posterior mean, sd and HDI at ``ci_level`` per parameter, with R-hat and bulk/tail ESS.

        For ``method="map"`` the sd is 0 and the diagnostics are NaN. ``attrs`` carry the method,
        the sampler, the number of divergences and the number of customers.
        """
        import arviz as az

        self._require_fitted()
        names = list(self.param_names)
        posterior = self.idata_.posterior
        _checks.level(self.ci_level, name="ci_level")  # checked again: it may be set after building
        label = f"{100 * self.ci_level:g}%"
        if posterior.sizes["chain"] * posterior.sizes["draw"] > 1:
            hdi = az.hdi(self.idata_, hdi_prob=self.ci_level, var_names=names)
            lower = [float(hdi[n].sel(hdi="lower")) for n in names]
            upper = [float(hdi[n].sel(hdi="higher")) for n in names]
        else:
            lower = upper = [float(posterior[n].mean()) for n in names]
        table = pd.DataFrame({
            "mean": [float(posterior[n].mean()) for n in names],
            "sd": [float(posterior[n].std()) for n in names],
            f"hdi lower {label}": lower,
            f"hdi upper {label}": upper,
        }, index=pd.Index(names, name="parameter"))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # ESS of a constant (MAP) chain
            diagnostics = convergence_table(self.idata_, names)
        table = table.join(diagnostics)
        table.attrs.update({"method": self.method, "sampler": self.sampler_, "divergences": self.divergences_,
                            "n_customers": self.n_customers_, "ci_level": self.ci_level})
        return table

    def loo(self, data, *, weights=None):
        """PSIS-LOO on the summary the model was fitted on; see :func:`clvmodels.bayes.diagnostics.loo`."""
        return diagnostics.loo(self, data, weights=weights)

    def waic(self, data, *, weights=None):
        """WAIC on the summary the model was fitted on; see :func:`clvmodels.bayes.diagnostics.waic`."""
        return diagnostics.waic(self, data, weights=weights)

    @property
    def divergences_(self) -> int | None:
        """Number of divergent NUTS transitions (None without MCMC)."""
        stats = self.idata_.get("sample_stats") if self.is_fitted else None
        if stats is None or "diverging" not in stats:
            return None
        return int(stats["diverging"].sum())

    def __repr__(self) -> str:
        if not self.is_fitted:
            return f"{type(self).__name__}(unfitted)"
        values = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"{type(self).__name__}({values}; posterior means, {self.method})"

    # -- persistence ----------------------------------------------------------------------------
    def _attrs(self) -> dict[str, str]:
        meta = {"n_customers": self.n_customers_, "n_unique": self.n_unique_, "time_unit": self.time_unit_,
                "fit_seconds": self.fit_seconds_, "sampler": self.sampler_,
                "n_excluded": getattr(self, "n_excluded_", None)}
        return {"clvmodels_format": FILE_FORMAT, "clvmodels_format_version": str(FILE_FORMAT_VERSION),
                "clvmodels_model": self.name, "clvmodels_library_version": __version__,
                "clvmodels_settings": json.dumps(self.get_settings()),
                "clvmodels_priors": json.dumps(self.priors_), "clvmodels_fit": json.dumps(meta)}

    def save(self, path) -> None:
        """Write the posterior as NetCDF; settings, priors and fit facts go in JSON attributes.

        The file is written atomically and never pickled: loading it runs no code.
        """
        self._require_fitted()
        idata = self.idata_.copy()
        idata.posterior.attrs.update(self._attrs())
        with atomic_path(path) as tmp:
            idata.to_netcdf(str(tmp))

    @classmethod
    def load(cls, path):
        """Read a posterior written by :meth:`save`; checks the model type and the file version.

        Raises
        ------
        clvmodels.exceptions.ModelFileError
            If the file is not a clvmodels posterior, holds another model, or was written by a
            newer file format.
        """
        return cls._from_file(path, *read_posterior(path, cls.__name__))

    @classmethod
    def _from_file(cls, path, idata, attrs):
        """The model of ``cls`` from a posterior and its attributes as read by :func:`read_posterior`.

        Every attribute is type-checked and the draws must be positive finite numbers, so a damaged
        file gives one :class:`~clvmodels.exceptions.ModelFileError` naming it and the problem.
        """
        if attrs.get("clvmodels_model") != cls.name:
            raise ModelFileError(f"{path} holds a {attrs.get('clvmodels_model')!r} posterior, not {cls.name!r}; "
                                 "load it with the matching class.")
        try:
            settings, priors, fit = (_json_attr(attrs, key) for key in
                                     ("clvmodels_settings", "clvmodels_priors", "clvmodels_fit"))
            for key, value in (("settings", settings), ("priors", priors), ("fit facts", fit)):
                if not isinstance(value, dict):
                    raise ValueError(f"its {key} are a JSON {type(value).__name__}, not an object")
            model = cls(**settings)
            unknown = sorted(set(priors) ^ set(cls.mle_class.param_names))
            if unknown:
                raise ValueError(f"its priors do not match the parameters {cls.mle_class.param_names} ({unknown})")
            priors = {name: check_prior(name, spec) for name, spec in priors.items()}
            missing = [n for n in cls.mle_class.param_names if n not in idata.posterior]
            if missing:
                raise ValueError(f"the posterior lacks {missing}")
            for name in cls.mle_class.param_names:
                values = np.asarray(idata.posterior[name].values)
                if values.size == 0 or not np.issubdtype(values.dtype, np.number) \
                        or not np.all(np.isfinite(values)) or np.any(values <= 0):
                    raise ValueError(f"the draws of {name!r} must be positive finite numbers")
            _check_fit_facts(fit)
        except (KeyError, TypeError, ValueError, RecursionError) as err:
            raise ModelFileError(f"{path} is a damaged {cls.name!r} posterior file: {err}.") from None
        for key in [k for k in idata.posterior.attrs if k.startswith("clvmodels_")]:
            del idata.posterior.attrs[key]
        model._set_posterior(idata, priors, sampler=fit.get("sampler"), fit_seconds=fit.get("fit_seconds"),
                             n_customers=fit.get("n_customers"), n_unique=fit.get("n_unique"),
                             time_unit=fit.get("time_unit"))
        if fit.get("n_excluded") is not None:
            model.n_excluded_ = fit["n_excluded"]
        return model


def _json_attr(attrs, key: str):
    """A JSON-valued attribute of a posterior file (``KeyError`` or ``ValueError`` when damaged)."""
    text = attrs[key]
    if not isinstance(text, str):
        raise ValueError(f"{key} is not text")
    return json.loads(text)


def _check_fit_facts(fit: dict) -> None:
    """The fit facts of a posterior file have their types (``ValueError`` naming the first that does not)."""
    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v) and v >= 0

    rules = {"n_customers": number, "fit_seconds": number,
             "n_unique": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
             "time_unit": lambda v: isinstance(v, str), "sampler": lambda v: isinstance(v, str),
             "n_excluded": lambda v: isinstance(v, dict)}
    wrong = {key: fit[key] for key, ok in rules.items() if fit.get(key) is not None and not ok(fit[key])}
    if wrong:
        raise ValueError(f"its fit facts have values of the wrong type: {wrong}")


#: The first bytes of the files NetCDF readers open: HDF5 (NetCDF-4) and classic NetCDF.
_NETCDF_SIGNATURES = (b"\x89HDF\r\n\x1a\n", b"CDF\x01", b"CDF\x02", b"CDF\x05")



#: Longest value of a file's attribute echoed in a message (a damaged file may hold megabytes).
_SHOWN_CHARS = 40


def _shown(value, *, quote: bool = True) -> str:
    """``value`` for a message (``repr`` or ``str``), cut to its first :data:`_SHOWN_CHARS` characters."""
    text = repr(value) if quote else str(value)
    return text if len(text) <= _SHOWN_CHARS else f"{text[:_SHOWN_CHARS]}... ({len(text):,} characters)"

def read_posterior(path, writer: str = "BayesBetaGeoModel"):
    """The :class:`arviz.InferenceData` of a posterior file and its clvmodels attributes.

    Checks that the file is a clvmodels posterior of a format this version reads; the model type
    is checked by the caller (:meth:`BayesModel.load` or :func:`clvmodels.bayes.load_model`).
    Whatever is wrong with the file, one :class:`~clvmodels.exceptions.ModelFileError` names it.
    """
    import arviz as az

    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as err:
        raise ModelFileError(f"{path} cannot be read as a posterior file: {err.strerror or err}.") from None
    if not head.startswith(_NETCDF_SIGNATURES):
        kind = "JSON (an MLE model file? load it with clvmodels.load_model(path))" if head.lstrip()[:1] == b"{" \
            else "a Python pickle, which clvmodels never reads" if head[:1] == b"\x80" else "not NetCDF"
        raise ModelFileError(f"{path} is not a NetCDF posterior file: its first bytes {head!r} say {kind}. "
                             f"Write posteriors with {writer}.save(path).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            lazy = az.from_netcdf(str(path))
        idata = az.InferenceData(**{g: lazy[g].load() for g in lazy.groups()})
        for group in lazy.groups():  # release the file
            lazy[group].close()
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, AttributeError, IndexError) as err:
        raise ModelFileError(f"{path} is not a readable NetCDF posterior file ({type(err).__name__}: {err}); "
                             f"write one with {writer}.save(path).") from None
    attrs = idata.posterior.attrs if "posterior" in idata.groups() else {}
    if attrs.get("clvmodels_format") != FILE_FORMAT:
        raise ModelFileError(f"{path} is not a clvmodels posterior file (no format {FILE_FORMAT!r}).")
    raw = attrs.get("clvmodels_format_version")
    try:
        version = int(raw)
        if str(version) != str(raw).strip():
            raise ValueError
    except (TypeError, ValueError):
        version = None
    if version is None or version < 1:
        raise ModelFileError(f"{path} has clvmodels_format_version {_shown(raw)}; a clvmodels posterior file has "
                             f"a whole number from 1 to {FILE_FORMAT_VERSION}. The file is damaged.")
    if version > FILE_FORMAT_VERSION:
        raise ModelFileError(f"{path} was written by a newer clvmodels "
                             f"({_shown(attrs.get('clvmodels_library_version'), quote=False)}, format "
                             f"{_shown(version, quote=False)}); upgrade clvmodels to read it.")
    return idata, attrs
