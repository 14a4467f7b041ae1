"""The fake upstream's Chat Completions surface, driven with the openai SDK directly (not through haruchat)."""

from __future__ import annotations

import json
import urllib.request
from enum import StrEnum

import openai
import pydantic
import pytest

from testing.fake_upstream import FakeUpstream, value_for_schema

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer", "minimum": 3},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "verbose": {"type": "boolean"},
            },
            "required": ["city", "days", "unit"],
        },
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}, "required": []}},
}
HELLO = [{"role": "user", "content": "hello there"}]


@pytest.fixture
def fake(fake_upstream_server: FakeUpstream) -> FakeUpstream:
    fake_upstream_server.reset()
    return fake_upstream_server


@pytest.fixture
def sdk(fake: FakeUpstream) -> openai.OpenAI:
    return openai.OpenAI(base_url=fake.base_url, api_key="sk-test", max_retries=0)


def test_a_plain_answer_keeps_its_shape(sdk, fake):
    sdk.chat.completions.create(model="fake-model", messages=HELLO)
    [exchange] = fake.exchanges
    assert exchange.request == {"model": "fake-model", "messages": HELLO}
    body = exchange.response
    assert body["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Echo: hello there", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert body["usage"]["prompt_tokens"] == 2 and body["usage"]["completion_tokens"] == 3


def test_content_parts_are_read_as_text(sdk):
    answer = sdk.chat.completions.create(
        model="fake-model",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look at"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "text", "text": "this"},
                ],
            }
        ],
    )
    assert answer.choices[0].message.content == "Echo: look at this"
    assert answer.usage.prompt_tokens == 3


def test_n_gives_that_many_choices_each_with_its_own_index_and_text(sdk, fake):
    answer = sdk.chat.completions.create(model="fake-model", messages=HELLO, n=3)
    assert [c.index for c in answer.choices] == [0, 1, 2]
    assert [c.message.content for c in answer.choices] == [
        "Echo: hello there",
        "Echo: hello there (2)",
        "Echo: hello there (3)",
    ]
    assert answer.usage.completion_tokens == 3 + 4 + 4
    assert fake.exchanges[0].request["n"] == 3


def test_logprobs_per_choice(sdk):
    answer = sdk.chat.completions.create(model="fake-model", messages=HELLO, n=2, logprobs=True, top_logprobs=3)
    for choice in answer.choices:
        tokens = choice.logprobs.content
        assert "".join(t.token for t in tokens) == choice.message.content
        for token in tokens:
            assert token.logprob < 0 and bytes(token.bytes).decode() == token.token
            assert len(token.top_logprobs) == 3 and token.top_logprobs[0].token == token.token
            chances = [t.logprob for t in token.top_logprobs]
            assert chances == sorted(chances, reverse=True) and chances[0] == token.logprob


def test_logprobs_without_top_logprobs_has_no_alternatives(sdk):
    answer = sdk.chat.completions.create(model="fake-model", messages=HELLO, logprobs=True)
    assert [t.top_logprobs for t in answer.choices[0].logprobs.content] == [[], [], []]
    plain = sdk.chat.completions.create(model="fake-model", messages=HELLO, logprobs=False)
    assert plain.choices[0].logprobs is None


def test_tools_are_called_with_arguments_from_the_schema(sdk, fake):
    answer = sdk.chat.completions.create(model="fake-model", messages=HELLO, tools=[WEATHER, TIME])
    [choice] = answer.choices
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "fake city", "days": 3, "unit": "celsius"}
    assert fake.exchanges[0].request["tools"] == [WEATHER, TIME]


def test_tool_choice_names_the_tool_or_turns_tools_off(sdk, fake):
    named = sdk.chat.completions.create(
        model="fake-model",
        messages=HELLO,
        tools=[WEATHER, TIME],
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    assert named.choices[0].message.tool_calls[0].function.name == "get_time"
    assert named.choices[0].message.tool_calls[0].function.arguments == "{}"
    required = sdk.chat.completions.create(model="fake-model", messages=HELLO, tools=[WEATHER], tool_choice="required")
    assert required.choices[0].finish_reason == "tool_calls"
    none = sdk.chat.completions.create(model="fake-model", messages=HELLO, tools=[WEATHER], tool_choice="none")
    assert none.choices[0].message.content == "Echo: hello there" and none.choices[0].finish_reason == "stop"
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="fake-model",
            messages=HELLO,
            tools=[WEATHER],
            tool_choice={"type": "function", "function": {"name": "nope"}},
        )
    assert caught.value.param == "tool_choice"


def test_several_choices_each_call_the_tool_with_its_own_id(sdk):
    answer = sdk.chat.completions.create(model="fake-model", messages=HELLO, tools=[WEATHER], n=2)
    ids = [c.message.tool_calls[0].id for c in answer.choices]
    assert len(set(ids)) == 2 and [c.index for c in answer.choices] == [0, 1]


def test_a_tool_result_is_answered_with_text_that_quotes_it(sdk):
    first = sdk.chat.completions.create(model="fake-model", messages=HELLO, tools=[WEATHER])
    call = first.choices[0].message.tool_calls[0]
    answer = sdk.chat.completions.create(
        model="fake-model",
        tools=[WEATHER],
        messages=[
            *HELLO,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": call.id, "type": "function", "function": call.function.model_dump()}],
            },
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 degrees"},
        ],
    )
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.content == "Tool result: sunny, 21 degrees"


def test_json_object_mode_answers_json(sdk):
    answer = sdk.chat.completions.create(
        model="fake-model", messages=HELLO, response_format={"type": "json_object"}, n=2
    )
    assert [json.loads(c.message.content) for c in answer.choices] == [
        {"reply": "Echo: hello there"},
        {"reply": "Echo: hello there (2)"},
    ]


class Color(StrEnum):
    red = "red"
    blue = "blue"


class Place(pydantic.BaseModel):
    name: str
    population: int
    area: float
    capital: bool
    color: Color
    nickname: str | None
    tags: list[str]


class Trip(pydantic.BaseModel):
    title: str
    stops: list[Place]


def test_json_schema_mode_answers_what_the_schema_requires(sdk, fake):
    answer = sdk.chat.completions.parse(model="fake-model", messages=HELLO, response_format=Trip)
    trip = answer.choices[0].message.parsed
    assert trip == Trip(
        title="fake title",
        stops=[
            Place(
                name="fake name",
                population=1,
                area=1.5,
                capital=True,
                color=Color.red,
                nickname="fake nickname",
                tags=["fake tags"],
            )
        ],
    )
    assert fake.exchanges[0].request["response_format"]["type"] == "json_schema"


def test_schema_values():
    assert value_for_schema(None) == {}
    assert value_for_schema({"type": "object", "properties": {"a": {"type": "string"}}}) == {}
    assert value_for_schema({"type": ["null", "integer"]}) == 1
    assert value_for_schema({"const": "x"}) == "x"
    assert value_for_schema({"type": "number", "minimum": 7}) == 7.0
    assert value_for_schema(
        {"properties": {"p": {"$ref": "#/definitions/P"}}, "required": ["p"], "definitions": {"P": {"type": "null"}}}
    ) == {"p": None}
    looping = {"$defs": {"N": {"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}, "required": ["n"]}}}
    assert isinstance(value_for_schema({**looping, "$ref": "#/$defs/N"}), dict)  # a recursive schema ends


def test_the_reply_switch_is_sent_as_it_is_even_in_json_mode(sdk, fake):
    fake.configure(reply="not json")
    answer = sdk.chat.completions.create(model="fake-model", messages=HELLO, response_format={"type": "json_object"})
    assert answer.choices[0].message.content == "not json"


def test_a_rejected_parameter_is_a_400_in_openais_shape_and_recorded(sdk, fake):
    fake.configure(reject_params=["seed", "logit_bias"])
    sdk.chat.completions.create(model="fake-model", messages=HELLO)
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(model="fake-model", messages=HELLO, seed=7)
    error = caught.value
    assert error.status_code == 400 and error.param == "seed" and error.code == "unsupported_parameter"
    assert error.type == "invalid_request_error" and "'seed'" in error.message
    ok, refused = fake.exchanges
    assert ok.status == 200 and refused.status == 400
    assert refused.request == {"model": "fake-model", "messages": HELLO, "seed": 7}
    assert refused.response == {
        "error": {
            "message": "Unsupported parameter: 'seed' is not supported with this model.",
            "type": "invalid_request_error",
            "param": "seed",
            "code": "unsupported_parameter",
        }
    }


def test_reject_params_can_be_set_over_http(fake):
    request = urllib.request.Request(
        f"{fake.url}/_control", data=json.dumps({"reject_params": ["store"]}).encode(), method="POST"
    )
    with urllib.request.urlopen(request) as response:
        assert json.load(response)["reject_params"] == ["store"]
    assert fake.state.switches["reject_params"] == ["store"]
    fake.reset()
    assert fake.state.switches["reject_params"] is None


def collect(stream) -> list:
    return list(stream)


def test_a_stream_of_several_choices_interleaves_them_and_ends_with_usage(sdk, fake):
    fake.configure(chunks=3)
    chunks = collect(
        sdk.chat.completions.create(
            model="fake-model", messages=HELLO, n=2, stream=True, stream_options={"include_usage": True}
        )
    )
    body = [c for c in chunks if c.choices]
    assert all(len(c.choices) == 1 for c in body)
    assert [c.choices[0].index for c in body] == [0, 1] * (len(body) // 2)
    texts = {i: "".join(c.choices[0].delta.content or "" for c in body if c.choices[0].index == i) for i in (0, 1)}
    assert texts == {0: "Echo: hello there", 1: "Echo: hello there (2)"}
    assert [c.choices[0].finish_reason for c in body if c.choices[0].finish_reason] == ["stop", "stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3 + 4
    assert fake.exchanges[0].response_text.endswith("data: [DONE]\n\n")


def test_a_stream_without_include_usage_has_no_usage_chunk(sdk):
    chunks = collect(sdk.chat.completions.create(model="fake-model", messages=HELLO, stream=True))
    assert all(c.usage is None and c.choices for c in chunks)


def test_a_streamed_tool_call_comes_in_openais_delta_shape(sdk, fake):
    fake.configure(chunks=4)
    chunks = collect(sdk.chat.completions.create(model="fake-model", messages=HELLO, tools=[WEATHER], stream=True))
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices[0].delta.tool_calls]
    first, *rest = [c[0] for c in calls]
    assert first.index == 0 and first.id.startswith("call_") and first.type == "function"
    assert first.function.name == "get_weather" and first.function.arguments == ""
    assert len(rest) == 4 and all(d.id is None and d.function.name is None for d in rest)
    arguments = "".join(d.function.arguments for d in rest)
    assert json.loads(arguments) == {"city": "fake city", "days": 3, "unit": "celsius"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_the_sdks_stream_helper_assembles_a_streamed_tool_call(sdk):
    with sdk.chat.completions.stream(model="fake-model", messages=HELLO, tools=[WEATHER]) as stream:
        final = stream.get_final_completion()
    [call] = final.choices[0].message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments)["city"] == "fake city"


def test_a_stream_carries_logprobs_for_its_own_pieces(sdk, fake):
    fake.configure(chunks=2)
    chunks = collect(
        sdk.chat.completions.create(model="fake-model", messages=HELLO, stream=True, logprobs=True, top_logprobs=1)
    )
    pieces = [c.choices[0] for c in chunks if c.choices[0].delta.content]
    assert len(pieces) == 2
    for piece in pieces:
        assert "".join(t.token for t in piece.logprobs.content) == piece.delta.content
        assert all(len(t.top_logprobs) == 1 for t in piece.logprobs.content)


def test_a_streamed_json_schema_answer_parses(sdk):
    with sdk.chat.completions.stream(model="fake-model", messages=HELLO, response_format=Place) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed.name == "fake name"


def test_faults_still_apply_to_the_new_answers(sdk, fake):
    fake.configure(break_after=2, chunks=4)
    with pytest.raises(openai.APIError):
        collect(sdk.chat.completions.create(model="fake-model", messages=HELLO, tools=[WEATHER], n=2, stream=True))
    fake.reset()
    fake.configure(status=500, fail_times=1)
    with pytest.raises(openai.InternalServerError):
        sdk.chat.completions.create(model="fake-model", messages=HELLO, n=2)
    assert len(sdk.chat.completions.create(model="fake-model", messages=HELLO, n=2).choices) == 2
