"""OpenAPI for our style: one APIView per operation, each with its own nested
InputSerializer/OutputSerializer, become distinct schema components (e.g.
LoginInput, QuotaOutput) instead of colliding as Input/Output; and every
operation documents the error responses it can give, in the one error shape,
so a client (or schemathesis) can rely on the status codes. A list that
must not be empty says so (minItems), which drf-spectacular leaves out."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers


class HaruchatAutoSchema(AutoSchema):
    def get_serializer_name(self, serializer: Any, direction: str) -> str:
        name = super().get_serializer_name(serializer, direction)
        outer, _, _ = type(serializer).__qualname__.rpartition(".")
        if outer and not name.startswith(outer):
            return outer.split(".")[-1].removesuffix("View") + name
        return name

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        """DRF's `allow_empty=False` as `minItems: 1` too (drf-spectacular 0.30 leaves it out)."""
        super()._insert_field_validators(field, schema)
        if schema.get("type") == "array" and getattr(field, "allow_empty", True) is False:
            schema["minItems"] = max(schema.get("minItems", 0), 1)

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        return _documented_stream(self, _documented_errors(self, responses))


class ErrorSerializer(serializers.Serializer):
    """The one error shape (common.exceptions); /v1 adds OpenAI's `error` object."""

    detail = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="Field name to its messages (validation errors).")
    error = serializers.DictField(required=False, help_text="/v1 only: OpenAI's error object.")


ERROR_DESCRIPTIONS = {
    "400": "Invalid input",
    "401": "Not logged in, or the credentials are wrong",
    "403": "Not allowed for you (e.g. a model or assistant your groups don't allow)",
    "404": "No such object (or not yours)",
    "409": "Conflicts with the current state",
    "413": "Request body too large",
    "415": "Not JSON",
    "422": "/v1: the upstream model provider refused the request as written (its own status and error)",
    "429": "Too many requests (daily allowance spent, or too many failed logins)",
    "502": "The model gave no usable answer (the message is kept, the request not counted)",
    "503": "The model or the usage ledger cannot be reached",
    "504": "The model did not answer in time",
}
# Operations that call the model, and so can answer with its failures, or stream the answer.
MODEL_CALLS = ("/messages", "/regenerate", "/v1/chat/completions", "/v1/responses")
STREAM_DESCRIPTION = 'With `"stream": true`: the answer as Server-Sent Events (text/event-stream) instead of JSON.'
# What OpenAPI 3.0 documents for an event stream: one event.
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {
            "type": "string",
            "description": "The web app's stream: start, delta (one per piece of text), then done or error. "
            "/v1: unnamed, as OpenAI's.",
        },
        "data": {
            "type": "string",
            "description": "A JSON object; /v1 sends chat.completion.chunk objects and ends with [DONE].",
        },
    },
    "required": ["data"],
}


def _error_statuses(method: str, path: str, public: bool) -> list[str]:
    statuses = ["400"]
    if not public or "/auth/" in path:
        statuses.append("401")
    if "{" in path or path.endswith(MODEL_CALLS):
        statuses.append("404")  # /v1: an unknown model
    if method in ("POST", "PUT", "PATCH"):
        statuses += ["413", "415", "429"]
    if method == "DELETE" or path.endswith("/me"):
        statuses.append("409")
    if method == "POST" and path.endswith(MODEL_CALLS):
        statuses += ["502", "503", "504"]
    if method == "POST" and path.endswith((*MODEL_CALLS, "/api/conversations")):
        statuses.append("403")  # a model or assistant the member's groups don't allow
    if method == "POST" and path.startswith("/v1/"):
        statuses += ["409", "422"]  # an upstream's own refusal, passed back
    return statuses


def _documented_errors(schema: AutoSchema, responses: dict[str, Any]) -> dict[str, Any]:
    public = not schema.view.authentication_classes and schema.method == "GET"
    error_response = schema._get_response_for_code(ErrorSerializer, "400")
    for status in _error_statuses(schema.method, schema.path, public):
        if status not in responses:
            responses[status] = {**error_response, "description": ERROR_DESCRIPTIONS[status]}
    return responses


def _documented_stream(schema: AutoSchema, responses: dict[str, Any]) -> dict[str, Any]:
    """A model call asked for `"stream": true` answers 200 with text/event-stream (chat.views, gateway.views)."""
    if schema.method != "POST" or not schema.path.endswith(MODEL_CALLS):
        return responses
    ok = responses.setdefault("200", {"content": {}, "description": ""})
    ok.setdefault("content", {})["text/event-stream"] = {"schema": SSE_EVENT}
    ok["description"] = " ".join(part for part in (ok.get("description"), STREAM_DESCRIPTION) if part)
    return responses
