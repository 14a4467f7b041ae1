"""Chat writes: conversations, messages and the model call between them.

A send follows the race-safe shape: reserve the quota (committed at once),
store the member's message, record the request, call the model with no
transaction open, then store the answer and settle, or record the failure
and refund.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import exceptions, status

from accounts.models import User
from chat.models import Assistant, Completion, Conversation, IntakeAnswer, Message
from chat.records import (
    completion_record_request,
    completion_record_response,
    request_columns,
    storable_text,
    with_storable_characters,
)
from common.errors import ApiError
from common.sql_batch import Batch, Returned, stored_instance
from llm.errors import ModelFailed, ProviderError
from llm.providers import Provider, get_provider, validate_completion
from quota.services import (
    QuotaStatus,
    Reservation,
    quota_day,
    quota_refund,
    quota_refund_day,
    quota_reserved,
    quota_settle,
)

logger = logging.getLogger(__name__)

TITLE_LENGTH = 80


class NothingToAnswer(ApiError):
    default_detail = "Send a message: the conversation has no unanswered message."
    default_code = "nothing_to_answer"


class ModelCallFailed(ApiError):
    """The model gave no usable answer; the member's message is kept and the quota refunded."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "upstream_error"

    @classmethod
    def from_provider_error(
        cls, error: ProviderError, *, user_message: Message, completion: Completion, quota: QuotaStatus
    ) -> ModelCallFailed:
        failed = cls(
            error.detail,
            code=error.code,
            headers=quota.headers(),
            extra={"user_message": message_output(user_message), "completion_id": completion.pk},
        )
        failed.status_code = error.status_code
        return failed


@dataclass(frozen=True)
class SendResult:
    user_message: Message
    assistant_message: Message
    completion: Completion
    quota: QuotaStatus


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

    The model is not called here: the opening message waits for a reply, which
    `message_send` with no content gives (so creating never spends quota).
    """
    provider = get_provider()
    model = model or provider.default_model()
    if model not in provider.models():
        allowed = ", ".join(provider.models())
        raise _field_error("model", f"Unknown model {model!r}. Available: {allowed}.", "unknown_model")
    answers = _intake_answers(assistant=assistant, intake=intake or {})
    opening = intake_opening_prompt(answers)
    with transaction.atomic():
        conversation = Conversation.objects.create(
            user=user,
            assistant=assistant,
            title=(title.strip() or _default_title(assistant, answers))[:200],
            system_prompt=assistant.system_prompt,
            model=model,
            temperature=settings.HARUCHAT_DEFAULT_TEMPERATURE if temperature is None else temperature,
            max_tokens=max_tokens or settings.HARUCHAT_DEFAULT_MAX_TOKENS,
        )
        IntakeAnswer.objects.bulk_create(
            IntakeAnswer(conversation=conversation, question=q, key=q.key, prompt=q.label, answer=a) for q, a in answers
        )
        if opening:
            Message.objects.create(conversation=conversation, role=Message.Role.USER, content=opening)
    return conversation


def _intake_answers(*, assistant: Assistant, intake: dict[str, str]) -> list[tuple[Any, str]]:
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


def intake_opening_prompt(answers: list[tuple[Any, str]]) -> str:
    """The opening message composed from intake answers, one line per kind (the seed's
    current state, goal and other requirements), e.g. 'Current state: tense'."""
    return "\n".join(f"{question.get_kind_display()}: {answer}" for question, answer in answers if answer)


def _default_title(assistant: Assistant, answers: list[tuple[Any, str]]) -> str:
    first = next((answer for _, answer in answers if answer), "")
    return f"{assistant.name}: {first[:TITLE_LENGTH]}" if first else ""


def conversation_rename(*, conversation: Conversation, title: str) -> Conversation:
    conversation.title = title.strip()[:200]
    conversation.save(update_fields=["title", "updated_at"])
    return conversation


def conversation_delete(*, conversation: Conversation) -> None:
    """Delete a conversation with its messages and call records (the quota ledger keeps its count)."""
    conversation.delete()


def completion_request_build(
    *, conversation: Conversation, stream: bool = False, provider: Provider | None = None
) -> dict[str, Any]:
    """The OpenAI request for the conversation so far: system prompt first, then the messages.

    When the model's context window is known and the conversation has outgrown
    it, the oldest turns are left out (the system prompt, the opening message
    and the newest turns stay), so a long conversation keeps working.
    A streamed request asks the upstream to report usage in its last chunk.
    """
    history = conversation.messages.order_by("id").values_list("role", "content")
    system = [{"role": "system", "content": conversation.system_prompt}] if conversation.system_prompt else []
    turns = [{"role": role, "content": content} for role, content in history]
    request: dict[str, Any] = {
        "model": conversation.model,
        "messages": system + turns,
        "temperature": float(conversation.temperature),
        "max_tokens": conversation.max_tokens,
        "stream": stream,
    }
    provider = provider or get_provider()
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


def _fit_turns(turns: list[dict[str, Any]], *, budget: int, fits: Any) -> list[dict[str, Any]]:
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


@dataclass(frozen=True)
class PreparedCall:
    """Everything settled before the model is called: counted, stored, recorded."""

    reservation: Reservation
    user_message: Message
    completion: Completion
    provider: Provider
    request: dict[str, Any]
    started: float


def message_prepare(
    *, user: User, conversation: Conversation, content: str | None, stream: bool = False
) -> PreparedCall:
    """Count the request, store the member's message and record the request to be sent.

    With `content=None` the last unanswered member message is answered (the
    intake opening, or a message whose call failed) without storing a new one.
    """
    if content is None and not _last_message_is_unanswered(conversation):
        raise NothingToAnswer()
    with quota_reserved(user=user) as reservation:
        user_message = _message_to_answer(conversation=conversation, content=content)
        provider = get_provider()
        request = completion_request_build(conversation=conversation, stream=stream, provider=provider)
        writes = Batch()
        started, row = completion_record_start(
            writes,
            conversation_id=conversation.pk,
            user_id=conversation.user_id,
            request_message_id=user_message.pk,
            provider=provider.name,
            request=request,
        )
        writes.run()
        completion = stored_instance(Completion, started.rows[0][0], row)
        completion.conversation = conversation
    return PreparedCall(reservation, user_message, completion, provider, request, time.monotonic())


def message_send(*, user: User, conversation: Conversation, content: str | None) -> SendResult:
    """Store the member's message, ask the model with no transaction open, store its answer."""
    call = message_prepare(user=user, conversation=conversation, content=content)
    try:
        response = validate_completion(call.provider.complete(call.request))
    except Exception as exc:
        raise call_fail(call, exc) from exc
    return call_succeed(call, response)


def call_fail(call: PreparedCall, exc: BaseException, *, produced: bool = False) -> ModelCallFailed:
    """Record a failed call, refund it unless it produced something, and say what went wrong."""
    if not isinstance(exc, ProviderError):  # a bug or an unexpected library error
        logger.error("model call %s failed unexpectedly", call.completion.pk, exc_info=exc)
    error = exc if isinstance(exc, ProviderError) else ModelFailed("The model call failed unexpectedly.")
    _completion_fail(call.completion, error, call.started)
    quota = call.reservation.status
    if not produced:
        quota_refund(reservation=call.reservation)
        quota = _refunded(call.reservation)
    return ModelCallFailed.from_provider_error(
        error, user_message=call.user_message, completion=call.completion, quota=quota
    )


def call_succeed(call: PreparedCall, response: dict[str, Any], *, usage_counted: bool = False) -> SendResult:
    """Store the whole response and the answer, and add its tokens to the day's usage (one transaction)."""
    assistant_message = _answer_record(call, response, usage_counted=usage_counted)
    return SendResult(call.user_message, assistant_message, call.completion, call.reservation.status)


def call_cut(call: PreparedCall, response: dict[str, Any], *, usage_counted: bool) -> Message:
    """Keep the partial answer of a stream that broke off (then `call_fail(produced=True)`)."""
    return _answer_record(call, response, usage_counted=usage_counted)


def _last_message_is_unanswered(conversation: Conversation) -> bool:
    last = conversation.messages.order_by("-id").values_list("role", flat=True).first()
    return last == Message.Role.USER


def _message_to_answer(*, conversation: Conversation, content: str | None) -> Message:
    if content is None:
        message = conversation.messages.order_by("-id").first()
        if message is None or message.role != Message.Role.USER:
            raise NothingToAnswer()
        return message
    with transaction.atomic():
        message = Message.objects.create(conversation=conversation, role=Message.Role.USER, content=content)
        update_fields = ["updated_at"]
        if not conversation.title:
            conversation.title = " ".join(content.split())[:TITLE_LENGTH]
            update_fields.append("title")
        conversation.save(update_fields=update_fields)
    return message


def completion_record_start(
    batch: Batch,
    *,
    conversation_id: Any,
    user_id: int,
    request_message_id: Any,
    provider: str,
    request: dict[str, Any],
) -> tuple[Returned, dict[str, Any]]:
    """Add the request's record (an in-progress call and its prompts) to `batch`.

    Returns the call's insert (its id once the batch has run) and its row;
    the ids may be `LastId`s of rows the same batch inserts first.
    """
    columns, prompts = request_columns(request)
    row = {
        "conversation_id": conversation_id,
        "user_id": user_id,
        "request_message_id": request_message_id,
        "provider": provider,
        "created_at": timezone.now(),
        **columns,
    }
    started = batch.insert(Completion, [row], returning=("id",))
    completion_record_request(completion=started.last_id, prompts=prompts, batch=batch)
    return started, row


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _completion_fail(completion: Completion, error: ProviderError, started: float) -> None:
    completion.status = Completion.Status.FAILED
    completion.error_code = error.code
    completion.error_detail = storable_text(str(error.detail))  # it may quote the upstream's own message
    completion.upstream_status = error.upstream_status
    completion.latency_ms = _elapsed_ms(started)
    completion.finished_at = timezone.now()
    completion.save(
        update_fields=["status", "error_code", "error_detail", "upstream_status", "latency_ms", "finished_at"]
    )


def _answer_record(call: PreparedCall, response: dict[str, Any], *, usage_counted: bool) -> Message:
    """Store the response, the call's outcome, the answer as the next message and the usage: one batch.

    Six small writes on every call's way out, so they go as one batch (one
    round trip on PostgreSQL, see common.sql_batch) in one transaction.
    """
    completion = call.completion
    now = timezone.now()
    response, completion.characters_replaced = with_storable_characters(response)
    completion.status = Completion.Status.SUCCEEDED
    completion.latency_ms = _elapsed_ms(call.started)
    completion.usage_counted = usage_counted
    completion.finished_at = now
    answer = response["choices"][0]["message"].get("content") or ""
    message_row = {
        "conversation_id": completion.conversation_id,
        "role": Message.Role.ASSISTANT,
        "content": answer,
        "completion_id": completion.pk,
        "created_at": now,
    }
    usage = response.get("usage") or {}
    writes = Batch()
    completion_record_response(completion=completion, response=response, batch=writes)
    writes.update(
        Completion,
        {"id": completion.pk},
        set_to={
            name: getattr(completion, name)
            for name in ("status", "latency_ms", "usage_counted", "characters_replaced", "finished_at")
        },
    )
    stored = writes.insert(Message, [message_row], returning=("id",))
    writes.update(Conversation, {"id": completion.conversation_id}, set_to={"updated_at": now})
    quota_settle(
        reservation=call.reservation,
        prompt_tokens=_int_or_zero(usage.get("prompt_tokens")),
        completion_tokens=_int_or_zero(usage.get("completion_tokens")),
        batch=writes,
    )
    with transaction.atomic():
        writes.run()
    message = stored_instance(Message, stored.rows[0][0], message_row)
    message.completion = completion
    return message


def _refunded(reservation: Reservation) -> QuotaStatus:
    before = reservation.status
    return QuotaStatus(limit=before.limit, used=max(before.used - 1, 0), resets_at=before.resets_at)


def _int_or_zero(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def message_output(message: Message) -> dict[str, Any]:
    """A message as the API shows it (also inside error bodies)."""
    return {
        "id": message.pk,
        "role": message.role,
        "content": message.content,
        "created_at": message.created_at.isoformat().replace("+00:00", "Z"),
        "completion_id": message.completion_id,
    }


def completions_close_stale(*, older_than: dt.timedelta | None = None) -> int:
    """Close calls left "in progress" by a process that died, and refund them.

    A call still pending long after any answer could take (HARUCHAT_STALE_CALL_SECONDS)
    was abandoned; it produced nothing stored, so its request is given back.
    """
    age = older_than if older_than is not None else dt.timedelta(seconds=settings.HARUCHAT_STALE_CALL_SECONDS)
    cutoff = timezone.now() - age
    closed = 0
    for completion_id, user_id, created_at in Completion.objects.filter(
        status=Completion.Status.PENDING, created_at__lt=cutoff
    ).values_list("id", "user_id", "created_at"):
        updated = Completion.objects.filter(pk=completion_id, status=Completion.Status.PENDING).update(
            status=Completion.Status.FAILED,
            error_code="abandoned",
            error_detail="The server stopped before this call finished.",
            finished_at=timezone.now(),
        )
        if updated:  # only the process that closed it refunds it
            quota_refund_day(user_id=user_id, day=quota_day(created_at))
            closed += 1
    if closed:
        logger.warning("closed %s abandoned model call(s) and refunded them", closed)
    return closed
