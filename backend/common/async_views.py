"""DRF views whose handlers are coroutines, for the paths that wait on the model.

DRF 3.18 only runs views synchronously, and under ASGI Django runs a sync
view in a thread made for the request. `AsyncAPIView` keeps everything DRF
does — parsing, authentication, permissions, throttles, the exception
handler, content negotiation, rendering, the OpenAPI schema — but runs it as
a coroutine: the parts that may touch the database (`initial`, and the
handler's own `prepare_<method>`) run as one unit in a database thread
(common.db), the rest is plain Python on the event loop, and the handler
awaits the model with no thread and no connection held. (adrf does much the
same, but runs `initial` and the rendering each in a thread-sensitive hop,
a thread and a new connection per request.)
"""

from __future__ import annotations

import inspect
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.response import SimpleTemplateResponse
from django.utils.functional import classproperty
from rest_framework.request import Request
from rest_framework.views import APIView

from common.db import in_db


class AsyncAPIView(APIView):
    @classproperty
    def view_is_async(cls) -> bool:  # type: ignore[override]
        return True

    async def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        self.args, self.kwargs = args, kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            method = drf_request.method.lower()
            handler = getattr(self, method, self.http_method_not_allowed)
            if method not in self.http_method_names:
                handler = self.http_method_not_allowed
            prepare = getattr(self, f"prepare_{method}", None) if handler != self.http_method_not_allowed else None
            self.prepared = await in_db(self._initial_and_prepare, prepare, drf_request, *args, **kwargs)
            response = handler(drf_request, *args, **kwargs)
            if inspect.isawaitable(response):
                response = await response
        except Exception as exc:
            response = self.handle_exception(exc)
        self.response = self.finalize_response(drf_request, response, *args, **kwargs)
        return _rendered(self.response)

    def _initial_and_prepare(self, prepare: Any, request: Request, *args: Any, **kwargs: Any) -> Any:
        """DRF's checks, then the handler's own database work (`prepare_<method>`), as one unit.

        A view whose handler must read or write the database before it
        awaits anything defines `prepare_post` (say); its result is
        `self.prepared`. One thread hop and one pooled connection then serve
        both, and the order of errors stays DRF's: 401/403 before 400.
        """
        self.initial(request, *args, **kwargs)
        return prepare(request, *args, **kwargs) if prepare is not None else None


def _rendered(response: HttpResponseBase) -> HttpResponseBase:
    """Render here, on the loop: Django would render a template response in a thread."""
    if not isinstance(response, SimpleTemplateResponse):
        return response  # e.g. a stream
    response.render()
    plain = HttpResponse(response.content, status=response.status_code)
    for name, value in response.items():
        plain[name] = value
    plain.cookies = response.cookies  # set apart from the headers: copied on their own, or Set-Cookie is lost
    return plain
