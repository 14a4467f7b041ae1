"""Personal API keys, and /v1 calls run through the same quota and record as the web app."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from chat.models import Conversation, Message
from chat.selectors import assistant_default
from chat.services import TITLE_LENGTH, PreparedCall, completion_record_start
from gateway.models import ApiKey
from llm.providers import get_provider
from quota.services import quota_reserve

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


def api_key_authenticate(secret: str) -> ApiKey | None:
    """The live key with this secret, its member active; None otherwise."""
    if not secret.startswith(SECRET_PREFIX):
        return None
    key = (
        ApiKey.objects.select_related("user", "user__quota_override")
        .filter(key_hash=hash_secret(secret), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if key is not None:
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def gateway_prepare(*, key: ApiKey, request: dict[str, Any]) -> PreparedCall:
    """Count a /v1 call and record it as a conversation of its own (one per call).

    The count and the record are one transaction: if recording fails, the
    count is undone with it. The request is sent upstream as the client wrote
    it, except that a stream always asks for usage, which the ledger needs.
    """
    user = key.user
    upstream_request = dict(request)
    if upstream_request.get("stream"):
        upstream_request["stream_options"] = {**(request.get("stream_options") or {}), "include_usage": True}
    messages = request["messages"]
    system = "\n\n".join(m["content"] for m in messages if m["role"] in ("system", "developer"))
    turns = [m for m in messages if m["role"] in ("user", "assistant")]
    last_user = next((m["content"] for m in reversed(turns) if m["role"] == "user"), "")
    provider = get_provider()
    with transaction.atomic():
        reservation = quota_reserve(user=user)
        conversation = Conversation.objects.create(
            user=user,
            assistant=assistant_default(),
            title=("API: " + " ".join(last_user.split()))[:TITLE_LENGTH],
            source=Conversation.Source.GATEWAY,
            api_key=key,
            system_prompt=system,
            model=request["model"],
            temperature=request.get("temperature") if request.get("temperature") is not None else 1.0,
            max_tokens=request.get("max_tokens") or 0,
        )
        stored = Message.objects.bulk_create(
            Message(conversation=conversation, role=m["role"], content=m["content"]) for m in turns
        )
        user_message = next((m for m in reversed(stored) if m.role == Message.Role.USER), stored[-1])
        completion = completion_record_start(
            conversation=conversation, user_message=user_message, provider=provider.name, request=upstream_request
        )
    return PreparedCall(reservation, user_message, completion, provider, upstream_request, time.monotonic())
