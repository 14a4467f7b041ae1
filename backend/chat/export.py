"""Export a member's conversations, with the full call records, as JSON or Markdown."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from accounts.models import User
from chat.models import Completion, CompletionChoice, Conversation
from chat.serializers import CompletionOutputSerializer, IntakeAnswerOutputSerializer, MessageOutputSerializer
from chat.tree import branch_to

EXPORT_FORMATS = ("json", "markdown")


def conversations_for_export(*, user: User, conversation_id: int | None = None) -> QuerySet[Conversation]:
    """The member's conversations with everything an export shows, in a fixed number of queries."""
    conversations = Conversation.objects.filter(user=user).select_related("assistant").order_by("created_at", "id")
    if conversation_id is not None:
        conversations = conversations.filter(pk=conversation_id)
    calls = (
        Completion.objects.select_related("reply", "answer")
        .prefetch_related("prompts", Prefetch("reply__choices", queryset=CompletionChoice.objects.order_by("position")))
        .order_by("id")
    )
    return conversations.prefetch_related("messages", "intake_answers", Prefetch("completions", queryset=calls))


def export_json(*, user: User, conversations: Iterable[Conversation]) -> dict[str, Any]:
    return {
        "exported_at": timezone.now().isoformat(),
        "member": {"email": user.email, "nickname": user.nickname},
        "conversations": [
            {
                "id": conversation.pk,
                "title": conversation.title,
                "assistant": conversation.assistant.slug,
                "model": conversation.model,
                "temperature": conversation.temperature,
                "max_tokens": conversation.max_tokens,
                "system_prompt": conversation.system_prompt,
                "created_at": conversation.created_at.isoformat(),
                "updated_at": conversation.updated_at.isoformat(),
                "intake_answers": IntakeAnswerOutputSerializer(conversation.intake_answers.all(), many=True).data,
                "messages": MessageOutputSerializer(conversation.messages.all(), many=True).data,
                "current_leaf_id": conversation.current_leaf_id,
                "completions": CompletionOutputSerializer(conversation.completions.all(), many=True).data,
            }
            for conversation in conversations
        ],
    }


def export_markdown(*, user: User, conversations: Iterable[Conversation]) -> str:
    """A readable transcript; the exact call records are in the JSON export."""
    lines = [f"# haruchat export for {user.nickname}", "", f"Exported {timezone.now():%Y-%m-%d %H:%M} UTC.", ""]
    for conversation in conversations:
        lines += [
            f"## {conversation.title or 'Untitled conversation'}",
            "",
            f"- Assistant: {conversation.assistant.name}",
            f"- Model: {conversation.model} (temperature {conversation.temperature}, "
            f"max_tokens {conversation.max_tokens})",
            f"- Started: {conversation.created_at:%Y-%m-%d %H:%M} UTC",
            "",
        ]
        answers = [a for a in conversation.intake_answers.all() if a.answer]
        if answers:
            lines += ["**Intake**", ""] + [f"- {a.prompt} {a.answer}" for a in answers] + [""]
        messages = conversation.messages.all()
        shown = branch_to(messages, conversation.current_leaf_id)
        if len(shown) < len(messages):
            lines += [f"_The branch shown last; {len(messages) - len(shown)} more message(s) on other branches "
                      "are in the JSON export._", ""]  # fmt: skip
        calls = {call.pk: call for call in conversation.completions.all()}
        for message in shown:
            who = "Member" if message.role == "user" else "Assistant"
            lines += [f"### {who} · {message.created_at:%Y-%m-%d %H:%M}", "", message.content, ""]
            lines += _tool_calls(calls.get(message.completion_id))
    return "\n".join(lines).rstrip() + "\n"


def _tool_calls(call: Completion | None) -> list[str]:
    """The functions an answer asked to call (a /v1 tool call has no text, so the transcript says what it did)."""
    reply = getattr(call, "reply", None)  # none for no call, or a call that never answered
    if reply is None:
        return []
    lines = []
    for choice in reply.choices.all():
        for tool_call in choice.extra.get("message", {}).get("tool_calls") or []:
            function = tool_call.get("function") or {}
            lines.append(f"- Tool call: `{function.get('name', '?')}({function.get('arguments', '')})`")
    return [*lines, ""] if lines else []
