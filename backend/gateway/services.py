"""Personal API keys, and /v1 calls started through the same call lifecycle as the web app's."""

from __future__ import annotations

import functools
import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import OuterRef
from django.utils import timezone

from accounts.models import User
from chat.models import TITLE_LENGTH, Conversation
from chat.selectors import assistant_default_queryset
from chat.services.calls import NewConversation, PreparedCall, call_start
from common.sql_batch import Sql
from gateway.models import ApiKey
from gateway.requests import content_text
from groups.access import member_access
from llm.providers import get_provider
from quota.services import group_allowance_names, group_allowance_subqueries

logger = logging.getLogger(__name__)

SECRET_PREFIX = "hc-"
# Refresh `last_used_at` at most this often, so every call isn't a write.
LAST_USED_RESOLUTION_SECONDS = 60


def api_key_secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_create(*, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key and its secret; the secret is returned once and never stored."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(user=user, name=name.strip(), prefix=secret[:11], key_hash=api_key_secret_hash(secret))
    return key, secret


def api_key_revoke(*, key: ApiKey) -> None:
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    _recent_keys.pop(key.key_hash, None)


def api_keys_revoke_all(*, user: User) -> int:
    """Revoke every live key of a member; returns how many there were."""
    keys = list(ApiKey.objects.filter(user=user, revoked_at__isnull=True))
    for key in keys:
        api_key_revoke(key=key)
    return len(keys)


# Keys authenticated in the last HARUCHAT_API_KEY_CACHE_SECONDS, by hash: a
# client calling again soon skips the lookup (as LiteLLM's proxy does). A key
# revoked here is forgotten at once; another process forgets it within that
# time, as it sees a deactivated member or a new per-member limit.
_recent_keys: dict[str, tuple[float, ApiKey]] = {}


def api_key_authenticate(secret: str) -> ApiKey | None:
    """The live key with this secret, its member active; None otherwise."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    digest = api_key_secret_hash(secret)
    remembered = _recent_keys.get(digest)
    if remembered is not None and remembered[0] > time.monotonic():
        return remembered[1]
    key = (
        ApiKey.objects.select_related("user", "user__quota_override")
        .annotate(**group_allowance_subqueries(OuterRef("user_id")))
        .filter(key_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if key is None:
        _recent_keys.pop(digest, None)
        return None
    for name in group_allowance_names():
        setattr(key.user, name, getattr(key, name))  # the member's group allowances, read with the key
    key.user.access = member_access(key.user)  # remembered with the key, like the allowances
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


@dataclass(frozen=True)
class GatewayTurns:
    """A /v1 request's messages as a conversation stores them."""

    system_prompt: str  # the system and developer messages, joined
    asked: list[dict[str, Any]]  # the user and assistant turns up to the last user message, which the call answers
    after: list[dict[str, Any]]  # assistant turns after it (a prefill)


def gateway_turns_split(messages: list[dict[str, Any]]) -> GatewayTurns:
    """Split a request's messages (at least one from the user) into what its conversation stores."""
    system = "\n\n".join(content_text(m.get("content")) for m in messages if m["role"] in ("system", "developer"))
    # The conversation keeps the turns' text; the record keeps the messages whole (parts, tool calls, tools).
    turns = [
        {"role": m["role"], "content": content_text(m.get("content"))}
        for m in messages
        if m["role"] in ("user", "assistant")
    ]
    answered = max(i for i, m in enumerate(turns) if m["role"] == "user")
    return GatewayTurns(system_prompt=system, asked=turns[: answered + 1], after=turns[answered + 1 :])


def gateway_call_start(*, key: ApiKey, request: dict[str, Any]) -> PreparedCall:
    """Start a /v1 call, filed as a conversation of its own (one per call).

    The count and the record are one transaction (one round trip on
    PostgreSQL; see chat.services.calls.call_start). The request goes upstream
    as the client wrote it, except that a stream always asks for usage, which
    the ledger needs.
    """
    upstream_request = dict(request)
    if upstream_request.get("stream"):
        upstream_request["stream_options"] = {**(request.get("stream_options") or {}), "include_usage": True}
    turns = gateway_turns_split(request["messages"])
    now = timezone.now()
    conversation = NewConversation(
        {
            "user_id": key.user_id,
            "assistant_id": _default_assistant_id(),
            "title": ("API: " + " ".join(turns.asked[-1]["content"].split()))[:TITLE_LENGTH],
            "source": Conversation.Source.GATEWAY,
            "api_key_id": key.pk,
            "system_prompt": turns.system_prompt,
            "model": request["model"],
            "temperature": request.get("temperature") if request.get("temperature") is not None else 1.0,
            "max_tokens": request.get("max_completion_tokens") or request.get("max_tokens") or 0,
            "created_at": now,
            "updated_at": now,
        }
    )
    return call_start(
        user=key.user,
        conversation=conversation,
        provider=get_provider(),
        request=upstream_request,
        asked=turns.asked,
        after=turns.after,
    )
