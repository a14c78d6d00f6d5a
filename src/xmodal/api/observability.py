"""Prometheus metrics (per app, no global registry) and one structured log line per request."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import Counter
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import ClientDisconnect

log = logging.getLogger("xmodal.api")
_REQUEST_ID = re.compile(r"^[\w.-]{1,64}$")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LOG_INTERVAL_SECONDS = 10.0  # events of one kind that a crowd of clients can cause: one log line per interval
CLIENT_CLOSED = 499  # nginx's status for a request whose client went away before the response


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Plain lines; control characters in the message (a request path can hold a decoded newline) are
    escaped, so a client cannot forge log lines."""

    _CONTROL = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = self._CONTROL.sub(lambda match: ascii(match.group())[1:-1], record.message)
        return super().formatMessage(record)


def configure_logging(log_format: str) -> None:
    """Give the `xmodal` loggers one stderr handler (JSON lines or text), once per process."""
    logger = logging.getLogger("xmodal")
    if any(getattr(handler, "xmodal", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.xmodal = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter() if log_format == "json" else TextFormatter()
    )
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


class RateLimitedLog:
    """At most one line per kind of event per interval; the next line says how many were left out."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = LOG_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self.clock = clock
        self._last: dict[str, float] = {}
        self._left_out: Counter[str] = Counter()

    def __call__(self, kind: str, message: str, level: int = logging.INFO) -> None:
        more = self.admit(kind)
        if more is not None:
            self.logger.log(level, message + more, extra={"fields": {"event": kind}})

    def admit(self, kind: str) -> str | None:
        """None: leave this one out; else what to add to its line (how many were left out before it)."""
        now = self.clock()
        if kind in self._last and now - self._last[kind] < self.interval:
            self._left_out[kind] += 1
            return None
        self._last[kind] = now
        left_out = self._left_out.pop(kind, 0)
        return f" (and {left_out} more like it in the last {self.interval:g} s)" if left_out else ""


class RateLimitFilter(logging.Filter):
    """Rate-limits another library's warnings (uvicorn's "Invalid HTTP request received." comes once per bad
    request: a crowd of clients writes megabytes of it), one kind per message text."""

    def __init__(self, limiter: RateLimitedLog, level: int = logging.WARNING) -> None:
        super().__init__()
        self.limiter = limiter
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != self.level:
            return True
        more = self.limiter.admit(str(record.msg))
        if more:
            record.msg, record.args = record.getMessage() + more, None
        return more is not None


class StoreCollector(Collector):
    """Item counts and jobs, read when Prometheus scrapes."""

    def __init__(self, counts: Callable[[], dict[str, dict[str, int]]], jobs: Callable[[], dict[str, int]]) -> None:
        self.counts = counts
        self.jobs = jobs

    def collect(self) -> Iterator[GaugeMetricFamily]:
        items = GaugeMetricFamily(
            "xmodal_items", "Items in the store by modality and status", labels=["modality", "status"]
        )
        for modality, by_status in self.counts().items():
            for status, count in by_status.items():
                items.add_metric([modality, status], count)
        yield items
        jobs = GaugeMetricFamily("xmodal_jobs", "Index jobs of this server by status", labels=["status"])
        for status, count in self.jobs().items():
            jobs.add_metric([status], count)
        yield jobs


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "xmodal_request_duration_seconds",
            "HTTP request latency by route",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=LATENCY_BUCKETS,
        )


class ObservabilityMiddleware:
    """Times every request into the latency histogram and logs it as one structured line."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        self.disconnects = RateLimitedLog(log)  # thousands of clients may leave at once: a line per interval

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:  # the client left mid-request: nobody to answer, and no fault of ours
            self._record(scope, CLIENT_CLOSED, started, request_id, logging.INFO, logged=False)
            client = (scope.get("client") or ("?",))[0]
            self.disconnects("client_disconnect", f"a client ({client}) left before its request was read: "
                             f"{scope['method']} {scope['path']}")
            return
        except Exception:
            self._record(scope, 500, started, request_id, logging.ERROR, exc_info=True)
            raise
        self._record(scope, status, started, request_id, logging.WARNING if status >= 500 else logging.INFO)

    def _record(
        self,
        scope: dict[str, Any],
        status: int,
        started: float,
        request_id: str,
        level: int,
        exc_info: bool = False,
        logged: bool = True,
    ) -> None:
        elapsed = time.perf_counter() - started
        route = _route_template(scope)
        self.metrics.latency.labels(scope["method"], route, str(status)).observe(elapsed)
        client = scope.get("client") or ("", 0)
        fields = {
            "event": "request",
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 2),
            "client": client[0],
        }
        if logged:
            line = "%s %s %d", scope["method"], scope["path"], status
            log.log(level, *line, extra={"fields": fields}, exc_info=exc_info)


def _request_id(scope: dict[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex[:16]


def _route_template(scope: dict[str, Any]) -> str:
    """The matched route's template (/items/{item_id}), so that labels stay few whatever the paths."""
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return route.path
    if scope["path"].startswith("/static/"):
        return "/static"
    endpoint = scope.get("endpoint")  # plain Starlette routes (/openapi.json, /docs) set only the endpoint
    for candidate in getattr(scope.get("app"), "routes", []):
        if endpoint is not None and getattr(candidate, "endpoint", None) is endpoint:
            return candidate.path
    return "unmatched"
