"""ORM work from async views: a few long-lived database threads.

Django's ORM is synchronous. `sync_to_async`'s default (thread-sensitive)
mode runs it in a thread made for each request under ASGI, which costs a
thread and, on SQLite, a new connection per request. Here each unit of ORM
work runs in a small fixed pool of threads instead: a SQLite connection
stays open in its thread for the next unit, and a PostgreSQL connection goes
back to psycopg's pool at once, so no connection is held while a request
waits on the model.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

T = TypeVar("T")

_executor: ThreadPoolExecutor | None = None


def db_executor() -> ThreadPoolExecutor:
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(max_workers=settings.HARUCHAT_DB_THREADS, thread_name_prefix="haruchat-db")
    return _executor


def _release_connection() -> None:
    """Give the connection back unless it is worth keeping for the thread's next unit."""
    if connection.in_atomic_block:
        return
    if connection.vendor == "sqlite" and connection.connection is not None and not connection.errors_occurred:
        return  # an open file: reopening it costs more than the unit did
    connection.close()


def _unit(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return function(*args, **kwargs)
    finally:
        _release_connection()


async def in_db(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one unit of ORM work in a database thread and await its result."""
    return await sync_to_async(_unit, thread_sensitive=False, executor=db_executor())(function, *args, **kwargs)
