"""A new conversation's title, from the model after its first exchange.

Until then (and for good on the embedded model, whose titles are poor) the
title is the first message's words, set as the call starts. On an
OpenAI-compatible model one more call asks for a short title: it is
recorded like any call (`Completion.purpose` "title") but it is haruchat's
own, so it is never counted against the member's allowance or budget, and
a failure changes nothing. A title the member gave or renamed meanwhile
always wins: only an automatic title is replaced.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from chat.models import TITLE_LENGTH, Completion, Conversation, Message
from chat.records import completion_record_request, completion_record_response, request_columns
from chat.services.calls import CallResult, completion_fail_record
from chat.services.leases import lease_held
from common.sql_batch import Batch, stored_instance
from llm.errors import ModelFailed, ProviderError
from llm.providers import get_provider, validate_completion

logger = logging.getLogger(__name__)

TITLE_PROMPT = (
    "Write a title of at most six words for the conversation below. Use the language the member wrote in. "
    "Answer with the title alone: no quotes, no full stop."
)
QUOTES = "\"'*#\u201c\u201d\u2018\u2019\u300c\u300d"  # straight, curly and CJK corner quotes; Markdown marks
EXCERPT = 2000  # characters of the question and the answer the title is made from


def title_wanted(result: CallResult) -> bool:
    """Whether this answer ends a web conversation's first exchange whose title is still automatic."""
    conversation = result.completion.conversation
    return (
        settings.HARUCHAT_MODEL_TITLES
        and get_provider().writes_titles
        and conversation.source == Conversation.Source.WEB
        and conversation.title_source == Conversation.TitleSource.AUTO
        and result.user_message.parent_id is None
        and bool(result.answer.content.strip())
    )


def conversation_title_write(*, result: CallResult) -> str | None:
    """Ask the model for the conversation's title, record the call, and set the title unless the member has.

    Blocking (a model call): run it off the event loop. Returns the new title, or None.
    The title is claimed first (automatic → model), so two first exchanges finishing at once (two new
    roots sent together) ask for one title between them; a failed call gives the claim back.
    """
    conversation = result.completion.conversation
    titles = Conversation.objects.filter(pk=conversation.pk)
    if not titles.filter(title_source=Conversation.TitleSource.AUTO).update(
        title_source=Conversation.TitleSource.MODEL
    ):
        return None  # the member has named it, or another exchange is titling it
    provider = get_provider()
    request = {
        "model": conversation.model,
        "messages": [
            {"role": "system", "content": TITLE_PROMPT},
            {"role": "user", "content": result.user_message.content[:EXCERPT]},
            {"role": "assistant", "content": result.answer.content[:EXCERPT]},
        ],
        "max_tokens": 24,
        "temperature": 0.2,
    }
    completion = _title_call_record(conversation, result.user_message, provider.name, request)
    started = time.monotonic()
    try:
        response = validate_completion(provider.complete(request))
    except Exception as exc:
        logger.warning("the title call %s failed: %s", completion.pk, exc)
        error = exc if isinstance(exc, ProviderError) else ModelFailed("The title call failed unexpectedly.")
        completion_fail_record(completion, error, started)  # as an answer's failure is recorded; nothing to refund
        _unclaimed(titles)
        return None
    writes = Batch()
    completion_record_response(writes, completion=completion, response=response)
    writes.update(
        Completion,
        {"id": completion.pk},
        set_to={
            "status": Completion.Status.SUCCEEDED,
            "latency_ms": int((time.monotonic() - started) * 1000),
            "finished_at": timezone.now(),
        },
    )
    writes.run()
    title = title_cleaned(response["choices"][0]["message"].get("content") or "")
    if not title:
        _unclaimed(titles)
        return None
    # Unless the member renamed it meanwhile (the rename set the source to theirs).
    replaced = titles.filter(title_source=Conversation.TitleSource.MODEL).update(title=title)
    return title if replaced else None


def _unclaimed(titles: QuerySet[Conversation]) -> None:
    """No model title after all: the first words stay, and say they are automatic."""
    titles.filter(title_source=Conversation.TitleSource.MODEL).update(title_source=Conversation.TitleSource.AUTO)


def _title_call_record(conversation: Conversation, asked: Message, provider: str, request: dict) -> Completion:
    columns, prompts = request_columns(request)
    row: dict[str, Any] = {
        "conversation_id": conversation.pk,
        "user_id": conversation.user_id,
        "request_message_id": asked.pk,
        "provider": provider,
        "purpose": Completion.Purpose.TITLE,
        "created_at": timezone.now(),
        "lease_id": lease_held(),
        **columns,
    }
    writes = Batch()
    recorded = writes.insert(Completion, [row], returning=("id",))
    completion_record_request(writes, completion=recorded.last_id, prompts=prompts)
    writes.run()
    return stored_instance(Completion, recorded.rows[0][0], row)


def title_cleaned(text: str) -> str:
    """One line, no quotes or "Title:" prefix or closing full stop, at most the title length."""
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    line = re.sub(r"^(title|제목)\s*[:\uff1a]\s*", "", line, flags=re.IGNORECASE)  # also a full-width colon
    line = re.sub(r"\*\*|__|`", "", line)  # Markdown emphasis and code marks: the sidebar shows plain text
    line = line.strip().rstrip(".\u3002").strip(QUOTES).strip().rstrip(".\u3002").strip()
    return line[:TITLE_LENGTH]


def conversation_title_write_unit(*, result: CallResult) -> str | None:
    """`conversation_title_write` for a thread of its own (from the event loop): its connection closed after."""
    try:
        return conversation_title_write(result=result)
    except Exception:
        logger.exception("could not write a title for conversation %s", result.completion.conversation_id)
        return None
    finally:
        connection.close()
