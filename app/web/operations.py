"""What an IT team runs the service with: health and readiness for the load balancer, Prometheus
metrics, and one log line per request with its id.

- `/healthz`: the process answers. `/readyz`: the database answers and every migration is applied.
  An SMTP outage is not unreadiness (web processes keep taking bookings; the outbox waits): the
  outbox's depth and age are metrics, and the sender logs a warning.
- `/metrics`: off unless METRICS=on, then only with `Authorization: Bearer <METRICS_TOKEN>`.
- Neither is rate limited or logged.
"""

from __future__ import annotations

import datetime as dt
import hmac
import itertools
import logging
import os
import re
import time
import uuid
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.plugins.prometheus import PrometheusConfig
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from piccolo.query.functions.aggregate import Count
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from app.config import Config
from app.db import DatabaseNotReady, current_engine, pending_migrations
from app.logs import REQUEST_ID
from app.mail.outbox import outbox_state
from app.tables.jobs import ScheduledJob
from app.tables.mail import DeliveryAttempt

log = logging.getLogger("app.requests")

#: Paths never logged, counted or limited: probes and scrapes run every few seconds.
QUIET = re.compile(r"^/(healthz|readyz|metrics)$|^/assets/")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
#: Request ids made here: a random prefix per process and a serial number (unique without a
#: call to the system's random source on every request).
_PREFIX = uuid.uuid4().hex[:8] + "-"
_SERIAL = itertools.count(1)


def prometheus_config() -> PrometheusConfig:
    """Request counts and latency by route template (never the path: it may hold a token)."""
    return PrometheusConfig(app_name="safeguarding_bookings", prefix="http", group_path=True,
                            exclude=[r"^/healthz$", r"^/readyz$", r"^/metrics$", r"^/assets/"],
                            buckets=[0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])


def request_log(app: ASGIApp) -> ASGIApp:
    """One line per request: method, route template, status, milliseconds, and the request id,
    which every other line logged while handling it carries too (and the response's
    X-Request-ID header; a caller's own id is kept if it looks like one)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or QUIET.match(scope["path"]):
            await app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else f"{_PREFIX}{next(_SERIAL):x}"
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {**message, "headers": [*message.get("headers", []),
                                                  (b"x-request-id", request_id.encode())]}
            await send(message)

        method = scope["method"]  # before a HEAD is answered as a GET
        try:
            await app(scope, receive, sending)
        finally:
            route = scope.get("path_template") or "(no route)"
            took = round((time.perf_counter() - started) * 1000, 1)
            log.info("%s %s %s %s ms", method, route, status[0], took,
                     extra={"method": method, "route": route, "status": status[0], "duration_ms": took})
            REQUEST_ID.reset(token)

    return middleware


async def readiness() -> tuple[bool, str]:
    """(ready, why not): the database answers and has every migration this code expects."""
    try:
        missing = await pending_migrations(current_engine())
    except DatabaseNotReady as exc:
        return False, f"database unreachable ({exc.__cause__.__class__.__name__ if exc.__cause__ else exc})"
    if missing:
        return False, f"{len(missing)} migration(s) not applied: run python -m app migrate"
    return True, "ok"


class OutboxAndJobs:
    """Metrics the database knows for every process, read at scrape time."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def collect(self) -> Any:
        v = self.values
        depth = GaugeMetricFamily("outbox_messages", "Messages in the outbox by status", labels=["status"])
        for status, n in v["by_status"].items():
            depth.add_metric([status], n)
        yield depth
        yield GaugeMetricFamily("outbox_oldest_waiting_seconds",
                                "Age of the oldest message waiting to be sent (0 when none)", value=v["oldest_age"])
        attempts = CounterMetricFamily("mail_delivery_attempts", "Hand-overs to the mail server by outcome",
                                       labels=["outcome"])
        for outcome, n in v["attempts"].items():
            attempts.add_metric([outcome], n)
        yield attempts
        runs = CounterMetricFamily("scheduled_job_runs", "Runs of each scheduled job, across every process",
                                   labels=["job"])
        last = GaugeMetricFamily("scheduled_job_last_run_timestamp_seconds", "When each job last started",
                                 labels=["job"])
        for job in v["jobs"]:
            runs.add_metric([job["name"]], job["runs"])
            if job["last_started_at"]:
                last.add_metric([job["name"]], job["last_started_at"].timestamp())
        yield runs
        yield last


async def _database_metrics(now: dt.datetime) -> dict[str, Any]:
    values = await outbox_state(now)
    values["attempts"] = {r["outcome"]: r["n"] for r in await DeliveryAttempt.select(
        DeliveryAttempt.outcome, Count(alias="n")).group_by(DeliveryAttempt.outcome)}
    values["jobs"] = await ScheduledJob.select(ScheduledJob.name, ScheduledJob.runs, ScheduledJob.last_started_at)
    return values


class Operations(Controller):
    include_in_schema = False

    @get("/healthz", name="healthz", cache_control=None)
    async def healthz(self) -> Response[dict[str, str]]:
        return Response({"status": "ok"}, headers={"Cache-Control": "no-store"})

    @get("/readyz", name="readyz")
    async def readyz(self) -> Response[dict[str, str]]:
        ready, why = await readiness()
        return Response({"status": "ready" if ready else "not ready", "detail": why},
                        status_code=200 if ready else 503, headers={"Cache-Control": "no-store"})

    @get("/metrics", name="metrics")
    async def metrics(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        config: Config = request.app.state["config"]
        if not config.metrics:
            raise NotFoundException()
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {config.metrics_token.get_secret_value()}".encode()):
            return Response(b"Unauthorized\n", status_code=401, media_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        registry = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        shared = CollectorRegistry()
        shared.register(OutboxAndJobs(await _database_metrics(request.app.state["clock"]())))  # type: ignore[arg-type]
        return Response(generate_latest(registry) + generate_latest(shared), media_type=CONTENT_TYPE_LATEST,
                        headers={"Cache-Control": "no-store"})
