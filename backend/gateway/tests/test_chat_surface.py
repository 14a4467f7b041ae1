"""The Chat Completions surface real clients send, through the openai SDK: passed through to an
OpenAI-compatible upstream, recorded exactly, and on the embedded model honoured or refused by name."""

from __future__ import annotations

import json

import openai
import pytest

from chat.models import Completion, Conversation
from chat.records import rebuild_request, rebuild_response
from conftest import client_for, make_member
from gateway.services import api_key_create
from quota.models import DailyUsage

WEATHER = {
    "type": "function",
    "function": {
        "name": "weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


@pytest.fixture
def sdk(live_uvicorn, upstream):
    member = make_member()
    _, secret = api_key_create(user=member, name="surface")
    client = openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0)
    client.member = member
    return client


def used(member) -> int:
    return DailyUsage.objects.filter(user=member).values_list("requests", flat=True).first() or 0


def test_every_parameter_reaches_the_upstream_as_sent_and_the_record_rebuilds_it(sdk, upstream):
    answer = sdk.chat.completions.create(
        model="fake-model",
        messages=[
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "weather in Seoul?"}]},
        ],
        max_completion_tokens=50, n=2, logprobs=True, top_logprobs=2, seed=7, stop=["\n\n"],
        logit_bias={"50256": -100}, metadata={"class": "3-B"}, store=False, service_tier="auto",
        user="student-12", tools=[WEATHER], tool_choice="auto", parallel_tool_calls=False,
        extra_body={"vendor_option": {"keep": True}},
    )  # fmt: skip
    [exchange] = upstream.exchanges
    sent = exchange.request
    assert sent["max_completion_tokens"] == 50 and sent["n"] == 2 and sent["vendor_option"] == {"keep": True}
    assert sent["tools"] == [WEATHER] and sent["metadata"] == {"class": "3-B"}
    assert len(answer.choices) == 2
    assert json.loads(answer.choices[1].message.tool_calls[0].function.arguments) == {"city": "fake city"}
    completion = Completion.objects.get()
    assert rebuild_request(completion) == sent
    assert rebuild_response(completion) == exchange.response
    assert used(sdk.member) == 1  # two choices, one request
    conversation = Conversation.objects.get()
    assert conversation.system_prompt == "Be brief." and conversation.max_tokens == 50
    assert list(conversation.messages.values_list("role", "content")) == [
        ("user", "weather in Seoul?"),
        ("assistant", ""),  # the answer was a tool call, which the record keeps whole
    ]


def test_a_tool_round_trip_is_answered_and_recorded(sdk, upstream):
    messages = [
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
    answer = sdk.chat.completions.create(model="fake-model", messages=messages, tools=[WEATHER])
    assert answer.choices[0].message.content == "Tool result: sunny, 21°C"
    assert rebuild_request(Completion.objects.get())["messages"] == messages


def test_a_stream_with_several_choices_and_tool_calls_is_assembled_into_the_record(sdk, upstream):
    upstream.configure(chunks=3)
    chunks = list(
        sdk.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "hi"}], n=2, tools=[WEATHER],
            stream=True, stream_options={"include_usage": True},
        )
    )  # fmt: skip
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    indexes = {choice.index for chunk in chunks for choice in chunk.choices}
    assert indexes == {0, 1}
    recorded = rebuild_response(Completion.objects.get())
    assert [c["index"] for c in recorded["choices"]] == [0, 1]
    for choice in recorded["choices"]:
        assert choice["finish_reason"] == "tool_calls" and choice["message"]["content"] is None
        [call] = choice["message"]["tool_calls"]
        assert call["function"]["name"] == "weather" and json.loads(call["function"]["arguments"]) == {
            "city": "fake city"
        }


def test_an_upstreams_refusal_comes_back_as_its_own_4xx_recorded_and_refunded(sdk, upstream):
    upstream.configure(reject_params=["seed"])
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}], seed=1)
    assert refused.value.code == "unsupported_parameter" and refused.value.param == "seed"
    assert used(sdk.member) == 0
    completion = Completion.objects.get()
    assert completion.status == "failed" and completion.upstream_status == 400
    with pytest.raises(openai.BadRequestError) as refused_stream:  # a stream's refusal too: nothing was sent yet
        sdk.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "hi"}], seed=1, stream=True
        )
    assert refused_stream.value.param == "seed"


def test_images_for_a_model_marked_text_only_are_a_clear_400(sdk, upstream, settings):
    settings.HARUCHAT_LLM_TEXT_ONLY_MODELS = ["fake-model"]
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}
    content = [{"type": "text", "text": "what is this?"}, image]
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": content}])
    assert refused.value.code == "unsupported_parameter" and "text only" in str(refused.value)
    answer = sdk.chat.completions.create(model="fake-model-large", messages=[{"role": "user", "content": content}])
    assert upstream.exchanges[0].request["messages"][0]["content"] == content
    assert answer.choices[0].message.content


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"n": "two"}, "n"),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"response_format": {"type": "yaml"}}, "response_format"),
        ({"messages": [{"role": "tool", "content": "x"}, {"role": "user", "content": "hi"}]}, "messages"),
        ({"messages": [{"role": "user", "content": [{"type": "video"}]}]}, "messages"),
    ],
)
def test_a_malformed_parameter_is_a_400_naming_it_before_the_upstream(sdk, upstream, body, param):
    request = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}], **body}
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(**request)
    assert refused.value.param == param
    assert upstream.exchanges == [] and used(sdk.member) == 0


@pytest.fixture
def local_sdk(live_uvicorn, settings):
    settings.HARUCHAT_LLM_PROVIDER = "local"
    settings.HARUCHAT_LLM_MODEL = ""
    member = make_member()
    _, secret = api_key_create(user=member, name="local")
    return openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0)


@pytest.mark.local_model
@pytest.mark.parametrize(
    ("extra", "param"),
    [({"tools": [WEATHER]}, "tools"), ({"n": 2}, "n"), ({"logprobs": True}, "logprobs"),
     ({"extra_body": {"vendor_option": 1}}, "vendor_option"), ({"logit_bias": {"a word": 5}}, "logit_bias")],
)  # fmt: skip
def test_the_embedded_model_names_what_it_cannot_honour(local_sdk, extra, param):
    with pytest.raises(openai.BadRequestError) as refused:
        local_sdk.chat.completions.create(
            model="smollm2-135m-instruct", messages=[{"role": "user", "content": "hi"}], **extra
        )
    assert refused.value.code == "unsupported_parameter" and refused.value.param == param


@pytest.mark.local_model
def test_the_embedded_model_answers_json_under_a_grammar_and_takes_the_newer_names(local_sdk):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]}
    answer = local_sdk.chat.completions.create(
        model="smollm2-135m-instruct",
        messages=[
            {"role": "developer", "content": "Answer in JSON."},
            {"role": "user", "content": [{"type": "text", "text": "What colour is the sky?"}]},
        ],
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}},
        max_completion_tokens=40, n=1, logprobs=False, seed=3, user="s1", metadata={"k": "v"}, store=False,
    )  # fmt: skip
    assert answer.usage.completion_tokens <= 40
    assert "answer" in json.loads(answer.choices[0].message.content)


@pytest.mark.parametrize(
    ("body", "param"),
    [({"max_tokens": "100.0"}, "max_tokens"), ({"max_completion_tokens": "50"}, "max_completion_tokens"),
     ({"stream": "false"}, "stream"), ({"temperature": "0.5"}, "temperature"), ({"n": 2.0}, "n"),
     ({"logprobs": 0}, "logprobs")],
)  # fmt: skip
def test_a_value_of_the_wrong_json_type_is_a_400_not_passed_on(sdk, upstream, body, param):
    """The request goes upstream as written, so "100.0" would reach the upstream (and the record) as a string."""
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}], extra_body=body)
    assert refused.value.param == param
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(model="fake-model", input="hi", extra_body={"max_output_tokens": "100"})
    assert upstream.exchanges == [] and used(sdk.member) == 0


def test_a_stream_mixing_indexed_and_unindexed_tool_call_deltas_is_assembled(sdk, upstream):
    from chat.services.call_stream import StreamAssembler

    assembler = StreamAssembler()
    for delta in (
        {"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}]},
        {"tool_calls": [{"index": None, "id": "b", "function": {"name": "g", "arguments": "{}"}}]},
    ):
        assembler.feed({"id": "x", "choices": [{"index": 0, "delta": delta}]})
    calls = assembler.response()["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["f", "g"]


def test_the_markdown_export_says_which_tools_an_answer_called(sdk, upstream):
    sdk.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": "weather in Seoul?"}], tools=[WEATHER]
    )
    conversation = Conversation.objects.get(user=sdk.member)
    response = client_for(sdk.member).get(f"/api/conversations/{conversation.pk}/export?format=markdown")
    assert response.status_code == 200
    assert '- Tool call: `weather({"city": "fake city"})`' in response.content.decode()
