"""Calls left "in progress" by a process that died are closed and refunded."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.management import call_command
from django.utils import timezone

from chat.models import Completion
from chat.selectors import assistant_default
from chat.services.calls import calls_close_stale
from chat.services.conversations import conversation_create
from chat.tests.helpers import counted
from conftest import LiveUvicorn, make_member
from quota.models import DailyUsage
from quota.services import quota_reserve


def abandoned_call(member, *, age: dt.timedelta) -> Completion:
    """A call whose process died after counting it: reserved, recorded, never settled."""
    started = timezone.now() - age
    quota_reserve(user=member, now=started)  # counted on the day it started (which, near midnight, was another)
    conversation = conversation_create(user=member, assistant=assistant_default())
    completion = Completion.objects.create(conversation=conversation, user=member, provider="local", model="m")
    Completion.objects.filter(pk=completion.pk).update(created_at=started)
    return completion


def test_old_pending_calls_are_closed_and_refunded_recent_ones_left_alone(member, settings):
    settings.HARUCHAT_STALE_CALL_SECONDS = 600
    old = abandoned_call(member, age=dt.timedelta(minutes=30))
    recent = abandoned_call(member, age=dt.timedelta(seconds=5))
    assert counted(member) == 2
    assert calls_close_stale() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.error_code) == ("failed", "abandoned")
    assert recent.status == "pending"
    assert counted(member) == 1
    assert calls_close_stale() == 0  # closing twice never refunds twice
    assert counted(member) == 1


def test_the_management_command_closes_them(member, capsys):
    abandoned_call(member, age=dt.timedelta(hours=2))
    call_command("close_stale_calls")
    assert "closed 1" in capsys.readouterr().out


@pytest.mark.django_db(transaction=True)
def test_the_server_closes_them_when_it_starts():
    import importlib

    from django.apps import apps

    importlib.import_module("chat.migrations.0002_builtin_assistants").create_assistants(apps, None)
    member = make_member()
    completion = abandoned_call(member, age=dt.timedelta(hours=1))
    server = LiveUvicorn(lifespan="on").start()
    try:
        deadline = time.monotonic() + 10
        while Completion.objects.get(pk=completion.pk).status == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.stop()
    assert Completion.objects.get(pk=completion.pk).status == "failed"
    assert DailyUsage.objects.get(user=member).requests == 0
