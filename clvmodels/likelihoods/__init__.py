"""Pure, vectorised mathematics of each model: log-likelihoods, gradients, predictions, simulation.

Nothing here knows about DataFrames, fitting or files; the estimators in :mod:`clvmodels.models`
and (later) the PyMC graphs are built on these functions.
"""
