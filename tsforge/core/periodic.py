"""Background chores that run every few seconds in a service (reaping, janitoring)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Calls `chore` every `interval` seconds on a daemon thread until stopped.

    A failing chore is logged and tried again next time: a database hiccup must not
    end it for good.
    """

    def __init__(self, name: str, interval: float, chore: Callable[[], object]):
        self._interval, self._chore = interval, chore
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stopping.wait(self._interval):
            try:
                self._chore()
            except Exception:
                log.exception("%s failed", self._thread.name)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=self._interval + 5)
