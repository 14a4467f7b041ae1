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

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection

T = TypeVar("T")
logger = logging.getLogger(__name__)

_executors: dict[str, ThreadPoolExecutor] = {}

# Two lanes of threads: units that start a call (count it, record the
# request) and units that finish one (record its answer or failure). A
# finishing unit never queues behind a burst of starts, so a stream that has
# sent its last chunk gets its `[DONE]` while new calls wait their turn.
START, FINISH = "start", "finish"


def db_executor(lane: str = START) -> ThreadPoolExecutor:
    executor = _executors.get(lane)
    if executor is None:
        executor = _executors.setdefault(
            lane,
            ThreadPoolExecutor(max_workers=settings.HARUCHAT_DB_THREADS, thread_name_prefix=f"haruchat-db-{lane}"),
        )
    return executor


def release_connection() -> None:
    """Give the connection back unless it is worth keeping for the thread's next unit.

    Also for a sync request about to spend long on CPU (hashing a password):
    the next query takes a connection again. Inside a transaction it is kept.
    """
    if connection.in_atomic_block:
        return
    if connection.vendor == "sqlite" and connection.connection is not None and not connection.errors_occurred:
        return  # an open file: reopening it costs more than the unit did
    connection.close()


# PostgreSQL's codes for a connection that is gone: class 08, and the server
# shutting down or killing the backend (57P01-57P03).
LOST_CONNECTION_CODES = ("08", "57P01", "57P02", "57P03")


def _connection_lost(exc: BaseException) -> bool:
    """Whether the error (or the one it wraps, like the quota's 503) says the connection was lost."""
    error = exc if isinstance(exc, (OperationalError, InterfaceError)) else exc.__cause__
    if not isinstance(error, (OperationalError, InterfaceError)) or connection.vendor != "postgresql":
        return False  # SQLite is a file: its errors are never a lost connection
    sqlstate = getattr(error.__cause__, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith(LOST_CONNECTION_CODES)


def _unit(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """One unit of work; run again once on a new connection if the old one was lost.

    A connection the database dropped (a restart, a failover, a killed
    backend) fails the unit's first statement, before anything is written;
    each unit is a transaction or idempotent, so running it again is safe.
    """
    try:
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            if connection.in_atomic_block or not _connection_lost(exc):
                raise
            logger.warning("database connection lost; running %s again on a new one", function.__qualname__)
            connection.close()
            pool = getattr(connection, "pool", None)
            if pool is not None:
                pool.check()  # its idle connections were likely lost too: replace them before taking one
            return function(*args, **kwargs)
    finally:
        release_connection()


async def in_db(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run one unit of ORM work in a database thread and await its result."""
    return await sync_to_async(_unit, thread_sensitive=False, executor=db_executor(START))(function, *args, **kwargs)


async def in_db_finishing(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`in_db` for a unit that finishes a call already under way, in the finishing lane."""
    return await sync_to_async(_unit, thread_sensitive=False, executor=db_executor(FINISH))(function, *args, **kwargs)


_checkpoint_executor: ThreadPoolExecutor | None = None


def sqlite_checkpoint() -> tuple[int, int, int]:
    """Fold SQLite's write-ahead log back into the database file, waiting for no one (PASSIVE).

    Returns SQLite's answer: (1 if it could not finish, frames in the log,
    frames now in the database file).
    """
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        busy, logged, folded = cursor.fetchone()
    return busy, logged, folded


async def sqlite_checkpoints_forever(interval: float) -> None:
    """Checkpoint every `interval` seconds in a thread of its own (whose connection stays open),
    so the fsyncs never land in a request's commit or hold a database thread."""
    global _checkpoint_executor
    if _checkpoint_executor is None:
        _checkpoint_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="haruchat-sqlite-checkpoint")
    checkpoint = sync_to_async(sqlite_checkpoint, thread_sensitive=False, executor=_checkpoint_executor)
    while True:
        await asyncio.sleep(interval)
        try:
            await checkpoint()
        except Exception:  # a checkpoint that fails is retried by the next; SQLite's backstop remains
            logger.exception("could not checkpoint the SQLite database")
