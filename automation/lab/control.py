"""Running the lab in the background: `switchboard lab start|stop|status`.

`lab start` launches `switchboard lab run` as its own process (a pidfile under var/lab)
and waits until every device answers; `lab stop` ends it; `lab status` says which
devices answer.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from automation.lab.lab import Lab, LabDevice, answering, lab_devices
from domain.config import Settings
from domain.db import Database
from domain.errors import DomainError


@dataclass(frozen=True)
class LabStatus:
    pid: int | None
    devices: list[tuple[LabDevice, bool]]

    @property
    def running(self) -> bool:
        return self.pid is not None


def _pidfile(settings: Settings) -> Path:
    return settings.resolve_path("var/lab/lab.pid")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pid(settings: Settings) -> int | None:
    path = _pidfile(settings)
    try:
        pid = int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _devices(db: Database) -> list[LabDevice]:
    devices = lab_devices(db)
    if not devices:
        raise DomainError(
            "the inventory has no lab devices", hint="seed the demo data first: switchboard seed"
        )
    return devices


def build_lab(settings: Settings, db: Database) -> Lab:
    password = settings.devices.password
    return Lab(
        _devices(db),
        username=settings.devices.username,
        password=password.get_secret_value() if password else "",
        host=settings.devices.lab.host,
    )


def run_foreground(settings: Settings, db: Database) -> None:
    """Serve the lab until SIGTERM or Ctrl-C."""
    lab = build_lab(settings, db)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    pidfile = _pidfile(settings)
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    lab.start()
    pidfile.write_text(str(os.getpid()))
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        lab.stop()
        pidfile.unlink(missing_ok=True)


def start_background(settings: Settings, db: Database, timeout: float = 60.0) -> LabStatus:
    """Start the lab process unless it runs; wait until every device answers."""
    devices = _devices(db)
    if running_pid(settings) is None:
        log = settings.resolve_path("var/lab/lab.log")
        log.parent.mkdir(parents=True, exist_ok=True)
        exe = Path(sys.executable).with_name("switchboard")
        env = {**os.environ, "SWITCHBOARD_CONFIG": str(settings.source)}
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [str(exe), "lab", "run"],
                stdout=out,
                stderr=out,
                env=env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not all(answering(settings.devices.lab.host, d.port) for d in devices):
            if proc.poll() is not None:
                raise DomainError(
                    "the lab stopped while starting", hint=f"see {log} (is a port already in use?)"
                )
            if time.monotonic() > deadline:
                proc.terminate()
                raise DomainError(
                    f"the lab did not answer within {timeout:.0f} s", hint=f"see {log}"
                )
            time.sleep(0.2)
    return status(settings, db)


def stop_background(settings: Settings, timeout: float = 60.0) -> bool:
    """Stop the lab process; False when it was not running."""
    pid = running_pid(settings)
    if pid is None:
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    _pidfile(settings).unlink(missing_ok=True)
    return True


def status(settings: Settings, db: Database) -> LabStatus:
    host = settings.devices.lab.host
    return LabStatus(running_pid(settings), [(d, answering(host, d.port)) for d in _devices(db)])
