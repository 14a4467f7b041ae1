"""The real clients against /v1 on the embedded model (llama.cpp running SmolLM2), as `make run` serves it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import litellm
import pydantic
import pytest
from langchain_openai import ChatOpenAI

from chat.models import Completion
from conftest import make_member
from gateway.services import api_key_create
from quota.models import DailyUsage

pytestmark = pytest.mark.local_model

MODEL = "smollm2-135m-instruct"


@pytest.fixture
def local(live_uvicorn, settings):
    settings.HARUCHAT_LLM_PROVIDER = "local"
    settings.HARUCHAT_LLM_MODEL = ""
    member = make_member()
    _, secret = api_key_create(user=member, name="embedded")
    return f"{live_uvicorn.url}/v1", secret, member


def used(member) -> int:
    return DailyUsage.objects.filter(user=member).values_list("requests", flat=True).first() or 0


def test_langchain_invoke_stream_and_structured_output(local):
    base_url, secret, member = local
    chat = ChatOpenAI(base_url=base_url, api_key=secret, model=MODEL, max_tokens=12, max_retries=0)
    answer = chat.invoke("Say hello.")
    assert answer.content and answer.usage_metadata["output_tokens"] <= 12
    assert Completion.objects.get().request_extra["max_completion_tokens"] == 12  # as langchain sent it

    streaming = ChatOpenAI(base_url=base_url, api_key=secret, model=MODEL, max_tokens=12, stream_usage=True)
    chunks = list(streaming.stream("Count to three."))
    assert "".join(c.content for c in chunks) and any(c.usage_metadata for c in chunks)

    class Colour(pydantic.BaseModel):
        name: str

    structured = ChatOpenAI(base_url=base_url, api_key=secret, model=MODEL, max_tokens=30, max_retries=0)
    colour = structured.with_structured_output(Colour, method="json_schema").invoke("What colour is grass?")
    assert isinstance(colour, Colour)  # the JSON grammar kept the small model's answer to the schema
    assert used(member) == 3


def test_litellm_completion_plain_and_streamed(local):
    base_url, secret, member = local
    answer = litellm.completion(
        model=f"openai/{MODEL}", api_base=base_url, api_key=secret, messages=[{"role": "user", "content": "Hi"}],
        max_tokens=8, num_retries=0,
    )  # fmt: skip
    assert answer.choices[0].message.content and answer.usage.completion_tokens <= 8
    streamed = litellm.completion(
        model=f"openai/{MODEL}", api_base=base_url, api_key=secret, messages=[{"role": "user", "content": "Hi"}],
        max_tokens=8, stream=True, num_retries=0,
    )  # fmt: skip
    assert "".join(chunk.choices[0].delta.content or "" for chunk in streamed)
    assert used(member) == 2


def test_the_llm_cli(local, tmp_path):
    base_url, secret, member = local
    home = tmp_path / "llm-home"
    home.mkdir()
    model = {"model_id": "haruchat", "model_name": MODEL, "api_base": base_url, "api_key_name": "haruchat"}
    (home / "extra-openai-models.yaml").write_text(json.dumps([model]))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(LLM_USER_PATH=str(home), LLM_LOAD_PLUGINS="")
    llm = [os.path.join(os.path.dirname(sys.executable), "llm")]
    run = {
        "env": env,
        "cwd": tmp_path,
        "capture_output": True,
        "text": True,
        "timeout": 120,
        "stdin": subprocess.DEVNULL,
    }
    assert subprocess.run([*llm, "keys", "set", "haruchat", "--value", secret], **run).returncode == 0
    done = subprocess.run([*llm, "-m", "haruchat", "-o", "max_tokens", "8", "Say hi."], **run)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() and used(member) == 1
