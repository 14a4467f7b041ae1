"""LiteLLM's SDK as a client of haruchat's /v1 (its `openai/` provider: any OpenAI-compatible server)."""

from __future__ import annotations

import litellm
import pytest

HELLO = [{"role": "user", "content": "hello litellm"}]


@pytest.fixture
def complete(haruchat):
    def call(**options):
        return litellm.completion(
            model="openai/fake-model", api_base=haruchat.base_url, api_key=haruchat.api_key, num_retries=0, **options
        )

    return call


def test_completion(complete, haruchat):
    answer = complete(messages=HELLO)
    assert answer.choices[0].message.content == "Echo: hello litellm"
    assert answer.usage.total_tokens == haruchat.exchanges[0].response["usage"]["total_tokens"]
    received = haruchat.received()
    assert received["model"] == "fake-model" and received["messages"] == HELLO
    assert haruchat.used() == 1


def test_completion_with_the_usual_parameters(complete, haruchat):
    # LiteLLM itself drops `user` for an `openai/` model, so it is not asked for here.
    answer = complete(
        messages=HELLO, max_tokens=32, temperature=0.5, seed=7, stop=["\n\n"], n=2, logprobs=True, top_logprobs=2
    )
    assert [c.message.content for c in answer.choices] == ["Echo: hello litellm", "Echo: hello litellm (2)"]
    assert "".join(t.token for t in answer.choices[1].logprobs.content) == "Echo: hello litellm (2)"
    received = haruchat.received()
    assert received["max_tokens"] == 32 and received["temperature"] == 0.5 and received["seed"] == 7
    assert received["stop"] == ["\n\n"] and received["n"] == 2
    assert received["logprobs"] is True and received["top_logprobs"] == 2
    assert haruchat.used() == 1


def test_streamed_completion(complete, haruchat):
    haruchat.upstream.configure(chunks=4)
    chunks = list(complete(messages=HELLO, stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hello litellm"
    usage = [c.usage for c in chunks if getattr(c, "usage", None)]
    assert usage and usage[-1].completion_tokens == 3
    received = haruchat.received()
    assert received["stream"] is True and received["stream_options"] == {"include_usage": True}
    assert received["messages"] == HELLO


def test_streamed_completion_without_usage(complete, haruchat):
    chunks = list(complete(messages=HELLO, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Echo: hello litellm"
    assert haruchat.received()["messages"] == HELLO


def test_streamed_tool_call(complete, haruchat):
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    chunks = list(complete(messages=HELLO, tools=[tool], tool_choice="required", stream=True))
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert calls[0][0].function.name == "get_weather" and calls[0][0].id
    assert "".join(c[0].function.arguments or "" for c in calls) == '{"city": "fake city"}'
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]
    received = haruchat.received()
    assert received["tools"] == [tool] and received["tool_choice"] == "required"


def test_an_upstream_refusal_comes_back_as_its_400(complete, haruchat):
    haruchat.upstream.configure(reject_params=["seed"])
    with pytest.raises(litellm.BadRequestError) as caught:
        complete(messages=HELLO, seed=7)
    assert caught.value.status_code == 400
    assert "Unsupported parameter: 'seed' is not supported with this model." in str(caught.value)
    assert haruchat.received()["seed"] == 7
    assert haruchat.used() == 0
