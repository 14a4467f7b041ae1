"""A request id on every request: taken from X-Request-ID (a proxy's) or made
up, put on each log line while the request runs, and sent back in the reply."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponseBase

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def _request_id(request: HttpRequest) -> str:
    incoming = request.headers.get("X-Request-ID", "")
    return incoming if SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex


class RequestIdMiddleware:
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
