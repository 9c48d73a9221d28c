"""``python -m clvmodels``: the command line (:mod:`clvmodels.cli`)."""

import sys

from .cli import main

sys.exit(main())
