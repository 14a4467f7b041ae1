"""Small helpers for the chat API tests."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient


def start_conversation(api: APIClient, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/conversations", fields, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def send(api: APIClient, conversation_id: int, content: str | None = "Hello there", **extra: Any):
    body = {} if content is None else {"content": content}
    return api.post(f"/api/conversations/{conversation_id}/messages", {**body, **extra}, format="json")


MEDITATION_INTAKE = {"current_state": "tense after a long day", "goal": "relax my shoulders", "misc": "five minutes"}


def counted(member) -> int:
    """The member's counted requests over every day: a call backdated across midnight counts on its own day."""
    from django.db.models import Sum

    from quota.models import DailyUsage

    return DailyUsage.objects.filter(user=member).aggregate(total=Sum("requests"))["total"] or 0
