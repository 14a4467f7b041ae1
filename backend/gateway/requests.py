"""What /v1/chat/completions accepts: OpenAI's request, checked where haruchat reads it, passed through elsewhere.

haruchat reads the model, the messages (to file them as a conversation and
to count the prompt), the answer's bounds (`max_tokens`,
`max_completion_tokens`, `n`: the token budget holds for them) and
`stream`/`stream_options`. The other parameters OpenAI documents are checked
for their type, so a typo is a clear 400 rather than an upstream's; any
other parameter goes to an OpenAI-compatible upstream unchanged (the
provider says what it can't honour: llm.providers.Provider.unsupported).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

from chat.limits import MessageLength, max_tokens_limit

# DRF's CharField's own checks, for the strings inside a JSON parameter.
PROHIBITED_CHARACTERS = (ProhibitNullCharactersValidator(), ProhibitSurrogateCharactersValidator())

# The most choices one request may ask for (`n`): each is an answer the budget must hold.
MAX_CHOICES = 8

PART_TYPES = ("text", "image_url", "input_audio", "file", "refusal")


def refuse_unstorable_characters(value: Any) -> None:
    """Refuse a JSON value with a NUL or an unpaired surrogate in any string or key, as DRF's
    CharField does: PostgreSQL's jsonb can record neither (and no database the latter).
    A model's answer is not refused but recorded with stand-ins (chat.records.unstorable_replaced)."""
    if isinstance(value, str):
        for prohibit in PROHIBITED_CHARACTERS:
            try:
                prohibit(value)
            except DjangoValidationError as exc:  # DRF converts these only in a field's validators
                raise serializers.ValidationError(exc.messages, code=exc.error_list[0].code) from exc
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_unstorable_characters(key)
            refuse_unstorable_characters(item)
    elif isinstance(value, list):
        for item in value:
            refuse_unstorable_characters(item)


def content_text(content: Any) -> str:
    """A message's text: the string, or its text parts joined (images and other parts have none)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


class MessageContent(serializers.Field):
    """A message's content: a string, an array of parts (text, image_url, …) or null (an assistant's tool calls)."""

    default_error_messages = {
        "invalid": "A message's content is a string or an array of content parts.",
        "part": "Each content part is an object with a 'type' among: " + ", ".join(PART_TYPES) + ".",
        "text": "A text part needs its 'text' as a string.",
        "image": "An image_url part needs an 'image_url' object with its 'url'.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_null=True, **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, str):
            text = serializers.CharField(allow_blank=True, trim_whitespace=False)
            text.validators.append(MessageLength("A message is longer than %(limit_value)s characters."))
            return text.run_validation(data)
        if not isinstance(data, list):
            self.fail("invalid")
        for part in data:
            if not isinstance(part, dict) or part.get("type") not in PART_TYPES:
                self.fail("part")
            if part["type"] == "text" and not isinstance(part.get("text"), str):
                self.fail("text")
            if part["type"] == "image_url" and not (
                isinstance(part.get("image_url"), dict) and isinstance(part["image_url"].get("url"), str)
            ):
                self.fail("image")
        refuse_unstorable_characters(data)
        MessageLength("A message is longer than %(limit_value)s characters.")(content_text(data))
        return data

    def to_representation(self, value: Any) -> Any:
        return value


# Parameters are passed on as the client wrote them, so a value must already be of its JSON type: DRF would
# also take "100", "0.5" or "false" and let the string through to the upstream (or into the record's columns).
class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictFloatField(serializers.FloatField):
    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class JsonObjectField(serializers.DictField):
    """A JSON object parameter, checked for what no database can record."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [refuse_unstorable_characters])
        super().__init__(**kwargs)


class ChatMessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["system", "developer", "user", "assistant", "tool", "function"])
    content = MessageContent(required=False)
    name = serializers.CharField(required=False, max_length=64)
    tool_calls = serializers.ListField(child=JsonObjectField(), required=False)
    tool_call_id = serializers.CharField(required=False, max_length=200)

    def validate(self, message: dict[str, Any]) -> dict[str, Any]:
        role = message["role"]
        if message.get("content") is None and role != "assistant":  # an assistant's may: it called tools
            raise serializers.ValidationError({"content": ["This message needs its content."]}, code="required")
        if role == "tool" and not message.get("tool_call_id"):
            raise serializers.ValidationError(
                {"tool_call_id": ["A tool message names the call it answers."]}, code="required"
            )
        if role != "user" and isinstance(message.get("content"), list):
            if any(p["type"] != "text" and p["type"] != "refusal" for p in message["content"]):
                raise serializers.ValidationError(
                    {"content": ["Only a user message may carry images, audio or files."]}, code="invalid"
                )
        return message


class ResponseFormatSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["text", "json_object", "json_schema"])
    json_schema = JsonObjectField(required=False)

    def validate(self, value: dict[str, Any]) -> dict[str, Any]:
        if value["type"] == "json_schema" and not isinstance(value.get("json_schema"), dict):
            raise serializers.ValidationError(
                {"json_schema": ["response_format json_schema needs its 'json_schema' object."]}, code="required"
            )
        return value


@extend_schema_field(OpenApiTypes.ANY)
class StopField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> Any:
        if data is not None and not isinstance(data, str):
            if not (isinstance(data, list) and len(data) <= 4 and all(isinstance(s, str) for s in data)):
                raise serializers.ValidationError("stop is a string or a list of at most 4 strings.", code="invalid")
        refuse_unstorable_characters(data)
        return data


@extend_schema_field({"oneOf": [{"type": "string", "enum": ["none", "auto", "required"]}, {"type": "object"}]})
class ToolChoiceField(serializers.JSONField):
    def to_internal_value(self, data: Any) -> Any:
        if data in ("none", "auto", "required") or (isinstance(data, dict) and isinstance(data.get("type"), str)):
            refuse_unstorable_characters(data)
            return data
        raise serializers.ValidationError(
            "tool_choice is 'none', 'auto', 'required' or an object naming a tool.", code="invalid"
        )


class ChatCompletionSerializer(serializers.Serializer):
    """OpenAI's Chat Completions request. Parameters not listed here are passed through unchanged."""

    model = serializers.CharField(max_length=200)
    messages = ChatMessageSerializer(many=True, allow_empty=False)
    temperature = StrictFloatField(min_value=0.0, max_value=2.0, required=False, allow_null=True)
    top_p = StrictFloatField(min_value=0.0, max_value=1.0, required=False, allow_null=True)
    max_tokens = StrictIntegerField(min_value=1, required=False, allow_null=True, validators=[max_tokens_limit()])
    max_completion_tokens = StrictIntegerField(
        min_value=1, required=False, allow_null=True, validators=[max_tokens_limit()]
    )
    n = StrictIntegerField(min_value=1, max_value=MAX_CHOICES, required=False, allow_null=True)
    stream = StrictBooleanField(required=False, allow_null=True)
    stream_options = JsonObjectField(required=False, allow_null=True)
    stop = StopField(required=False, allow_null=True)
    seed = StrictIntegerField(required=False, allow_null=True)
    presence_penalty = StrictFloatField(min_value=-2.0, max_value=2.0, required=False, allow_null=True)
    frequency_penalty = StrictFloatField(min_value=-2.0, max_value=2.0, required=False, allow_null=True)
    logprobs = StrictBooleanField(required=False, allow_null=True)
    top_logprobs = StrictIntegerField(min_value=0, max_value=20, required=False, allow_null=True)
    logit_bias = serializers.DictField(
        child=StrictFloatField(min_value=-100, max_value=100), required=False, allow_null=True
    )
    response_format = ResponseFormatSerializer(required=False, allow_null=True)
    tools = serializers.ListField(child=JsonObjectField(), required=False, allow_null=True, max_length=128)
    tool_choice = ToolChoiceField(required=False, allow_null=True)
    parallel_tool_calls = StrictBooleanField(required=False, allow_null=True)
    user = serializers.CharField(required=False, max_length=200)
    metadata = serializers.DictField(child=serializers.CharField(max_length=512), required=False, allow_null=True)
    store = StrictBooleanField(required=False, allow_null=True)
    service_tier = serializers.CharField(required=False, allow_null=True, max_length=50)
    reasoning_effort = serializers.CharField(required=False, allow_null=True, max_length=50)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict):
            for key, value in data.items():
                if key not in self.fields:  # passed through: checked only for what no database can record
                    try:
                        refuse_unstorable_characters({key: value})
                    except serializers.ValidationError as exc:
                        raise serializers.ValidationError({key: exc.detail}) from exc
        return super().to_internal_value(data)

    def validate_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not any(m["role"] == "user" for m in messages):
            raise serializers.ValidationError("At least one message must have the role 'user'.", code="no_user_message")
        return messages

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        tools = data.get("tools") or []
        if any(
            not isinstance(t.get("function"), dict) or not isinstance(t["function"].get("name"), str) for t in tools
        ):
            raise serializers.ValidationError(
                {"tools": ["Each tool is {'type': 'function', 'function': {'name': …}}."]}
            )
        return data
