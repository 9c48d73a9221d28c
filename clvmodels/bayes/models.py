"""The Bayesian models: a thin declaration per model on :class:`~clvmodels.bayes._base.BayesModel`.

Each names the MLE class it parallels; the likelihood, the data rules and the prediction maths are
that model's (:mod:`clvmodels.likelihoods`). Predictions return, per customer, the posterior mean,
sd and an equal-tailed credible interval at ``ci_level``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import _checks
from ..likelihoods import gamma_gamma
from ..models.bgnbd import BetaGeoModel
from ..models.gamma_gamma import GammaGammaModel
from ..models.mbgnbd import ModifiedBetaGeoModel
from ..models.pareto_nbd import ParetoNBDModel
from ..exceptions import ModelFileError
from . import _predict
from ._base import BayesModel, read_posterior
from ._predict import Predictions, per_draw
from .discrete import BayesBetaGeoBetaBinomModel, BayesShiftedBetaGeoModel


class BayesPurchaseModel(Predictions, BayesModel):
    """Shared body of the Bayesian continuous-time purchase models (``frequency, recency, T``)."""

    #: Whether the prediction maths broadcasts a column of draws against the customers; if not,
    #: predictions loop over the draws (each call still vectorised over the histories).
    broadcasts_draws: bool = True

    def _data_scales(self, columns, weights):
        # 1 / (average purchase rate): the alpha of a gamma with r = 1 matching it (the MLE start).
        rate = (max(np.average(columns["frequency"], weights=weights), 0.1)
                / max(np.average(columns["T"], weights=weights), 1e-9))
        return {name: 1.0 / rate for name in self.mle_class.rate_params}

    def _slow_draws(self, draws):
        # BG/NBD and MBG/NBD interpolate expected purchases across a = 1 (|a - 1| < 1e-3) for a
        # whole array as soon as one element needs it: five evaluations instead of one.
        if "a" not in self.param_names:
            return None
        return np.abs(draws[:, self.param_names.index("a")] - 1) < 2e-3

    @property
    def maths(self):
        return self.mle_class.maths

    def _quantities(self, t=None):
        p_alive, purchases = self.maths.probability_alive, self.maths.expected_purchases
        if not self.broadcasts_draws:
            p_alive, purchases = per_draw(p_alive), per_draw(purchases)

        def alive(params, c):
            return np.broadcast_to(p_alive(params, c["frequency"], c["recency"], c["T"]),
                                   (len(params[0]), len(c["T"])))

        quantities = {"probability_alive": alive}
        if t is not None:
            quantities["expected_purchases"] = _predict.by_pairs(purchases, p_alive, float(t))
        return quantities

    def probability_alive(self, data, *, ci_level=None, n_draws=None, random_state=None) -> pd.DataFrame:
        """P(alive) at the end of observation: posterior ``mean``, ``sd``, ``lower``/``upper``.

        Parameters
        ----------
        data : pandas.DataFrame
            Summary with ``frequency``, ``recency`` and ``T``.
        ci_level : float, optional
            Probability of the equal-tailed interval (default: the model's ``ci_level``).
        n_draws : int, optional
            Use this many posterior draws, chosen at random (default: all).
        random_state : int, optional
            Seed of that choice (default: the model's ``random_seed``).
        """
        return self._predict("probability_alive", self._quantities()["probability_alive"], data,
                             ci_level=ci_level, n_draws=n_draws, random_state=random_state)

    def expected_purchases(self, data, t, *, ci_level=None, n_draws=None, random_state=None) -> pd.DataFrame:
        """Expected purchases in the next ``t`` time units: posterior ``mean``, ``sd``, interval.

        The arguments are those of :meth:`probability_alive`, plus the horizon ``t`` in the
        data's time unit.
        """
        t = _checks.number(t, name="t", minimum=0.0,
                           rule="a finite non-negative time in the data's time unit (e.g. 52 for a year of weeks)")
        return self._predict("expected_purchases", self._quantities(t)["expected_purchases"], data,
                             ci_level=ci_level, n_draws=n_draws, random_state=random_state)


class BayesBetaGeoModel(BayesPurchaseModel):
    """BG/NBD fitted by Bayesian inference; the likelihood is :class:`~clvmodels.BetaGeoModel`'s.

    Default priors (see :mod:`clvmodels.bayes.priors`): log-normal with log-sd 3 for every
    parameter, median 1 for ``r, a, b`` and median at the data's mean time between purchases for
    ``alpha``. Settings are those of :class:`~clvmodels.bayes._base.BayesModel`.

    Examples
    --------
    >>> from clvmodels import datasets
    >>> from clvmodels.bayes import BayesBetaGeoModel
    >>> summary = datasets.load_cdnow_summary()
    >>> model = BayesBetaGeoModel(method="map").fit(summary)
    >>> model.params_.round(1).to_dict()  # the posterior mode; the MLE is (0.24, 4.41, 0.79, 2.43)
    {'r': 0.2, 'alpha': 4.4, 'a': 0.7, 'b': 2.1}
    """

    name = "bayes_bgnbd"
    mle_class = BetaGeoModel
    shape_params = ("r", "a", "b")


class BayesModifiedBetaGeoModel(BayesPurchaseModel):
    """MBG/NBD fitted by Bayesian inference; the likelihood is
    :class:`~clvmodels.ModifiedBetaGeoModel`'s. Priors as for :class:`BayesBetaGeoModel`.

    The likelihood is BG/NBD's tabulated objective with the dropout at the first purchase
    (:func:`clvmodels.likelihoods.mbgnbd.make_objective`), so sampling costs what BG/NBD's does.
    """

    name = "bayes_mbgnbd"
    mle_class = ModifiedBetaGeoModel
    shape_params = ("r", "a", "b")


class BayesParetoNBDModel(BayesPurchaseModel):
    """Pareto/NBD fitted by Bayesian inference; the likelihood is :class:`~clvmodels.ParetoNBDModel`'s.

    Default priors: log-normal with log-sd 3; median 1 for the shapes ``r, s`` and the data's mean
    time between purchases for the scales ``alpha, beta``.

    Cost: its likelihood (numerical integration) costs about 20 times BG/NBD's, so NUTS on
    CDNOW takes about a minute; predictions, including
    :func:`~clvmodels.bayes.customer_lifetime_value`, loop over the draws (the maths takes scalar
    parameters), so they cost several times BG/NBD's.
    """

    name = "bayes_pareto_nbd"
    mle_class = ParetoNBDModel
    shape_params = ("r", "s")
    broadcasts_draws = False


class BayesGammaGammaModel(Predictions, BayesModel):
    """Gamma-Gamma spend model fitted by Bayesian inference; the likelihood is
    :class:`~clvmodels.GammaGammaModel`'s (repeat customers only, same data rules).

    Default priors: log-normal with log-sd 3, median 1 for ``p, q`` and median at the mean spend of
    the repeat customers for ``gamma``. Expected spend needs ``q > 1``; draws with ``q <= 1``
    give an infinite population mean (NaN predictions), which signals outliers in the spend data.

    Parameters
    ----------
    on_nonpositive : {"raise", "exclude"}, default "raise"
        As for :class:`~clvmodels.GammaGammaModel`.
    **settings
        As for :class:`~clvmodels.bayes._base.BayesModel`.

    Examples
    --------
    >>> from clvmodels import datasets
    >>> from clvmodels.bayes import BayesGammaGammaModel
    >>> model = BayesGammaGammaModel(method="map").fit(datasets.load_cdnow_summary())
    >>> model.params_.round(1).to_dict()  # the posterior mode; the MLE is (6.25, 3.74, 15.45)
    {'p': 6.3, 'q': 3.7, 'gamma': 15.1}
    """

    name = "bayes_gamma_gamma"
    mle_class = GammaGammaModel
    shape_params = ("p", "q")

    def __init__(self, *, on_nonpositive: str = "raise", **settings) -> None:
        super().__init__(**settings)
        _checks.choice(on_nonpositive, ("raise", "exclude"), name="on_nonpositive")
        self.on_nonpositive = on_nonpositive

    def get_settings(self):
        return {**super().get_settings(), "on_nonpositive": self.on_nonpositive}

    def _mle(self):
        return GammaGammaModel(on_nonpositive=self.on_nonpositive)

    def _data_scales(self, columns, weights):
        return {"gamma": float(np.average(columns["monetary_value"], weights=weights))}

    def _quantities(self):
        return {"expected_spend": lambda params, c: gamma_gamma.expected_spend(
            params, c["frequency"], c["monetary_value"])}

    def expected_spend(self, data, *, ci_level=None, n_draws=None, random_state=None) -> pd.DataFrame:
        """Expected mean transaction value per customer: posterior ``mean``, ``sd``, interval.

        Customers with ``frequency == 0`` get the population mean spend ``p gamma / (q - 1)``.
        Arguments as for :meth:`BayesPurchaseModel.probability_alive`.
        """
        return self._predict("expected_spend", self._quantities()["expected_spend"], data,
                             ci_level=ci_level, n_draws=n_draws, random_state=random_state)


#: The Bayesian models by the ``name`` their files record.
BAYES_MODELS = {cls.name: cls for cls in (BayesBetaGeoModel, BayesModifiedBetaGeoModel, BayesParetoNBDModel,
                                          BayesGammaGammaModel, BayesBetaGeoBetaBinomModel,
                                          BayesShiftedBetaGeoModel)}


def load_model(path) -> BayesModel:
    """Load any posterior written by a Bayesian model's ``save``, choosing the class from the file.

    Raises
    ------
    clvmodels.exceptions.ModelFileError
        If the file is not a clvmodels posterior or holds a model this clvmodels does not know.
    """
    idata, attrs = read_posterior(path, "BayesBetaGeoModel or BayesGammaGammaModel")
    cls = BAYES_MODELS.get(attrs.get("clvmodels_model"))
    if cls is None:
        raise ModelFileError(f"{path} holds a {attrs.get('clvmodels_model')!r} posterior, which this clvmodels "
                             f"does not know; known: {sorted(BAYES_MODELS)}.")
    return cls._from_file(path, idata, attrs)
