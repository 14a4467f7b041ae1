"""On SQLite, this process's writers take turns at a lock of ours instead of polling SQLite's."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from accounts.models import User
from conftest import make_member

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's single writer")


@pytest.mark.django_db(transaction=True)
def test_a_waiting_writer_goes_as_soon_as_the_one_before_commits():
    member = make_member()
    first_began = threading.Event()
    moments: dict[str, float] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                User.objects.filter(pk=member.pk).update(nickname="first")
                first_began.set()
                time.sleep(0.24)  # SQLite's busy handler would be sleeping 100 ms at a time by now
            moments["first committed"] = time.monotonic()
        finally:
            connection.close()

    def second() -> None:
        first_began.wait()
        try:
            with transaction.atomic():
                moments["second began"] = time.monotonic()
                User.objects.filter(pk=member.pk).update(nickname="second")
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    # SQLite alone: its next try comes at 328 ms, ~85 ms after the commit; our lock: at once
    assert moments["second began"] - moments["first committed"] < 0.05
    member.refresh_from_db()
    assert member.nickname == "second"


@pytest.mark.django_db(transaction=True)
def test_a_failed_transaction_lets_the_next_writer_in():
    member = make_member()
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        User.objects.filter(pk=member.pk).update(nickname="rolled back")
        1 / 0  # noqa: B018
    done = threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                User.objects.filter(pk=member.pk).update(nickname="written")
            done.set()
        finally:
            connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    assert done.wait(timeout=2)  # the rollback gave the lock back
    member.refresh_from_db()
    assert member.nickname == "written"
