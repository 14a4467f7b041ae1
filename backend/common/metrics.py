"""Prometheus metrics for the people who run haruchat: `GET /metrics`, off unless HARUCHAT_METRICS=true.

Never public by default: a scrape must carry HARUCHAT_METRICS_TOKEN as a bearer token, or come from
an address in HARUCHAT_METRICS_ALLOW (loopback only unless set; the client's address as the login
throttle reads it, behind HARUCHAT_TRUSTED_PROXIES). Anyone else gets the same 404 as when metrics
are off, so the endpoint's existence is not advertised.

What is measured, and where:
- `MetricsMiddleware` (first in MIDDLEWARE): every request by route pattern (never the raw path, so
  ids don't make new series), method and status, with its duration until the response starts; the
  429s whose JSON code is a quota refusal; and the Server-Sent Event streams open right now. It also
  answers /metrics itself before the Host check and the HTTPS redirect, as the health probes are
  answered, so Prometheus can scrape a worker by address over plain HTTP.
- `model_call_observed()`: called by the code that settles a model call.
- the database pool (psycopg's, when configured), read when scraped.

With several server processes (uvicorn --workers), set PROMETHEUS_MULTIPROC_DIR to an empty
directory writable by all of them (emptied at each start): each process writes its samples
there and a scrape of any one of them reports the sum over all (prometheus_client's multiprocess
mode). Without it, one process's own registry (with its process_* and python_* metrics) is served.
"""

from __future__ import annotations

import atexit
import hmac
import ipaddress
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import Resolver404, resolve
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))

# The codes a quota refusal (429) carries (quota.services.QuotaExceeded, TokenBudgetExceeded).
REFUSAL_REASONS = ("quota_exceeded", "token_budget_exceeded")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A model's answer takes seconds, a stream's up to minutes.
MODEL_CALL_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300)
# Distinct values one label may take in one process; past it, "other" (a client names the model).
MAX_LABEL_VALUES = 100
POOL_REFRESH_SECONDS = 5.0

HTTP_REQUESTS = Counter(
    "haruchat_http_requests",
    "HTTP requests answered, by URL pattern, method and status.",
    ["route", "method", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "haruchat_http_request_duration_seconds",
    "Time until the response started (for a stream: until its headers), by URL pattern.",
    ["route"],
)
MODEL_CALLS = Counter(
    "haruchat_model_calls",
    "Model calls settled, by provider, model and outcome (succeeded, failed, cut).",
    ["provider", "model", "outcome"],
)
MODEL_CALL_SECONDS = Histogram(
    "haruchat_model_call_seconds",
    "A model call's duration, from its start to its last chunk or its failure.",
    ["provider", "model", "outcome"],
    buckets=MODEL_CALL_BUCKETS,
)
QUOTA_REFUSALS = Counter(
    "haruchat_quota_refusals",
    "Requests refused with 429 by the daily allowance (quota_exceeded) or the token budget (token_budget_exceeded).",
    ["reason"],
)
OPEN_STREAMS = Gauge(
    "haruchat_open_streams",
    "Server-Sent Event streams being sent right now.",
    multiprocess_mode="livesum",
)
DB_POOL_CONNECTIONS = Gauge(
    "haruchat_db_pool_connections",
    "Connections in psycopg's pool, by state (in_use: lent out; idle: waiting in the pool).",
    ["database", "state"],
    multiprocess_mode="livesum",
)
DB_POOL_MAX_CONNECTIONS = Gauge(
    "haruchat_db_pool_max_connections",
    "The most connections the pool may open (HARUCHAT_DB_POOL_SIZE, per process).",
    ["database"],
    multiprocess_mode="livesum",
)
DB_POOL_REQUESTS_WAITING = Gauge(
    "haruchat_db_pool_requests_waiting",
    "Threads waiting for a connection from the pool.",
    ["database"],
    multiprocess_mode="livesum",
)

for _reason in REFUSAL_REASONS:  # shown as 0 before the first refusal, so rate() has a start
    QUOTA_REFUSALS.labels(_reason)

if MULTIPROCESS:
    # This process's gauges leave the sums when it exits (a killed one's stay until the directory is emptied).
    atexit.register(lambda: multiprocess.mark_process_dead(os.getpid()))

_label_values: dict[str, set[str]] = {}
_label_lock = threading.Lock()


def _bounded(label: str, value: str) -> str:
    """The value, or "other" once the label has taken MAX_LABEL_VALUES others in this process."""
    value = (value or "unknown")[:200]
    seen = _label_values.setdefault(label, set())
    if value in seen:
        return value
    with _label_lock:
        if len(seen) >= MAX_LABEL_VALUES:
            return "other"
        seen.add(value)
    return value


# --- What the rest of haruchat calls ---------------------------------------------------------------


def model_call_observed(provider: str, model: str | None, outcome: str, seconds: float | None) -> None:
    """A model call was settled: `outcome` is "succeeded", "failed" or "cut" (a stream broken off
    after some text); `seconds` from its start (None: unknown, e.g. a call closed by the sweep)."""
    try:
        labels = (_bounded("provider", provider), _bounded("model", model or ""), outcome)
        MODEL_CALLS.labels(*labels).inc()
        if seconds is not None:
            MODEL_CALL_SECONDS.labels(*labels).observe(max(seconds, 0.0))
    except Exception:  # a metric never fails a call
        logger.exception("could not record a model call's metrics")


def quota_refused(reason: str) -> None:
    """A request was refused by the quota (`reason`: quota_exceeded or token_budget_exceeded).
    MetricsMiddleware calls this for every such 429; nothing else needs to."""
    QUOTA_REFUSALS.labels(reason if reason in REFUSAL_REASONS else "other").inc()


def stream_opened() -> None:
    """A stream started. MetricsMiddleware calls this (and stream_closed) for every text/event-stream."""
    OPEN_STREAMS.inc()


def stream_closed() -> None:
    OPEN_STREAMS.dec()


# --- The database pool ------------------------------------------------------------------------------


def _pools() -> Iterator[tuple[str, Any]]:
    """(alias, psycopg pool) for each database whose pool exists in this process (none on SQLite)."""
    from django.db import connections

    for alias in connections:
        pools = getattr(type(connections[alias]), "_connection_pools", None) or {}
        pool = pools.get(alias)
        if pool is not None:
            yield alias, pool


def db_pool_refresh() -> None:
    """Set the pool gauges from psycopg's own counts (a lock and a dict: no connection is used)."""
    try:
        for alias, pool in _pools():
            stats = pool.get_stats()
            size, available = stats.get("pool_size", 0), stats.get("pool_available", 0)
            DB_POOL_CONNECTIONS.labels(alias, "in_use").set(max(size - available, 0))
            DB_POOL_CONNECTIONS.labels(alias, "idle").set(available)
            DB_POOL_MAX_CONNECTIONS.labels(alias).set(stats.get("pool_max", getattr(pool, "max_size", 0)))
            DB_POOL_REQUESTS_WAITING.labels(alias).set(stats.get("requests_waiting", 0))
    except Exception:
        logger.exception("could not read the database pool's counts")


_refresher_pid: int | None = None


def _pool_refresher_start() -> None:
    """In multiprocess mode a scrape is answered by one process, so each keeps its own counts fresh."""
    global _refresher_pid
    if _refresher_pid == os.getpid():
        return
    _refresher_pid = os.getpid()

    def refresh_forever() -> None:
        while True:
            db_pool_refresh()
            time.sleep(POOL_REFRESH_SECONDS)

    threading.Thread(target=refresh_forever, name="haruchat-metrics-pool", daemon=True).start()


# --- Who may scrape --------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(allow: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(network.strip(), strict=False) for network in allow if network.strip())


def _address_allowed(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(tuple(settings.HARUCHAT_METRICS_ALLOW)))


def _token_given(request: HttpRequest) -> bool:
    token = settings.HARUCHAT_METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_allowed(request: HttpRequest) -> bool:
    """The bearer token, or a client address in HARUCHAT_METRICS_ALLOW."""
    from accounts.login_attempts import client_ip

    return _token_given(request) or _address_allowed(client_ip(request))


# --- The endpoint ----------------------------------------------------------------------------------


def metrics_text() -> bytes:
    """The exposition: this process's registry, or every process's with PROMETHEUS_MULTIPROC_DIR."""
    if MULTIPROCESS:
        _pool_refresher_start()
        db_pool_refresh()
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    db_pool_refresh()
    return generate_latest(REGISTRY)


def metrics_view(request: HttpRequest) -> HttpResponseBase:
    """GET /metrics in Prometheus's text format; 404 when off or to anyone not allowed."""
    from common.exceptions import page_not_found

    if not settings.HARUCHAT_METRICS or not metrics_allowed(request):
        return page_not_found(request)
    if request.method not in ("GET", "HEAD"):
        response = HttpResponse(status=405)
        response["Allow"] = "GET, HEAD"
        return response
    response = HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response


# --- Requests ---------------------------------------------------------------------------------------


def _route(request: HttpRequest, response: HttpResponseBase) -> str:
    """The URL pattern that answered ("/api/conversations/<int:conversation_id>"), never the raw path."""
    match = getattr(request, "resolver_match", None)
    if match is None:  # answered by a middleware (health probes, static files) or not found
        if response.status_code == 404:
            return "(unmatched)"
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return "(static)" if response.status_code < 400 else "(unmatched)"
    return "/" + match.route if match.route is not None else match.view_name


def _refusal_reason(response: HttpResponseBase) -> str | None:
    if response.status_code != 429 or response.streaming:
        return None
    if not response.get("Content-Type", "").startswith("application/json"):
        return None
    try:
        code = json.loads(response.content).get("code")  # type: ignore[attr-defined]
    except (ValueError, AttributeError):
        return None
    return code if code in REFUSAL_REASONS else None


async def _counted_async(content: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    stream_opened()
    try:
        async for part in content:
            yield part
    finally:
        stream_closed()


def _counted_sync(content: Iterable[bytes]) -> Iterator[bytes]:
    stream_opened()
    try:
        yield from content
    finally:
        stream_closed()


def request_observed(request: HttpRequest, response: HttpResponseBase, seconds: float) -> None:
    """Count the request, time it, note a quota refusal, and count an event stream while it is open."""
    try:
        route = _route(request, response)
        method = request.method if request.method in METHODS else "other"
        HTTP_REQUESTS.labels(route, method, str(response.status_code)).inc()
        HTTP_REQUEST_SECONDS.labels(route).observe(seconds)
        reason = _refusal_reason(response)
        if reason is not None:
            quota_refused(reason)
        if response.streaming and response.get("Content-Type", "").startswith("text/event-stream"):
            content = response.streaming_content  # type: ignore[attr-defined]
            counted = _counted_async(content) if response.is_async else _counted_sync(content)  # type: ignore[attr-defined]
            response.streaming_content = counted  # type: ignore[attr-defined]
    except Exception:  # a metric never fails a request
        logger.exception("could not record a request's metrics")


class MetricsMiddleware:
    """Measures every request when HARUCHAT_METRICS is on, and answers /metrics (first in MIDDLEWARE:
    before the Host check and the HTTPS redirect, and around everything it measures)."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        if not settings.HARUCHAT_METRICS:
            return self.get_response(request)
        if request.path_info == METRICS_PATH:
            return metrics_view(request)
        started = time.perf_counter()
        response = self.get_response(request)
        request_observed(request, response, time.perf_counter() - started)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if not settings.HARUCHAT_METRICS:
            return await self.get_response(request)
        if request.path_info == METRICS_PATH:
            # Off the event loop: in multiprocess mode the scrape reads every process's file.
            return await sync_to_async(metrics_view, thread_sensitive=False)(request)
        started = time.perf_counter()
        response = await self.get_response(request)
        request_observed(request, response, time.perf_counter() - started)
        return response
