"""Batches of writes read back through the ORM exactly as if the ORM had written them."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from chat.models import Completion, CompletionChoice, CompletionPrompt, CompletionReply, Conversation, Message
from chat.selectors import assistant_default
from chat.services.calls import call_succeed
from chat.services.conversations import conversation_create, message_send
from common.sql_batch import Batch, stored_instance
from gateway.services import api_key_create, gateway_call_start
from quota.models import DailyUsage
from testing.samples import ANSWER, REQUEST


def conversation_row(member, **fields):
    return {
        "user_id": member.pk,
        "assistant_id": assistant_default().pk,
        "title": "batched",
        "system_prompt": "Be brief.",
        "model": "m",
        "temperature": 0.5,
        "max_tokens": 0,
        **fields,
    }


def test_an_insert_fills_defaults_and_timestamps_like_the_orm(member):
    before = timezone.now()
    writes = Batch()
    inserted = writes.insert(Conversation, [conversation_row(member)], returning=("id",))
    writes.run()
    conversation = Conversation.objects.get(pk=inserted.rows[0][0])
    assert conversation.source == Conversation.Source.WEB  # the field's default
    assert conversation.api_key is None
    assert before <= conversation.created_at == conversation.updated_at <= timezone.now()


def test_later_rows_name_the_ids_earlier_inserts_got(member):
    writes = Batch()
    conversation = writes.insert(Conversation, [conversation_row(member)], returning=("id",))
    asked = writes.insert(
        Message,
        [
            {"conversation_id": conversation.last_id, "role": "user", "content": "first"},
            {"conversation_id": conversation.last_id, "role": "user", "content": "second"},
        ],
        returning=("id",),
    )
    call = writes.insert(
        Completion,
        [
            {
                "conversation_id": conversation.last_id,
                "user_id": member.pk,
                "request_message_id": asked.last_id,
                "provider": "test",
                "request_extra": {"seed": 7, "stop": None},
            }
        ],
        returning=("id",),
    )
    writes.insert(
        CompletionPrompt,
        [{"completion_id": call.last_id, "position": n, "role": "user", "content": c} for n, c in enumerate("ab")],
    )
    writes.run()
    stored = Completion.objects.get(pk=call.rows[0][0])
    assert stored.conversation_id == conversation.rows[0][0]
    assert stored.request_message.content == "second"  # the last row of the insert it names
    assert stored.request_extra == {"seed": 7, "stop": None}  # JSON, nulls kept
    assert [(p.position, p.content) for p in stored.prompts.all()] == [(0, "a"), (1, "b")]
    assert [m.content for m in Message.objects.filter(conversation_id=stored.conversation_id)] == ["first", "second"]


def test_an_update_sets_some_columns_and_adds_to_others(member):
    day = dt.date(2026, 12, 2)
    DailyUsage.objects.create(user=member, day=day, requests=1, prompt_tokens=10, completion_tokens=5)
    writes = Batch()
    writes.update(DailyUsage, {"user_id": member.pk, "day": day}, set_to={"requests": 3}, add={"prompt_tokens": 7})
    writes.run()
    usage = DailyUsage.objects.get(user=member, day=day)
    assert (usage.requests, usage.prompt_tokens, usage.completion_tokens) == (3, 17, 5)


def test_a_failing_statement_undoes_the_whole_batch_and_raises_djangos_error(member):
    writes = Batch()
    conversation = writes.insert(Conversation, [conversation_row(member, title="doomed")], returning=("id",))
    call = writes.insert(
        Completion,
        [{"conversation_id": conversation.last_id, "user_id": member.pk, "provider": "test"}],
        returning=("id",),
    )
    same_position = {"completion_id": call.last_id, "position": 0, "role": "user", "content": "x"}
    writes.insert(CompletionPrompt, [same_position, same_position])
    with pytest.raises(IntegrityError), transaction.atomic():
        writes.run()
    assert not Conversation.objects.filter(title="doomed").exists()
    assert not Completion.objects.exists()


def test_last_id_needs_an_insert_that_returns_its_id(member):
    writes = Batch()
    inserted = writes.insert(Conversation, [conversation_row(member)])
    with pytest.raises(ValueError):
        _ = inserted.last_id
    with pytest.raises(ValueError):
        writes.insert(Message, [])


def test_a_stored_instance_behaves_like_one_read_back(member):
    writes = Batch()
    row = conversation_row(member, title="kept")
    inserted = writes.insert(Conversation, [row], returning=("id",))
    writes.run()
    conversation = stored_instance(Conversation, inserted.rows[0][0], row)
    conversation.title = "renamed"
    conversation.save(update_fields=["title"])  # an UPDATE of the row, not a second INSERT
    assert list(Conversation.objects.filter(user=member).values_list("title", flat=True)) == ["renamed"]


def test_an_insert_that_leaves_out_a_field_with_no_default_is_refused_by_name(member):
    row = conversation_row(member)
    del row["system_prompt"]  # a TextField with no default: the ORM would quietly store ""
    with pytest.raises(ValueError, match=r"chat\.Conversation\.system_prompt has no default"):
        Batch().insert(Conversation, [row])
    assert not Conversation.objects.exists()


# Every model a call's lifecycle writes with a Batch (chat.services.calls, quota.services).
BATCHED_MODELS = (Conversation, Message, Completion, CompletionPrompt, CompletionReply, CompletionChoice)


def test_the_call_lifecycle_supplies_every_field_of_what_it_batches(member, upstream, builtin_assistants):
    """A batched model that gains a field with no default fails here until a default or a value is given."""
    written: dict[type, set[str]] = {}
    insert = Batch.insert

    def noting_insert(self, model, rows, **kwargs):
        written.setdefault(model, set()).update(*(row.keys() for row in rows))
        return insert(self, model, rows, **kwargs)

    key, _ = api_key_create(user=member, name="batch")
    with mock.patch.object(Batch, "insert", noting_insert):
        conversation = conversation_create(user=member, assistant=assistant_default())
        message_send(user=member, conversation=conversation, content="one")
        call = gateway_call_start(key=key, request=REQUEST)
        call_succeed(call=call, response=ANSWER)
    assert set(written) == set(BATCHED_MODELS)
    for model, supplied in written.items():
        required = {
            f.attname
            for f in model._meta.concrete_fields
            if not (f.primary_key or f.has_default() or f.null or getattr(f, "auto_now", False))
            and not getattr(f, "auto_now_add", False)
        }
        assert required <= supplied, f"{model.__name__}: {sorted(required - supplied)} neither defaulted nor supplied"
