"""A model answer holding a NUL character is delivered as sent and recorded (PostgreSQL can't store NUL)."""

from __future__ import annotations

import openai
import pytest

from chat.models import Completion, Conversation, Message
from chat.records import rebuild_response, without_nul_characters
from chat.services import call_fail, message_prepare
from chat.tests.helpers import send, start_conversation
from conftest import client_for, make_member
from gateway.services import api_key_create
from llm.errors import ProviderError
from quota.models import DailyUsage

REPLY = "before\x00after\x00"
RECORDED = "before\ufffdafter\ufffd"


def test_the_stand_in_replaces_nul_in_strings_and_keys_at_any_depth_and_counts_them():
    value = {"a\x00": ["x\x00y", {"k": "\x00\x00"}, 3, None, True], "plain": "text"}
    cleaned, count = without_nul_characters(value)
    assert cleaned == {"a\ufffd": ["x\ufffdy", {"k": "\ufffd\ufffd"}, 3, None, True], "plain": "text"}
    assert count == 4
    untouched = {"choices": [{"message": {"content": "no nul"}}]}
    assert without_nul_characters(untouched) == (untouched, 0)


def test_a_web_answer_with_nul_is_stored_with_the_stand_in_and_counted(api, upstream):
    upstream.configure(reply=REPLY)
    conversation = start_conversation(api)
    response = send(api, conversation["id"], "say something odd")
    assert response.status_code == 201, response.content
    assert response.json()["assistant_message"]["content"] == RECORDED
    [call] = api.get(f"/api/conversations/{conversation['id']}/completions").json()
    assert call["status"] == "succeeded" and call["nul_characters_replaced"] == 2
    sent = upstream.exchanges[0].response
    assert call["response"] == without_nul_characters(sent)[0]
    assert call["response"]["choices"][0]["message"]["content"] == RECORDED
    assert DailyUsage.objects.get(user__email="haru@example.com").requests == 1


@pytest.fixture
def sdk(live_uvicorn, upstream):
    member = make_member()
    _, secret = api_key_create(user=member, name="test")
    client = openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0)
    client.member = member
    return client


def test_a_v1_client_gets_the_nul_as_the_upstream_sent_it_and_the_call_is_recorded(sdk, upstream):
    upstream.configure(reply=REPLY)
    answer = sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "odd"}])
    assert answer.choices[0].message.content == REPLY
    completion = Completion.objects.get(user=sdk.member)
    assert completion.status == "succeeded" and completion.nul_characters_replaced == 2
    assert rebuild_response(completion)["choices"][0]["message"]["content"] == RECORDED
    assert Message.objects.get(completion=completion).content == RECORDED
    assert DailyUsage.objects.get(user=sdk.member).requests == 1


def test_a_streamed_v1_answer_with_nul_ends_normally_and_is_recorded(sdk, upstream):
    upstream.configure(reply=REPLY, chunks=3)
    chunks = list(
        sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "odd"}], stream=True)
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    completion = Completion.objects.get(user=sdk.member)
    assert completion.status == "succeeded" and completion.nul_characters_replaced == 2
    assert Message.objects.get(completion=completion).content == RECORDED


def test_an_upstream_error_message_with_nul_is_recorded_and_refunded(member, upstream):
    conversation = Conversation.objects.get(pk=start_conversation(client_for(member))["id"])
    call = message_prepare(user=member, conversation=conversation, content="hi")
    failed = call_fail(call, ProviderError("upstream said \x00 this", upstream_status=500))
    assert failed.status_code == 502
    completion = Completion.objects.get(pk=call.completion.pk)
    assert completion.status == "failed" and completion.error_detail == "upstream said \ufffd this"
    assert DailyUsage.objects.get(user=member).requests == 0
