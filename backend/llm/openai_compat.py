"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, a llama.cpp server)
through the official `openai` SDK.

The raw HTTP body is kept, not the SDK's parsed object, so the stored record
is the JSON that actually crossed the wire.
"""

from __future__ import annotations

import json
from typing import Any

import openai
from django.conf import settings

from llm.errors import ProviderError, UpstreamMalformed, UpstreamTimeout, UpstreamUnavailable
from llm.providers import Provider


class OpenAICompatProvider(Provider):
    name = "openai_compat"

    def __init__(self) -> None:
        # No SDK retries: one member request is one upstream call, recorded once.
        self.client = openai.OpenAI(
            base_url=settings.HARUCHAT_LLM_BASE_URL,
            api_key=settings.HARUCHAT_LLM_API_KEY or "not-needed",
            timeout=settings.HARUCHAT_LLM_TIMEOUT,
            max_retries=0,
        )

    def default_model(self) -> str:
        return settings.HARUCHAT_LLM_MODEL or "gpt-4o-mini"

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            raw = self.client.chat.completions.with_raw_response.create(**request)
            body = raw.http_response.text
        except openai.APITimeoutError as exc:
            raise UpstreamTimeout() from exc
        except openai.APIConnectionError as exc:
            raise UpstreamUnavailable(f"The model provider could not be reached: {exc}") from exc
        except openai.APIStatusError as exc:
            raise ProviderError(
                f"The model provider answered HTTP {exc.status_code}: {_error_message(exc)}",
                upstream_status=exc.status_code,
            ) from exc
        except openai.OpenAIError as exc:
            raise ProviderError(str(exc)) from exc
        try:
            return json.loads(body)
        except ValueError as exc:
            raise UpstreamMalformed("The model provider's response is not valid JSON.") from exc


def _error_message(exc: openai.APIStatusError) -> str:
    """The upstream's own error message when it sent one, else its reason."""
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])[:500]
    return exc.message[:500] if exc.message else "no detail"
