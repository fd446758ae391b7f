"""A background loop inside `serve`: a pass every interval, or at once when woken.

The alarm notifier and the order worker are such loops; each pass takes its own
named database lock, so one replica at a time does the work.

A pass that fails is handled here, the one way for every loop. When something outside
is away (Slack, the database) the loop says so in one warning at the start of the
outage, with the error's class and message and no traceback; then it backs off
(interval, 2x, 4x ... up to `max_backoff_s`), counts every failed pass in
`switchboard_background_failures_total{loop,error}`, shows
`switchboard_background_up{loop}` 0, and says once that it recovered. An error that is
a bug is logged with its traceback, once per distinct error while the failures last.
Loops let such errors leave `run_once`; they handle inside only what concerns one item
(Slack refusing one message for good).
"""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time
import urllib.error
from typing import Any

from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.outbound import SlackNotConfigured
from domain.errors import DatabaseUnavailable, DomainError

log = logging.getLogger(__name__)

#: The longest a loop waits between passes while what it needs is away.
MAX_BACKOFF_S = 300.0

#: Errors that mean Slack's Web API did not answer (or answered nothing usable).
SLACK_AWAY: tuple[type[BaseException], ...] = (
    SlackApiError,
    SlackNotConfigured,
    urllib.error.URLError,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    socket.herror,
    http.client.HTTPException,
)


def _driver_error(exc: BaseException) -> bool:
    """SQLAlchemy's OperationalError or InterfaceError (the database is away or busy).

    Named rather than imported: bot/ imports nothing from sqlalchemy (import-linter).
    """
    return any(
        cls.__module__.startswith("sqlalchemy.")
        and cls.__name__ in ("OperationalError", "InterfaceError")
        for cls in type(exc).__mro__
    )


def unreachable(exc: BaseException) -> str | None:
    """What a failed pass could not reach ("Slack", "the database"); None for any other error."""
    if isinstance(exc, DatabaseUnavailable) or _driver_error(exc):
        return "the database"
    if isinstance(exc, SLACK_AWAY):
        return "Slack"
    return None


def _said(exc: BaseException) -> str:
    """An error's message on one line, cut to a readable length."""
    words = " ".join(str(exc).split()) or "(no message)"
    return words if len(words) <= 300 else words[:299] + "…"


class Loop:
    #: Shown in logs and metrics, and as the thread's name.
    name = "worker"
    interval_s: float = 5.0
    #: The longest wait between passes while a pass keeps failing.
    max_backoff_s: float = MAX_BACKOFF_S

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Seconds on a monotonic clock, for how long an outage lasted (tests set a fake).
        self.timer = time.monotonic
        #: Failed passes in a row, and when the first of them was.
        self.failures = 0
        self._since = 0.0
        #: What was said during these failures: what was away, or a bug's class and message.
        self._said: set[str] = set()

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

    # -- one pass, its failure handled ---------------------------------------------------

    def step(self) -> float:
        """One pass, a failure handled the one way; the seconds to wait before the next."""
        try:
            self.run_once()
        except Exception as exc:
            self._failed(exc)
        else:
            self._worked()
        return self.next_wait_s()

    def next_wait_s(self) -> float:
        """The interval; while passes fail, interval, 2x, 4x ... capped at max_backoff_s."""
        if not self.failures:
            return self.interval_s
        backoff = self.interval_s * 2 ** min(self.failures - 1, 32)
        return min(backoff, max(self.max_backoff_s, self.interval_s))

    def _failed(self, exc: Exception) -> None:
        error = type(exc).__name__
        metrics.BACKGROUND_FAILURES.labels(self.name, error).inc()
        metrics.BACKGROUND_UP.labels(self.name).set(0)
        if not self.failures:
            self._since = self.timer()
        self.failures += 1
        away = unreachable(exc)
        said = away or f"{error}: {exc}"
        if said in self._said:
            return  # said already in these failures: counted, not repeated
        self._said.add(said)
        if away is not None:
            log.warning(
                "%s cannot reach %s: %s: %s; retrying with backoff",
                self.name,
                away,
                error,
                _said(exc),
            )
        elif isinstance(exc, DomainError):  # a refusal in words, not a bug
            log.warning("%s failed: %s: %s; retrying with backoff", self.name, error, _said(exc))
        else:
            log.error(
                "%s failed: %s: %s; retrying with backoff",
                self.name,
                error,
                _said(exc),
                exc_info=exc,
            )

    def _worked(self) -> None:
        metrics.BACKGROUND_UP.labels(self.name).set(1)
        if not self.failures:
            return
        passes = f"{self.failures} failed pass" + ("es" if self.failures != 1 else "")
        log.info("%s recovered after %s (%.0fs)", self.name, passes, self.timer() - self._since)
        self.failures = 0
        self._said.clear()

    def _loop(self) -> None:
        wait = self.interval_s
        while not self._stop.is_set():
            if self.failures:
                # Backing off: a wake() (each alert of a storm) must not bring the next
                # try forward, or a busy loop would knock on what is away all the time.
                self._stop.wait(wait)
            else:
                self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            wait = self.step()
