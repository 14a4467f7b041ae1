"""At start-up the server freezes what it has built, so full garbage collections stop walking it."""

from __future__ import annotations

import asyncio
import gc

import pytest

from config.asgi import application


@pytest.mark.django_db(transaction=True)
def test_start_up_freezes_the_apps_and_views_out_of_garbage_collection():
    gc.unfreeze()
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []
    frozen_at_start: list[int] = []

    async def receive():
        return next(messages)

    async def send(message):
        sent.append(message["type"])
        if message["type"] == "lifespan.startup.complete":
            frozen_at_start.append(gc.get_freeze_count())

    try:
        asyncio.run(application({"type": "lifespan"}, receive, send))
    finally:
        gc.unfreeze()  # the rest of the test session collects as usual
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    # Django, the apps, the URL patterns and every view: tens of thousands of objects.
    assert frozen_at_start[0] > 20_000
