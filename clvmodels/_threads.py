"""BLAS on one thread while clvmodels runs its own parallel work (threadpoolctl).

The heavy BLAS calls here are dot products over the rows of a likelihood or a chunk of customers:
memory bound, so extra BLAS threads do not make them faster, while OpenBLAS's idle threads
busy-wait on the cores that clvmodels' own threads need (sampling chains, the thread writing
scores). Measured on 2 cores: one evaluation of the 100,000-customer BG/NBD objective took 2.0 ms
with BLAS threads and 0.33 ms without while chains sampled; scoring and writing 1,000,000
customers took 0.48 s and 0.38 s.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def single_threaded_blas():
    """A context manager in which BLAS libraries use one thread."""
    return threadpool_limits(limits=1, user_api="blas")
