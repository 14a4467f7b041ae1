"""Messages form a tree: an edit is a new sibling of a member's message, a regeneration a new sibling answer;
the conversation remembers the current branch, and the model is sent that branch alone."""

from __future__ import annotations

import threading

import pytest

from accounts.services import user_tokens_issue
from chat.models import Completion, Message
from chat.selectors import assistant_default
from chat.services.conversations import conversation_create, message_send
from chat.tests.helpers import counted, send, start_conversation
from chat.tests.test_concurrency_http import post_json
from conftest import client_for, make_member
from gateway.services import api_key_create


def detail(api, conversation_id: int) -> dict:
    return api.get(f"/api/conversations/{conversation_id}").json()


def branch(conversation: dict) -> list[str]:
    """The contents along the current branch, root first, as a client draws it from parent_id."""
    by_id = {m["id"]: m for m in conversation["messages"]}
    path, node = [], by_id.get(conversation["current_leaf_id"])
    while node is not None:
        path.append(node["content"])
        node = by_id.get(node["parent_id"])
    return path[::-1]


def sent_to_model(upstream) -> list[str]:
    """What the last model call was asked, member and assistant turns only."""
    return [m["content"] for m in upstream.state.exchanges[-1].request["messages"] if m["role"] != "system"]


@pytest.fixture
def chat(api, upstream):
    """A conversation of two exchanges: A → a, B → b."""
    conversation = start_conversation(api)
    first = send(api, conversation["id"], "A").json()
    second = send(api, conversation["id"], "B").json()
    return {"id": conversation["id"], "A": first, "B": second}


def test_an_edit_is_a_sibling_and_the_model_sees_only_the_new_branch(api, upstream, chat, member):
    b_message = chat["B"]["user_message"]
    edited = send(api, chat["id"], "B, better put", parent_id=b_message["parent_id"])
    assert edited.status_code == 201, edited.json()
    assert edited.json()["user_message"]["parent_id"] == b_message["parent_id"]
    answer_a = chat["A"]["assistant_message"]["content"]
    assert sent_to_model(upstream) == ["A", answer_a, "B, better put"]
    conversation = detail(api, chat["id"])
    assert branch(conversation) == ["A", answer_a, "B, better put", edited.json()["assistant_message"]["content"]]
    contents = [m["content"] for m in conversation["messages"]]
    assert "B" in contents and chat["B"]["assistant_message"]["content"] in contents  # the old branch stays
    assert counted(member) == 3


def test_editing_the_first_message_starts_a_new_root(api, upstream, chat):
    edited = send(api, chat["id"], "A again", parent_id=None)
    assert edited.status_code == 201 and edited.json()["user_message"]["parent_id"] is None
    assert sent_to_model(upstream) == ["A again"]
    assert branch(detail(api, chat["id"]))[0] == "A again"


def test_regenerating_makes_a_sibling_answer_with_its_own_call_record(api, upstream, chat, member):
    old = chat["B"]["assistant_message"]
    response = api.post(f"/api/conversations/{chat['id']}/messages/{old['id']}/regenerate", {}, format="json")
    assert response.status_code == 201, response.json()
    new = response.json()["assistant_message"]
    assert new["parent_id"] == old["parent_id"] == chat["B"]["user_message"]["id"]
    assert new["completion_id"] != old["completion_id"]
    assert response.json()["user_message"]["id"] == chat["B"]["user_message"]["id"]  # no new message of the member's
    assert sent_to_model(upstream) == ["A", chat["A"]["assistant_message"]["content"], "B"]
    conversation = detail(api, chat["id"])
    assert conversation["current_leaf_id"] == new["id"]
    assert [m["role"] for m in conversation["messages"]].count("user") == 2
    assert counted(member) == 3
    assert Completion.objects.get(pk=new["completion_id"]).request_message_id == chat["B"]["user_message"]["id"]


def test_a_regeneration_that_fails_keeps_the_old_answer_shown_and_is_not_counted(api, upstream, chat, member):
    upstream.configure(status=500, fail_times=1)
    old = chat["B"]["assistant_message"]
    response = api.post(f"/api/conversations/{chat['id']}/messages/{old['id']}/regenerate", {}, format="json")
    assert response.status_code == 502
    conversation = detail(api, chat["id"])
    assert conversation["current_leaf_id"] == old["id"] and conversation["awaiting_reply"] is False
    assert counted(member) == 2


def test_switching_to_a_sibling_shows_its_newest_branch_and_the_next_send_follows_it(api, upstream, chat):
    b_message = chat["B"]["user_message"]
    send(api, chat["id"], "B2", parent_id=b_message["parent_id"])
    switched = api.patch(f"/api/conversations/{chat['id']}", {"current_leaf_id": b_message["id"]}, format="json")
    assert switched.status_code == 200
    assert switched.json()["current_leaf_id"] == chat["B"]["assistant_message"]["id"]  # down to B's answer
    assert branch(switched.json())[-2:] == ["B", chat["B"]["assistant_message"]["content"]]
    send(api, chat["id"], "C")
    assert sent_to_model(upstream)[-2:] == [chat["B"]["assistant_message"]["content"], "C"]


def test_the_conversation_list_order_does_not_change_by_looking_at_a_branch(api, upstream, chat):
    before = detail(api, chat["id"])["updated_at"]
    api.patch(f"/api/conversations/{chat['id']}", {"current_leaf_id": chat["A"]["user_message"]["id"]}, format="json")
    assert detail(api, chat["id"])["updated_at"] == before


def test_other_conversations_messages_are_refused(api, upstream, chat, member):
    other = start_conversation(api)
    elsewhere = send(api, other["id"], "elsewhere").json()["user_message"]["id"]
    refused = send(api, chat["id"], "x", parent_id=elsewhere)
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_parent"
    assert "parent_id" in refused.json()["errors"]
    patch = api.patch(f"/api/conversations/{chat['id']}", {"current_leaf_id": elsewhere}, format="json")
    assert patch.status_code == 400
    regenerate = api.post(f"/api/conversations/{chat['id']}/messages/{elsewhere}/regenerate", {}, format="json")
    assert regenerate.status_code == 404
    stranger = client_for(make_member("stranger@example.com", "stranger"))
    own = chat["B"]["assistant_message"]["id"]
    assert stranger.post(f"/api/conversations/{chat['id']}/messages/{own}/regenerate", {}).status_code == 404
    assert counted(member) == 3


def test_a_parent_without_content_is_a_clear_400(api, upstream, chat):
    response = send(api, chat["id"], None, parent_id=chat["A"]["assistant_message"]["id"])
    assert response.status_code == 400 and "parent_id" in response.json()["errors"]


def test_the_export_carries_the_tree(api, upstream, chat):
    send(api, chat["id"], "B2", parent_id=chat["B"]["user_message"]["parent_id"])
    exported = api.get(f"/api/conversations/{chat['id']}/export").json()["conversations"][0]
    assert exported["current_leaf_id"] == detail(api, chat["id"])["current_leaf_id"]
    parents = {m["content"]: m["parent_id"] for m in exported["messages"]}
    assert parents["B"] == parents["B2"] == chat["A"]["assistant_message"]["id"]
    markdown = api.get(f"/api/conversations/{chat['id']}/export", {"format": "markdown"}).content.decode()
    assert "B2" in markdown and "\nB\n" not in markdown  # the transcript is the current branch


def test_twenty_edits_and_regenerations_at_once_keep_the_tree_whole(live_uvicorn, upstream, settings):
    """Ten edits of one message and ten regenerations of one answer, all at once over HTTP: every message
    lands where it was put, each answer under the message its own call answered, the leaf on a whole branch,
    and the allowance counts each of the twenty, and the five over it are refused."""
    settings.HARUCHAT_DAILY_LIMIT = 17  # two sends below, then 15 of the 20
    member = make_member("tree@example.com", "tree")
    conversation = conversation_create(user=member, assistant=assistant_default())
    message_send(user=member, conversation=conversation, content="A")
    conversation.refresh_from_db()
    second = message_send(user=member, conversation=conversation, content="B")
    upstream.configure(latency=0.2)  # keep the calls in flight together
    token = user_tokens_issue(user=member)["access"]
    base = f"{live_uvicorn.url}/api/conversations/{conversation.pk}/messages"
    barrier = threading.Barrier(20)
    results: list[tuple[int, dict]] = []

    def act(n: int) -> None:
        barrier.wait()
        if n % 2:
            status, _, body = post_json(
                base, token, {"content": f"B edit {n}", "parent_id": second.user_message.parent_id}
            )
        else:
            status, _, body = post_json(f"{base}/{second.answer.pk}/regenerate", token, {})
        results.append((status, body))

    threads = [threading.Thread(target=act, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(status for status, _ in results) == [201] * 15 + [429] * 5, results
    assert counted(member) == 17
    messages = {m.pk: m for m in Message.objects.filter(conversation=conversation)}
    edits = [m for m in messages.values() if m.content.startswith("B edit")]
    assert len(edits) == sum(1 for s, b in results if s == 201 and "B edit" in b["user_message"]["content"])
    assert all(m.parent_id == second.user_message.parent_id for m in edits)
    for answer in (m for m in messages.values() if m.role == "assistant"):
        asked = messages[answer.parent_id]
        assert asked.role == "user" and answer.completion.request_message_id == asked.pk
    assert sum(1 for m in messages.values() if m.parent_id == second.user_message.pk) == 1 + sum(
        1 for s, b in results if s == 201 and b["user_message"]["id"] == second.user_message.pk
    )
    conversation.refresh_from_db()
    leaf = messages[conversation.current_leaf_id]
    assert leaf.role == "assistant" and not any(m.parent_id == leaf.pk for m in messages.values())
    node, depth = leaf, 0
    while node.parent_id is not None:
        node, depth = messages[node.parent_id], depth + 1
    assert node.content == "A" and depth == 3


@pytest.fixture
def gateway_record(member, upstream, live_uvicorn):
    """A /v1 call's record: three turns sent, one answer; its messages name no parent (a flat conversation)."""
    _, secret = api_key_create(user=member, name="record")
    said = (("user", "one"), ("assistant", "two"), ("user", "three"))
    turns = [{"role": role, "content": text} for role, text in said]
    status, _, body = post_json(
        f"{live_uvicorn.url}/v1/chat/completions", secret, {"model": "fake-model", "messages": turns}
    )
    assert status == 200, body
    conversation = Completion.objects.get().conversation
    assert conversation.current_leaf_id is None
    return {"id": conversation.pk, "answer": body["choices"][0]["message"]["content"]}


def test_a_web_message_after_a_v1_record_sends_the_whole_record(api, upstream, gateway_record):
    sent = send(api, gateway_record["id"], "four")
    assert sent.status_code == 201, sent.json()
    assert sent_to_model(upstream) == ["one", "two", "three", gateway_record["answer"], "four"]
    answer = sent.json()["assistant_message"]["content"]
    record = ["one", "two", "three", gateway_record["answer"]]
    assert branch(detail(api, gateway_record["id"])) == [*record, "four", answer]


def test_regenerating_a_v1_records_answer_sends_the_whole_record(api, upstream, gateway_record):
    answer_id = Message.objects.filter(conversation_id=gateway_record["id"], role="assistant").last().pk
    again = api.post(f"/api/conversations/{gateway_record['id']}/messages/{answer_id}/regenerate", format="json")
    assert again.status_code == 201, again.json()
    assert sent_to_model(upstream) == ["one", "two", "three"]
    conversation = detail(api, gateway_record["id"])
    assert branch(conversation) == ["one", "two", "three", again.json()["assistant_message"]["content"]]
