"""Config-driven batch scoring and model comparison: schema, pipeline stages, engines, outputs."""

from .compare import compare
from .config import CompareConfig, RunConfig, load_config
from .runner import fit, run, score

__all__ = ["RunConfig", "CompareConfig", "load_config", "run", "fit", "score", "compare"]
