"""The number of SQL queries per request is pinned: it doesn't vary with machine
noise, and an N+1 creeping in shows up here first."""

from __future__ import annotations

from chat.tests.helpers import send, start_conversation


def test_sending_a_message_takes_a_fixed_number_of_queries(api, upstream, django_assert_max_num_queries):
    conversation = start_conversation(api)
    send(api, conversation["id"], "warm up")
    # 31: the branch's current leaf is set as the call starts and as it settles, and the three usage roll-ups
    # are added to at both (each in its batch: no round trip of its own on PostgreSQL, a statement each here
    # on SQLite).
    with django_assert_max_num_queries(31):  # savepoints included; see docs/benchmarks.md
        assert send(api, conversation["id"], "how many queries?").status_code == 201


def test_listing_does_not_grow_with_the_number_of_conversations(api, upstream, django_assert_num_queries):
    for n in range(3):
        start_conversation(api, title=f"c{n}")
    with django_assert_num_queries(2):
        assert api.get("/api/conversations").status_code == 200
    for n in range(20):
        start_conversation(api, title=f"more{n}")
    with django_assert_num_queries(2):
        assert len(api.get("/api/conversations?page_size=50").json()["results"]) == 23


def test_opening_a_conversation_does_not_grow_with_its_messages(api, upstream, django_assert_num_queries):
    conversation = start_conversation(api)
    send(api, conversation["id"], "one")
    with django_assert_num_queries(4):
        api.get(f"/api/conversations/{conversation['id']}")
    for n in range(4):
        send(api, conversation["id"], f"more {n}")
    with django_assert_num_queries(4):
        assert len(api.get(f"/api/conversations/{conversation['id']}").json()["messages"]) == 10


def test_the_call_records_do_not_grow_with_the_number_of_calls(api, upstream, django_assert_num_queries):
    conversation = start_conversation(api)
    send(api, conversation["id"], "one")
    with django_assert_num_queries(5):
        api.get(f"/api/conversations/{conversation['id']}/completions")
    for n in range(3):
        send(api, conversation["id"], f"more {n}")
    with django_assert_num_queries(5):
        assert len(api.get(f"/api/conversations/{conversation['id']}/completions").json()) == 4
