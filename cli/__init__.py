"""Typer command-line interface: a thin layer over functions in the stage packages."""

import os

# One BLAS/OpenMP thread unless the user asked otherwise: the parser's small matrix products gain nothing from
# more, and idle BLAS threads spin on the cores the crawl and the analysis workers need (`rezonans analyze` under
# load: 72 s → 28 s). Set here, before anything loads numpy; spawned workers inherit it.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
