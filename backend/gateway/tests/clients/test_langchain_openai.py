"""langchain-openai's ChatOpenAI pointed at haruchat's /v1."""

from __future__ import annotations

import openai
import pydantic
import pytest
from langchain_core.messages import HumanMessage, SystemMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI


@pytest.fixture
def chat(haruchat):
    def make(**options) -> ChatOpenAI:
        return ChatOpenAI(
            base_url=haruchat.base_url, api_key=haruchat.api_key, model="fake-model", max_retries=0, **options
        )

    return make


@tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


class Person(pydantic.BaseModel):
    """Someone the model was asked about."""

    name: str
    age: int


def test_invoke(chat, haruchat):
    answer = chat().invoke([SystemMessage("Be brief."), HumanMessage("hello langchain")])
    assert answer.content == "Echo: hello langchain"
    assert answer.usage_metadata["total_tokens"] == haruchat.exchanges[0].response["usage"]["total_tokens"]
    received = haruchat.received()
    assert received["model"] == "fake-model"
    assert received["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello langchain"},
    ]
    assert haruchat.used() == 1


def test_invoke_with_max_tokens_sends_max_completion_tokens_unchanged(chat, haruchat):
    answer = chat(max_tokens=20, temperature=0.3).invoke("hello again")
    assert answer.content == "Echo: hello again"
    received = haruchat.received()
    assert received["max_completion_tokens"] == 20 and "max_tokens" not in received
    assert received["temperature"] == 0.3


def test_stream_with_stream_usage(chat, haruchat):
    haruchat.upstream.configure(chunks=5)
    chunks = list(chat(stream_usage=True).stream("stream to me"))
    assert "".join(c.content for c in chunks) == "Echo: stream to me"
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    usage = haruchat.exchanges[0].response_text.split("data: ")[-2]
    assert total.usage_metadata is not None and total.usage_metadata["output_tokens"] == 4
    assert '"completion_tokens": 4' in usage
    received = haruchat.received()
    assert received["stream"] is True and received["stream_options"] == {"include_usage": True}
    assert received["messages"] == [{"role": "user", "content": "stream to me"}]


def test_bind_tools_gets_a_tool_call_and_the_tool_result_round_trip(chat, haruchat):
    model = chat().bind_tools([get_weather])
    question = HumanMessage("What is the weather in Seoul?")
    first = model.invoke([question])
    [call] = first.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "fake city"}
    tools = haruchat.exchanges[0].request["tools"]
    assert [t["function"]["name"] for t in tools] == ["get_weather"]
    assert tools[0]["function"]["parameters"]["required"] == ["city"]

    result = ToolMessage(get_weather.invoke(call["args"]), tool_call_id=call["id"])
    second = model.invoke([question, first, result])
    assert second.content == "Tool result: sunny in fake city" and not second.tool_calls
    sent = haruchat.exchanges[1].request["messages"]
    assert sent[1]["role"] == "assistant" and sent[1]["tool_calls"][0]["id"] == call["id"]
    assert sent[2] == {"role": "tool", "content": "sunny in fake city", "tool_call_id": call["id"]}


def test_stream_a_tool_call(chat, haruchat):
    haruchat.upstream.configure(chunks=3)
    chunks = list(chat().bind_tools([get_weather]).stream("What is the weather in Seoul?"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    [call] = total.tool_calls
    assert call["name"] == "get_weather" and call["args"] == {"city": "fake city"}
    assert call["id"] in haruchat.exchanges[0].response_text
    assert haruchat.received()["stream"] is True


def test_with_structured_output_json_schema(chat, haruchat):
    person = chat().with_structured_output(Person).invoke("Who wrote Python?")
    assert person == Person(name="fake name", age=1)
    response_format = haruchat.received()["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Person" and response_format["json_schema"]["strict"] is True
    assert response_format["json_schema"]["schema"]["required"] == ["name", "age"]


def test_with_structured_output_by_function_calling_names_the_tool(chat, haruchat):
    person = chat().with_structured_output(Person, method="function_calling").invoke("Who wrote Python?")
    assert person == Person(name="fake name", age=1)
    received = haruchat.received()
    assert received["tool_choice"] == {"type": "function", "function": {"name": "Person"}}
    assert received["tools"][0]["function"]["name"] == "Person"


def test_several_choices_and_logprobs(chat, haruchat):
    result = chat(n=2, logprobs=True).generate([[HumanMessage("two please")]])
    [generations] = result.generations
    assert [g.text for g in generations] == ["Echo: two please", "Echo: two please (2)"]
    tokens = generations[0].generation_info["logprobs"]["content"]
    assert "".join(t["token"] for t in tokens) == "Echo: two please"
    received = haruchat.received()
    assert received["n"] == 2 and received["logprobs"] is True
    assert haruchat.used() == 1


def test_an_upstream_refusal_reaches_langchain_as_the_upstreams_400(chat, haruchat):
    haruchat.upstream.configure(reject_params=["max_completion_tokens"])
    with pytest.raises(openai.BadRequestError) as caught:
        chat(max_tokens=20).invoke("hello")
    assert caught.value.status_code == 400
    assert "Unsupported parameter: 'max_completion_tokens'" in caught.value.message
    assert haruchat.received()["max_completion_tokens"] == 20
    assert haruchat.used() == 0
