"""The /v1 gateway driven by the official openai SDK over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import openai
import pytest

from chat.models import Completion, Conversation
from chat.records import rebuild_request, rebuild_response
from conftest import make_member
from gateway.services import api_key_create
from quota.models import DailyUsage


@pytest.fixture
def sdk(live_uvicorn, upstream):
    member = make_member()
    key, secret = api_key_create(user=member, name="test")
    client = openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=2)
    client.member, client.key, client.secret = member, key, secret
    return client


def used(member) -> int:
    return DailyUsage.objects.filter(user=member).values_list("requests", flat=True).first() or 0


def test_models_are_listed(sdk):
    assert [m.id for m in sdk.models.list()] == ["fake-model", "fake-model-large"]


def test_a_chat_completion_is_counted_recorded_and_returned_as_the_upstream_sent_it(sdk, upstream):
    answer = sdk.chat.completions.create(
        model="fake-model",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello gateway"}],
        temperature=0.2,
    )
    assert answer.choices[0].message.content == "Echo: hello gateway"
    [exchange] = upstream.exchanges
    assert answer.id == exchange.response["id"]
    assert used(sdk.member) == 1
    conversation = Conversation.objects.get(user=sdk.member)
    assert conversation.source == "gateway" and conversation.api_key == sdk.key
    assert conversation.system_prompt == "Be brief."
    completion = Completion.objects.get(conversation=conversation)
    assert rebuild_request(completion) == exchange.request
    assert rebuild_response(completion) == exchange.response
    assert exchange.request == {
        "model": "fake-model",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello gateway"}],
        "temperature": 0.2,
    }


def test_streaming_through_the_sdk(sdk, upstream):
    upstream.configure(chunks=6)
    stream = sdk.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": "stream to me"}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: stream to me"
    assert all(c.usage is None for c in chunks)  # this client did not ask for usage
    assert upstream.exchanges[0].request["stream_options"] == {"include_usage": True}  # haruchat did, for its ledger
    completion = Completion.objects.get(conversation__user=sdk.member)
    assert completion.status == "succeeded" and completion.usage_counted is False
    assert DailyUsage.objects.get(user=sdk.member).completion_tokens == len(text.split())


def stream_asking_for_usage(sdk) -> list:
    return list(
        sdk.chat.completions.create(
            model="fake-model",
            messages=[{"role": "user", "content": "count it"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )


def test_streaming_with_usage_when_the_client_asks(sdk, upstream):
    chunks = stream_asking_for_usage(sdk)
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0


def test_a_client_that_asks_for_usage_gets_it_even_from_a_model_that_sends_none(sdk, upstream):
    upstream.configure(chunks=4, no_usage=True)
    chunks = stream_asking_for_usage(sdk)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.id == chunks[0].id and last.model == "fake-model"
    completion = Completion.objects.get(conversation__user=sdk.member)
    assert completion.usage_counted is True  # haruchat's own count, the one its ledger took
    assert last.usage.completion_tokens == completion.reply.completion_tokens == 4
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert text == "Echo: count it"
    assert len([c for c in chunks if c.usage is not None]) == 1


def test_over_quota_raises_the_sdks_rate_limit_error_without_retries(sdk, upstream, settings):
    settings.HARUCHAT_DAILY_LIMIT = 1
    sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "one"}])
    with pytest.raises(openai.RateLimitError) as caught:
        sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "two"}])
    assert caught.value.code == "quota_exceeded"
    assert int(caught.value.response.headers["retry-after"]) > 0
    assert len(upstream.exchanges) == 1
    assert used(sdk.member) == 1
    # the refused call left nothing behind: its record went with the count
    assert [c.title for c in Conversation.objects.filter(user=sdk.member)] == ["API: one"]
    assert Completion.objects.filter(user=sdk.member).count() == 1


def test_a_wrong_or_revoked_key_raises_authentication_error(sdk, live_uvicorn):
    wrong = openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key="hc-not-a-real-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        wrong.models.list()
    assert caught.value.code == "invalid_api_key"
    from gateway.services import api_key_revoke

    api_key_revoke(key=sdk.key)
    with pytest.raises(openai.AuthenticationError):
        sdk.models.list()


def test_bad_requests_raise_the_sdks_usual_errors(sdk, upstream):
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="gpt-99", messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.BadRequestError) as caught:
        sdk.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "hi"}], tools=[{"type": "function"}]
        )
    assert "tools" in caught.value.message
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(model="fake-model", messages=[])
    assert upstream.exchanges == [] and used(sdk.member) == 0


def test_an_upstream_failure_is_a_5xx_the_sdk_reports_and_is_refunded(sdk, upstream):
    upstream.configure(status=500)
    with pytest.raises(openai.APIStatusError) as caught:
        sdk.with_options(max_retries=0).chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "hi"}]
        )
    assert caught.value.status_code == 502
    assert used(sdk.member) == 0


def test_tokens_do_not_cross_over(sdk, live_uvicorn):
    from accounts.services import user_tokens_issue

    jwt = user_tokens_issue(user=sdk.member)["access"]
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=jwt, max_retries=0).models.list()
    import urllib.error
    import urllib.request

    request = urllib.request.Request(f"{live_uvicorn.url}/api/quota", headers={"Authorization": f"Bearer {sdk.secret}"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request)
    assert caught.value.code == 401


def _post_raw(url: str, secret: str, body: bytes, method: str = "POST") -> tuple[int, dict]:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        url, data=body if method == "POST" else None, method=method,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_key_is_checked_before_the_body_and_a_bad_body_is_neither_counted_nor_recorded(sdk, live_uvicorn, upstream):
    url = f"{live_uvicorn.url}/v1/chat/completions"
    status, body = _post_raw(url, "hc-not-a-key", b'{"model": "fake-model", "messages": []}')
    assert status == 401 and body["error"]["type"] == "authentication_error"

    status, body = _post_raw(url, sdk.secret, b'{"model": "fake-model", "messages": []}')
    assert status == 400 and body["error"]["param"] == "messages"
    status, body = _post_raw(url, sdk.secret, b'{"model": "gpt-nope", "messages": [{"role": "user", "content": "hi"}]}')
    assert status == 404 and body["error"]["code"] == "model_not_found"
    status, body = _post_raw(url, sdk.secret, b"", method="GET")
    assert status == 405
    assert used(sdk.member) == 0
    assert not Conversation.objects.filter(user=sdk.member).exists()
    assert upstream.exchanges == []


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ({"stop": "end\x00"}, "null_characters_not_allowed"),
        ({"stop": ["a", "b\x00"]}, "null_characters_not_allowed"),
        ({"stream_options": {"include_usage": True, "x\x00": 1}}, "null_characters_not_allowed"),
        ({"stop": ["\ud83d"]}, "surrogate_characters_not_allowed"),
        ({"stream_options": {"include_usage": True, "\udc00": 1}}, "surrogate_characters_not_allowed"),
    ],
    ids=["stop", "stop-list", "stream_options-key", "stop-half-emoji", "stream_options-key-surrogate"],
)
def test_an_unstorable_character_in_a_json_parameter_is_a_400_not_a_503(sdk, upstream, extra, code):
    """PostgreSQL's jsonb can hold neither, so recording the call failed: a 503 that blamed the usage ledger."""
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}], **extra}
    request = urllib.request.Request(  # json.dumps escapes a surrogate (\\ud83d), as a JSON client may send it
        f"{sdk.base_url}chat/completions",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {sdk.secret}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert json.loads(refused.value.read())["error"]["code"] == code
    assert upstream.exchanges == [] and used(sdk.member) == 0
