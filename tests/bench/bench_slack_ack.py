"""Slack edge under load: ack latency and command -> chat.postMessage latency.

`switchboard serve` runs as its own process (as in production) on the benchmark
database; this process plays Slack: it sends signed slash commands, 50 at a time,
and its fake Web API notes when each reply arrives.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlencode

import sqlalchemy as sa
import yaml

from bot.bench import BenchContext, Measurement, benchmark
from domain.config import PROJECT_ROOT
from tests.fakes.slack_api import FakeSlack
from tests.scenario.conftest import SECRET, USERS, free_port, sign

COMMANDS = 1_000
CONCURRENCY = 50


def _config(ctx: BenchContext, processes: int) -> Path:
    """The shipped config with server.processes set."""
    data = yaml.safe_load((PROJECT_ROOT / "config.yaml").read_text())
    data["server"]["processes"] = processes
    path = ctx.workdir / f"serve-{processes}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _serve(
    ctx: BenchContext, slack: FakeSlack, port: int, processes: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "SWITCHBOARD_PORT": str(port),
        "SWITCHBOARD_DATABASE_URL": f"sqlite:///{ctx.database_path()}",
        "SWITCHBOARD_CONFIG": str(_config(ctx, processes)),
    }
    exe = Path(sys.executable).with_name("switchboard")
    log = (ctx.workdir / "serve.log").open("wb")  # a file: a full pipe would stall serve
    proc = subprocess.Popen([str(exe), "serve"], env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError(f"serve did not start; see {ctx.workdir / 'serve.log'}")


@benchmark("slack ack")
def slack_ack(ctx: BenchContext) -> list[Measurement]:
    """1,000 signed /order show commands, 50 concurrent, against `serve`: 2 processes
    against the baseline of 1."""
    one = _burst(ctx, processes=1)
    two = _burst(ctx, processes=2)
    two[0].baseline, two[1].baseline = one
    return [*one, *two]


def _burst(ctx: BenchContext, processes: int) -> list[Measurement]:
    db = ctx.seeded_database()
    with db.engine.connect() as conn:
        orders = conn.execute(sa.text("SELECT id FROM product_orders ORDER BY id")).scalars().all()
    db.dispose()
    with FakeSlack() as slack:
        port = free_port()
        proc = _serve(ctx, slack, port, processes)
        sent: dict[str, float] = {}
        run = uuid.uuid4().hex[:8]  # the ledger remembers trigger ids across runs

        def request(n: int) -> bytes:
            body = urlencode(
                {
                    "command": "/order",
                    "text": f"show O-{orders[n % len(orders)]}",
                    "user_id": USERS["dave"],
                    "channel_id": f"C{n:07d}",
                    "team_id": "T0SWITCH",
                    "trigger_id": f"bench.{run}.{n}",
                    "response_url": slack.response_url(f"b{n}"),
                }
            ).encode()
            head = "".join(
                f"{k}: {v}\r\n"
                for k, v in {
                    "Host": f"127.0.0.1:{port}",
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Content-Length": str(len(body)),
                    "Connection": "close",
                    **sign(body),
                }.items()
            )
            return f"POST /slack/events HTTP/1.1\r\n{head}\r\n".encode() + body

        async def send(n: int, gate: asyncio.Semaphore) -> float:
            # One coroutine a request: the load generator itself stays off the GIL's queue.
            data = request(n)
            async with gate:
                started = time.monotonic()
                sent[f"C{n:07d}"] = started
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(data)
                await writer.drain()
                status = await reader.readline()
                await reader.read()
                writer.close()
                elapsed = time.monotonic() - started
            assert b" 200 " in status, status
            return elapsed

        async def burst(numbers: range) -> list[float]:
            gate = asyncio.Semaphore(CONCURRENCY)
            return list(await asyncio.gather(*(send(n, gate) for n in numbers)))

        try:
            asyncio.run(burst(range(COMMANDS, COMMANDS + 20)))  # warm up pools and caches
            # Only the commands' replies: serve also posts on its own (pending orders).
            ours = lambda c: c.params.get("channel") in sent  # noqa: E731
            slack.wait_for("chat.postMessage", 20, timeout=60, where=ours)
            t0 = time.monotonic()
            acks = asyncio.run(burst(range(COMMANDS)))
            posts = slack.wait_for("chat.postMessage", COMMANDS + 20, timeout=300, where=ours)
            wall = time.monotonic() - t0
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        replies = [
            p.at - sent[p.params["channel"]]
            for p in posts
            if p.params["channel"] in sent and int(p.params["channel"][1:]) < COMMANDS
        ]
    return [
        Measurement(
            f"slack ack, {CONCURRENCY} concurrent, {processes} process(es)",
            COMMANDS,
            samples=acks,
            throughput=COMMANDS / wall,
            unit="commands/s",
            target="p99 < 100 ms (Slack allows 3 s)",
        ),
        Measurement(
            f"command -> chat.postMessage, {processes} process(es)",
            len(replies),
            samples=replies,
            note=f"{len(replies)} replies for {COMMANDS} commands in {wall:.1f} s",
        ),
    ]
