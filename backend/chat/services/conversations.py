"""Conversations of the web app: create, rename, delete, and send a member's message.

Sending builds the request from the conversation and hands it to the call
lifecycle (chat.services.calls), which /v1 shares.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.http import Http404
from rest_framework import exceptions

from accounts.models import User
from chat.models import TITLE_LENGTH, Assistant, Conversation, IntakeAnswer, IntakeQuestion, Message
from chat.services.calls import CallResult, PreparedCall, call_fail, call_start, call_succeed
from chat.tree import branch_to, newest_leaf_under
from common.errors import ApiError
from groups.access import conversation_check, models_for
from llm.providers import Provider, get_provider, validate_completion


class NothingToAnswer(ApiError):
    default_detail = "Send a message: the conversation has no unanswered message."
    default_code = "nothing_to_answer"


def _field_error(field: str, message: str, code: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [exceptions.ErrorDetail(message, code=code)]})


def conversation_create(
    *,
    user: User,
    assistant: Assistant,
    intake: dict[str, str] | None = None,
    title: str = "",
    model: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> Conversation:
    """Start a conversation; a guided assistant's intake answers become its opening message.

    The model is not called here: the opening message waits for an answer, which
    `message_send` with no content gives (so creating never spends quota).
    """
    provider = get_provider()
    if model is None:  # the default, or the first model the member's groups allow
        model = next(iter(models_for(user, provider.models())), provider.default_model())
    if model not in provider.models():
        allowed = ", ".join(provider.models())
        raise _field_error("model", f"Unknown model {model!r}. Available: {allowed}.", "unknown_model")
    conversation_check(user, model=model, assistant=assistant)
    answers = _intake_answers(assistant=assistant, intake=intake or {})
    opening = intake_opening_compose(answers=answers)
    with transaction.atomic():
        conversation = Conversation.objects.create(
            user=user,
            assistant=assistant,
            title=(title.strip() or _default_title(assistant, answers))[:200],
            title_source=Conversation.TitleSource.MEMBER if title.strip() else Conversation.TitleSource.AUTO,
            system_prompt=assistant.system_prompt,
            model=model,
            temperature=settings.HARUCHAT_DEFAULT_TEMPERATURE if temperature is None else temperature,
            max_tokens=max_tokens or settings.HARUCHAT_DEFAULT_MAX_TOKENS,
        )
        IntakeAnswer.objects.bulk_create(
            IntakeAnswer(conversation=conversation, question=q, key=q.key, prompt=q.label, answer=a) for q, a in answers
        )
        if opening:
            conversation.current_leaf = Message.objects.create(
                conversation=conversation, role=Message.Role.USER, content=opening
            )
            conversation.save(update_fields=["current_leaf"])
    return conversation


def _intake_answers(*, assistant: Assistant, intake: dict[str, str]) -> list[tuple[IntakeQuestion, str]]:
    """Pair each of the assistant's questions with its answer; refuse unknown or missing ones."""
    questions = list(assistant.questions.all())
    known = {q.key for q in questions}
    unknown = sorted(set(intake) - known)
    if unknown:
        expected = ", ".join(sorted(known)) or "none"
        raise _field_error(
            "intake", f"Unknown intake question(s): {', '.join(unknown)}. Expected: {expected}.", "unknown_question"
        )
    missing = [q.key for q in questions if q.required and not intake.get(q.key, "").strip()]
    if missing:
        raise _field_error("intake", f"Please answer: {', '.join(missing)}.", "intake_incomplete")
    return [(q, intake.get(q.key, "").strip()) for q in questions]


def intake_opening_compose(*, answers: list[tuple[IntakeQuestion, str]]) -> str:
    """The opening message composed from intake answers, one line per kind (the seed's
    current state, goal and other requirements), e.g. 'Current state: tense'."""
    return "\n".join(f"{question.get_kind_display()}: {answer}" for question, answer in answers if answer)


def _default_title(assistant: Assistant, answers: list[tuple[IntakeQuestion, str]]) -> str:
    first = next((answer for _, answer in answers if answer), "")
    return f"{assistant.name}: {first[:TITLE_LENGTH]}" if first else ""


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    conversation.title = title.strip()[:200]
    conversation.title_source = Conversation.TitleSource.MEMBER
    conversation.save(update_fields=["title", "title_source", "updated_at"])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation with its messages and call records (the quota ledger keeps its count)."""
    conversation.delete()


def conversation_request_build(
    *, conversation: Conversation, turns: list[dict[str, Any]], provider: Provider, stream: bool = False
) -> dict[str, Any]:
    """The OpenAI request for the conversation's `turns`: system prompt first, then the messages.

    When the model's context window is known and the conversation has outgrown
    it, the oldest turns are left out (the system prompt, the opening message
    and the newest turns stay), so a long conversation keeps working.
    A streamed request asks the upstream to report usage in its last chunk.
    """
    system = [{"role": "system", "content": conversation.system_prompt}] if conversation.system_prompt else []
    request: dict[str, Any] = {
        "model": conversation.model,
        "messages": system + turns,
        "temperature": float(conversation.temperature),
        "max_tokens": conversation.max_tokens,
        "stream": stream,
    }
    window = provider.context_window()
    if window:
        request["messages"] = system + _fit_turns(
            turns,
            budget=window - conversation.max_tokens,
            fits=lambda kept: provider.count_prompt_tokens({"messages": system + kept}),
        )
    if stream:
        request["stream_options"] = {"include_usage": True}
    return request


def _fit_turns(
    turns: list[dict[str, Any]], *, budget: int, fits: Callable[[list[dict[str, Any]]], int]
) -> list[dict[str, Any]]:
    """The opening turn and as many of the newest turns as the token budget allows."""
    if not turns or fits(turns) <= budget:
        return turns
    opening, rest = turns[:1], turns[1:]
    kept: list[dict[str, Any]] = []
    for turn in reversed(rest):
        if kept and fits([*opening, turn, *kept]) > budget:
            break
        kept.insert(0, turn)
    if fits(opening + kept) > budget:  # even the opening doesn't fit beside the newest turn
        return kept[-1:] if kept else opening
    return opening + kept


# `parent` when the member sends without naming one: the conversation's current leaf.
CURRENT_LEAF = object()


def _messages(conversation: Conversation) -> list[Message]:
    """The conversation's messages, a flat one (a /v1 call's record) first made one branch.

    A flat conversation's messages name no parent. Before the web app branches it (a send, an edit, a
    regeneration, a switch), each is linked to the one before, so the whole record is the context the
    model is sent and the tree holds from then on.
    """
    messages = list(conversation.messages.all())  # whole rows: one is serialized in the stream, off any thread
    if conversation.current_leaf_id is None and len(messages) > 1 and all(m.parent_id is None for m in messages):
        first = min(m.pk for m in messages)
        previous = Message.objects.filter(conversation=conversation, pk__lt=OuterRef("pk")).order_by("-pk")
        Message.objects.filter(conversation=conversation, parent__isnull=True).exclude(pk=first).update(
            parent_id=Subquery(previous.values("pk")[:1])
        )
        for before, message in itertools.pairwise(sorted(messages, key=lambda m: m.pk)):
            message.parent_id = before.pk
    return messages


def _turns(path: list[Message]) -> list[dict[str, Any]]:
    return [{"role": m.role, "content": m.content} for m in path]


def message_prepare(
    *, user: User, conversation: Conversation, content: str | None, parent: Any = CURRENT_LEAF, stream: bool = False
) -> PreparedCall:
    """Start the call that answers a member's message: count it, store the message, record the request.

    The message follows `parent` (a message id, or None for a new root; by
    default the current leaf), so naming the parent of an earlier message of
    the member's is an edit: a new sibling, the old branch kept. The model is
    sent the branch from the root down to the new message. With
    `content=None` the current leaf is answered if it is the member's (the
    intake opening, or a message whose call failed); nothing new is stored.
    A model or assistant the member's groups no longer allow is refused (403).
    """
    conversation_check(user, model=conversation.model, assistant=conversation.assistant)
    messages = _messages(conversation)
    if content is None:
        path = branch_to(messages, conversation.current_leaf_id)
        if not path or path[-1].role != Message.Role.USER:
            raise NothingToAnswer()
        return _answer(user=user, conversation=conversation, path=path, stream=stream)
    if parent is CURRENT_LEAF:
        parent = (
            conversation.current_leaf_id if conversation.current_leaf_id else (messages[-1].pk if messages else None)
        )
    elif parent is not None and not any(m.pk == parent for m in messages):
        raise _field_error("parent_id", "No message of this conversation has this id.", "invalid_parent")
    asked = {"role": Message.Role.USER, "content": content, "parent_id": parent}
    turns = _turns(branch_to(messages, parent)) if parent is not None else []
    turns.append({"role": Message.Role.USER, "content": content})
    provider = get_provider()
    return call_start(
        user=user,
        conversation=conversation,
        provider=provider,
        request=conversation_request_build(conversation=conversation, turns=turns, provider=provider, stream=stream),
        asked=[asked],
        branched=True,
        title=None if conversation.title else " ".join(content.split())[:TITLE_LENGTH],
    )


def answer_regenerate(*, user: User, conversation: Conversation, message_id: int, stream: bool = False) -> PreparedCall:
    """Answer again: a new answer beside `message_id` (an answer), or another for it (a member's message).

    The old answers stay as siblings; the new one becomes the current leaf when it arrives.
    """
    conversation_check(user, model=conversation.model, assistant=conversation.assistant)
    messages = _messages(conversation)
    target = next((m for m in messages if m.pk == message_id), None)
    if target is None:
        raise Http404("No such message.")
    if target.role == Message.Role.ASSISTANT:
        target = next((m for m in messages if m.pk == target.parent_id), None)
        if target is None or target.role != Message.Role.USER:
            raise NothingToAnswer("This answer follows no message of the member's to answer again.")
    return _answer(user=user, conversation=conversation, path=branch_to(messages, target.pk), stream=stream)


def _answer(*, user: User, conversation: Conversation, path: list[Message], stream: bool) -> PreparedCall:
    """Start a call answering the member's message at the end of `path` (already stored)."""
    provider = get_provider()
    return call_start(
        user=user,
        conversation=conversation,
        provider=provider,
        request=conversation_request_build(
            conversation=conversation, turns=_turns(path), provider=provider, stream=stream
        ),
        answering=path[-1],
        branched=True,
    )


def message_send(*, user: User, conversation: Conversation, content: str | None) -> CallResult:
    """Answer a member's message in one piece (after the current leaf)."""
    return call_complete(call=message_prepare(user=user, conversation=conversation, content=content))


def call_complete(*, call: PreparedCall) -> CallResult:
    """Ask the model for a started call with no transaction open, then settle it."""
    try:
        response = validate_completion(call.provider.complete(call.request))
    except Exception as exc:
        raise call_fail(call=call, error=exc) from exc
    return call_succeed(call=call, response=response)


def conversation_switch_branch(*, conversation: Conversation, message_id: int) -> Conversation:
    """Show the branch through `message_id`: down from it by the newest answers to a leaf, which becomes current."""
    messages = _messages(conversation)
    if not any(m.pk == message_id for m in messages):
        raise _field_error("current_leaf_id", "No message of this conversation has this id.", "invalid_leaf")
    conversation.current_leaf_id = newest_leaf_under(messages, message_id)
    conversation.save(update_fields=["current_leaf"])  # not updated_at: looking is not activity
    return conversation
