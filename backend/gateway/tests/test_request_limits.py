"""Request limits (/v1's and the web app's): checked against the settings of the moment, and stated in the
OpenAPI schema (schemathesis draws its bodies from it; without them most drawn /v1 bodies were only a 400)."""

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
    text, _parts = resolve(request["messages"]["items"])["properties"]["content"]["oneOf"]
    assert text == {"type": "string", "maxLength": 5678}


@pytest.mark.django_db
def test_the_web_apps_endpoints_state_the_same_limits(anon, settings):
    settings.HARUCHAT_MAX_TOKENS_LIMIT = 1234
    settings.HARUCHAT_MAX_MESSAGE_CHARS = 5678
    schema = anon.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    def request_properties(path: str) -> dict[str, Any]:
        ref = schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        return schema["components"]["schemas"][ref.rpartition("/")[2]]["properties"]

    assert request_properties("/api/conversations")["max_tokens"]["maximum"] == 1234
    assert request_properties("/api/conversations/{conversation_id}/messages")["content"]["maxLength"] == 5678


def test_the_web_apps_limits_and_their_messages(api, settings):
    settings.HARUCHAT_MAX_TOKENS_LIMIT = 100
    settings.HARUCHAT_MAX_MESSAGE_CHARS = 10
    refused = api.post("/api/conversations", {"max_tokens": 101}, format="json")
    assert refused.status_code == 400
    assert (refused.json()["code"], refused.json()["errors"]["max_tokens"]) == ("max_value", ["At most 100."])
    conversation = api.post("/api/conversations", {"max_tokens": 100}, format="json").json()
    too_long = api.post(f"/api/conversations/{conversation['id']}/messages", {"content": "x" * 11}, format="json")
    assert too_long.status_code == 400
    assert too_long.json()["code"] == "too_long"
    assert too_long.json()["errors"]["content"] == ["The message is longer than 10 characters."]
