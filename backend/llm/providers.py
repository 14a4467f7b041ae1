"""The provider interface and how the configured provider is chosen.

A provider takes an OpenAI Chat Completions request dict and returns the
response dict exactly as the model produced it. Everything above this layer
speaks that one format. Like allauth's adapters, the provider is a small
abstract class chosen by name or dotted path in settings.
"""

from __future__ import annotations

import abc
import asyncio
import json
import threading
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from llm.errors import UpstreamMalformed

BUILTIN_PROVIDERS = {
    "local": "llm.local_llama.LocalLlamaProvider",
    "openai_compat": "llm.openai_compat.OpenAICompatProvider",
}


# What a token budget holds for a non-text content part: above what OpenAI charges for a high-detail image
# (1,105 tokens at 1024x1024, more for larger ones) and generous for audio and files.
NON_TEXT_PART_TOKENS = {"image_url": 2_000, "input_audio": 10_000, "file": 20_000}


class ProviderConfigurationError(Exception):
    """HARUCHAT_LLM_PROVIDER names nothing usable."""


class Provider(abc.ABC):
    """A source of chat completions in the OpenAI format."""

    name: str = "provider"
    # Whether a conversation's title is asked of the model after its first exchange (chat.services.titles).
    # The small embedded model writes poor titles: its conversations keep the first message's words.
    writes_titles: bool = False

    @abc.abstractmethod
    def default_model(self) -> str:
        """The model used when a conversation names none."""

    def models(self) -> list[str]:
        """Every model a conversation may choose."""
        configured = [m for m in settings.HARUCHAT_LLM_MODELS if m]
        default = self.default_model()
        return [default, *[m for m in configured if m != default]]

    def unsupported(self, request: dict[str, Any]) -> tuple[str, str] | None:
        """The first parameter of `request` this provider can't honour, and why; None when it can.

        An OpenAI-compatible upstream is sent every parameter as the client wrote it (it refuses what it
        doesn't know itself); haruchat only stops images bound for a model the settings call text-only.
        """
        if request.get("model") in settings.HARUCHAT_LLM_TEXT_ONLY_MODELS and _has_images(request):
            return "messages", f"The model {request['model']!r} takes text only, not images."
        return None

    @abc.abstractmethod
    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        """Send one chat completion request; return the response JSON as received.

        Raises a `llm.errors.ProviderError` when no usable answer came back.
        """

    async def acomplete(self, request: dict[str, Any]) -> dict[str, Any]:
        """`complete` for async callers; the default runs it in a worker thread."""
        return await asyncio.to_thread(self.complete, request)

    async def stream(self, request: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Yield `chat.completion.chunk` dicts as the model produces them.

        The default runs `complete` in a thread and yields its answer as one
        chunk, so a provider without streaming still works with `stream: true`.
        """
        response = validate_completion(await asyncio.to_thread(self.complete, {**request, "stream": False}))
        choice = response["choices"][0]
        yield {
            "id": response.get("id"),
            "object": "chat.completion.chunk",
            "created": response.get("created"),
            "model": response.get("model"),
            "choices": [{"index": 0, "delta": choice["message"], "finish_reason": choice.get("finish_reason")}],
        }
        if response.get("usage") is not None:
            yield {
                "id": response.get("id"),
                "object": "chat.completion.chunk",
                "choices": [],
                "usage": response["usage"],
            }

    async def aclose(self) -> None:
        """Close what the provider holds on the running event loop (at server shutdown)."""
        return None

    def context_window(self) -> int | None:
        """Tokens the model can take (prompt and answer), if known: long conversations are trimmed to fit."""
        return settings.HARUCHAT_LLM_CONTEXT_TOKENS or None

    def ready(self) -> bool:
        """Whether calls can be made now (for the readiness probe)."""
        return True

    def prompt_tokens_bound(self, request: dict[str, Any]) -> int:
        """At most how many tokens the prompt can be, for a token budget's reservation.

        A byte-level BPE token (GPT's, Llama's, SmolLM's) is at least one byte of text, so the request's
        UTF-8 bytes bound its text; each message's template adds a few special tokens (counted generously).
        """
        messages = request.get("messages") or []
        size = len(json.dumps(messages, ensure_ascii=False).encode())
        for message in messages:  # an image or a file costs the model far more tokens than its URL or id
            parts = message.get("content") if isinstance(message, dict) else None
            for part in parts if isinstance(parts, list) else []:
                if isinstance(part, dict) and part.get("type") in NON_TEXT_PART_TOKENS:
                    size += NON_TEXT_PART_TOKENS[part["type"]]
        for extra in ("tools", "functions", "response_format"):
            if request.get(extra):
                size += len(json.dumps(request[extra], ensure_ascii=False).encode())
        return size + 8 * len(messages) + 16

    def count_prompt_tokens(self, request: dict[str, Any]) -> int:
        """An estimate of the prompt's tokens, for streams whose upstream reports no usage."""
        text = " ".join(str(m.get("content") or "") for m in request.get("messages", []) if isinstance(m, dict))
        return max(round(len(text) / 4), 1)


def _has_images(request: dict[str, Any]) -> bool:
    return any(
        isinstance(m, dict)
        and isinstance(m.get("content"), list)
        and any(isinstance(p, dict) and p.get("type") == "image_url" for p in m["content"])
        for m in request.get("messages") or []
    )


def provider_class() -> type[Provider]:
    name = settings.HARUCHAT_LLM_PROVIDER
    path = BUILTIN_PROVIDERS.get(name, name)
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ProviderConfigurationError(f"HARUCHAT_LLM_PROVIDER={name!r} cannot be imported: {exc}") from exc
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise ProviderConfigurationError(f"HARUCHAT_LLM_PROVIDER={name!r} is not a llm.providers.Provider subclass.")
    return cls


_provider: Provider | None = None
_provider_lock = threading.Lock()


def get_provider() -> Provider:
    """The configured provider; one instance per process (it may hold a loaded model).

    Built under a lock: the first calls of a burst come from several
    database threads at once, and each would otherwise build its own (a
    second copy of the model, or an HTTP connection pool left unclosed).
    """
    global _provider
    provider = _provider
    if provider is None:
        with _provider_lock:
            if _provider is None:
                _provider = provider_class()()
            provider = _provider
    return provider


def reset_provider_cache(**kwargs: Any) -> None:
    """Forget the provider when a test changes the settings it was built from."""
    global _provider
    if kwargs.get("setting", "").startswith("HARUCHAT_LLM") or kwargs.get("setting", "").startswith("HARUCHAT_LOCAL"):
        with _provider_lock:
            _provider = None


def usage_chunk(envelope: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    """OpenAI's closing chunk of a stream asked for usage: no choices, in the envelope (id, created, model) given."""
    fields = {key: envelope[key] for key in ("id", "created", "model") if key in envelope}
    return {**fields, "object": "chat.completion.chunk", "choices": [], "usage": usage}


def validate_completion(response: Any) -> dict[str, Any]:
    """Check a response has the shape of a chat completion before it is stored."""
    if not isinstance(response, dict):
        raise UpstreamMalformed("The model provider's response is not a JSON object.")
    choices = response.get("choices")
    if not isinstance(choices, list) or not choices:
        raise UpstreamMalformed("The model provider's response has no choices.")
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("content"), str | None):
            raise UpstreamMalformed("A choice in the model provider's response has no message.")
    if not isinstance(response.get("id", ""), str) or not isinstance(response.get("model", ""), str):
        raise UpstreamMalformed("The model provider's response has a malformed id or model.")
    created = response.get("created", 0)
    if not isinstance(created, int) or isinstance(created, bool):
        raise UpstreamMalformed("The model provider's response has a malformed 'created' time.")
    usage = response.get("usage")
    if usage is not None and not isinstance(usage, dict):
        raise UpstreamMalformed("The model provider's response has malformed usage.")
    return response
