"""A model call's lifecycle, shared by the web app's messages and /v1.

start: count the request, store the messages and record the request (one
batch, one transaction); then the caller asks the model with no transaction
open; then settle: succeeded (the reply, the answer, the usage), failed
(the error, the request given back) or cut (a stream that broke off: the
partial answer kept and counted). A call whose process is gone (its lease
expired: chat.services.leases) is closed by `calls_close_stale`. This is
the race-safe shape of Zulip's AI summaries: never hold a transaction
across a model call.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Now
from django.utils import timezone
from rest_framework import status

from accounts.models import User
from chat.models import Completion, Conversation, Message, ProcessLease
from chat.records import (
    completion_record_request,
    completion_record_response,
    request_columns,
    unstorable_replaced,
    with_unstorable_replaced,
)
from chat.serializers import MessageOutputSerializer
from chat.services.leases import lease_held
from common.errors import ApiError
from common.metrics import model_call_observed
from common.sql_batch import Batch, LastId, stored_instance
from llm.errors import ModelFailed, ProviderError
from llm.providers import Provider
from quota.serializers import quota_output
from quota.services import (
    QuotaExceeded,
    QuotaStatus,
    QuotaUnavailable,
    Reservation,
    TokenBudgetExceeded,
    quota_allowance,
    quota_day,
    quota_refund,
    quota_refund_day,
    quota_reserve_in,
    quota_settle,
)
from usage.ledger import UsageKey, usage_add, usage_add_in

logger = logging.getLogger(__name__)


# An answer still being generated: the stop asked for, or not.
GENERATING = (Message.Status.GENERATING, Message.Status.STOPPING)


class ModelCallFailed(ApiError):
    """The model gave no usable answer; the member's message is kept and, unless it produced text, refunded."""

    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "upstream_error"
    provider_error: ProviderError | None = None

    @classmethod
    def from_provider_error(
        cls, error: ProviderError, *, user_message: Message, completion: Completion, quota: QuotaStatus
    ) -> ModelCallFailed:
        failed = cls(
            error.detail,
            code=error.code,
            headers=quota.headers(),
            extra={
                "user_message": MessageOutputSerializer(user_message).data,
                "completion_id": completion.pk,
                "quota": quota_output(quota),
            },
        )
        failed.status_code = error.status_code
        failed.provider_error = error
        return failed


@dataclass(frozen=True)
class NewConversation:
    """A conversation created with its call (a /v1 call files each call under one): its row, by attname."""

    row: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class PreparedCall:
    """A call counted, its messages stored and its request recorded: ready to send to the model."""

    reservation: Reservation
    user_message: Message
    completion: Completion
    provider: Provider
    request: dict[str, Any]
    started: float
    usage_key: UsageKey
    branched: bool = False  # the answer follows the member's message and becomes the current leaf,
    leaf_expected: int | None = None  # if the leaf is still this one (the member has not moved elsewhere meanwhile)
    # A streamed web answer, stored as it starts (`answer_placeholder_create`): settling fills it in.
    answer_id: int | None = None
    leaf_before: int | None = None  # the leaf the placeholder took over, given back if the call fails


@dataclass(frozen=True, kw_only=True)
class CallResult:
    """A call that succeeded: the member's message, the answer, the record and the usage it added."""

    user_message: Message
    answer: Message
    completion: Completion
    usage: dict[str, int | None]
    quota: QuotaStatus


def call_start(
    *,
    user: User,
    conversation: Conversation | NewConversation,
    provider: Provider,
    request: dict[str, Any],
    asked: Sequence[dict[str, str]] = (),
    answering: Message | None = None,
    after: Sequence[dict[str, str]] = (),
    title: str | None = None,
    branched: bool = False,
) -> PreparedCall:
    """Count the call, store its messages and record its request, all in one transaction.

    `asked` are the messages to store, the last one being what the call
    answers; with none, `answering` is an already stored message. `after`
    are stored after it (assistant turns a /v1 client sent after its last
    question). An existing conversation is touched (and given `title`).
    `branched` (the web app's conversations): the conversation's current leaf
    becomes the message answered, and the answer will follow it (chat.tree);
    an asked message's `parent_id` rides in its dict.
    A spent allowance rolls everything back (429); a ledger that can't be
    written counts nothing (503).
    """
    if not asked and answering is None:
        raise ValueError("a call answers a message: pass `asked` or `answering`")
    now = timezone.now()
    allowance = quota_allowance(user)
    tokens = 0
    if allowance.token_budget is not None:
        request, tokens = _bounded_for_budget(request, provider)
    writes = Batch()
    # The conversation first, then the day's usage: the order settling takes its locks in, so two calls
    # on one conversation (one starting, one settling) never wait for each other's second lock.
    if isinstance(conversation, NewConversation):
        conversation_id: Any = writes.insert(Conversation, [conversation.row], returning=("id",)).last_id
    else:
        conversation_id = conversation.pk
        changes: dict[str, Any] = {"updated_at": now} | ({"title": title} if title is not None else {})
        writes.update(Conversation, {"id": conversation_id}, set_to=changes)
    pending = quota_reserve_in(writes, user=user, now=now, allowance=allowance, tokens=tokens)
    usage_key = UsageKey(user.pk, pending.day, str(request.get("model") or ""), *_assistant_and_source(conversation))
    usage_add_in(writes, usage_key, requests=1)

    def message_rows(turns: Sequence[dict[str, str]]) -> list[dict[str, Any]]:
        return [
            {"conversation_id": conversation_id, "role": t["role"], "content": t["content"], "created_at": now}
            | ({"parent_id": t["parent_id"]} if "parent_id" in t else {})
            for t in turns
        ]

    stored_asked = writes.insert(Message, message_rows(asked), returning=("id",)) if asked else None
    columns, prompts = request_columns(request)
    completion_row = {
        "conversation_id": conversation_id,
        "user_id": user.pk,
        "request_message_id": stored_asked.last_id if stored_asked else answering.pk,
        "provider": provider.name,
        "created_at": now,
        "lease_id": lease_held(),  # whose calls these are, for the sweep; in the INSERT, so no query of its own
        "tokens_reserved": pending.tokens,
        **columns,
    }
    recorded = writes.insert(Completion, [completion_row], returning=("id",))
    completion_record_request(writes, completion=recorded.last_id, prompts=prompts)
    if after:
        writes.insert(Message, message_rows(after))
    if branched and stored_asked:  # the lock on the conversation is already held: its update came first
        writes.update(Conversation, {"id": conversation_id}, set_to={"current_leaf_id": stored_asked.last_id})
    try:
        with transaction.atomic():
            writes.run()
            reservation = pending.reservation()  # 429 here rolls the batch back
    except (QuotaExceeded, TokenBudgetExceeded):
        usage_add(usage_key, refused=1)  # after the rollback: a refusal is counted, the request is not
        raise
    except DatabaseError as exc:
        logger.exception("could not count and record a model call")
        raise QuotaUnavailable() from exc

    stored_ids = {"conversation_id": conversation_id.value if isinstance(conversation_id, LastId) else conversation_id}
    if stored_asked:
        user_message = stored_instance(Message, stored_asked.last_id.value, message_rows(asked[-1:])[0] | stored_ids)
    else:
        user_message = answering
    completion_row.update(stored_ids, request_message_id=user_message.pk)
    completion = stored_instance(Completion, recorded.rows[0][0], completion_row)
    if isinstance(conversation, Conversation):
        completion.conversation = conversation
        if title is not None:
            conversation.title = title
    leaf_expected = None
    if branched:
        if stored_asked:
            conversation.current_leaf_id = user_message.pk
        leaf_expected = conversation.current_leaf_id
    return PreparedCall(
        reservation=reservation,
        user_message=user_message,
        completion=completion,
        provider=provider,
        request=request,
        started=time.monotonic(),
        usage_key=usage_key,
        branched=branched,
        leaf_expected=leaf_expected,
    )


def answer_placeholder_create(*, call: PreparedCall) -> PreparedCall:
    """Store the answer of a streamed web call as it starts (empty, generating) and show it on the branch.

    So a refreshed page, another device or another app process finds the
    answer in progress and can follow it (chat.services.generations).
    """
    with transaction.atomic():
        answer = Message.objects.create(
            conversation_id=call.completion.conversation_id,
            role=Message.Role.ASSISTANT,
            content="",
            parent_id=call.user_message.pk,
            completion_id=call.completion.pk,
            status=Message.Status.GENERATING,
        )
        moved = Conversation.objects.filter(
            pk=call.completion.conversation_id, current_leaf_id=call.leaf_expected
        ).update(current_leaf=answer)
    return dataclasses.replace(
        call, answer_id=answer.pk, leaf_expected=answer.pk if moved else None, leaf_before=call.leaf_expected
    )


def _placeholder_remove(call: PreparedCall) -> None:
    """A failed call's placeholder goes, and the branch shows what it showed before (in the caller's transaction)."""
    Conversation.objects.filter(pk=call.completion.conversation_id, current_leaf_id=call.answer_id).update(
        current_leaf_id=call.leaf_before
    )
    Message.objects.filter(pk=call.answer_id).delete()


def _assistant_and_source(conversation: Conversation | NewConversation) -> tuple[str, str]:
    """The usage roll-up's assistant and source of a call: /v1 calls have no assistant."""
    if isinstance(conversation, NewConversation):
        return "", conversation.row["source"]
    source = conversation.source
    return ("" if source == Conversation.Source.GATEWAY else conversation.assistant.slug), source


def _bounded_for_budget(request: dict[str, Any], provider: Provider) -> tuple[dict[str, Any], int]:
    """The request as sent under a token budget, and the most tokens it can use (what the call holds).

    Each of the `n` answers is bounded by the request's `max_completion_tokens` (or `max_tokens`); a request
    with neither is sent with `max_tokens` set to HARUCHAT_MAX_TOKENS_LIMIT (or what the model's context
    leaves), since an unbounded answer could pass the budget.
    """
    answer = request.get("max_completion_tokens") or request.get("max_tokens")
    if not answer:
        answer = settings.HARUCHAT_MAX_TOKENS_LIMIT
        window = provider.context_window()
        if window:
            answer = min(answer, window)
        request = {**request, "max_tokens": answer}
    choices = request.get("n") or 1  # each choice is an answer of its own
    return request, provider.prompt_tokens_bound(request) + int(answer) * int(choices)


def call_succeed(
    *,
    call: PreparedCall,
    response: dict[str, Any],
    usage_counted: bool = False,
    answer_status: str = Message.Status.COMPLETE,
) -> CallResult:
    """Settle a call that answered: its reply, the answer and the day's tokens, in one transaction.

    `usage_counted`: the usage is haruchat's count, as the upstream sent none.
    `answer_status`: STOPPED for an answer the member stopped (the text up to then, counted).
    """
    try:
        answer, usage = _response_record(call, response, usage_counted=usage_counted, answer_status=answer_status)
    except Exception as exc:  # an answer that can't be recorded is no answer: the call fails, and is given back
        logger.exception("model call %s answered but could not be recorded", call.completion.pk)
        raise call_fail(call=call, error=ModelFailed("The answer could not be recorded.")) from exc
    _observed(call.completion, "succeeded")
    return CallResult(
        user_message=call.user_message,
        answer=answer,
        completion=call.completion,
        usage=usage,
        quota=_settled(call.reservation, (usage["prompt_tokens"] or 0) + (usage["completion_tokens"] or 0)),
    )


def call_fail(*, call: PreparedCall, error: BaseException) -> ModelCallFailed:
    """Settle a call that produced nothing: record the failure, give the request back, say what went wrong."""
    provider_error = _as_provider_error(call, error)
    with transaction.atomic():  # recorded and refunded together, or neither (the sweep then closes it)
        failed_here = completion_fail_record(call.completion, provider_error, call.started, only_if_pending=True)
        if call.answer_id is not None:
            _placeholder_remove(call)
        if failed_here:
            quota_refund(reservation=call.reservation)  # else a sweep closed it already, and refunded it
            usage_add(call.usage_key, requests=-1, failed=1)
    if failed_here:
        _observed(call.completion, "failed")
    return ModelCallFailed.from_provider_error(
        provider_error, user_message=call.user_message, completion=call.completion, quota=_refunded(call.reservation)
    )


def call_cut(
    *, call: PreparedCall, response: dict[str, Any], error: ProviderError, usage_counted: bool
) -> tuple[Message, ModelCallFailed]:
    """Settle a stream that broke off after some text: the partial answer is kept and the request stays counted.

    One transaction, so the record is never seen (or left, by a crash) as succeeded on its way to failed.
    """
    with transaction.atomic():
        partial, _ = _response_record(
            call, response, usage_counted=usage_counted, answer_status=Message.Status.INTERRUPTED
        )
        completion_fail_record(call.completion, error, call.started)
        usage_add(call.usage_key, failed=1)  # a failed call, whose partial answer stays counted
    _observed(call.completion, "cut")
    failed = ModelCallFailed.from_provider_error(
        error, user_message=call.user_message, completion=call.completion, quota=call.reservation.status
    )
    failed.extra["partial_message"] = MessageOutputSerializer(partial).data
    return partial, failed


def _observed(completion: Completion, outcome: str) -> None:
    """The call's outcome and latency for /metrics (nothing when metrics are off)."""
    seconds = completion.latency_ms / 1000 if completion.latency_ms is not None else None
    model_call_observed(completion.provider, completion.model or "", outcome, seconds)


def _as_provider_error(call: PreparedCall, error: BaseException) -> ProviderError:
    if isinstance(error, ProviderError):
        return error
    logger.error("model call %s failed unexpectedly", call.completion.pk, exc_info=error)  # a bug, not the model
    return ModelFailed("The model call failed unexpectedly.")


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def completion_fail_record(
    completion: Completion, error: ProviderError, started: float, *, only_if_pending: bool = False
) -> bool:
    """Record the failure; with `only_if_pending`, only on a call no sweep has closed. Says whether it wrote."""
    completion.status = Completion.Status.FAILED
    completion.error_code = error.code
    completion.error_detail = unstorable_replaced(str(error.detail))  # it may quote the upstream's own message
    completion.upstream_status = error.upstream_status
    completion.latency_ms = _elapsed_ms(started)
    completion.finished_at = timezone.now()
    fields = ("status", "error_code", "error_detail", "upstream_status", "latency_ms", "finished_at")
    rows = Completion.objects.filter(pk=completion.pk)
    if only_if_pending:
        rows = rows.filter(status=Completion.Status.PENDING)
    return rows.update(**{name: getattr(completion, name) for name in fields}) == 1


def _response_record(
    call: PreparedCall, response: dict[str, Any], *, usage_counted: bool, answer_status: str = Message.Status.COMPLETE
) -> tuple[Message, dict[str, int | None]]:
    """Store the reply, the call's outcome, the answer, the conversation's activity and the usage: one batch."""
    completion = call.completion
    now = timezone.now()
    response, completion.characters_replaced = with_unstorable_replaced(response)
    completion.status = Completion.Status.SUCCEEDED
    completion.latency_ms = _elapsed_ms(call.started)
    completion.usage_counted = usage_counted
    completion.finished_at = now
    answer_row = {
        "conversation_id": completion.conversation_id,
        "role": Message.Role.ASSISTANT,
        "content": response["choices"][0]["message"].get("content") or "",
        "completion_id": completion.pk,
        "created_at": now,
        "status": answer_status,
    } | ({"parent_id": call.user_message.pk} if call.branched else {})
    writes = Batch()
    usage = completion_record_response(writes, completion=completion, response=response)
    if usage["prompt_tokens"] is None and usage["completion_tokens"] is None and call.reservation.tokens_reserved:
        # No usage reported, under a budget: count what was held, the bound it could not have passed.
        usage = {**usage, "prompt_tokens": call.reservation.tokens_reserved, "completion_tokens": 0}
    writes.update(
        Completion,
        {"id": completion.pk},
        set_to={
            name: getattr(completion, name)
            for name in ("status", "latency_ms", "usage_counted", "characters_replaced", "finished_at")
        }
        | {"error_code": "", "error_detail": ""},
    )
    if call.answer_id is not None:  # stored as it started: filled in (its leaf was set then)
        writes.update(
            Message, {"id": call.answer_id}, set_to={"content": answer_row["content"], "status": answer_status}
        )
        stored = None
    else:
        stored = writes.insert(Message, [answer_row], returning=("id",))
    writes.update(Conversation, {"id": completion.conversation_id}, set_to={"updated_at": now})
    if call.branched and stored is not None:
        where = {"id": completion.conversation_id}
        if call.leaf_expected is not None:  # unless the member has moved to another branch meanwhile
            where["current_leaf_id"] = call.leaf_expected
        writes.update(Conversation, where, set_to={"current_leaf_id": stored.last_id})
    with transaction.atomic():
        # Lock the call's row: a sweep that closed it (and gave its request and hold back) is seen here, and one
        # that would close it now waits, then finds it settled.
        swept = not Completion.objects.select_for_update().filter(pk=completion.pk, status="pending").values("pk")
        quota_settle(
            writes,
            reservation=call.reservation,
            prompt_tokens=usage["prompt_tokens"] or 0,
            completion_tokens=usage["completion_tokens"] or 0,
            swept=swept,
        )
        usage_add_in(
            writes,
            call.usage_key,
            prompt_tokens=max(usage["prompt_tokens"] or 0, 0),
            completion_tokens=max(usage["completion_tokens"] or 0, 0),
            **({"requests": 1, "failed": -1} if swept else {}),
        )
        writes.run()
    answer = stored_instance(Message, stored.rows[0][0] if stored else call.answer_id, answer_row)
    answer.completion = completion
    return answer, usage


def _settled(reservation: Reservation, tokens_used: int) -> QuotaStatus:
    """The quota as the call left it: its hold on the token budget swapped for what it used."""
    before = reservation.status
    if before.tokens is None:
        return before
    tokens = dataclasses.replace(
        before.tokens,
        used=before.tokens.used + tokens_used,
        reserved=max(before.tokens.reserved - reservation.tokens_reserved, 0),
    )
    return dataclasses.replace(before, tokens=tokens)


def _refunded(reservation: Reservation) -> QuotaStatus:
    before = reservation.status
    tokens = before.tokens
    if tokens is not None:
        tokens = dataclasses.replace(tokens, reserved=max(tokens.reserved - reservation.tokens_reserved, 0))
    return dataclasses.replace(before, used=max(before.used - 1, 0), tokens=tokens)


def calls_close_stale(*, older_than: dt.timedelta | None = None, completion_id: int | None = None) -> int:
    """Close calls left in progress by a process that is gone, and give their requests back.

    A process renews its lease while it runs (chat.services.leases), so a
    pending call whose lease expired lost its process (killed, crashed, or
    cut off from the database for longer than the lease); a live process's
    calls, however long, are never closed, and the sweeping process never
    judges its own. A call with no lease (made by manage.py or WSGI, or whose
    lease was deleted) is closed once pending longer than any answer could
    take: HARUCHAT_STALE_CALL_SECONDS, or `older_than`. Each is failed as
    `abandoned`, having produced nothing stored, and refunded in the same
    transaction by the sweep whose conditional UPDATE closed it, so with a
    sweep in every process it is still refunded once. `completion_id` looks
    at that call alone (a Stop for an answer no live process is writing).
    """
    age = older_than if older_than is not None else dt.timedelta(seconds=settings.HARUCHAT_STALE_CALL_SECONDS)
    leases = ProcessLease.objects.filter(pk=OuterRef("lease_id"))
    abandoned = (
        Q(status=Completion.Status.PENDING)
        & ~Exists(leases.filter(expires_at__gte=Now()))  # no live owner: its lease expired, or it has none
        & (Exists(leases) | Q(created_at__lt=timezone.now() - age))
    )
    own = lease_held()
    candidates = Completion.objects.filter(abandoned)
    if completion_id is not None:
        candidates = candidates.filter(pk=completion_id)
    if own is not None:
        candidates = candidates.exclude(lease_id=own)
    closed = 0
    rows = candidates.order_by().values_list(
        "id",
        "user_id",
        "created_at",
        "tokens_reserved",
        "model",
        "conversation__source",
        "conversation__assistant__slug",
    )
    for completion_id, user_id, created_at, tokens_reserved, model, source, assistant in rows:
        with transaction.atomic():
            # Conditions on the row itself, checked again against a concurrent close (or a renewed lease).
            updated = Completion.objects.filter(abandoned, pk=completion_id).update(
                status=Completion.Status.FAILED,
                error_code="abandoned",
                error_detail="The server stopped before this call finished.",
                finished_at=timezone.now(),
            )
            if updated:  # only the sweep that closed it refunds it
                Message.objects.filter(completion_id=completion_id, status__in=GENERATING).update(
                    status=Message.Status.INTERRUPTED
                )  # a streamed answer keeps the text it had when its process was lost
                day = quota_day(created_at)
                quota_refund_day(user_id=user_id, day=day, tokens=tokens_reserved)
                assistant = "" if source == Conversation.Source.GATEWAY else assistant
                usage_add(UsageKey(user_id, day, model or "", assistant, source), requests=-1, failed=1)
                closed += 1
    if closed:
        logger.warning("closed %s abandoned model call(s) and refunded them", closed)
    return closed
