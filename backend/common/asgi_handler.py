"""Django's ASGI handler, with each request's sync thread kept for a later request.

Under ASGI Django runs a request in its own `ThreadSensitiveContext`: the
first sync step of the request (the `request_started` signal's receivers,
a sync view, closing the response) starts a new thread, and the end of the
request joins it. That costs a thread start and a join on every request,
async views included. Here each request still gets a thread of its own,
used one call at a time exactly as Django expects, but the thread is taken
from a free list and put back afterwards, as a WSGI server reuses its
threads; connections are still opened and closed per request by Django's
own `close_old_connections` receivers.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext
from django.core.handlers.asgi import ASGIHandler

# Idle request threads kept beyond this are stopped (a burst of long streams
# can hold many at once; a steady load needs about as many as it has requests in flight).
MAX_IDLE_REQUEST_THREADS = 32


class ReusedThreadASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._idle_executors: list[ThreadPoolExecutor] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self._take_executor()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        except BaseException:
            # Cancelled (a server shutting down) or failed: its sync step may still be running
            # in the thread, so the thread is not handed to another request.
            executor.shutdown(wait=False)
            raise
        self._give_back(executor)

    def _take_executor(self) -> ThreadPoolExecutor:
        try:
            return self._idle_executors.pop()
        except IndexError:
            return ThreadPoolExecutor(max_workers=1, thread_name_prefix="haruchat-request")

    def _give_back(self, executor: ThreadPoolExecutor) -> None:
        if len(self._idle_executors) < MAX_IDLE_REQUEST_THREADS:
            self._idle_executors.append(executor)
        else:
            executor.shutdown(wait=False)  # a call still running in it finishes first


def get_asgi_application() -> ReusedThreadASGIHandler:
    """Like `django.core.asgi.get_asgi_application`, with the handler above."""
    django.setup(set_prefix=False)
    return ReusedThreadASGIHandler()
