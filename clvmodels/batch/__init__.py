"""Config-driven batch scoring and model comparison: schema, pipeline runners, output writing."""

from .compare import compare
from .config import CompareConfig, RunConfig, load_config
from .runner import run

__all__ = ["RunConfig", "CompareConfig", "load_config", "run", "compare"]
