"""The export of a /v1 conversation carries its call whole: tool definitions, tool calls, tool messages,
content parts, several choices and logprobs, exactly as the upstream received and sent them."""

from __future__ import annotations

import json

import openai
import pytest

from chat.models import Conversation
from conftest import client_for, make_member
from gateway.services import api_key_create

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "Today's weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}


@pytest.fixture
def sdk(live_uvicorn, upstream):
    member = make_member()
    _, secret = api_key_create(user=member, name="export")
    client = openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0)
    client.member = member
    return client


def exported_calls(member, conversation: Conversation) -> list[dict]:
    response = client_for(member).get(f"/api/conversations/{conversation.pk}/export")
    assert response.status_code == 200
    [exported] = json.loads(response.content)["conversations"]
    return exported["completions"]


def test_the_export_of_a_call_answered_with_two_tool_calls_carries_them_exactly(sdk, upstream):
    sdk.chat.completions.create(
        model="fake-model",
        messages=[{"role": "user", "content": [{"type": "text", "text": "weather in Seoul?"}, IMAGE]}],
        tools=[WEATHER], tool_choice="auto", n=2, logprobs=True, top_logprobs=2,
    )  # fmt: skip
    [exchange] = upstream.exchanges
    [call] = exported_calls(sdk.member, Conversation.objects.get())
    assert call["request"] == exchange.request
    assert call["response"] == exchange.response
    # What the comparison is about, spelled out: none of it is lost on the way.
    assert call["request"]["tools"] == [WEATHER]
    assert call["request"]["n"] == 2 and call["request"]["logprobs"] is True and call["request"]["top_logprobs"] == 2
    assert call["request"]["messages"][0]["content"][1] == IMAGE
    choices = call["response"]["choices"]
    assert [c["index"] for c in choices] == [0, 1]
    assert [c["finish_reason"] for c in choices] == ["tool_calls", "tool_calls"]
    for choice in choices:
        [tool_call] = choice["message"]["tool_calls"]
        assert tool_call["function"]["name"] == "weather"
        assert json.loads(tool_call["function"]["arguments"]) == {"city": "fake city"}
        assert choice["logprobs"] == {"content": [], "refusal": None}


def test_the_export_of_a_tool_round_trip_with_two_choices_carries_messages_and_logprobs_exactly(sdk, upstream):
    messages = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "weather in Seoul?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Seoul"}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21°C"},
    ]
    sdk.chat.completions.create(
        model="fake-model", messages=messages, tools=[WEATHER], n=2, logprobs=True, top_logprobs=2
    )
    [exchange] = upstream.exchanges
    [call] = exported_calls(sdk.member, Conversation.objects.get())
    assert call["request"] == exchange.request
    assert call["response"] == exchange.response
    assert call["request"]["messages"] == messages and call["request"]["tools"] == [WEATHER]
    choices = call["response"]["choices"]
    assert [c["message"]["content"] for c in choices] == ["Tool result: sunny, 21°C", "Tool result: sunny, 21°C (2)"]
    for choice in choices:
        tokens = choice["logprobs"]["content"]
        assert "".join(t["token"] for t in tokens) == choice["message"]["content"]
        assert all(len(t["top_logprobs"]) == 2 for t in tokens)


def test_export_all_carries_every_v1_call_whole(sdk, upstream):
    sdk.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": "weather in Seoul?"}], tools=[WEATHER], n=2
    )
    sdk.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": "and Busan?"}], n=2, logprobs=True
    )
    response = client_for(sdk.member).get("/api/conversations/export")
    assert response.status_code == 200
    calls = [c for conversation in json.loads(response.content)["conversations"] for c in conversation["completions"]]
    assert [c["request"] for c in calls] == [e.request for e in upstream.exchanges]
    assert [c["response"] for c in calls] == [e.response for e in upstream.exchanges]
