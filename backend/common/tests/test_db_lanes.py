"""Finishing a call never waits behind calls starting: the two lanes of database threads."""

from __future__ import annotations

import asyncio
import threading

from django.conf import settings

from common.db import in_db, in_db_finishing


def test_a_finishing_unit_runs_while_every_starting_thread_is_busy():
    release = threading.Event()

    async def scenario() -> str:
        # one more than the lane has threads: every starting thread is busy, one start waits in the queue
        starts = [asyncio.ensure_future(in_db(release.wait, 10)) for _ in range(settings.HARUCHAT_DB_THREADS + 1)]
        await asyncio.sleep(0.1)
        try:
            return await asyncio.wait_for(in_db_finishing(lambda: "recorded"), timeout=5)
        finally:
            release.set()
            await asyncio.gather(*starts)

    assert asyncio.run(scenario()) == "recorded"
