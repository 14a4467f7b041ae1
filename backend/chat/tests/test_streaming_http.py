"""Streamed answers over real HTTP to uvicorn: token by token, recorded whole, and
every way a stream can end badly."""

from __future__ import annotations

import time

import pytest

from accounts.services import user_tokens_issue
from chat.models import Completion, Message
from chat.selectors import assistant_default
from chat.services.conversations import conversation_create
from chat.tests.sse import SSEStream
from conftest import client_for, make_member
from quota.models import DailyUsage


@pytest.fixture
def chat(live_uvicorn, upstream):
    """A member with a token and a fresh conversation on the live server."""
    member = make_member()
    conversation = conversation_create(user=member, assistant=assistant_default())

    class Chat:
        url = f"{live_uvicorn.url}/api/conversations/{conversation.pk}/messages"
        token = user_tokens_issue(user=member)["access"]

        @staticmethod
        def stream(content: str = "tell me a story", **body) -> SSEStream:
            return SSEStream(Chat.url, Chat.token, {"content": content, "stream": True, **body})

        @staticmethod
        def used() -> int:
            return DailyUsage.objects.filter(user=member).values_list("requests", flat=True).first() or 0

    Chat.member, Chat.conversation = member, conversation
    return Chat


def wait_until_settled(conversation, timeout: float = 10.0) -> Completion:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        completion = Completion.objects.filter(conversation=conversation).order_by("-id").first()
        if completion is not None and completion.status != Completion.Status.PENDING:
            return completion
        time.sleep(0.05)
    raise AssertionError("the call was never settled")


def test_tokens_arrive_as_they_are_produced_and_the_answer_is_stored_whole(chat, upstream):
    upstream.configure(chunks=16, chunk_delay=0.05)
    stream = chat.stream("hello streaming world")
    assert stream.status == 200
    assert stream.header("Content-Type").startswith("text/event-stream")
    assert stream.header("X-RateLimit-Remaining") == "4"  # sent before the first byte
    events = list(stream.events())
    names = [e.name for e in events]
    assert names[0] == "start" and names[-1] == "done"
    deltas = [e for e in events if e.name == "delta"]
    assert len(deltas) >= 10
    # Incremental, not buffered: the first token comes long before the end.
    assert events[-1].at - deltas[0].at > 0.4
    text = "".join(e.data["content"] for e in deltas)
    assert text == "Echo: hello streaming world"
    done = events[-1].data
    assert done["assistant_message"]["content"] == text
    assert done["finish_reason"] == "stop" and done["usage_counted"] is False
    assert done["quota"]["used"] == 1

    completion = Completion.objects.get(pk=done["completion_id"])
    assert completion.status == "succeeded"
    from chat.records import rebuild_request, rebuild_response

    [exchange] = upstream.exchanges
    assert rebuild_request(completion) == exchange.request
    assert exchange.request["stream"] is True and exchange.request["stream_options"] == {"include_usage": True}
    response = rebuild_response(completion)
    assert response["choices"][0]["message"]["content"] == text
    assert response["choices"][0]["finish_reason"] == "stop"
    assert response["usage"]["completion_tokens"] == len(text.split())  # the upstream's own count
    assert response["system_fingerprint"] == "fp_fake_upstream"
    assert response["id"].startswith("chatcmpl-")


def test_an_upstream_error_before_the_first_token_is_an_error_event_and_refunded(chat, upstream):
    upstream.configure(status=500)
    events = list(chat.stream("anyone?").events())
    assert [e.name for e in events] == ["start", "error"]
    error = events[-1].data
    assert error["code"] == "upstream_error" and error["status"] == 502
    assert error["user_message"]["content"] == "anyone?"
    assert chat.used() == 0
    assert wait_until_settled(chat.conversation).status == "failed"
    assert list(Message.objects.filter(conversation=chat.conversation).values_list("content", flat=True)) == ["anyone?"]


def test_a_stream_broken_mid_answer_keeps_the_partial_answer(chat, upstream):
    upstream.configure(chunks=10, break_after=5, reply="one two three four five six seven eight nine ten")
    events = list(chat.stream().events())
    assert events[-1].name == "error"
    error = events[-1].data
    assert error["code"] == "stream_broken"
    partial = "".join(e.data["content"] for e in events if e.name == "delta")
    assert partial and error["partial_message"]["content"] == partial
    completion = wait_until_settled(chat.conversation)
    assert (completion.status, completion.error_code) == ("failed", "stream_broken")
    assert completion.reply.choices.get().finish_reason == "stream_broken"
    assert Message.objects.get(completion=completion).content == partial
    assert chat.used() == 1  # it produced text, so it counts


def test_a_stalled_upstream_times_out_and_a_call_that_produced_nothing_is_refunded(chat, upstream, settings):
    settings.HARUCHAT_LLM_TIMEOUT = 0.5
    upstream.configure(stall_after=1)  # sends the role chunk, then nothing
    events = list(chat.stream().events())
    assert events[-1].name == "error" and events[-1].data["code"] == "upstream_timeout"
    assert "partial_message" not in events[-1].data
    assert chat.used() == 0
    assert wait_until_settled(chat.conversation).error_code == "upstream_timeout"


def test_a_stall_after_some_text_stores_it_with_finish_reason_timeout(chat, upstream, settings):
    settings.HARUCHAT_LLM_TIMEOUT = 0.5
    upstream.configure(chunks=6, stall_after=3, reply="alpha beta gamma delta epsilon zeta")
    events = list(chat.stream().events())
    assert events[-1].data["code"] == "upstream_timeout"
    completion = wait_until_settled(chat.conversation)
    assert completion.reply.choices.get().finish_reason == "timeout"
    assert chat.used() == 1


def test_a_client_that_disconnects_does_not_stop_the_answer(chat, upstream):
    """Generation belongs to the server: the answer is finished, stored whole and counted once."""
    upstream.configure(chunks=40, chunk_delay=0.05, reply="word " * 40)
    stream = chat.stream()
    events = stream.events()
    seen = [next(events) for _ in range(3)]  # start and two deltas
    assert [e.name for e in seen] == ["start", "delta", "delta"]
    stream.close()
    completion = wait_until_settled(chat.conversation)
    assert (completion.status, completion.error_code) == ("succeeded", "")
    answer = Message.objects.get(completion=completion)
    assert (answer.content, answer.status) == ("word " * 40, "")
    assert answer.pk == seen[0].data["assistant_message"]["id"]  # the answer stored as it started
    assert completion.reply.choices.get().finish_reason == "stop"
    assert chat.used() == 1


def test_over_quota_is_a_plain_429_before_any_stream(chat, upstream, settings):
    settings.HARUCHAT_DAILY_LIMIT = 0
    stream = chat.stream()
    assert stream.status == 429
    assert stream.header("Retry-After")
    assert stream.header("Content-Type") == "application/json"


@pytest.mark.local_model
def test_the_embedded_model_streams_too_and_its_usage_is_the_models_own_count(chat, settings):
    from chat.records import rebuild_request, rebuild_response
    from llm.providers import get_provider

    settings.HARUCHAT_LLM_PROVIDER = "local"
    settings.HARUCHAT_LLM_MODEL = ""
    Completion.objects.all().delete()
    chat.conversation.model = "smollm2-135m-instruct"
    chat.conversation.temperature = 0.0
    chat.conversation.max_tokens = 16
    chat.conversation.save()
    events = list(chat.stream("Name three colors.").events())
    assert events[-1].name == "done", events[-1].data
    deltas = [e for e in events if e.name == "delta"]
    done = events[-1].data
    assert done["assistant_message"]["content"] == "".join(e.data["content"] for e in deltas)

    completion = Completion.objects.get(pk=done["completion_id"])
    # llama-cpp-python's own count for the same request (its usage comes only unstreamed)
    answer = get_provider().complete({**rebuild_request(completion), "stream": False})
    assert answer["choices"][0]["message"]["content"] == done["assistant_message"]["content"]
    assert done["usage_counted"] is False and completion.usage_counted is False
    assert done["usage"] == rebuild_response(completion)["usage"] == answer["usage"]
    assert DailyUsage.objects.get(user=chat.member).completion_tokens == answer["usage"]["completion_tokens"]


def test_a_stream_chunk_that_is_not_an_object_ends_in_a_malformed_error_keeping_the_text_before_it(chat, upstream):
    upstream.configure(chunks=4, malformed="bad_chunk", reply="aaaa bbbb cccc dddd ")
    events = list(chat.stream().events())
    assert events[-1].name == "error" and events[-1].data["code"] == "upstream_malformed"
    partial = "".join(e.data["content"] for e in events if e.name == "delta")
    assert partial == "aaaa "  # the role chunk, one piece of text, then the bad chunk
    completion = wait_until_settled(chat.conversation)
    assert (completion.status, completion.error_code) == ("failed", "upstream_malformed")
    assert Message.objects.get(completion=completion).content == partial


def test_a_streamed_usage_carrying_nan_ends_in_a_malformed_error_keeping_the_whole_text(chat, upstream):
    """Python's parser takes NaN, JSON (and PostgreSQL's jsonb, where the record would fail) does not."""
    upstream.configure(chunks=3, malformed="nan", reply="calm and slow")
    events = list(chat.stream().events())
    assert events[-1].name == "error" and events[-1].data["code"] == "upstream_malformed"
    assert "".join(e.data["content"] for e in events if e.name == "delta") == "calm and slow"
    completion = wait_until_settled(chat.conversation)
    assert (completion.status, completion.error_code) == ("failed", "upstream_malformed")
    assert Message.objects.get(completion=completion).content == "calm and slow"
    assert chat.used() == 1  # the member got the answer's text: counted


def test_the_call_record_says_whose_count_its_usage_is(chat, upstream):
    upstream.configure(chunks=4)
    assert list(chat.stream("the model counts").events())[-1].name == "done"
    upstream.configure(chunks=4, no_usage=True)
    assert list(chat.stream("haruchat counts").events())[-1].name == "done"
    wait_until_settled(chat.conversation)
    calls = client_for(chat.member).get(f"/api/conversations/{chat.conversation.pk}/completions").json()
    by_model, by_haruchat = sorted(calls, key=lambda call: call["id"])
    assert by_model["usage_counted"] is False
    assert by_haruchat["usage_counted"] is True
    assert by_haruchat["response"]["usage"]["completion_tokens"] == 4


def test_the_quota_object_has_one_shape_everywhere(chat, upstream, settings):
    """/api/quota, a sent message's answer, a stream's start and done events and a 429 body: the same fields."""
    settings.HARUCHAT_DAILY_LIMIT = 3
    api = client_for(chat.member)
    fields = {"limit", "used", "remaining", "resets_at", "time_zone", "source", "group", "tokens"}
    before = api.get("/api/quota").json()
    assert set(before) == fields and before["time_zone"] == settings.HARUCHAT_QUOTA_TZ
    sent = api.post(f"/api/conversations/{chat.conversation.pk}/messages", {"content": "one"}, format="json").json()
    assert sent["quota"] == {**before, "used": 1, "remaining": 2}
    events = {e.name: e.data for e in chat.stream("two").events()}
    assert events["start"]["quota"] == events["done"]["quota"] == {**before, "used": 2, "remaining": 1}
    list(chat.stream("three").events())
    refused = api.post(f"/api/conversations/{chat.conversation.pk}/messages", {"content": "four"}, format="json")
    assert refused.status_code == 429
    assert refused.json()["quota"] == api.get("/api/quota").json() == {**before, "used": 3, "remaining": 0}
