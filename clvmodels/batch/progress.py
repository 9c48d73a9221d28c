"""Progress of a run: a bar with rate and ETA on a terminal, plain log lines otherwise.

Log lines go to the ``clvmodels.batch`` logger (the CLI sends it to stderr); library code never
prints.
"""

from __future__ import annotations

import logging
import sys
import time

from tqdm import tqdm

logger = logging.getLogger("clvmodels.batch")
LOG_EVERY_S = 10.0


class Progress:
    """Count customers scored.

    Parameters
    ----------
    total : int
        Customers to score.
    enabled : bool, optional
        True: always a bar; False: nothing; None (default): a bar on a terminal, log lines otherwise.
    """

    def __init__(self, total: int, *, enabled: bool | None = None, what: str = "score"):
        terminal = enabled is True or (enabled is None and sys.stderr.isatty())
        self.bar = tqdm(total=total, unit="customer", unit_scale=True, desc=what, dynamic_ncols=True) if terminal else None
        self.lines = enabled is None and not terminal
        self.total, self.done, self.what = total, 0, what
        self.start = self.last = time.perf_counter()

    def update(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        now = time.perf_counter()
        if self.lines and (now - self.last >= LOG_EVERY_S or self.done >= self.total):
            self.last = now
            rate = self.done / max(now - self.start, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("nan")
            logger.info("%s: %s/%s customers (%.0f%%), %s/s, ETA %.0f s", self.what, f"{self.done:,}",
                        f"{self.total:,}", 100 * self.done / max(self.total, 1), f"{rate:,.0f}", eta)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
