"""A model answer holding a NUL or half an emoji is delivered as sent and recorded with U+FFFD in its place."""

from __future__ import annotations

import openai
import pytest

from accounts.services import user_tokens_issue
from chat.models import Completion, Conversation, Message
from chat.records import rebuild_response, with_unstorable_replaced
from chat.selectors import assistant_default
from chat.services.calls import call_fail
from chat.services.conversations import conversation_create, message_prepare
from chat.tests.helpers import send, start_conversation
from chat.tests.sse import SSEStream
from conftest import client_for, make_member
from gateway.services import api_key_create
from llm.errors import ProviderError
from quota.models import DailyUsage

# A NUL (PostgreSQL stores it in neither text nor jsonb) and an unpaired surrogate:
# the first half of 😀 (JSON "\ud83d" alone), which no database can store.
REPLY = "before\x00after \ud83d"
RECORDED = "before\ufffdafter \ufffd"


def test_the_stand_in_replaces_them_in_strings_and_keys_at_any_depth_and_counts_them():
    value = {"a\x00": ["x\udc00y", {"k": "\x00\ud800"}, 3, None, True], "plain": "text"}
    cleaned, count = with_unstorable_replaced(value)
    assert cleaned == {"a\ufffd": ["x\ufffdy", {"k": "\ufffd\ufffd"}, 3, None, True], "plain": "text"}
    assert count == 4
    untouched = {"choices": [{"message": {"content": "whole emoji 😀, Hangul 하루"}}]}
    assert with_unstorable_replaced(untouched) == (untouched, 0)


def test_a_web_answer_with_them_is_stored_with_the_stand_in_and_counted(api, upstream):
    upstream.configure(reply=REPLY)
    conversation = start_conversation(api)
    response = send(api, conversation["id"], "say something odd")
    assert response.status_code == 201, response.content
    assert response.json()["assistant_message"]["content"] == RECORDED
    [call] = api.get(f"/api/conversations/{conversation['id']}/completions").json()
    assert call["status"] == "succeeded" and call["characters_replaced"] == 2
    sent = upstream.exchanges[0].response
    assert call["response"] == with_unstorable_replaced(sent)[0]
    assert call["response"]["choices"][0]["message"]["content"] == RECORDED
    assert DailyUsage.objects.get(user__email="haru@example.com").requests == 1


@pytest.fixture
def sdk(live_uvicorn, upstream):
    member = make_member()
    _, secret = api_key_create(user=member, name="test")
    client = openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0)
    client.member = member
    return client


def test_a_v1_client_gets_them_as_the_upstream_sent_it_and_the_call_is_recorded(sdk, upstream):
    upstream.configure(reply=REPLY)
    answer = sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "odd"}])
    assert answer.choices[0].message.content == REPLY
    completion = Completion.objects.get(user=sdk.member)
    assert completion.status == "succeeded" and completion.characters_replaced == 2
    assert rebuild_response(completion)["choices"][0]["message"]["content"] == RECORDED
    assert Message.objects.get(completion=completion).content == RECORDED
    assert DailyUsage.objects.get(user=sdk.member).requests == 1


def test_a_streamed_v1_answer_with_them_ends_normally_and_is_recorded(sdk, upstream):
    upstream.configure(reply=REPLY, chunks=3)
    chunks = list(
        sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "odd"}], stream=True)
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    completion = Completion.objects.get(user=sdk.member)
    assert completion.status == "succeeded" and completion.characters_replaced == 2
    assert Message.objects.get(completion=completion).content == RECORDED


def test_an_upstream_error_message_with_them_is_recorded_and_refunded(member, upstream):
    conversation = Conversation.objects.get(pk=start_conversation(client_for(member))["id"])
    call = message_prepare(user=member, conversation=conversation, content="hi")
    failed = call_fail(call=call, error=ProviderError("upstream said \x00 this \ud83d", upstream_status=500))
    assert failed.status_code == 502
    completion = Completion.objects.get(pk=call.completion.pk)
    assert completion.status == "failed" and completion.error_detail == "upstream said \ufffd this \ufffd"
    assert DailyUsage.objects.get(user=member).requests == 0


def test_the_web_stream_sends_them_as_they_came_and_ends_with_the_recorded_answer(live_uvicorn, upstream):
    upstream.configure(reply=REPLY, chunks=3)
    member = make_member()
    conversation = conversation_create(user=member, assistant=assistant_default())
    stream = SSEStream(
        f"{live_uvicorn.url}/api/conversations/{conversation.pk}/messages",
        user_tokens_issue(user=member)["access"],
        {"content": "odd", "stream": True},
    )
    events = list(stream.events())
    assert [e.name for e in events][-1] == "done", events[-1]
    assert "".join(e.data["content"] for e in events if e.name == "delta") == REPLY
    assert events[-1].data["assistant_message"]["content"] == RECORDED
    assert Completion.objects.get(conversation=conversation).characters_replaced == 2
