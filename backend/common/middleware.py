"""Middleware: a request id on every request, health probes that any Host may ask, and
static files that don't push every API request through a worker thread under ASGI."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from whitenoise.middleware import WhiteNoiseMiddleware

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _request_id(request: HttpRequest) -> str:
    incoming = request.headers.get("X-Request-ID", "")
    return incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
    """Taken from X-Request-ID (a proxy's) or made up, put on each log line
    while the request runs, and sent back in the reply."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        # Not reset afterwards: Django logs the response after the middleware
        # returns, and the next request sets its own id.
        request_id_var.set(_request_id(request))
        response = self.get_response(request)
        response["X-Request-ID"] = request_id_var.get()
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        request_id_var.set(_request_id(request))  # each ASGI request runs in its own context
        response = await self.get_response(request)
        response["X-Request-ID"] = request_id_var.get()
        return response


class HealthProbeMiddleware:
    """Answers the health probes before anything reads the Host header or the scheme.

    Load balancers and container health checks probe by address over plain HTTP
    (`http://127.0.0.1:8000/api/health/live`), which ALLOWED_HOSTS (400) and the
    HTTPS redirect (301) would refuse. A probe tells only whether the process is
    up and ready, so it answers whatever the Host.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable) -> None:
        from common.views import HealthView, LivenessView

        self.get_response = get_response
        self.probes = {
            "/api/health": HealthView.as_view(),
            "/api/health/ready": HealthView.as_view(),
            "/api/health/live": LivenessView.as_view(),
        }
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def _probe(self, request: HttpRequest) -> HttpResponseBase | None:
        probe = self.probes.get(request.path_info) if request.method in ("GET", "HEAD") else None
        if probe is None:
            return None
        response = probe(request)
        response.render()
        return response

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self._probe(request) or self.get_response(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info not in self.probes:
            return await self.get_response(request)
        # In the request's own thread, where Django would have run the view (the readiness probe reads the database).
        return await sync_to_async(self._probe)(request) or await self.get_response(request)


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    """WhiteNoise that also runs natively under ASGI.

    WhiteNoise's middleware is sync-only, so under ASGI every request (API
    calls included) would hop to a worker thread and back around it. Here a
    static file is looked up in WhiteNoise's in-memory table and streamed
    from an async iterator; anything else goes straight on down the chain.
    """

    sync_capable = True
    async_capable = True
    BLOCK_SIZE = 64 * 1024

    def __init__(self, get_response: Callable, *args: Any, **kwargs: Any) -> None:
        super().__init__(get_response, *args, **kwargs)
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        if self.autorefresh:  # development only: looks at the disk
            static_file = await sync_to_async(self.find_file)(request.path_info)
        else:
            static_file = self.files.get(request.path_info)
        if static_file is None:
            return await self.get_response(request)
        response = static_file.get_response(request.method, request.META)
        streamed = StreamingHttpResponse(self._blocks(response.file), status=int(response.status))
        del streamed["Content-Type"]
        for key, value in response.headers:
            streamed[key] = value
        return streamed

    @classmethod
    async def _blocks(cls, file: Any) -> AsyncIterator[bytes]:
        """The file in blocks (files under STATIC_ROOT are small and in the page cache)."""
        if file is None:  # HEAD, 304
            return
        try:
            while block := file.read(cls.BLOCK_SIZE):
                yield block
        finally:
            file.close()
