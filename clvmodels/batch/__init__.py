"""Config-driven batch scoring: schema, pipeline runner, output writing."""

from .config import RunConfig, load_config
from .runner import run

__all__ = ["RunConfig", "load_config", "run"]
