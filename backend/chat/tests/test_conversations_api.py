"""Conversations: assistants, intake, listing, search, rename, delete, and members-only access."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest

from chat.tests.helpers import MEDITATION_INTAKE, send, start_conversation

CHAT_ENDPOINTS = [
    ("get", "/api/assistants"),
    ("get", "/api/models"),
    ("get", "/api/quota"),
    ("get", "/api/conversations"),
    ("post", "/api/conversations"),
    ("get", "/api/conversations/1"),
    ("patch", "/api/conversations/1"),
    ("delete", "/api/conversations/1"),
    ("post", "/api/conversations/1/messages"),
    ("get", "/api/conversations/1/completions"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), CHAT_ENDPOINTS)
def test_every_chat_endpoint_is_401_json_for_anonymous_callers(anon, method, path):
    response = getattr(anon, method)(path, {}, format="json")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["detail"]


def test_assistants_include_free_chat_and_the_guided_meditation(api):
    assistants = {a["slug"]: a for a in api.get("/api/assistants").json()}
    assert {"free-chat", "meditation-guide", "study-coach"} <= set(assistants)
    assert assistants["free-chat"]["questions"] == []
    kinds = [q["kind"] for q in assistants["meditation-guide"]["questions"]]
    assert kinds == ["current_state", "goal", "misc"]
    assert all(q["label"] and q["label_ko"] for q in assistants["meditation-guide"]["questions"])


def test_intake_answers_compose_the_opening_message(api, upstream):
    conversation = start_conversation(api, assistant="meditation-guide", intake=MEDITATION_INTAKE)
    assert conversation["awaiting_reply"] is True
    [opening] = conversation["messages"]
    assert opening["role"] == "user"
    assert opening["content"] == (
        "Current state: tense after a long day\nGoal: relax my shoulders\nOther requirements: five minutes"
    )
    assert [a["answer"] for a in conversation["intake_answers"]] == list(MEDITATION_INTAKE.values())
    assert conversation["title"].startswith("Meditation guide")
    assert upstream.exchanges == []  # creating a conversation never calls the model


def test_a_guided_assistant_needs_its_required_answers(api):
    response = api.post(
        "/api/conversations", {"assistant": "meditation-guide", "intake": {"goal": "sleep"}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "intake_incomplete"
    assert "current_state" in response.json()["detail"]


def test_unknown_intake_questions_are_refused(api):
    response = api.post("/api/conversations", {"assistant": "free-chat", "intake": {"mood": "ok"}}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_question"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"assistant": "no-such-assistant"}, "assistant"),
        ({"model": "gpt-99"}, "model"),
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"max_tokens": 10**9}, "max_tokens"),
        ({"intake": ["not", "a", "dict"]}, "intake"),
    ],
)
def test_bad_conversation_settings_are_400_with_the_field_named(api, upstream, fields, field):
    response = api.post("/api/conversations", fields, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_model_settings_are_kept_and_default_to_free_chat(api, upstream):
    conversation = start_conversation(api, model="fake-model-large", temperature=0.2, max_tokens=64)
    assert (conversation["assistant"], conversation["model"]) == ("free-chat", "fake-model-large")
    assert (conversation["temperature"], conversation["max_tokens"]) == (0.2, 64)
    assert conversation["messages"] == [] and conversation["awaiting_reply"] is False


def test_list_is_newest_activity_first_and_paginated(api, upstream):
    first = start_conversation(api, title="first")
    second = start_conversation(api, title="second")
    start_conversation(api, title="third")
    assert send(api, first["id"], "bump the first").status_code == 201
    page = api.get("/api/conversations?page_size=2").json()
    assert [c["title"] for c in page["results"]] == ["first", "third"]
    rest = api.get(page["next"]).json()
    assert [c["id"] for c in rest["results"]] == [second["id"]]
    assert rest["next"] is None


@pytest.mark.parametrize(
    "position",
    ["2024", "not a time", "2024-13-45 99:99", "tea\x00", "0001-01-01 00:00:00+14:00"],
    ids=["a-year", "words", "no-such-day", "nul", "before-year-1-in-utc"],
)
def test_a_cursor_whose_position_is_no_time_is_an_invalid_cursor_not_a_500(api, position):
    start_conversation(api, title="first")
    cursor = base64.b64encode(urlencode({"p": position}).encode()).decode()
    response = api.get("/api/conversations", {"cursor": cursor})
    assert response.status_code == 404, response.content
    assert response.json() == {"detail": "Invalid cursor", "code": "not_found"}


def test_a_cursor_that_does_not_decode_is_an_invalid_cursor(api):
    response = api.get("/api/conversations", {"cursor": "%%% not base64 ✓"})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor", "code": "not_found"}


def test_search_matches_titles_and_message_text(api, upstream):
    about_tea = start_conversation(api, title="Tea notes")
    about_seoul = start_conversation(api, title="Trip")
    send(api, about_seoul["id"], "What to see in Seoul in autumn?")
    start_conversation(api, title="Unrelated")

    def titles(query: str) -> list[str]:
        return [c["title"] for c in api.get("/api/conversations", {"search": query}).json()["results"]]

    assert titles("tea") == [about_tea["title"]]
    assert titles("SEOUL") == ["Trip"]
    assert titles("nothing like this") == []


def test_a_search_with_a_nul_character_is_a_clear_400(api):
    response = api.get("/api/conversations", {"search": "tea\x00"})
    assert response.status_code == 400
    assert response.json()["code"] == "null_characters_not_allowed"
    assert response.json()["errors"] == {"search": ["Null characters are not allowed."]}


def test_rename_and_delete(api, upstream):
    conversation = start_conversation(api, title="old")
    renamed = api.patch(f"/api/conversations/{conversation['id']}", {"title": "  new name  "}, format="json")
    assert renamed.status_code == 200 and renamed.json()["title"] == "new name"
    assert api.patch(f"/api/conversations/{conversation['id']}", {"title": ""}, format="json").status_code == 400
    assert api.delete(f"/api/conversations/{conversation['id']}").status_code == 204
    assert api.get(f"/api/conversations/{conversation['id']}").status_code == 404


def test_a_free_chat_is_titled_by_its_first_message(api, upstream):
    conversation = start_conversation(api)
    send(api, conversation["id"], "How do I brew   green tea properly?")
    assert api.get(f"/api/conversations/{conversation['id']}").json()["title"] == "How do I brew green tea properly?"


def test_an_assistant_slug_with_a_nul_byte_is_a_400_not_a_500(api):
    response = api.post("/api/conversations", {"assistant": "free\x00chat"}, format="json")
    assert response.status_code == 400
    assert "assistant" in response.json()["errors"]
