"""One config change on 50 lab devices over real SSH: Nornir's threads against one by one."""

from __future__ import annotations

import socket
import time

from automation.changes import ChangeWorkflow
from automation.drivers import DeviceConnector
from automation.lab.lab import Lab, lab_devices
from bot.bench import BENCH_AS_OF, BenchContext, Measurement, benchmark
from domain.changes.choices import ChangeState
from domain.config import AutomationSettings, DeviceSettings
from domain.db import Database
from domain.demo.generator import Scale
from domain.demo.seed import seed

DEVICES = 50
LAB = Scale(
    "lab-bench",
    devices=200,
    subscriptions=200,
    usage_records=2_000,
    lab_devices=80,
    tickets=5,
    alarms=5,
    orders=8,
    changes=1,
)


def _free_base(count: int) -> int:
    # Every port of the block: another lab (a test run beside this) may hold any of them.
    for base in range(20_000, 60_000, 1_000):
        try:
            for port in range(base, base + count):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free block of ports on 127.0.0.1")


def _run(flow: ChangeWorkflow, hosts: list[str], servers: str) -> tuple[float, ChangeState]:
    started = time.perf_counter()
    change, _ = flow.plan("ntp", hosts, {"servers": servers}, requested_by="alice")
    report = flow.apply(change.ref, "bob")
    return time.perf_counter() - started, report.state


@benchmark("change on 50 lab devices")
def change_on_lab(ctx: BenchContext) -> Measurement:
    path = ctx.workdir / "lab-bench.db"
    path.unlink(missing_ok=True)
    db = Database(f"sqlite:///{path}")
    base = _free_base(LAB.lab_devices)
    seed(db, LAB, seed=11, as_of=BENCH_AS_OF, lab_base_port=base)
    devices = [d for d in lab_devices(db) if d.platform == "cisco_ios"][:DEVICES]
    assert len(devices) == DEVICES, len(devices)
    hosts = [d.hostname for d in devices]
    creds = DeviceConnector.from_settings(
        DeviceSettings(username="bench", password="bench-pw", connect_timeout_s=10)
    )
    with Lab(devices, username="bench", password="bench-pw"):
        fast = ChangeWorkflow(
            db,
            AutomationSettings(workers=DEVICES, batch_size=DEVICES, max_devices_per_change=DEVICES),
            creds,
        )
        slow = ChangeWorkflow(
            db,
            AutomationSettings(workers=1, batch_size=DEVICES, max_devices_per_change=DEVICES),
            creds,
        )
        concurrent, state_fast = _run(fast, hosts, "10.0.0.21")
        sequential, state_slow = _run(slow, hosts, "10.0.0.22")
    db.dispose()
    assert state_fast == state_slow == ChangeState.SUCCEEDED, (state_fast, state_slow)
    return Measurement(
        f"change on {DEVICES} lab devices (plan + apply), {DEVICES} threads",
        DEVICES,
        samples=[concurrent],
        throughput=DEVICES / concurrent,
        unit="devices/s",
        baseline=Measurement(
            "one device at a time",
            DEVICES,
            samples=[sequential],
            throughput=DEVICES / sequential,
            unit="devices/s",
        ),
        target=">= 8x faster, < 20 s",
        note=f"concurrent {concurrent:.1f} s, sequential {sequential:.1f} s "
        "(canary first, then the other 49 in one batch)",
    )
