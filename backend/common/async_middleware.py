"""Django's own middleware, able to run on the event loop under ASGI.

Django adapts a sync middleware to ASGI by running each of its hooks in a
thread: two hops a request for each middleware, which cost more than the
rest of a small API request. (Kept apart from common.middleware, which the
logging configuration imports before the apps are loaded.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as message_middleware
from django.contrib.sessions import middleware as session_middleware
from django.http import HttpRequest, HttpResponseBase
from django.middleware import clickjacking, common, csrf, security


class OnLoopMixin:
    """Runs a Django middleware's hooks on the event loop under ASGI.

    Django adapts a sync middleware to ASGI by running each hook in a
    thread: two hops a request for each of them. The hooks below only read
    and write the request and response in memory, so they run inline;
    `needs_thread` names the cases that may touch the database (a session to
    save), which still go to a thread. Under WSGI nothing changes.
    """

    get_response: Callable

    def __init__(self, get_response: Callable) -> None:
        super().__init__(get_response)  # type: ignore[call-arg]
        sync_process_view = getattr(self, "process_view", None)
        if iscoroutinefunction(self) and sync_process_view is not None:

            async def process_view(*args: Any) -> HttpResponseBase | None:
                return sync_process_view(*args)

            self.process_view = process_view

    def needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return False

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            if self.needs_thread(request, response):
                response = await sync_to_async(self.process_response, thread_sensitive=True)(request, response)
            else:
                response = self.process_response(request, response)
        return response


class SecurityMiddleware(OnLoopMixin, security.SecurityMiddleware):
    pass


class CommonMiddleware(OnLoopMixin, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(OnLoopMixin, csrf.CsrfViewMiddleware):
    pass


class XFrameOptionsMiddleware(OnLoopMixin, clickjacking.XFrameOptionsMiddleware):
    pass


class AuthenticationMiddleware(OnLoopMixin, auth_middleware.AuthenticationMiddleware):
    """Only sets up the lazy `request.user`; loading it happens in the view."""


class SessionMiddleware(OnLoopMixin, session_middleware.SessionMiddleware):
    def needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        session = getattr(request, "session", None)
        return session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)


class MessageMiddleware(OnLoopMixin, message_middleware.MessageMiddleware):
    def needs_thread(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        storage = getattr(request, "_messages", None)
        return storage is not None and bool(storage.used or storage._queued_messages)
