"""Own history only: another member's conversation is a 404 everywhere and never listed."""

from __future__ import annotations

import pytest

from chat.tests.helpers import send, start_conversation
from conftest import client_for


@pytest.fixture
def others_conversation(other_member, upstream):
    other = client_for(other_member)
    conversation = start_conversation(other, title="private diary")
    assert send(other, conversation["id"], "my secret plans").status_code == 201
    return conversation


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "", None),
        ("patch", "", {"title": "stolen"}),
        ("delete", "", None),
        ("post", "/messages", {"content": "hi"}),
        ("get", "/completions", None),
    ],
)
def test_another_members_conversation_is_404(api, others_conversation, method, suffix, body, other_member):
    url = f"/api/conversations/{others_conversation['id']}{suffix}"
    response = getattr(api, method)(url, body, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such conversation.", "code": "not_found"}
    # ...and nothing changed for its owner.
    owner_view = client_for(other_member).get(f"/api/conversations/{others_conversation['id']}").json()
    assert owner_view["title"] == "private diary"
    assert [m["content"] for m in owner_view["messages"]] == ["my secret plans", "Echo: my secret plans"]


def test_lists_and_search_never_show_another_members_conversations(api, others_conversation):
    mine = start_conversation(api, title="mine")
    assert [c["id"] for c in api.get("/api/conversations").json()["results"]] == [mine["id"]]
    assert api.get("/api/conversations", {"search": "secret"}).json()["results"] == []
    assert api.get("/api/conversations", {"search": "private"}).json()["results"] == []


def test_a_missing_conversation_is_the_same_404(api):
    assert api.get("/api/conversations/999999").json() == {"detail": "No such conversation.", "code": "not_found"}
