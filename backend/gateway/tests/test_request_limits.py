"""/v1's request limits: checked against the settings of the moment, and stated in the OpenAPI schema
(schemathesis draws its bodies from it; without them most drawn /v1 bodies were only ever a 400)."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.views import ChatCompletionSerializer

USER = {"role": "user", "content": "hi"}


def errors(body: dict[str, Any]) -> Any:
    serializer = ChatCompletionSerializer(data={"model": "fake-model", **body})
    assert not serializer.is_valid()
    return serializer.errors


def test_the_limits_and_their_messages(settings):
    settings.HARUCHAT_MAX_TOKENS_LIMIT = 100
    settings.HARUCHAT_MAX_MESSAGE_CHARS = 10
    assert errors({"messages": [USER], "max_tokens": 101}) == {"max_tokens": ["At most 100."]}
    assert errors({"messages": [USER], "max_tokens": 101})["max_tokens"][0].code == "max_value"
    [message_errors] = errors({"messages": [{"role": "user", "content": "x" * 11}]})["messages"].values()
    assert message_errors == {"content": ["A message is longer than 10 characters."]}
    assert message_errors["content"][0].code == "too_long"
    assert errors({"messages": []})["messages"]["non_field_errors"][0].code == "empty"
    at_the_limits = {"model": "m", "messages": [{**USER, "content": "x" * 10}], "max_tokens": 100}
    assert ChatCompletionSerializer(data=at_the_limits).is_valid()


@pytest.mark.django_db
def test_the_schema_states_the_limits(anon, settings):
    settings.HARUCHAT_MAX_TOKENS_LIMIT = 1234
    settings.HARUCHAT_MAX_MESSAGE_CHARS = 5678
    schema = anon.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    def resolve(ref: dict[str, Any]) -> dict[str, Any]:
        return schema["components"]["schemas"][ref["$ref"].rpartition("/")[2]]

    operation = schema["paths"]["/v1/chat/completions"]["post"]
    request = resolve(operation["requestBody"]["content"]["application/json"]["schema"])["properties"]
    assert request["messages"]["minItems"] == 1
    assert (request["max_tokens"]["minimum"], request["max_tokens"]["maximum"]) == (1, 1234)
    assert resolve(request["messages"]["items"])["properties"]["content"]["maxLength"] == 5678
