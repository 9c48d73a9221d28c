"""Data layer: validated transactions, RFM summaries, calibration/holdout splits."""

from .discrete import discrete_summary, pattern_counts
from .subscriptions import retention_summary
from .split import calibration_holdout_split
from .summary import rfm_summary
from .synthetic import simulate_transactions
from .transactions import Exclusions, prepare_transactions

__all__ = ["rfm_summary", "calibration_holdout_split", "prepare_transactions", "Exclusions", "simulate_transactions", "discrete_summary", "pattern_counts", "retention_summary"]
