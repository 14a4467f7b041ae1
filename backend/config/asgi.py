"""ASGI entry point: `uvicorn config.asgi:application` (what `make run` serves).

Django answers HTTP; this wrapper also answers uvicorn's lifespan events, so
that at start-up, and every few minutes after, model calls left "in
progress" by a process that died are closed and refunded, on SQLite the
write-ahead log is checkpointed every second off the request path, and at
shutdown the model provider's connections are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from common.asgi_handler import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

django_application = get_asgi_application()

from llm.providers import get_provider  # noqa: E402  (needs the apps loaded above)

logger = logging.getLogger("haruchat.lifespan")
SWEEP_INTERVAL_SECONDS = 300


async def close_stale_calls() -> None:
    from asgiref.sync import sync_to_async
    from django.db import close_old_connections

    from chat.services.calls import calls_close_stale

    def sweep() -> None:
        try:
            calls_close_stale()
        finally:
            close_old_connections()

    try:
        await sync_to_async(sweep, thread_sensitive=False)()
    except Exception:  # a sweep that fails must not stop the server; the next one retries
        logger.exception("could not close stale model calls")


async def sweep_forever() -> None:
    while True:
        await close_stale_calls()
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)


def background_tasks() -> list[asyncio.Task]:
    """What runs beside the requests: the stale-call sweep, and SQLite's checkpoints (common.db)."""
    from django.conf import settings
    from django.db import connection

    from common.db import sqlite_checkpoints_forever

    tasks = [asyncio.create_task(sweep_forever())]
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
            tasks = background_tasks()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await get_provider().aclose()
            await send({"type": "lifespan.shutdown.complete"})
            return
