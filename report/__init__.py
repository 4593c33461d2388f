"""Search query language, weekly publicity report, outcomes, re-analysis and the end-to-end demo."""

import logging as _logging


def quiet_transport() -> None:
    """Keep the ES client's retry tracebacks out of CLI output unless --verbose (our own message says what failed)."""
    if _logging.getLogger().getEffectiveLevel() > _logging.DEBUG:
        _logging.getLogger("elastic_transport").setLevel(_logging.CRITICAL)
