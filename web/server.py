"""Start the workspace: check who may bind where, then serve the app with uvicorn (one process)."""

from __future__ import annotations

import logging

from rezonans.config import Settings
from web.auth import check_binding

log = logging.getLogger(__name__)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until interrupted; a non-loopback host without users is refused (AccessError) before anything starts."""
    check_binding(host, settings.web_users)
    import uvicorn

    from web.app import create_app

    app = create_app(settings)
    log.info("serving on http://%s:%d/", host, port)
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, proxy_headers=False)
