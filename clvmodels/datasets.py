"""Bundled datasets (``clvmodels.datasets.load_cdnow()``); see :mod:`clvmodels.data.datasets`."""

from .data.datasets import *  # noqa: F401,F403
from .data.datasets import __all__  # noqa: F401
