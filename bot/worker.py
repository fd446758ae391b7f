"""A background loop inside `serve`: a pass every interval, or at once when woken.

The alarm notifier and the order worker are such loops; each pass takes its own
named database lock, so one replica at a time does the work.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from domain.errors import DomainError

log = logging.getLogger(__name__)


class Loop:
    #: Shown in logs and as the thread's name.
    name = "worker"
    interval_s: float = 5.0

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> Any:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def wake(self) -> None:
        """Something changed: look now instead of at the next interval."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except DomainError as exc:  # the database is away: try again next time
                log.warning("%s waits: %s", self.name, exc)
            except Exception:
                log.exception("%s failed", self.name)
