"""ASGI entry point: `uvicorn config.asgi:application` (what `make run` serves).

Django answers HTTP; this wrapper also answers uvicorn's lifespan events, so
that the process holds a lease it renews while it runs (its calls are known
to be under way: chat.services.leases), model calls left "in progress" by a
process that is gone are closed and refunded at start-up and every
HARUCHAT_CALL_SWEEP_SECONDS, on SQLite the write-ahead log is checkpointed
every second off the request path, and at shutdown the model provider's
connections are closed. At start-up, what the process has built so far is
frozen out of garbage collection (`freeze_start_up_objects`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common.asgi_handler import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()

from chat.services.leases import lease_drop, lease_renew, lease_renew_interval, lease_take  # noqa: E402
from llm.providers import get_provider  # noqa: E402  (needs the apps loaded above)

logger = logging.getLogger("haruchat.lifespan")
_upkeep_executor: ThreadPoolExecutor | None = None


async def upkeep(function: Callable[[], object], failure: str) -> None:
    """Run one unit of the lifespan's database upkeep (a statement or two, no transaction held).

    In threads of its own, like the SQLite checkpoints: never on the event
    loop, and never queued behind a burst of requests in common.db's lanes,
    where a renewal held back past the lease would pass for a dead process.
    A unit that fails is logged, never stops the server, and the next retries.
    """
    from asgiref.sync import sync_to_async
    from django.db import close_old_connections

    global _upkeep_executor
    if _upkeep_executor is None:  # two: a slow sweep never holds a renewal back
        _upkeep_executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="haruchat-upkeep")

    def unit() -> None:
        try:
            function()
        finally:
            close_old_connections()

    try:
        await sync_to_async(unit, thread_sensitive=False, executor=_upkeep_executor)()
    except Exception:
        logger.exception(failure)


async def close_stale_calls() -> None:
    from chat.services.calls import calls_close_stale

    await upkeep(calls_close_stale, "could not close stale model calls")


async def sweep_forever() -> None:
    from django.conf import settings

    while True:
        await close_stale_calls()
        await asyncio.sleep(settings.HARUCHAT_CALL_SWEEP_SECONDS)


async def renew_lease_forever() -> None:
    while True:
        await asyncio.sleep(lease_renew_interval())
        await upkeep(lease_renew, "could not renew this process's lease")


def freeze_start_up_objects() -> None:
    """Leave what start-up made (Django, the apps, every view and URL pattern) out of garbage collection.

    Those objects live as long as the process, yet every full collection walked them all, pausing the
    request that set it off (docs/benchmarks.md: one usage report in fifty waited some 80 ms).
    Frozen, a full collection only walks what requests made since.
    """
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports every view now, so they are frozen too)
    gc.collect()  # what start-up left as garbage goes first, rather than being kept for good
    gc.freeze()


def background_tasks() -> list[asyncio.Task]:
    """What runs beside the requests: the lease's renewals, the stale-call sweep, and SQLite's checkpoints."""
    from django.conf import settings
    from django.db import connection

    from common.db import sqlite_checkpoints_forever

    tasks = [asyncio.create_task(renew_lease_forever()), asyncio.create_task(sweep_forever())]
    if connection.vendor == "sqlite" and settings.HARUCHAT_SQLITE_CHECKPOINT_SECONDS > 0:
        tasks.append(asyncio.create_task(sqlite_checkpoints_forever(settings.HARUCHAT_SQLITE_CHECKPOINT_SECONDS)))
    return tasks


async def application(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "lifespan":
        await django_application(scope, receive, send)
        return
    tasks: list[asyncio.Task] = []
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # Before the first request, so its calls carry the lease; failing that, the first renewal takes one.
            await upkeep(lease_take, "could not take a lease; calls go without one until the next renewal")
            freeze_start_up_objects()
            tasks = background_tasks()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            lease_drop()
            await get_provider().aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
