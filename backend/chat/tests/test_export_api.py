"""Export: one conversation or all of them, as JSON with the full call records or as Markdown."""

from __future__ import annotations

import json

from chat.tests.helpers import MEDITATION_INTAKE, send, start_conversation
from conftest import client_for


def test_json_export_of_one_conversation_holds_messages_and_exact_calls(api, upstream):
    conversation = start_conversation(api, assistant="meditation-guide", intake=MEDITATION_INTAKE)
    send(api, conversation["id"], None)
    send(api, conversation["id"], "thank you")
    response = api.get(f"/api/conversations/{conversation['id']}/export")
    assert response.status_code == 200
    assert f'filename="haruchat-conversation-{conversation["id"]}.json"' in response["Content-Disposition"]
    [exported] = json.loads(response.content)["conversations"]
    assert [m["role"] for m in exported["messages"]] == ["user", "assistant", "user", "assistant"]
    assert [a["key"] for a in exported["intake_answers"]] == ["current_state", "goal", "misc"]
    assert [c["request"] for c in exported["completions"]] == [e.request for e in upstream.exchanges]
    assert [c["response"] for c in exported["completions"]] == [e.response for e in upstream.exchanges]


def test_markdown_export_is_a_readable_transcript(api, upstream):
    conversation = start_conversation(api, title="Tea talk")
    send(api, conversation["id"], "Which tea for the evening?")
    response = api.get(f"/api/conversations/{conversation['id']}/export?format=markdown")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/markdown")
    text = response.content.decode()
    assert "## Tea talk" in text
    assert "### Member" in text and "Which tea for the evening?" in text
    assert "### Assistant" in text and "Echo: Which tea for the evening?" in text


def test_export_all_has_only_the_members_own_conversations(api, upstream, other_member):
    start_conversation(client_for(other_member), title="not yours")
    start_conversation(api, title="first")
    start_conversation(api, title="second")
    response = api.get("/api/conversations/export")
    assert response.status_code == 200
    titles = [c["title"] for c in json.loads(response.content)["conversations"]]
    assert titles == ["first", "second"]
    markdown = api.get("/api/conversations/export?format=markdown").content.decode()
    assert "## first" in markdown and "not yours" not in markdown


def test_export_of_another_members_conversation_is_404(api, upstream, other_member):
    theirs = start_conversation(client_for(other_member))
    assert api.get(f"/api/conversations/{theirs['id']}/export").status_code == 404


def test_an_unknown_export_format_is_400(api, upstream):
    response = api.get("/api/conversations/export?format=pdf")
    assert response.status_code == 400
    assert "format" in response.json()["errors"]
