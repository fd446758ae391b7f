"""Scheduled jobs, once per cluster: APScheduler 3 with its job store in our database.

Every `serve` replica runs a `ClusterScheduler`, but only the one holding the named
database lock "scheduler" runs jobs (an advisory lock on PostgreSQL, a file lock on
SQLite; both go when the holder's process dies, and another replica takes over
within `poll_s`). Jobs are stored with their next run time, so a restart neither
forgets nor replays them: a run missed by less than `misfire_grace_s` happens once
(runs that piled up are coalesced into one), an older one is skipped.

A stored job names a kind and an argument ("digest", "manager-daily"); what each
kind does is registered by the composition root, so the store holds no code.

`serve` runs the jobs themselves in a `JobWorker`, a separate process: this process
only decides when (the lock, misfires, coalescing) and hands over (kind, argument),
then logs the outcome, once per run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import datetime

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from domain.config import Settings
from domain.db import Database

log = logging.getLogger(__name__)

LOCK = "scheduler"
#: kind -> what to do with the job's argument; filled by the composition root.
_RUNNERS: dict[str, Callable[[str], object]] = {}


@dataclass(frozen=True)
class JobSpec:
    id: str
    kind: str
    arg: str
    trigger: CronTrigger | IntervalTrigger

    @property
    def describe(self) -> str:
        return str(self.trigger)


def run_job(kind: str, arg: str) -> None:
    """What every stored job calls: the runner registered for its kind.

    The outcome is logged here, once: a failure is one record (with the worker's
    traceback when there is one), and APScheduler sees a job that returned, so it
    neither logs it again nor stops scheduling it.
    """
    runner = _RUNNERS.get(kind)
    name = f"{kind} {arg}".strip()
    if runner is None:
        log.warning("no runner for scheduled job kind %r (arg %r); skipped", kind, arg)
        return
    started = time.monotonic()
    try:
        result = runner(arg)
    except WorkerStopped as exc:
        log.warning("scheduled job %s %s", name, exc)
    except WorkerDied as exc:
        log.error("scheduled job %s failed: %s", name, exc)
    except Exception as exc:
        log.error("scheduled job %s failed: %s: %s", name, type(exc).__name__, exc, exc_info=exc)
    else:
        log.info("scheduled job %s done in %.1f s: %s", name, time.monotonic() - started, result)


class WorkerStopped(RuntimeError):
    """A job was due while the job worker was shutting down; it did not run."""


class WorkerDied(RuntimeError):
    """The job worker process died (killed, out of memory, a crash in C) running a job."""


def register_runners(runners: Mapping[str, Callable[[str], object]]) -> None:
    """What this process runs for each job kind (the composition root, or a job worker's
    initializer, calls this)."""
    _RUNNERS.update(runners)


def run_here(kind: str, arg: str) -> tuple[int, object]:
    """Run a job in this process (a job worker): its runner's result and this process's id."""
    runner = _RUNNERS.get(kind)
    if runner is None:
        raise LookupError(f"no runner for scheduled job kind {kind!r} in the job worker")
    return os.getpid(), runner(arg)


def _start_worker_process(
    nice: int, initializer: Callable[..., None], initargs: tuple[object, ...]
) -> None:
    if nice:
        os.nice(nice)
    initializer(*initargs)


class JobWorker:
    """Scheduled jobs in their own process, so seconds of CPU (fraud scoring, bill runs,
    digests with charts) never hold the interpreter of the process that acks Slack.

    A `ProcessPoolExecutor` of `processes` processes started with "spawn" (forking a
    process that runs threads can copy a lock some thread held). Each process runs
    `initializer(*initargs)` once: it builds its own database engine, services and
    Slack outbound queue and calls `register_runners`; so Slack's pacing (a message a
    second per channel) holds per process, not across them. The scheduler's thread
    blocks in `run` until the job is done, which keeps APScheduler's rules as they were:
    a job still running (or waiting for a process) when it is due again is not started
    twice, and missed runs coalesce.

    The processes run at a lower CPU priority (`nice`): on a machine short of cores
    the kernel gives the process that acks Slack the CPU first, and jobs, which have
    minutes to spare, take what is left.

    A job that kills its process fails with `WorkerDied` and the pool is rebuilt for
    the next one. Processes start on the first job, so a replica that never leads the
    cluster never starts one.
    """

    def __init__(
        self,
        initializer: Callable[..., None],
        initargs: tuple[object, ...] = (),
        *,
        processes: int = 1,
        nice: int = 10,
    ) -> None:
        self.initializer = initializer
        self.initargs = initargs
        self.processes = processes
        self.nice = nice
        self._lock = threading.Lock()
        self._running: set[Future[tuple[int, object]]] = set()
        self._stopped = False
        self._ended = False  # shutdown ended busy processes itself
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.processes,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker_process,
            initargs=(self.nice, self.initializer, self.initargs),
        )

    def run(self, kind: str, arg: str) -> tuple[int, object]:
        """Run one job in a worker process and wait for it: (its process id, its result).

        The job's own exception is raised here, carrying the worker's traceback.
        """
        with self._lock:
            if self._stopped:
                raise WorkerStopped("not started: the scheduler is stopping")
            executor = self._executor
            future = executor.submit(run_here, kind, arg)
            self._running.add(future)
        try:
            return future.result()
        except BrokenProcessPool as exc:
            if self._ended:
                raise WorkerStopped("cut off: the scheduler stopped before it finished") from exc
            with self._lock:
                stopping = self._stopped
                if self._executor is executor and not stopping:
                    executor.shutdown(wait=False, cancel_futures=True)
                    self._executor = self._new_executor()
            raise WorkerDied(
                "the job worker process died while running it (killed, out of memory or "
                "a crash)" + ("" if stopping else "; a new one runs the next job")
            ) from exc
        finally:
            with self._lock:
                self._running.discard(future)

    def runner(self, kind: str) -> Callable[[str], object]:
        """A runner for the scheduler that hands `kind` to the worker."""

        def hand_over(arg: str) -> str:
            pid, result = self.run(kind, arg)
            return f"{result} (job worker process {pid})"

        return hand_over

    def pids(self) -> list[int]:
        """The worker processes' ids (none before the first job)."""
        with self._lock:
            processes = getattr(self._executor, "_processes", None) or {}
            return [p.pid for p in processes.values() if p.pid is not None]

    def shutdown(self, grace_s: float) -> int:
        """Take no more jobs, give the running ones `grace_s` to finish, then end the
        processes; returns how many jobs were cut off."""
        with self._lock:
            self._stopped = True
            running = set(self._running)
            executor = self._executor
        _, left = wait(running, timeout=grace_s)
        if left:
            self._ended = True
            # concurrent.futures (before 3.14) has no way to end a busy worker but this.
            for process in (getattr(executor, "_processes", None) or {}).values():
                process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        return len(left)


_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(expr: str, timezone: str) -> CronTrigger:
    """A crontab line as cron means it, in a time zone.

    APScheduler 3 counts weekdays from Monday = 0, crontab from Sunday = 0 (and 7), so
    "1-5" would silently mean Tuesday to Saturday; the weekday field is spelled out
    in names first.
    """
    minute, hour, day, month, weekday = expr.split()
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekday_names(weekday),
        timezone=timezone,
    )


def _weekday_names(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            a, b = span.split("-")
            first, last = _day(a), _day(b)
        else:
            first = last = _day(span)
        if last < first:  # "5-0" or "sat-sun": wraps past Saturday
            last += 7
        days.update(d % 7 for d in range(first, last + 1, int(step or 1)))
    return ",".join(_DAYS[d] for d in sorted(days))


def _day(token: str) -> int:
    token = token.strip().lower()
    if token.isdigit():
        n = int(token)
        if not 0 <= n <= 7:
            raise ValueError(f"weekday {token} is not 0-7")
        return n % 7
    if token[:3] in _DAYS:
        return _DAYS.index(token[:3])
    raise ValueError(f"{token!r} is not a weekday")


def jobs_from_config(settings: Settings) -> list[JobSpec]:
    """Digests at their cron times in their time zones, and the periodic work."""
    sched = settings.scheduler
    jobs = [
        JobSpec(
            f"digest:{d.name}",
            "digest",
            d.name,
            cron_trigger(d.cron, d.timezone),
        )
        for d in settings.digests
    ]
    jobs.append(
        JobSpec(
            "dunning",
            "dunning",
            "",
            cron_trigger(sched.dunning_cron, sched.timezone),
        )
    )
    jobs.append(
        JobSpec(
            "sla-warnings",
            "sla_warnings",
            "",
            IntervalTrigger(minutes=sched.sla_warning_minutes, timezone=sched.timezone),
        )
    )
    jobs.append(
        JobSpec(
            "fraud-scoring",
            "fraud_scoring",
            "",
            IntervalTrigger(minutes=settings.fraud.score_every_minutes, timezone=sched.timezone),
        )
    )
    jobs.append(
        JobSpec(
            "audit-anchor",
            "audit_anchor",
            "",
            IntervalTrigger(minutes=settings.audit.anchor_every_minutes, timezone=sched.timezone),
        )
    )
    return jobs


class ClusterScheduler:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        runners: Mapping[str, Callable[[str], object]] | JobWorker,
        *,
        poll_s: float = 5.0,
        jobs: list[JobSpec] | None = None,
    ) -> None:
        """`runners`: what each kind does, run in this process; or a `JobWorker` that
        runs every job's kind in its own process."""
        self.db = db
        self.settings = settings
        self.poll_s = poll_s
        self.jobs = jobs if jobs is not None else jobs_from_config(settings)
        self.worker = runners if isinstance(runners, JobWorker) else None
        if isinstance(runners, JobWorker):
            register_runners({spec.kind: runners.runner(spec.kind) for spec in self.jobs})
        else:
            register_runners(runners)
        self._stop = threading.Event()
        self._leading = threading.Event()
        self._thread: threading.Thread | None = None
        self.scheduler: BackgroundScheduler | None = None

    @property
    def leading(self) -> bool:
        return self._leading.is_set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop leading. A job still running gets `timeout` seconds to finish; then its
        worker process is ended (a job run in this process cannot be cut off)."""
        self._stop.set()
        if self.worker is not None:
            cut = self.worker.shutdown(timeout)
            if cut:
                log.warning(
                    "%d scheduled job(s) were still running after %.0f s and were cut off",
                    cut,
                    timeout,
                )
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_leading(self, timeout: float) -> bool:
        return self._leading.wait(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                with self.db.hold(LOCK) as held:
                    if held:
                        self._lead()
            except Exception:  # the database went away: try again after a pause
                log.exception("the scheduler lost its database; retrying")
            self._stop.wait(self.poll_s)

    def _lead(self) -> None:
        sched = self.settings.scheduler
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.db.engine)},
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": sched.misfire_grace_s,
                "max_instances": 1,
            },
            timezone=sched.timezone,
        )
        scheduler.add_listener(self._ran, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.start(paused=True)
        try:
            self._sync(scheduler)
            scheduler.resume()
            self.scheduler = scheduler
            self._leading.set()
            log.info("this replica runs the scheduled jobs (%d)", len(self.jobs))
            while not self._stop.wait(self.poll_s):
                self.db.ping()  # losing the database loses the lock: step down
        finally:
            self._leading.clear()
            self.scheduler = None
            scheduler.shutdown(wait=True)

    def _sync(self, scheduler: BackgroundScheduler) -> None:
        """Make the stored jobs match the config, keeping the next run of unchanged ones."""
        wanted = {j.id: j for j in self.jobs}
        for job in scheduler.get_jobs():
            if job.id not in wanted:
                job.remove()
        for spec in self.jobs:
            existing = scheduler.get_job(spec.id)
            if existing is not None and str(existing.trigger) == str(spec.trigger):
                continue  # keep its stored next run time: a restart replays nothing
            scheduler.add_job(
                run_job,
                spec.trigger,
                args=(spec.kind, spec.arg),
                id=spec.id,
                name=spec.id,
                replace_existing=True,
            )

    def next_runs(self) -> dict[str, datetime | None]:
        if self.scheduler is None:
            return {}
        return {j.id: j.next_run_time for j in self.scheduler.get_jobs()}

    @staticmethod
    def _ran(event: JobExecutionEvent) -> None:
        if event.exception is not None:
            log.error("scheduled job %s failed: %s", event.job_id, event.exception)
