"""`switchboard serve`: Slack (HTTP or Socket Mode), /healthz and /metrics on one ASGI app.

Bolt's own server handles one request at a time; here uvicorn serves the ASGI app.
Slack requests are dispatched on the event loop: listeners only ack and hand the work
to the edge's worker pool, so an ack never waits for a skill.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn
from slack_bolt import App, BoltRequest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from automation.scheduler import ClusterScheduler
from bot import alerts, jobs, metrics, orders, webhooks
from bot.bootstrap import Switchboard
from bot.notify import AlarmNotifier
from bot.orders import OrderWorker
from bot.outbound import Outbound
from bot.ratelimit import TokenBuckets
from bot.render.blockkit import to_message
from bot.slack import gate
from bot.slack.app import build_app
from bot.slack.edge import SlackEdge
from bot.webhooks import Rejected
from domain.config import ServerSettings
from domain.errors import Conflict, DomainError
from skills.reply import Button, Reply, Section

log = logging.getLogger(__name__)


@dataclass
class Service:
    """Everything `serve` runs: the ASGI app and the Slack edge behind it."""

    sb: Switchboard
    edge: SlackEdge
    #: The Bolt app; None when Slack is not configured (webhooks, /healthz, /metrics only).
    bolt: App | None
    asgi: Starlette
    notifier: AlarmNotifier
    order_worker: OrderWorker
    outbound: Outbound
    scheduler: ClusterScheduler | None

    def shutdown(self) -> None:
        if self.scheduler is not None:  # the running job gets the grace, then its process ends
            self.scheduler.stop(self.sb.settings.server.shutdown_grace_s)
        self.notifier.stop()
        self.order_worker.stop()
        grace = self.sb.settings.server.shutdown_grace_s
        left = self.edge.drain(grace)
        if left:
            log.warning(
                "%d command(s) were still running after %.0f s and were cut off", left, grace
            )
        self.outbound.stop()


def build_service(sb: Switchboard) -> Service:
    edge = SlackEdge(sb, sb.slack_client)
    # Without Slack's credentials the webhooks, /healthz and /metrics still serve.
    bolt = build_app(edge) if sb.slack_missing is None else None
    # Every proactive message (alarms, digests, jobs) leaves through one paced queue.
    outbound = sb.outbound
    notifier = AlarmNotifier(sb, outbound, interval_s=sb.settings.alerts.message_interval_s)
    scheduler = (
        # Jobs run in a worker process: their CPU never holds this process's interpreter.
        ClusterScheduler(sb.db, sb.settings, jobs.job_worker(sb))
        if sb.settings.scheduler.enabled
        else None
    )
    order_worker = OrderWorker(sb, outbound)

    slack_secret = sb.settings.slack.signing_secret
    slack_limit = sb.settings.server.slack_max_body_bytes

    async def slack_events(request: Request) -> Response:
        headers = request.headers
        # Size, timestamp and signature are settled on the raw bytes before anything is
        # parsed; a refused body is described in logs by its size and hash, never shown.
        body = b""
        try:
            gate.declared_length(headers, slack_limit)
            body = await gate.read_capped(request.stream(), slack_limit)
            gate.verify(slack_secret.get_secret_value() if slack_secret else "", headers, body)
            text, parsed = gate.payload(body, headers.get("content-type"))
        except Rejected as exc:
            gate.refused(exc, body)
            return JSONResponse(exc.body(), status_code=exc.status)
        if parsed.get("type") == "app_rate_limited":
            # Slack says it dropped this app's events for a minute. Bolt has no listener
            # for it and would answer 404, which Slack counts as a failed delivery.
            log.warning(
                "Slack rate-limited this app's events: events of the minute starting at %s"
                " were dropped by Slack and will not arrive",
                str(parsed.get("minute_rate_limited", "?"))[:20],
            )
            return Response(status_code=200)
        try:
            bolt_request = BoltRequest(
                body=text, query=dict(request.query_params), headers=dict(headers)
            )
            # Listeners only verify, ack and hand off to the worker pool, so dispatching on
            # the event loop is quick; a hop to another thread would make every ack wait
            # for the interpreter behind busy skill threads.
            bolt_response = bolt.dispatch(bolt_request)
        except Exception as exc:  # a signed payload of a shape Bolt cannot take
            log.warning(
                "/slack/events: a signed payload Bolt cannot read (%s): %s",
                type(exc).__name__,
                gate.describe(body),
            )
            return JSONResponse(
                {"error": "the request body is not a Slack payload Switchboard can read"},
                status_code=400,
            )
        if bolt_response.status >= 500:
            # Listeners ack first, so Bolt fails before the ack only on a payload its
            # middleware cannot read: the sender's fault, said as such.
            gate.refused(Rejected(400, "a signed payload Bolt cannot read"), body)
            return JSONResponse(
                {"error": "the request body is not a Slack payload Switchboard can read"},
                status_code=400,
            )
        return Response(
            status_code=bolt_response.status,
            content=bolt_response.body,
            headers=bolt_response.first_headers_without_set_cookie(),
        )

    async def healthz(request: Request) -> Response:
        try:
            await run_in_threadpool(sb.db.ping)
        except DomainError as exc:
            return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    def refused(
        endpoint: str, exc: Rejected, body: bytes | None, *, logged: bool = True, **headers: str
    ) -> Response:
        """A webhook's refusal: counted, logged by the body's size and hash, answered."""
        metrics.WEBHOOK_REFUSED.labels(endpoint, str(exc.status)).inc()
        if logged:
            # The reason is cut short: a field name in it comes from the sender's body.
            reason = str(exc)[:200]
            seen = gate.describe(body) if body is not None else "body not read whole"
            log.info("%s refused (%d %s): %s", endpoint, exc.status, reason, seen)
        return JSONResponse(exc.body(), status_code=exc.status, headers=headers or None)

    alert_settings = sb.settings.alerts
    # One bucket per sender for both alert webhooks: they file through the same intake.
    alert_senders = TokenBuckets(
        alert_settings.rate_limit_per_minute, alert_settings.rate_limit_burst
    )

    def alert_route(kind: str):  # type: ignore[no-untyped-def]
        endpoint = "/alerts/alertmanager" if kind == "alertmanager" else "/alerts"

        async def receive_alerts(request: Request) -> Response:
            headers = request.headers
            body: bytes | None = None
            try:
                webhooks.check_token(alert_settings.token, headers, token_key="alerts.token")
                sender = request.client.host if request.client else "unknown"
                throttled = alert_senders.take(sender)
                if throttled is not None:
                    wait = throttled.retry_after_s
                    if throttled.first:  # once per episode, not once per request of a flood
                        log.warning(
                            "%s: %s sends more than alerts.rate_limit_per_minute (%d, burst %d);"
                            " answering 429 until it slows down",
                            endpoint,
                            sender,
                            alert_settings.rate_limit_per_minute,
                            alert_settings.rate_limit_burst,
                        )
                    too_many = Rejected(
                        429,
                        f"too many alert requests from {sender}; try again in {wait} s",
                        f"each sender may make {alert_settings.rate_limit_per_minute} a minute"
                        f" (burst {alert_settings.rate_limit_burst}): send fewer, larger"
                        " batches, or raise alerts.rate_limit_per_minute",
                    )
                    return refused(
                        endpoint, too_many, body, logged=False, **{"Retry-After": str(wait)}
                    )
                body = await webhooks.read_body(
                    headers,
                    request.stream(),
                    alert_settings.max_body_bytes,
                    limit_key="alerts.max_body_bytes",
                )
                data = alerts.check_request(alert_settings, dict(headers), body)
                result = await run_in_threadpool(
                    alerts.receive, sb.db, alert_settings, sb.settings.tickets, kind, data
                )
            except Rejected as exc:
                return refused(endpoint, exc, body)
            except DomainError as exc:  # the database is away; what was filed stays filed
                notifier.wake()
                return JSONResponse(
                    alerts.unfiled(exc),
                    status_code=503,
                    headers={"Retry-After": str(alerts.RETRY_AFTER_S)},
                )
            notifier.wake()
            return JSONResponse({"accepted": True, **result.counts()}, status_code=202)

        return receive_alerts

    async def receive_order(request: Request) -> Response:
        headers = request.headers
        body: bytes | None = None
        try:
            webhooks.check_token(
                sb.settings.orders.api_token, headers, token_key="orders.api_token"
            )
            body = await webhooks.read_body(
                headers,
                request.stream(),
                sb.settings.orders.max_body_bytes,
                limit_key="orders.max_body_bytes",
            )
            data = orders.check_request(sb.settings.orders, dict(headers), body)
            status, answer = await run_in_threadpool(
                orders.receive, sb.db, sb.settings, data, headers.get("idempotency-key")
            )
        except Rejected as exc:
            return refused("/orders", exc, body)
        except Conflict as exc:
            return JSONResponse({"error": str(exc), "hint": exc.hint}, status_code=409)
        except DomainError as exc:  # the database, or the audit trail, cannot take it now
            return JSONResponse(
                {"error": str(exc), **({"hint": exc.hint} if exc.hint else {})},
                status_code=503,
                headers={"Retry-After": "5"},
            )
        order_worker.wake()
        return JSONResponse(answer, status_code=status)

    async def prometheus(request: Request) -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4")

    routes = [
        Route("/alerts/alertmanager", alert_route("alertmanager"), methods=["POST"]),
        Route("/alerts", alert_route("generic"), methods=["POST"]),
        Route("/orders", receive_order, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]

    async def slack_unconfigured(request: Request) -> Response:
        return PlainTextResponse(
            f"Slack is not configured on this server ({sb.slack_missing})\n", status_code=503
        )

    if bolt is None:
        routes.append(Route("/slack/events", slack_unconfigured, methods=["POST"]))
    elif not sb.settings.slack.socket_mode:
        routes.append(Route("/slack/events", slack_events, methods=["POST"]))

    service: Service

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        socket = _start_socket_mode(service) if bolt and sb.settings.slack.socket_mode else None
        if outbound.missing is None:
            notifier.start()
        else:  # alarms are still filed; their messages wait in the database for Slack
            log.warning(
                "alarm-notifier: Slack is not configured (%s); alarm messages are not posted",
                outbound.missing,
            )
        if scheduler is not None:
            scheduler.start()
        _report_interrupted(sb, outbound)
        order_worker.start()
        yield
        if socket is not None:
            socket.close()
        await run_in_threadpool(service.shutdown)

    asgi = Starlette(routes=routes, lifespan=lifespan)
    service = Service(
        sb=sb,
        edge=edge,
        bolt=bolt,
        asgi=asgi,
        notifier=notifier,
        order_worker=order_worker,
        outbound=outbound,
        scheduler=scheduler,
    )
    return service


def _report_interrupted(sb: Switchboard, outbound: Outbound) -> None:
    """Tell the changes channel about changes a crash cut off (found at this start)."""
    for ref, devices in sb.interrupted:
        reply = Reply(
            text=f":warning: {ref} was cut off by a restart and is marked interrupted",
            sections=(
                Section(
                    text="Check "
                    + (", ".join(devices) or "its devices")
                    + ": they may hold part of the change. Roll it back or apply a new one."
                ),
            ),
            buttons=(
                Button("Show", f"/config show {ref}"),
                Button("Roll back", f"/config rollback {ref}", style="danger"),
            ),
        )
        outbound.post(sb.settings.channels.changes, to_message(reply))


def _start_socket_mode(service: Service):  # type: ignore[no-untyped-def]
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    token = service.sb.settings.slack.app_token
    assert token is not None and service.bolt is not None
    handler = SocketModeHandler(
        service.bolt, app_token=token.get_secret_value(), web_client=service.edge.client
    )
    threading.Thread(target=handler.connect, name="socket-mode", daemon=True).start()
    return handler


def proxy_options(settings: ServerSettings) -> dict[str, Any]:
    """uvicorn's X-Forwarded-For handling: believed only from server.trusted_proxies.

    uvicorn's own default believes it from 127.0.0.1, so any local client could pick its
    own address (and alert rate-limit bucket) per request; none is trusted unless listed.
    """
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted}


def server(service: Service, *, host: str, port: int) -> uvicorn.Server:
    config = uvicorn.Config(
        service.asgi,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=int(service.sb.settings.server.shutdown_grace_s) + 5,
        **proxy_options(service.sb.settings.server),
    )
    return uvicorn.Server(config)


def asgi_from_environment() -> Starlette:
    """ASGI factory for `serve` with several processes: each builds its own Switchboard.

    Every process acks on its own event loop and runs skills in its own pool, so a
    burst spreads over the machine's cores instead of queueing on one interpreter.
    """
    from bot.bootstrap import bootstrap
    from domain.config import load_settings

    return build_service(bootstrap(load_settings())).asgi
