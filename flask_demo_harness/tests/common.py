"""Helpers the harness tests share."""

import os
import time

from flask_demo_harness import ROUTES

ROUTES_WITHOUT_DATABASE = [route for route in ROUTES if route != "/api/db"]


def process_is_gone(pid: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False
