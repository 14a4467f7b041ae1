"""Answers belong to the server: a refreshed page finds the text so far and follows the rest
(GET …/messages/{id}/stream, resuming from Last-Event-ID without repeating), the Stop button stops one,
and the record and the quota stay exact through all of it. Over real HTTP to uvicorn."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import time

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.utils import timezone

from chat.models import Completion, Message, ProcessLease
from chat.selectors import assistant_default
from chat.services.calls import answer_placeholder_create, calls_close_stale
from chat.services.conversations import conversation_create, message_prepare
from chat.tests.helpers import start_conversation
from chat.tests.sse import SSEStream
from chat.tests.test_streaming_http import chat, wait_until_settled  # noqa: F401 (a fixture)
from common.tests.test_crash_recovery import server_env
from conftest import PASSWORD, client_for, make_member
from quota.models import DailyUsage
from testing.processes import app_process, shared_database_url

SLOW = {"chunks": 30, "chunk_delay": 0.08, "reply": " ".join(f"w{n}" for n in range(30))}


def follow(chat, answer_id: int, last_event_id: int | None = None) -> SSEStream:  # noqa: F811
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    url = f"{chat.url}/{answer_id}/stream"
    return SSEStream(url, chat.token, None, headers=headers)


def text_of(events) -> str:
    return "".join(e.data["content"] for e in events if e.name == "delta")


def test_a_refreshed_page_shows_the_text_so_far_and_follows_the_rest(chat, upstream, settings):  # noqa: F811
    settings.HARUCHAT_STREAM_FLUSH_SECONDS = 0.1
    upstream.configure(**SLOW)
    stream = chat.stream()
    events = stream.events()
    start = next(events)
    answer_id = start.data["assistant_message"]["id"]
    seen = [next(events) for _ in range(5)]
    stream.close()  # the tab is closed
    time.sleep(0.3)  # a flush interval or two
    detail = client_for(chat.member).get(f"/api/conversations/{chat.conversation.pk}").json()
    shown = next(m for m in detail["messages"] if m["id"] == answer_id)
    assert detail["current_leaf_id"] == answer_id and shown["status"] == "generating"
    assert shown["content"].startswith(text_of(seen)) and shown["content"] != SLOW["reply"]

    offset = len(shown["content"])
    rest = list(follow(chat, answer_id, offset).events())
    assert rest[-1].name == "done" and rest[-1].data["assistant_message"]["status"] == ""
    assert shown["content"] + text_of(rest) == SLOW["reply"]  # nothing repeated, nothing missed
    assert [int(e.id) for e in rest if e.name == "delta"][-1] == len(SLOW["reply"])
    assert chat.used() == 1
    assert wait_until_settled(chat.conversation).status == "succeeded"


def test_following_from_the_start_and_after_the_end(chat, upstream):  # noqa: F811
    upstream.configure(**SLOW)
    stream = chat.stream()
    answer_id = next(stream.events()).data["assistant_message"]["id"]
    whole = list(follow(chat, answer_id).events())  # a second device, from the beginning
    assert text_of(whole) == SLOW["reply"] and whole[-1].name == "done"
    again = list(follow(chat, answer_id, 5).events())  # after the end: the rest at once, then done
    assert text_of(again) == SLOW["reply"][5:] and again[-1].data["finish_reason"] == "stop"
    stream.close()


def test_stop_keeps_the_text_so_far_and_counts_it(chat, upstream):  # noqa: F811
    upstream.configure(**SLOW)
    stream = chat.stream()
    events = stream.events()
    answer_id = next(events).data["assistant_message"]["id"]
    [next(events) for _ in range(3)]
    member = client_for(chat.member)
    stopped = member.post(f"/api/conversations/{chat.conversation.pk}/messages/{answer_id}/stop")
    assert stopped.status_code == 202 and stopped.json()["status"] == "stopping"
    rest = list(events)
    assert rest[-1].name == "done"
    answer = rest[-1].data["assistant_message"]
    assert answer["status"] == "stopped" and answer["content"] and len(answer["content"]) < len(SLOW["reply"])
    assert rest[-1].data["finish_reason"] == "stopped"
    completion = wait_until_settled(chat.conversation)
    assert completion.status == "succeeded" and completion.reply.choices.get().finish_reason == "stopped"
    assert Message.objects.get(pk=answer_id).content == answer["content"]
    assert len(upstream.exchanges) == 1 and chat.used() == 1
    again = member.post(f"/api/conversations/{chat.conversation.pk}/messages/{answer_id}/stop")
    assert again.status_code == 409 and again.json()["code"] == "not_generating"


def test_stop_before_any_text_gives_the_request_back(chat, upstream):  # noqa: F811
    upstream.configure(latency=3.0)
    stream = chat.stream()
    events = stream.events()
    start = next(events)
    answer_id = start.data["assistant_message"]["id"]
    member = client_for(chat.member)
    assert member.post(f"/api/conversations/{chat.conversation.pk}/messages/{answer_id}/stop").status_code == 202
    rest = list(events)
    assert rest[-1].name == "error" and rest[-1].data["code"] == "stopped"
    assert wait_until_settled(chat.conversation).error_code == "stopped"
    assert chat.used() == 0
    assert not Message.objects.filter(pk=answer_id).exists()
    detail = member.get(f"/api/conversations/{chat.conversation.pk}").json()
    assert detail["current_leaf_id"] == start.data["user_message"]["id"] and detail["awaiting_reply"] is True


def test_nobody_else_follows_or_stops_an_answer(chat, upstream):  # noqa: F811
    upstream.configure(**SLOW)
    stream = chat.stream()
    start = next(stream.events())
    answer_id = start.data["assistant_message"]["id"]
    stranger = client_for(make_member("stranger@example.com", "stranger"))
    base = f"/api/conversations/{chat.conversation.pk}/messages"
    assert stranger.post(f"{base}/{answer_id}/stop").status_code == 404
    assert stranger.get(f"{base}/{answer_id}/stream").status_code == 404
    mine = client_for(chat.member)
    assert mine.post(f"{base}/{start.data['user_message']['id']}/stop").status_code == 404  # not an answer
    list(stream.events())
    assert Completion.objects.get(pk=start.data["completion_id"]).status == "succeeded"


@pytest.mark.parametrize("offset", ["abc", "-1", "99999999999999999999"])
def test_a_bad_last_event_id_is_read_as_the_start_or_the_end(chat, upstream, offset):  # noqa: F811
    stream = chat.stream()
    answer_id = next(stream.events()).data["assistant_message"]["id"]
    list(stream.events())
    events = list(follow(chat, answer_id, None).events()) if offset == "abc" else None
    follower = SSEStream(f"{chat.url}/{answer_id}/stream", chat.token, None, headers={"Last-Event-ID": offset})
    assert follower.status == 200
    received = list(follower.events())
    assert received[-1].name == "done"
    if events is not None:
        assert text_of(received) == text_of(events)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_answer_started_on_one_process_is_followed_and_stopped_from_another(
    tmp_path, fake_upstream_server, builtin_assistants
):
    """Two app processes on one PostgreSQL: B follows A's answer (woken by NOTIFY) and B's Stop reaches A."""
    if connection.vendor != "postgresql":
        pytest.skip("several app processes share one PostgreSQL; run with DATABASE_URL=postgres://...")
    fake_upstream_server.reset()
    fake_upstream_server.configure(chunks=60, chunk_delay=0.08, reply=" ".join(f"w{n}" for n in range(60)))
    member = make_member()
    # The app processes know only the production hashers, not the tests' fast one.
    member.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    member.save(update_fields=["password"])
    conversation = conversation_create(user=member, assistant=assistant_default())
    database_url = shared_database_url()
    env = server_env(tmp_path, fake_upstream_server.base_url, DATABASE_URL=database_url,
                     HARUCHAT_STREAM_FLUSH_SECONDS="0.1")  # fmt: skip

    with app_process(env) as (_, port_a), app_process(env) as (_, port_b):
        login = http.client.HTTPConnection("127.0.0.1", port_a, timeout=30)
        body = json.dumps({"email": member.email, "password": PASSWORD})
        login.request("POST", "/api/auth/login", body, {"Content-Type": "application/json"})
        token = json.loads(login.getresponse().read())["access"]
        path = f"/api/conversations/{conversation.pk}/messages"
        on_a = SSEStream(f"http://127.0.0.1:{port_a}{path}", token, {"content": "go slowly", "stream": True})
        events_a = on_a.events()
        answer_id = next(events_a).data["assistant_message"]["id"]
        next(events_a)
        on_b = SSEStream(f"http://127.0.0.1:{port_b}{path}/{answer_id}/stream", token, None)
        events_b = on_b.events()
        first_b = [next(events_b) for _ in range(3)]
        assert all(e.name == "delta" for e in first_b)
        stop = http.client.HTTPConnection("127.0.0.1", port_b, timeout=30)
        stop.request("POST", f"{path}/{answer_id}/stop", headers={"Authorization": f"Bearer {token}"})
        assert stop.getresponse().status == 202
        rest_a, rest_b = list(events_a), list(events_b)
        assert rest_a[-1].name == rest_b[-1].name == "done"
        stored = Message.objects.get(pk=answer_id)
        reply = fake_upstream_server.state.switches["reply"]
        assert stored.status == "stopped" and 0 < len(stored.content) < len(reply)
        assert rest_b[-1].data["assistant_message"]["content"] == stored.content
        assert text_of(first_b + rest_b) == stored.content  # B saw the whole text, in order, once
        assert DailyUsage.objects.get(user=member).requests == 1


def test_an_answer_whose_process_was_lost_is_marked_interrupted_with_its_text(db, upstream, builtin_assistants):
    """The sweep closes a call whose process is gone; its answer keeps the text written so far."""
    member = make_member()
    conversation = conversation_create(user=member, assistant=assistant_default())
    call = answer_placeholder_create(
        call=message_prepare(user=member, conversation=conversation, content="hi", stream=True)
    )
    Message.objects.filter(pk=call.answer_id).update(content="the text so far")
    assert calls_close_stale(older_than=dt.timedelta(0)) == 1
    answer = Message.objects.get(pk=call.answer_id)
    assert (answer.status, answer.content) == ("interrupted", "the text so far")
    assert DailyUsage.objects.get(user=member).requests == 0


def test_a_streamed_regeneration_and_a_follower_that_accepts_only_event_streams(chat, upstream):  # noqa: F811
    """EventSource-style clients send Accept: text/event-stream; a regeneration streams like a send."""
    first = list(chat.stream().events())
    old = first[-1].data["assistant_message"]
    again = SSEStream(f"{chat.url}/{old['id']}/regenerate", chat.token, {"stream": True})
    events = list(again.events())
    assert events[0].name == "start" and events[-1].name == "done"
    new = events[0].data["assistant_message"]
    assert new["parent_id"] == old["parent_id"] and new["id"] != old["id"]
    assert events[0].data["user_message"]["id"] == old["parent_id"]
    follower = SSEStream(f"{chat.url}/{new['id']}/stream", chat.token, None, headers={"Accept": "text/event-stream"})
    assert follower.status == 200
    assert text_of(list(follower.events())) == events[-1].data["assistant_message"]["content"]
    assert chat.used() == 2


@pytest.mark.parametrize("path", ["stream", "stop"])
def test_ids_past_any_database_integer_are_404(api, upstream, path):
    huge = 2**63
    method = api.get if path == "stream" else api.post
    assert method(f"/api/conversations/{huge}/messages/{huge}/{path}").status_code == 404
    mine = start_conversation(api)["id"]
    assert method(f"/api/conversations/{mine}/messages/{huge * 10}/{path}").status_code == 404


def answer_written_by(member, *, lease_expires_in: dt.timedelta):
    """A streamed answer in progress, its call held by another process whose lease ends `lease_expires_in` on."""
    conversation = conversation_create(user=member, assistant=assistant_default())
    call = answer_placeholder_create(
        call=message_prepare(user=member, conversation=conversation, content="hi", stream=True)
    )
    now = timezone.now()
    lease = ProcessLease.objects.create(host="elsewhere", pid=4242, started_at=now, expires_at=now + lease_expires_in)
    Completion.objects.filter(pk=call.completion.pk).update(lease=lease)
    return call, f"/api/conversations/{conversation.pk}/messages/{call.answer_id}/stop"


def test_stopping_an_answer_whose_process_is_gone_ends_it_at_once(db, upstream, builtin_assistants):
    """No process is writing it (its lease expired): Stop closes the call then, not at the next sweep."""
    member = make_member()
    call, stop = answer_written_by(member, lease_expires_in=-dt.timedelta(seconds=1))
    Message.objects.filter(pk=call.answer_id).update(content="the text so far")
    stopped = client_for(member).post(stop)
    assert stopped.status_code == 202
    assert (stopped.json()["status"], stopped.json()["content"]) == ("interrupted", "the text so far")
    completion = Completion.objects.get(pk=call.completion.pk)
    assert (completion.status, completion.error_code) == ("failed", "abandoned")
    assert DailyUsage.objects.get(user=member).requests == 0  # given back, as the sweep does


def test_stopping_an_answer_another_live_process_writes_leaves_it_to_that_process(db, upstream, builtin_assistants):
    member = make_member()
    call, stop = answer_written_by(member, lease_expires_in=dt.timedelta(minutes=1))
    stopped = client_for(member).post(stop)
    assert stopped.status_code == 202 and stopped.json()["status"] == "stopping"
    assert Completion.objects.get(pk=call.completion.pk).status == "pending"
