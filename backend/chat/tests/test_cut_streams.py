"""A stream cut short is recorded as one transaction: its partial answer and its failure together."""

from __future__ import annotations

from django.db import connection

from chat.models import Completion, Message
from chat.selectors import assistant_default
from chat.services.call_stream import StreamAssembler
from chat.services.calls import call_cut
from chat.services.conversations import conversation_create, message_prepare
from conftest import make_member
from llm.errors import UpstreamTimeout


def test_a_cut_stream_is_never_recorded_as_succeeded_on_the_way_to_failed(builtin_assistants, upstream):
    member = make_member()
    conversation = conversation_create(user=member, assistant=assistant_default())
    call = message_prepare(user=member, conversation=conversation, content="tell me a story", stream=True)
    assembler = StreamAssembler()
    assembler.feed({"id": "chatcmpl-cut", "choices": [{"index": 0, "delta": {"content": "Once upon"}}]})
    transactions = []  # the outermost transaction each write ran in (None: a commit of its own)

    def note_transaction(execute, sql, params, many, context):
        if not sql.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE opens the block
            transactions.append(connection.atomic_blocks[0] if connection.atomic_blocks else None)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(note_transaction):
        partial, _ = call_cut(
            call=call,
            response=assembler.response(finish_reason="timeout"),
            error=UpstreamTimeout(),
            usage_counted=False,
        )
    assert transactions and None not in transactions
    assert len({id(block) for block in transactions}) == 1  # one COMMIT for the whole record
    completion = Completion.objects.get(pk=call.completion.pk)
    assert (completion.status, completion.error_code) == ("failed", "upstream_timeout")
    assert Message.objects.get(completion=completion).content == partial.content == "Once upon"
