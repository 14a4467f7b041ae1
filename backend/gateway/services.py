"""Personal API keys, and /v1 calls run through the same quota and record as the web app."""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import time
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.utils import timezone

from accounts.models import User
from chat.models import Completion, Conversation, Message
from chat.selectors import assistant_default_queryset
from chat.services import TITLE_LENGTH, PreparedCall, completion_record_start
from common.sql_batch import Batch, Sql, stored_instance
from gateway.models import ApiKey
from llm.providers import get_provider
from quota.services import QuotaUnavailable, quota_reserve_in

logger = logging.getLogger(__name__)

SECRET_PREFIX = "hc-"
# Refresh `last_used_at` at most this often, so every call isn't a write.
LAST_USED_RESOLUTION_SECONDS = 60


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is returned once and never stored."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(user=user, name=name.strip(), prefix=secret[:11], key_hash=hash_secret(secret))
    return key, secret


def api_key_revoke(*, key: ApiKey) -> None:
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    _recent_keys.pop(key.key_hash, None)


# Keys authenticated in the last HARUCHAT_API_KEY_CACHE_SECONDS, by hash: a
# client calling again soon skips the lookup (as LiteLLM's proxy does). A key
# revoked here is forgotten at once; another process forgets it within that
# time, as it sees a deactivated member or a new per-member limit.
_recent_keys: dict[str, tuple[float, ApiKey]] = {}


def api_key_authenticate(secret: str) -> ApiKey | None:
    """The live key with this secret, its member active; None otherwise."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    digest = hash_secret(secret)
    remembered = _recent_keys.get(digest)
    if remembered is not None and remembered[0] > time.monotonic():
        return remembered[1]
    key = (
        ApiKey.objects.select_related("user", "user__quota_override")
        .filter(key_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if key is None:
        _recent_keys.pop(digest, None)
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    if settings.HARUCHAT_API_KEY_CACHE_SECONDS > 0:
        _recent_keys[digest] = (time.monotonic() + settings.HARUCHAT_API_KEY_CACHE_SECONDS, key)
    return key


def api_keys_forget() -> None:
    """Forget every remembered key (tests; a process that must see revocations at once)."""
    _recent_keys.clear()


@functools.cache
def _default_assistant_id() -> Sql:
    """The id of the assistant /v1 conversations are filed under, read by the batch that stores one."""
    return Sql.scalar(assistant_default_queryset().values("pk"))


def gateway_prepare(*, key: ApiKey, request: dict[str, Any]) -> PreparedCall:
    """Count a /v1 call and record it as a conversation of its own (one per call).

    The count and the record are one transaction, sent as one batch (one
    round trip on PostgreSQL): if recording fails, the count is undone with
    it, and a spent allowance undoes the record. The request is sent upstream
    as the client wrote it, except that a stream always asks for usage,
    which the ledger needs.
    """
    user = key.user
    upstream_request = dict(request)
    if upstream_request.get("stream"):
        upstream_request["stream_options"] = {**(request.get("stream_options") or {}), "include_usage": True}
    messages = request["messages"]
    system = "\n\n".join(m["content"] for m in messages if m["role"] in ("system", "developer"))
    turns = [m for m in messages if m["role"] in ("user", "assistant")]
    answered = max(i for i, m in enumerate(turns) if m["role"] == "user")  # the body has a user message
    provider = get_provider()
    now = timezone.now()
    conversation_row = {
        "user_id": user.pk,
        "assistant_id": _default_assistant_id(),
        "title": ("API: " + " ".join(turns[answered]["content"].split()))[:TITLE_LENGTH],
        "source": Conversation.Source.GATEWAY,
        "api_key_id": key.pk,
        "system_prompt": system,
        "model": request["model"],
        "temperature": request.get("temperature") if request.get("temperature") is not None else 1.0,
        "max_tokens": request.get("max_tokens") or 0,
        "created_at": now,
        "updated_at": now,
    }

    def message_rows(conversation_id: Any, part: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"conversation_id": conversation_id, "role": m["role"], "content": m["content"], "created_at": now}
            for m in part
        ]

    writes = Batch()
    pending = quota_reserve_in(writes, user=user)
    conversation = writes.insert(Conversation, [conversation_row], returning=("id",))
    asked = writes.insert(Message, message_rows(conversation.last_id, turns[: answered + 1]), returning=("id",))
    completion, completion_row = completion_record_start(
        writes,
        conversation_id=conversation.last_id,
        user_id=user.pk,
        request_message_id=asked.last_id,
        provider=provider.name,
        request=upstream_request,
    )
    if turns[answered + 1 :]:  # assistant turns the client sent after its last user message
        writes.insert(Message, message_rows(conversation.last_id, turns[answered + 1 :]))
    try:
        with transaction.atomic():
            writes.run()
            reservation = pending.reservation()
    except DatabaseError as exc:
        logger.exception("could not count and record a /v1 call")
        raise QuotaUnavailable() from exc
    conversation_id, completion_id = conversation.rows[0][0], completion.rows[0][0]
    [user_row] = message_rows(conversation_id, turns[answered : answered + 1])
    user_message = stored_instance(Message, asked.rows[-1][0], user_row)
    completion_row.update(conversation_id=conversation_id, request_message_id=user_message.pk)
    stored = stored_instance(Completion, completion_id, completion_row)
    return PreparedCall(reservation, user_message, stored, provider, upstream_request, time.monotonic())
