"""Faults: the database drops haruchat's connections (a restart, a failover, a
killed backend) while a call waits on the model. The call still completes, its
record is whole and single, and the quota counts it once. PostgreSQL only: the
connections are killed with pg_terminate_backend."""

from __future__ import annotations

import threading
import time

import openai
import psycopg
import pytest
from django.db import connection

from chat.models import Completion, Message
from conftest import make_member
from gateway.services import api_key_create
from quota.models import DailyUsage

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="kills PostgreSQL backends; run with DATABASE_URL=postgres://..."
)


def own_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def kill_server_connections(keep: int) -> int:
    """Terminate every connection to the test database but the test's own (`keep`)."""
    settings = connection.settings_dict
    dsn = f"host={settings['HOST']} port={settings['PORT']} user={settings['USER']} dbname={settings['NAME']}"
    with psycopg.connect(dsn, autocommit=True) as killer:
        return killer.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
            [keep],
        ).fetchone()[0]


@pytest.fixture
def client_and_member(live_uvicorn, upstream):
    member = make_member()
    _, secret = api_key_create(user=member, name="faults")
    return openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0), member


def test_connections_killed_while_the_model_answers(client_and_member, upstream):
    client, member = client_and_member
    client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "warm up"}])
    upstream.configure(latency=1.0)
    killer = threading.Timer(0.4, kill_server_connections, [own_pid()])
    killer.start()
    answer = client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "still here?"}])
    killer.join()
    assert answer.choices[0].message.content == "Echo: still here?"
    assert Completion.objects.filter(user=member, status="succeeded").count() == 2
    assert Message.objects.filter(conversation__user=member, role="assistant").count() == 2
    assert DailyUsage.objects.get(user=member).requests == 2


def test_connections_killed_between_calls(client_and_member, upstream):
    client, member = client_and_member
    client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "first"}])
    time.sleep(0.2)
    assert kill_server_connections(own_pid()) >= 1  # the pooled connections of the server
    answer = client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "second"}])
    assert answer.choices[0].message.content == "Echo: second"
    assert Completion.objects.filter(user=member, status="succeeded").count() == 2
    assert DailyUsage.objects.get(user=member).requests == 2
