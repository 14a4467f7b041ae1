"""A server process killed mid-answer (`kill -9`): its call is closed as abandoned and refunded within
the lease and a sweep (seconds here, well under a minute by default), while the calls of the processes
still running are never touched (chat.services.leases)."""

from __future__ import annotations

import contextlib
import http.client
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.db import connection

from chat.models import Completion, ProcessLease
from conftest import make_member
from gateway.services import api_key_create
from quota.models import DailyUsage
from testing.processes import app_process, manage, production_env, shared_database_url

# Short enough for a test of seconds: a lease of 1.5 s renewed every 0.5 s, a sweep every 0.25 s.
LEASE = {"HARUCHAT_CALL_LEASE_SECONDS": "1.5", "HARUCHAT_CALL_SWEEP_SECONDS": "0.25"}
SLOW_STREAM = {"chunks": 40, "chunk_delay": 0.15}  # an answer streamed over 6 s
CLOSED_WITHIN = 30  # seconds; by default (a 30 s lease, a sweep every 15 s) it is under a minute


def server_env(tmp_path: Path, upstream_url: str, **extra: str) -> dict[str, str]:
    return production_env(
        tmp_path,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        HARUCHAT_SSL_REDIRECT="false",
        HARUCHAT_LLM_PROVIDER="openai_compat",
        HARUCHAT_LLM_BASE_URL=upstream_url,
        HARUCHAT_LLM_MODEL="fake-model",
        HARUCHAT_MODEL_TITLES="false",  # one call per request: the tests follow the answers' calls
        **LEASE,
        **extra,
    )


class StreamedCall:
    """A /v1 call with `stream: true`, read chunk by chunk."""

    def __init__(self, port: int, secret: str, question: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = {"model": "fake-model", "stream": True, "messages": [{"role": "user", "content": question}]}
        headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        self.connection.request("POST", "/v1/chat/completions", body=json.dumps(body), headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.read()
        self.done = False

    def next_data(self) -> str:
        while True:
            line = self.response.readline()
            if not line:
                raise AssertionError("the stream ended before [DONE]")
            if line.startswith(b"data:"):
                data = line[5:].strip().decode()
                self.done = data == "[DONE]"
                return data

    def read_to_end(self) -> None:
        while not self.done:
            self.next_data()

    def close(self) -> None:
        self.connection.close()


def wait_until(condition: Callable[[], bool], *, within: float) -> float:
    """Seconds it took `condition` to hold (failing the test after `within`)."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > within:
            raise AssertionError(f"not within {within} s")
        time.sleep(0.05)
    return time.monotonic() - started


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_killed_process_s_call_is_closed_and_refunded_the_other_process_s_is_untouched(
    tmp_path, fake_upstream_server, builtin_assistants
):
    if connection.vendor != "postgresql":
        pytest.skip("several app processes share one PostgreSQL; run with DATABASE_URL=postgres://...")
    fake_upstream_server.reset()
    fake_upstream_server.configure(**SLOW_STREAM)
    member = make_member()
    _, secret = api_key_create(user=member, name="crash")
    database_url = shared_database_url()
    env = server_env(tmp_path, fake_upstream_server.base_url, DATABASE_URL=database_url)

    with app_process(env) as (doomed, port_a), app_process(env) as (survivor, port_b):
        on_a = StreamedCall(port_a, secret, "answer slowly, a")
        on_b = StreamedCall(port_b, secret, "answer slowly, b")
        on_a.next_data(), on_b.next_data()  # both counted, recorded, and streaming
        assert DailyUsage.objects.get(user=member).requests == 2
        lease_a = ProcessLease.objects.get(pid=doomed.pid)
        lease_b = ProcessLease.objects.get(pid=survivor.pid)
        call_a = Completion.objects.get(lease=lease_a)
        call_b = Completion.objects.get(lease=lease_b)
        assert call_a.status == call_b.status == "pending"

        doomed.kill()  # SIGKILL: no shutdown, no settling, the call left "in progress"
        doomed.wait()
        on_a.close()
        took = wait_until(lambda: Completion.objects.get(pk=call_a.pk).status != "pending", within=CLOSED_WITHIN)
        call_a.refresh_from_db()
        assert (call_a.status, call_a.error_code) == ("failed", "abandoned")
        assert DailyUsage.objects.get(user=member).requests == 1  # refunded
        assert took < 1.5 + 0.25 + 2  # the lease, a sweep, and slack for a busy machine

        time.sleep(1)  # four more sweeps, in the surviving process
        assert not on_b.done
        assert Completion.objects.get(pk=call_b.pk).status == "pending"  # a live process's call: untouched
        assert DailyUsage.objects.get(user=member).requests == 1  # refunded once

        on_b.read_to_end()
        on_b.close()
        wait_until(lambda: Completion.objects.get(pk=call_b.pk).status != "pending", within=10)
        assert Completion.objects.get(pk=call_b.pk).status == "succeeded"
        assert DailyUsage.objects.get(user=member).requests == 1


def test_on_sqlite_the_next_process_closes_and_refunds_a_killed_one_s_call(tmp_path, fake_upstream_server):
    """One process at a time on a SQLite file: killed, restarted, and the new one cleans up after the old."""
    if connection.vendor != "sqlite":
        pytest.skip("run with the SQLite suite; on PostgreSQL the two-process test stands for it")
    fake_upstream_server.reset()
    fake_upstream_server.configure(**SLOW_STREAM)
    env = server_env(tmp_path, fake_upstream_server.base_url)
    assert manage(env, "migrate", "-v0").returncode == 0
    made = manage(
        env, "shell", "-c",
        "from accounts.models import User; from gateway.services import api_key_create; "
        "member = User.objects.create_user(email='haru@example.com', password='x' * 20, nickname='haru'); "
        "print(api_key_create(user=member, name='crash')[1])",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip().splitlines()[-1]

    def rows(sql: str) -> list[tuple]:
        with contextlib.closing(sqlite3.connect(tmp_path / "haruchat.sqlite3")) as database:
            return database.execute(sql).fetchall()

    def calls() -> list[tuple]:
        return rows("SELECT status, error_code FROM chat_completion ORDER BY id")

    def requests() -> int:
        return rows("SELECT requests FROM quota_dailyusage")[0][0]

    with app_process(env) as (doomed, port):
        on_a = StreamedCall(port, secret, "answer slowly, a")
        on_a.next_data()
        doomed.kill()
        doomed.wait()
        on_a.close()
    assert calls() == [("pending", "")]
    assert requests() == 1

    with app_process(env) as (_, port):
        on_b = StreamedCall(port, secret, "answer slowly, b")
        on_b.next_data()  # counted (the killed call may be refunded already: its lease is short)
        wait_until(lambda: calls()[0][0] != "pending", within=CLOSED_WITHIN)
        assert calls() == [("failed", "abandoned"), ("pending", "")]
        assert requests() == 1
        time.sleep(1)  # four more sweeps
        assert not on_b.done
        assert calls()[1] == ("pending", "")  # the running process's own call: untouched
        on_b.read_to_end()
        on_b.close()
        wait_until(lambda: calls()[1][0] != "pending", within=10)
        assert calls() == [("failed", "abandoned"), ("succeeded", "")]
        assert requests() == 1
