"""Reads of chat data, always scoped to the member asking."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from rest_framework.exceptions import ErrorDetail, ValidationError

from accounts.models import User
from chat.models import Assistant, Completion, CompletionChoice, Conversation, Message


def assistant_list() -> QuerySet[Assistant]:
    return Assistant.objects.filter(is_active=True).prefetch_related("questions")


def conversation_list(*, user: User, search: str | None = None) -> QuerySet[Conversation]:
    """The member's own conversations, newest activity first, optionally searched.

    The search matches titles and the text of any message.
    """
    conversations = Conversation.objects.filter(user=user).select_related("assistant")
    if search:
        in_messages = Message.objects.filter(conversation=OuterRef("pk"), content__icontains=search)
        conversations = conversations.filter(Q(title__icontains=search) | Exists(in_messages))
    return conversations


def assistant_default_queryset() -> QuerySet[Assistant]:
    """Free chat: the assistant used when a conversation names none."""
    return Assistant.objects.filter(slug="free-chat", is_active=True)


def assistant_default() -> Assistant:
    assistant = assistant_default_queryset().first()
    if assistant is None:
        raise ValidationError({"assistant": [ErrorDetail("Choose an assistant.", code="required")]})
    return assistant


def conversation_get(*, user: User, conversation_id: int, with_messages: bool = False) -> Conversation:
    """The member's own conversation; anyone else's is indistinguishable from missing (404)."""
    conversations = Conversation.objects.filter(user=user, pk=conversation_id).select_related("assistant")
    if with_messages:
        conversations = conversations.prefetch_related("messages", "intake_answers")
    conversation = conversations.first()
    if conversation is None:
        raise Http404("No such conversation.")
    return conversation


def answer_get(*, user: User, conversation_id: int, message_id: int) -> Message:
    """An answer in one of the member's conversations; anything else is a 404."""
    conversation = conversation_get(user=user, conversation_id=conversation_id)
    answer = Message.objects.filter(pk=message_id, conversation=conversation, role=Message.Role.ASSISTANT).first()
    if answer is None:
        raise Http404("No such answer.")
    return answer


def conversation_completions(*, conversation: Conversation) -> QuerySet[Completion]:
    """Every model call of a conversation with everything needed to rebuild it."""
    return (
        Completion.objects.filter(conversation=conversation)
        .select_related("reply", "answer")
        .prefetch_related("prompts", Prefetch("reply__choices", queryset=CompletionChoice.objects.order_by("position")))
    )
