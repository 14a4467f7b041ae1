"""A new conversation's title comes from the model after the first exchange, in a recorded call that is never
counted; the member's own title always wins; the embedded model (or the setting off) keeps the first words."""

from __future__ import annotations

import pytest

from chat.models import Completion, Conversation
from chat.selectors import assistant_default
from chat.services.conversations import (
    call_complete,
    conversation_create,
    conversation_rename,
    message_prepare,
    message_send,
)
from chat.services.titles import TITLE_PROMPT, conversation_title_write, title_cleaned
from chat.tests.helpers import counted, send, start_conversation
from chat.tests.sse import SSEStream
from chat.tests.test_streaming_http import chat  # noqa: F401 (a fixture)


@pytest.fixture
def titles(upstream, settings):
    settings.HARUCHAT_MODEL_TITLES = True
    upstream.configure(reply="Photosynthesis in plain words")
    return upstream


def test_the_first_exchange_gets_the_models_title_in_an_uncounted_recorded_call(api, titles, member):
    conversation = start_conversation(api)
    response = send(api, conversation["id"], "explain photosynthesis like I am ten")
    assert response.status_code == 201
    assert response.json()["conversation_title"] == "Photosynthesis in plain words"
    stored = Conversation.objects.get(pk=conversation["id"])
    assert (stored.title, stored.title_source) == ("Photosynthesis in plain words", "model")
    assert len(titles.exchanges) == 2
    asked = titles.exchanges[1].request["messages"]
    assert asked[0] == {"role": "system", "content": TITLE_PROMPT}
    assert asked[1]["content"] == "explain photosynthesis like I am ten"
    title_call = Completion.objects.get(conversation_id=conversation["id"], purpose="title")
    assert title_call.status == "succeeded" and title_call.reply.choices.get().content == stored.title
    assert counted(member) == 1  # the answer only
    calls = api.get(f"/api/conversations/{conversation['id']}/completions").json()
    assert [c["purpose"] for c in calls] == ["answer", "title"]


def test_later_messages_and_given_titles_ask_for_no_title(api, titles):
    given = start_conversation(api, title="My own title")
    send(api, given["id"], "hello")
    assert Conversation.objects.get(pk=given["id"]).title == "My own title"
    assert len(titles.exchanges) == 1
    untitled = start_conversation(api)
    send(api, untitled["id"], "first")
    send(api, untitled["id"], "second")
    assert len(titles.exchanges) == 4  # answer, title, answer


def test_a_rename_while_the_title_is_being_written_wins(db, titles, member, builtin_assistants):
    conversation = conversation_create(user=member, assistant=assistant_default())
    result = message_send(user=member, conversation=conversation, content="a question")
    conversation_rename(conversation=conversation, title="Mine")
    assert conversation_title_write(result=result) is None
    assert Conversation.objects.get(pk=conversation.pk).title == "Mine"


def test_with_the_setting_off_the_title_is_the_first_words(api, upstream):
    conversation = start_conversation(api)
    send(api, conversation["id"], "what is   the capital of Korea?")
    assert Conversation.objects.get(pk=conversation["id"]).title == "what is the capital of Korea?"
    assert len(upstream.exchanges) == 1


def test_a_streamed_first_exchange_sends_the_title_after_done(chat, titles, settings):  # noqa: F811
    settings.HARUCHAT_MODEL_TITLES = True
    stream = SSEStream(chat.url, chat.token, {"content": "tell me about plants", "stream": True})
    names = [(e.name, e.data) for e in stream.events()]
    assert [n for n, _ in names][-2:] == ["done", "title"]
    assert names[-1][1] == {"title": "Photosynthesis in plain words"}
    assert Conversation.objects.get(pk=chat.conversation.pk).title == "Photosynthesis in plain words"
    assert chat.used() == 1


@pytest.mark.parametrize(
    ("written", "title"),
    [
        ('Title: "Plants and light".', "Plants and light"),
        ("제목: 광합성 기초\nmore text", "광합성 기초"),
        ("「光合成」", "光合成"),
        ("**Bold title**", "Bold title"),
        ("Green tea is **gently** `good`", "Green tea is gently good"),
        ("x" * 200, "x" * 80),
    ],
)
def test_titles_are_cleaned_to_one_short_line(written, title):
    assert title_cleaned(written) == title


def test_a_title_call_that_fails_is_recorded_as_an_answer_failure_is_and_changes_nothing(db, titles, member):
    conversation = conversation_create(user=member, assistant=assistant_default())
    result = message_send(user=member, conversation=conversation, content="a question")
    titles.configure(status=500, fail_times=1)
    assert conversation_title_write(result=result) is None
    call = Completion.objects.get(conversation=conversation, purpose="title")
    assert (call.status, call.upstream_status) == ("failed", 500) and call.error_code and call.finished_at
    assert Conversation.objects.get(pk=conversation.pk).title == "a question"
    assert counted(member) == 1


def test_two_first_exchanges_finishing_together_ask_for_one_title(db, titles, member, builtin_assistants):
    conversation = conversation_create(user=member, assistant=assistant_default())
    first = message_send(user=member, conversation=conversation, content="one question")
    second = call_complete(call=message_prepare(user=member, conversation=conversation, content="another", parent=None))
    assert first.user_message.parent_id is None and second.user_message.parent_id is None  # two roots
    assert conversation_title_write(result=first) == "Photosynthesis in plain words"
    assert conversation_title_write(result=second) is None  # already titled: no second model call
    assert Completion.objects.filter(conversation=conversation, purpose="title").count() == 1
