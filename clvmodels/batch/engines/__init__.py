"""Engines run the data-heavy stages (summary, scoring) in this process (pandas) or on a Dask
cluster (dask); both hand the same summaries to the same fitting and scoring code."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Summaries:
    """The summaries of a run and the accounting of rows and customers behind them.

    ``fit`` is observed to ``summary.calibration_period_end`` when set, else it is ``score``.
    The dask engine holds them as dask dataframes.
    """

    fit: object = None
    score: object = None
    input: dict = field(default_factory=dict)
    rows: dict = field(default_factory=dict)
    customers: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    #: The transactions after the filters (pandas engine only; for the KPIs).
    transactions: object = None


def make_engine(config):
    """The engine named by ``config.engine.type`` (dask is imported only when configured)."""
    if config.engine.type == "dask":
        from .dask import DaskEngine

        return DaskEngine(config.engine)
    from .pandas import PandasEngine

    return PandasEngine(config.engine)
