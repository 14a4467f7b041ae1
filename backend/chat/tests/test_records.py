"""The record of a model call rebuilds exactly the JSON that crossed the wire."""

from __future__ import annotations

import copy

import pytest

from chat.models import Completion, Conversation
from chat.records import (
    completion_record_request,
    completion_record_response,
    rebuild_request,
    rebuild_response,
    request_columns,
)
from chat.tests.helpers import MEDITATION_INTAKE, send, start_conversation
from common.sql_batch import Batch


def test_completions_return_exactly_what_the_upstream_received_and_sent(api, upstream):
    conversation = start_conversation(api, assistant="meditation-guide", intake=MEDITATION_INTAKE)
    send(api, conversation["id"], None)
    send(api, conversation["id"], "그리고 호흡은 어떻게 하나요?")  # non-ASCII survives too
    calls = api.get(f"/api/conversations/{conversation['id']}/completions").json()
    assert len(calls) == len(upstream.exchanges) == 2
    for call, exchange in zip(calls, upstream.exchanges, strict=True):
        assert call["status"] == "succeeded"
        assert call["request"] == exchange.request
        assert call["response"] == exchange.response
    # The fake upstream adds fields we keep no column for; they come back too.
    response = calls[-1]["response"]
    assert response["system_fingerprint"] == "fp_fake_upstream"
    assert response["choices"][0]["message"]["refusal"] is None
    assert response["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}


def test_each_call_links_the_message_it_answered_and_the_answer(api, upstream):
    conversation = start_conversation(api)
    body = send(api, conversation["id"], "link me").json()
    [call] = api.get(f"/api/conversations/{conversation['id']}/completions").json()
    assert call["request_message_id"] == body["user_message"]["id"]
    assert call["answer_message_id"] == body["assistant_message"]["id"]
    assert call["provider"] == "openai_compat" and call["latency_ms"] >= 0


ODD_RESPONSES = [
    {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": None, "tool_calls": []}, "finish_reason": None}
        ],
    },
    {"choices": [{"message": {"content": "no envelope at all"}}]},
    {
        "id": "y" * 300,
        "created": 2,
        "model": "m",
        "usage": None,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "a"}, "finish_reason": "length"},
            {"index": 1, "message": {"role": "assistant", "content": "b"}, "finish_reason": "stop"},
        ],
    },
    {"id": "z", "created": 3, "model": "m", "usage": {}, "choices": [{"index": 0, "message": {"content": ""}}]},
    {
        "id": "w",
        "created": 4,
        "model": "m",
        "usage": {"total_tokens": 9, "prompt_tokens": -1, "custom": [1, 2]},
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "x"},
                "finish_reason": "stop",
                "logprobs": {"content": []},
            }
        ],
        "service_tier": "default",
    },
]


@pytest.mark.parametrize("response", ODD_RESPONSES)
def test_unusual_responses_round_trip_unchanged(member, response):
    conversation = Conversation.objects.create(
        user=member, assistant_id=1, title="t", system_prompt="s", model="m", temperature=0.7, max_tokens=5
    )
    completion = Completion.objects.create(conversation=conversation, user=member, provider="test")
    writes = Batch()
    completion_record_response(writes, completion=completion, response=copy.deepcopy(response))
    writes.run()
    completion = Completion.objects.get(pk=completion.pk)
    assert rebuild_response(completion) == response


ODD_REQUESTS = [
    {"model": "m", "messages": [], "temperature": 1, "max_tokens": 5, "stream": False},
    {
        "model": "m",
        "messages": [{"role": "user", "content": "hi", "name": "haru"}, {"role": "assistant", "content": None}],
    },
    {"messages": [{"role": "user", "content": [{"type": "text", "text": "parts"}]}], "top_p": 0.5, "stop": ["\n"]},
    {"model": "m", "messages": "not a list", "temperature": None, "seed": 7},
]


@pytest.mark.parametrize("request_json", ODD_REQUESTS)
def test_unusual_requests_round_trip_unchanged(member, request_json):
    conversation = Conversation.objects.create(
        user=member, assistant_id=1, title="t", system_prompt="s", model="m", temperature=0.7, max_tokens=5
    )
    columns, prompts = request_columns(copy.deepcopy(request_json))
    completion = Completion.objects.create(conversation=conversation, user=member, provider="test", **columns)
    writes = Batch()
    completion_record_request(writes, completion=completion, prompts=prompts)
    writes.run()
    assert rebuild_request(Completion.objects.get(pk=completion.pk)) == request_json
