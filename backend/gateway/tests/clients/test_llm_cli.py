"""Simon Willison's `llm` command-line tool, with haruchat as an extra OpenAI model (extra-openai-models.yaml)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

LLM = Path(sys.executable).parent / "llm"
MODEL_ID = "haruchat-fake"


@pytest.fixture
def llm(haruchat, tmp_path):
    """Runs `llm` in a temporary LLM_USER_PATH that knows haruchat's model and key, and no plugins."""
    home = tmp_path / "llm-home"
    home.mkdir()
    model = {
        "model_id": MODEL_ID,
        "model_name": "fake-model",
        "api_base": haruchat.base_url,
        "api_key_name": "haruchat",
        "supports_tools": True,
        "supports_schema": True,
    }
    (home / "extra-openai-models.yaml").write_text(json.dumps([model]))  # JSON is YAML
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPENAI_API_KEY", "OPENAI_BASE_URL")}
    env.update(LLM_USER_PATH=str(home), LLM_LOAD_PLUGINS="")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(LLM), *args],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )

    stored = run("keys", "set", "haruchat", "--value", haruchat.api_key)
    assert stored.returncode == 0, stored.stderr
    return run


def test_a_prompt(llm, haruchat):
    done = llm("-m", MODEL_ID, "hello")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Echo: hello\n"
    received = haruchat.received()
    assert received["model"] == "fake-model" and received["messages"] == [{"role": "user", "content": "hello"}]
    assert received["stream"] is True and received["stream_options"] == {"include_usage": True}
    assert haruchat.used() == 1


def test_a_prompt_with_a_system_prompt_options_and_no_stream(llm, haruchat):
    done = llm("-m", MODEL_ID, "--no-stream", "-s", "Be brief.", "-o", "max_tokens", "20", "-o", "seed", "3", "hi")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Echo: hi\n"
    received = haruchat.received()
    assert received["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert received["max_tokens"] == 20 and received["seed"] == 3
    assert not received.get("stream")


def test_a_wrong_key_is_reported(llm, haruchat):
    assert llm("keys", "set", "haruchat", "--value", "hc-not-a-real-key").returncode == 0
    done = llm("-m", MODEL_ID, "hello")
    assert done.returncode != 0 and "Error code: 401 - Incorrect API key provided." in done.stderr
    assert haruchat.exchanges == []


def test_a_tool_chain(llm, haruchat):
    done = llm("-m", MODEL_ID, "-T", "llm_version", "Which version of llm is this?")
    assert done.returncode == 0, done.stderr
    version = subprocess.run([str(LLM), "--version"], capture_output=True, text=True).stdout.split()[-1]
    assert done.stdout.strip() == f"Tool result: {version}"
    asked, answered = (e.request for e in haruchat.exchanges)
    assert [t["function"]["name"] for t in asked["tools"]] == ["llm_version"]
    assert answered["messages"][-1]["role"] == "tool" and answered["messages"][-1]["content"] == version
    call = haruchat.exchanges[0].response_text
    assert answered["messages"][-2]["tool_calls"][0]["id"] in call
    assert haruchat.used() == 2


def test_a_schema(llm, haruchat):
    done = llm("-m", MODEL_ID, "--schema", "name, age int", "Invent a dog")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "fake name", "age": 1}
    response_format = haruchat.received()["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"]["required"] == ["name", "age"]
