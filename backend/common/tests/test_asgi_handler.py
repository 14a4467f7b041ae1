"""The ASGI handler (common.asgi_handler): each request's sync work runs in a thread of its own,
as Django requires, but the thread is reused by later requests instead of started and joined each time."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core import signals

from common.asgi_handler import ReusedThreadASGIHandler


def _scope(path: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }


async def _get(handler: ReusedThreadASGIHandler, path: str) -> int:
    communicator = ApplicationCommunicator(handler, _scope(path))
    await communicator.send_input({"type": "http.request", "body": b""})
    start = await communicator.receive_output(timeout=10)
    while (await communicator.receive_output(timeout=10)).get("more_body"):
        pass
    await communicator.wait(timeout=10)
    return start["status"]


@pytest.fixture
def request_threads():
    """The thread each request's sync `request_started` receivers ran in."""
    seen: list[threading.Thread] = []

    def record(**kwargs):
        seen.append(threading.current_thread())

    signals.request_started.connect(record)
    yield seen
    signals.request_started.disconnect(record)


@pytest.mark.django_db
def test_sequential_requests_reuse_one_request_thread(request_threads):
    handler = ReusedThreadASGIHandler()

    async def five_requests() -> list[int]:
        return [await _get(handler, "/api/health") for _ in range(5)]

    threads_before = threading.active_count()
    assert asyncio.run(five_requests()) == [200] * 5
    assert len(request_threads) == 5
    assert len(set(request_threads)) == 1  # the same Thread (idents alone are reused after a join)
    assert request_threads[0].name.startswith("haruchat-request")
    assert threading.active_count() <= threads_before + 1


@pytest.mark.django_db
def test_requests_in_flight_together_each_have_their_own_thread(request_threads):
    handler = ReusedThreadASGIHandler()

    async def three_at_once() -> list[int]:
        return list(await asyncio.gather(*(_get(handler, "/api/health") for _ in range(3))))

    assert asyncio.run(three_at_once()) == [200] * 3
    assert len({t.ident for t in request_threads}) == 3


@pytest.mark.django_db
def test_a_cancelled_request_does_not_hand_its_busy_thread_to_the_next():
    handler = ReusedThreadASGIHandler()
    started = threading.Event()

    def slow(**kwargs):
        started.set()
        time.sleep(0.3)

    async def cancel_one_then_ask_again() -> int:
        body = asyncio.Queue()
        await body.put({"type": "http.request", "body": b""})

        async def send(message: dict) -> None:
            pass

        request = asyncio.ensure_future(handler(_scope("/api/health"), body.get, send))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        request.cancel()  # as a server shutting down does, while the slow sync step runs
        with contextlib.suppress(asyncio.CancelledError):
            await request
        assert handler._idle_executors == []  # its thread, still busy, was not kept for others
        signals.request_started.disconnect(slow)
        return await _get(handler, "/api/health")

    signals.request_started.connect(slow)
    try:
        assert asyncio.run(cancel_one_then_ask_again()) == 200
    finally:
        signals.request_started.disconnect(slow)
