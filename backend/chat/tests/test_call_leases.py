"""Each server process holds a lease; the calls of a process whose lease expired are closed and refunded
once, and a live process's calls are never touched (chat.services.leases, calls_close_stale)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import close_old_connections
from django.utils import timezone

from chat.models import Completion, ProcessLease
from chat.selectors import assistant_default
from chat.services import leases
from chat.services.calls import calls_close_stale
from chat.services.conversations import conversation_create
from chat.services.leases import lease_drop, lease_held, lease_renew, lease_take
from chat.tests.helpers import counted
from conftest import LiveUvicorn, make_member
from gateway.services import api_key_authenticate, api_key_create, gateway_call_start
from quota.models import DailyUsage
from quota.services import quota_reserve
from testing.samples import REQUEST


@pytest.fixture
def held_lease(db) -> Iterator[int]:
    """This process's lease, as the server's lifespan takes it."""
    yield lease_take()
    lease_drop()


def other_lease(*, expires_in: dt.timedelta) -> ProcessLease:
    """Another process's lease, live (`expires_in` ahead) or expired (behind)."""
    now = timezone.now()
    return ProcessLease.objects.create(host="elsewhere", pid=4242, started_at=now, expires_at=now + expires_in)


def call_in_progress(member, *, lease: ProcessLease | int | None, age: dt.timedelta = dt.timedelta()) -> Completion:
    """A call counted and recorded by the process holding `lease`, not settled (yet, or ever)."""
    started = timezone.now() - age
    quota_reserve(user=member, now=started)  # counted on the day it started (near midnight, another)
    conversation = conversation_create(user=member, assistant=assistant_default())
    lease_id = lease.pk if isinstance(lease, ProcessLease) else lease
    completion = Completion.objects.create(
        conversation=conversation, user=member, provider="local", model="m", lease_id=lease_id
    )
    Completion.objects.filter(pk=completion.pk).update(created_at=started)
    return completion


def state(completion: Completion) -> tuple[str, str]:
    completion.refresh_from_db()
    return completion.status, completion.error_code


def test_a_call_records_the_lease_of_the_process_that_made_it(member, upstream, held_lease):
    _, secret = api_key_create(user=member, name="k")
    call = gateway_call_start(key=api_key_authenticate(secret), request=REQUEST)
    assert call.completion.lease_id == held_lease
    assert Completion.objects.get(pk=call.completion.pk).lease_id == held_lease
    lease_drop()  # manage.py, WSGI: no lease
    call = gateway_call_start(key=api_key_authenticate(secret), request=REQUEST)
    assert Completion.objects.get(pk=call.completion.pk).lease_id is None


def test_a_call_whose_lease_expired_is_closed_and_refunded_once(member):
    gone = other_lease(expires_in=-dt.timedelta(seconds=5))
    completion = call_in_progress(member, lease=gone, age=dt.timedelta(seconds=10))
    assert counted(member) == 1
    assert calls_close_stale() == 1
    assert state(completion) == ("failed", "abandoned")
    completion.refresh_from_db()
    assert completion.finished_at is not None
    assert counted(member) == 0
    assert calls_close_stale() == 0  # closing again never refunds again
    assert counted(member) == 0


def test_a_live_processs_calls_are_never_closed_however_long(member, settings):
    settings.HARUCHAT_STALE_CALL_SECONDS = 60
    live = other_lease(expires_in=dt.timedelta(seconds=30))
    long_call = call_in_progress(member, lease=live, age=dt.timedelta(hours=3))
    assert calls_close_stale() == 0
    assert calls_close_stale(older_than=dt.timedelta(0)) == 0
    assert state(long_call) == ("pending", "")
    assert counted(member) == 1


def test_the_sweeping_process_never_judges_its_own_calls(member, held_lease):
    """A process sweeping is alive, even if its renewals fell behind (a busy database, a blocked loop)."""
    ProcessLease.objects.filter(pk=held_lease).update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    mine = call_in_progress(member, lease=held_lease)
    assert calls_close_stale() == 0
    assert state(mine) == ("pending", "")
    lease_drop()  # seen from any other process, it is gone
    assert calls_close_stale() == 1
    assert state(mine) == ("failed", "abandoned")


def test_a_call_with_no_lease_is_closed_by_age_as_before(member, settings):
    settings.HARUCHAT_STALE_CALL_SECONDS = 600
    old = call_in_progress(member, lease=None, age=dt.timedelta(minutes=30))
    recent = call_in_progress(member, lease=None, age=dt.timedelta(minutes=1))
    deleted_lease = call_in_progress(member, lease=987654, age=dt.timedelta(minutes=30))  # its lease row is gone
    deleted_recent = call_in_progress(member, lease=987654, age=dt.timedelta(minutes=1))
    assert calls_close_stale() == 2
    assert state(old) == state(deleted_lease) == ("failed", "abandoned")
    assert state(recent) == state(deleted_recent) == ("pending", "")
    assert counted(member) == 2


def test_only_pending_calls_are_closed(member):
    gone = other_lease(expires_in=-dt.timedelta(seconds=5))
    done = call_in_progress(member, lease=gone)
    Completion.objects.filter(pk=done.pk).update(status=Completion.Status.SUCCEEDED)
    assert calls_close_stale() == 0
    assert state(done) == ("succeeded", "")
    assert counted(member) == 1


def test_the_refund_goes_to_the_day_the_call_was_counted_on(member):
    gone = other_lease(expires_in=-dt.timedelta(seconds=5))
    completion = call_in_progress(member, lease=gone, age=dt.timedelta(days=1))  # counted yesterday
    quota_reserve(user=member)  # and one today, which stays counted
    assert calls_close_stale() == 1
    assert state(completion) == ("failed", "abandoned")
    assert sorted(DailyUsage.objects.filter(user=member).values_list("requests", flat=True)) == [0, 1]


def test_renewing_pushes_the_expiry_on_and_revives_a_lease_that_lapsed(db, caplog):
    lease_id = lease_take()
    try:
        lease = ProcessLease.objects.get(pk=lease_id)
        assert lease.expires_at > timezone.now()
        ProcessLease.objects.filter(pk=lease_id).update(expires_at=timezone.now() + dt.timedelta(seconds=1))
        lease_renew()
        assert ProcessLease.objects.get(pk=lease_id).expires_at > timezone.now() + dt.timedelta(seconds=20)
        assert not caplog.records
        ProcessLease.objects.filter(pk=lease_id).update(expires_at=timezone.now() - dt.timedelta(seconds=5))
        lease_renew()  # lapsed: the same lease, live again (its calls no sweep closed stay its own)
        assert lease_held() == lease_id
        assert ProcessLease.objects.get(pk=lease_id).expires_at > timezone.now()
        assert "had expired" in caplog.text
        ProcessLease.objects.filter(pk=lease_id).delete()
        lease_renew()  # gone altogether: a new one
        assert lease_held() not in (None, lease_id)
        assert ProcessLease.objects.get(pk=lease_held()).expires_at > timezone.now()
    finally:
        lease_drop()


def test_a_process_with_no_lease_takes_one_at_its_next_renewal(db):
    assert lease_held() is None
    lease_renew()
    try:
        assert ProcessLease.objects.filter(pk=lease_held()).exists()
    finally:
        lease_drop()


def test_leases_long_expired_are_deleted_when_a_process_starts(db):
    stopped_long_ago = other_lease(expires_in=-leases.LEASE_KEPT - dt.timedelta(minutes=1))
    stopped_recently = other_lease(expires_in=-dt.timedelta(minutes=1))
    lease_take()
    lease_drop()
    assert not ProcessLease.objects.filter(pk=stopped_long_ago.pk).exists()
    assert ProcessLease.objects.filter(pk=stopped_recently.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_sweeps_running_at_once_in_several_processes_refund_each_call_once(builtin_assistants, settings):
    settings.HARUCHAT_DAILY_LIMIT = 100
    member = make_member()
    gone = other_lease(expires_in=-dt.timedelta(seconds=5))
    calls = [call_in_progress(member, lease=gone) for _ in range(12)]
    assert counted(member) == 12
    closed: list[int] = []
    barrier = threading.Barrier(4)

    def sweep() -> None:
        try:
            barrier.wait()
            closed.append(calls_close_stale())
        finally:
            close_old_connections()

    threads = [threading.Thread(target=sweep) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(closed) == 12
    assert {state(c) for c in calls} == {("failed", "abandoned")}
    assert counted(member) == 0


@pytest.mark.django_db(transaction=True)
def test_the_server_holds_a_lease_renews_it_and_closes_a_gone_processs_calls(builtin_assistants, settings):
    settings.HARUCHAT_CALL_LEASE_SECONDS = 0.6  # renewed every 0.2 s
    settings.HARUCHAT_CALL_SWEEP_SECONDS = 0.1
    member = make_member()
    gone = other_lease(expires_in=dt.timedelta(seconds=0.5))  # a process killed just now
    orphan = call_in_progress(member, lease=gone)
    server = LiveUvicorn(lifespan="on").start()
    try:
        mine = lease_held()
        assert mine is not None and ProcessLease.objects.filter(pk=mine).exists()
        own_call = call_in_progress(member, lease=mine)
        first_expiry = ProcessLease.objects.get(pk=mine).expires_at
        deadline = time.monotonic() + 10
        while state(orphan)[0] == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state(orphan) == ("failed", "abandoned")
        time.sleep(1.0)  # several leases long: it lives on only by being renewed
        assert ProcessLease.objects.get(pk=mine).expires_at > first_expiry
        assert ProcessLease.objects.get(pk=mine).expires_at > timezone.now()
        assert state(own_call) == ("pending", "")
        assert counted(member) == 1
    finally:
        server.stop()
    assert lease_held() is None  # a stopped server holds none (its lease expires by itself)


def test_a_call_a_sweep_closed_is_not_refunded_again_when_its_process_settles_it_late(member, upstream):
    """A process stalled past its lease: the sweep closes and refunds its call; its late failure refunds nothing."""
    from chat.services.calls import call_fail
    from llm.errors import UpstreamTimeout

    quota_reserve(user=member)  # an earlier request of the day, which must stay counted
    _, secret = api_key_create(user=member, name="k")
    call = gateway_call_start(key=api_key_authenticate(secret), request=REQUEST)
    assert counted(member) == 2
    gone = other_lease(expires_in=-dt.timedelta(seconds=5))
    Completion.objects.filter(pk=call.completion.pk).update(lease_id=gone.pk)
    assert calls_close_stale() == 1
    assert counted(member) == 1
    call_fail(call=call, error=UpstreamTimeout())
    assert counted(member) == 1  # refunded once, by the sweep
    assert state(call.completion) == ("failed", "abandoned")
