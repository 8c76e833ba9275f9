"""ASGI entry point for uvicorn: `contestday.asgi:create` (a factory: settings from the environment)."""

import gc
import sys

from litestar import Litestar

from contestday.app import create_app
from contestday.settings import SettingsError, load_settings
from contestday.web.admission import SWITCH_INTERVAL

__all__ = ["create"]


def create() -> Litestar:
    try:
        app = create_app(load_settings(page_process=True))  # CONTESTDAY_PAGE_PROCESS=0 turns it off
    except SettingsError as exc:  # one plain message and exit 2, as the command line does: no traceback
        print(exc, file=sys.stderr, flush=True)
        sys.exit(2)
    # everything built at start-up (modules, routes, table metadata) moves out of the collector's reach:
    # full collections then walk only what requests create
    gc.collect()
    gc.freeze()
    sys.setswitchinterval(SWITCH_INTERVAL)  # the loop gets the interpreter back sooner from a busy thread
    return app
