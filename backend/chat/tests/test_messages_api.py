"""Sending messages: the conversation so far goes to the model, the answer is stored,
the quota counts only calls that answered, and every failure keeps the member's message."""

from __future__ import annotations

import socket

import pytest

from chat.tests.helpers import MEDITATION_INTAKE, send, start_conversation
from quota.models import DailyUsage


def quota_used(api) -> int:
    return api.get("/api/quota").json()["used"]


def test_send_stores_both_messages_and_returns_the_answer(api, upstream):
    conversation = start_conversation(api)
    response = send(api, conversation["id"], "What is haru?")
    assert response.status_code == 201
    body = response.json()
    assert body["user_message"]["content"] == "What is haru?"
    assert body["assistant_message"]["content"] == "Echo: What is haru?"
    assert body["assistant_message"]["completion_id"] == body["completion_id"]
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    assert body["quota"] == {**body["quota"], "limit": 5, "used": 1, "remaining": 4}
    assert response["X-RateLimit-Limit"] == "5" and response["X-RateLimit-Remaining"] == "4"
    assert int(response["X-RateLimit-Reset"]) > 0
    stored = api.get(f"/api/conversations/{conversation['id']}").json()["messages"]
    assert [(m["role"], m["content"]) for m in stored] == [
        ("user", "What is haru?"),
        ("assistant", "Echo: What is haru?"),
    ]


def test_the_system_prompt_goes_first_then_the_whole_conversation(api, upstream):
    conversation = start_conversation(
        api, assistant="meditation-guide", intake=MEDITATION_INTAKE, temperature=0.3, max_tokens=99
    )
    assert send(api, conversation["id"], None).status_code == 201  # answers the intake opening
    assert send(api, conversation["id"], "Can it be shorter?").status_code == 201
    sent = upstream.exchanges[-1].request
    assert sent["messages"][0] == {"role": "system", "content": conversation["system_prompt"]}
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["messages"][1]["content"].startswith("Current state: tense after a long day")
    assert sent["messages"][-1]["content"] == "Can it be shorter?"
    assert (sent["model"], sent["temperature"], sent["max_tokens"], sent["stream"]) == ("fake-model", 0.3, 99, False)


def test_sending_nothing_when_nothing_awaits_an_answer_is_400_and_free(api, upstream):
    conversation = start_conversation(api)
    response = send(api, conversation["id"], None)
    assert response.status_code == 400
    assert response.json()["code"] == "nothing_to_answer"
    assert quota_used(api) == 0 and upstream.exchanges == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"content": ""}, "blank"),
        ({"content": "   \n\t "}, "blank"),
        ({"content": "x" * 32_001}, "too_long"),
        ({"content": None}, "null"),
        ({"content": ["a"]}, "invalid"),
        ({"content": {"text": "a"}}, "invalid"),
        ({"content": "nul \x00 byte"}, "null_characters_not_allowed"),
    ],
)
def test_bad_messages_are_400_and_never_reach_the_model(api, upstream, body, code):
    conversation = start_conversation(api)
    response = api.post(f"/api/conversations/{conversation['id']}/messages", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert response.json()["detail"]
    assert upstream.exchanges == [] and quota_used(api) == 0


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"", b"[]", b'"text"', b"null", b"123", b'{"content": NaN}', b'{"content": "\\ud800"}'],
)
def test_malformed_bodies_are_400_json_never_500(api, upstream, raw):
    conversation = start_conversation(api)
    response = api.generic(
        "POST", f"/api/conversations/{conversation['id']}/messages", raw, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert set(response.json()) >= {"detail", "code"}


def test_a_body_over_the_limit_is_413(api, upstream, settings):
    conversation = start_conversation(api)
    response = send(api, conversation["id"], "y" * (settings.HARUCHAT_MAX_BODY_BYTES + 10))
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


def test_five_a_day_then_429_with_retry_after_and_nothing_stored(api, upstream):
    conversation = start_conversation(api)
    for n in range(5):
        assert send(api, conversation["id"], f"message {n}").status_code == 201
    refused = send(api, conversation["id"], "one too many")
    assert refused.status_code == 429
    assert refused.json()["code"] == "quota_exceeded"
    assert int(refused["Retry-After"]) > 0
    assert refused["X-RateLimit-Remaining"] == "0"
    assert len(upstream.exchanges) == 5
    contents = [m["content"] for m in api.get(f"/api/conversations/{conversation['id']}").json()["messages"]]
    assert "one too many" not in contents
    quota = api.get("/api/quota").json()
    assert (quota["limit"], quota["used"], quota["remaining"]) == (5, 5, 0)


def test_deleting_conversations_gives_no_quota_back(api, upstream):
    for _ in range(5):
        conversation = start_conversation(api)
        assert send(api, conversation["id"]).status_code == 201
        assert api.delete(f"/api/conversations/{conversation['id']}").status_code == 204
    assert quota_used(api) == 5
    assert send(api, start_conversation(api)["id"]).status_code == 429


def test_the_ledger_keeps_token_usage_per_day(api, upstream, member):
    conversation = start_conversation(api)
    body = send(api, conversation["id"], "count my tokens please").json()
    usage = DailyUsage.objects.get(user=member)
    assert usage.requests == 1
    assert usage.prompt_tokens == body["usage"]["prompt_tokens"]
    assert usage.completion_tokens == body["usage"]["completion_tokens"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("switches", "status", "code", "upstream_status"),
    [
        ({"status": 500}, 502, "upstream_error", 500),
        ({"status": 503}, 502, "upstream_error", 503),
        ({"status": 429}, 502, "upstream_error", 429),
        ({"status": 400}, 502, "upstream_error", 400),
        ({"malformed": "not_json"}, 502, "upstream_malformed", None),
        ({"malformed": "nan"}, 502, "upstream_malformed", None),
        ({"malformed": "no_choices"}, 502, "upstream_malformed", None),
        ({"latency": 2.0}, 504, "upstream_timeout", None),
    ],
)
def test_upstream_failures_keep_the_message_record_the_failure_and_refund(
    api, upstream, settings, switches, status, code, upstream_status
):
    settings.HARUCHAT_LLM_TIMEOUT = 0.5
    conversation = start_conversation(api)
    upstream.configure(**switches)
    response = send(api, conversation["id"], "Are you there?")
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["detail"]
    assert body["user_message"]["content"] == "Are you there?"
    assert response["X-RateLimit-Remaining"] == "5"
    assert quota_used(api) == 0
    detail = api.get(f"/api/conversations/{conversation['id']}").json()
    assert [m["content"] for m in detail["messages"]] == ["Are you there?"]
    assert detail["awaiting_reply"] is True
    [call] = api.get(f"/api/conversations/{conversation['id']}/completions").json()
    assert call["status"] == "failed" and call["response"] is None
    assert call["error"]["code"] == code and call["error"]["upstream_status"] == upstream_status
    assert call["request"]["messages"][-1] == {"role": "user", "content": "Are you there?"}
    assert call["id"] == body["completion_id"]


def test_an_unreachable_upstream_is_502_and_refunded(api, upstream, settings):
    conversation = start_conversation(api)
    settings.HARUCHAT_LLM_BASE_URL = f"http://127.0.0.1:{_free_port()}/v1"
    response = send(api, conversation["id"], "hello?")
    assert response.status_code == 502
    assert response.json()["code"] == "upstream_unavailable"
    assert quota_used(api) == 0


def test_after_a_failure_the_kept_message_is_answered_without_resending_it(api, upstream):
    conversation = start_conversation(api)
    upstream.configure(status=500, fail_times=1)
    assert send(api, conversation["id"], "first try").status_code == 502
    retry = send(api, conversation["id"], None)
    assert retry.status_code == 201
    assert retry.json()["assistant_message"]["content"] == "Echo: first try"
    messages = api.get(f"/api/conversations/{conversation['id']}").json()["messages"]
    assert [m["content"] for m in messages] == ["first try", "Echo: first try"]
    calls = api.get(f"/api/conversations/{conversation['id']}/completions").json()
    assert [c["status"] for c in calls] == ["failed", "succeeded"]
    assert quota_used(api) == 1


def test_the_ledger_being_unreachable_refuses_the_send_before_the_model_is_called(api, upstream):
    from django.db import connection

    conversation = start_conversation(api)
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("ALTER TABLE quota_dailyusage RENAME TO quota_dailyusage_gone")
    response = send(api, conversation["id"], "hello")
    assert response.status_code == 503
    assert response.json()["code"] == "quota_unavailable"
    assert upstream.exchanges == []


def test_a_conversation_longer_than_the_context_window_keeps_working(api, upstream, settings):
    settings.HARUCHAT_LLM_CONTEXT_TOKENS = 400  # the estimate is about 4 characters a token
    settings.HARUCHAT_DAILY_LIMIT = 20
    conversation = start_conversation(api, assistant="meditation-guide", intake=MEDITATION_INTAKE, max_tokens=100)
    send(api, conversation["id"], None)
    for n in range(8):
        assert send(api, conversation["id"], f"turn {n}: " + "long words " * 30).status_code == 201
    sent = upstream.exchanges[-1].request["messages"]
    assert sent[0]["role"] == "system"
    assert sent[1]["content"].startswith("Current state:")  # the opening stays
    assert sent[-1]["content"].startswith("turn 7:")  # the newest turn stays
    assert len(sent) < 2 + 1 + 8 * 2  # older turns were left out
    assert sum(len(m["content"]) for m in sent) / 4 <= 400 - 100 + 50
    # ...and the record shows exactly what was sent.
    last = api.get(f"/api/conversations/{conversation['id']}/completions").json()[-1]
    assert last["request"]["messages"] == sent
