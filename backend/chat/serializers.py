"""Output shapes shared by several chat endpoints."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from chat.models import Assistant, Completion, Conversation, IntakeAnswer, IntakeQuestion, Message
from chat.records import rebuild_request, rebuild_response
from chat.tree import branch_to


class IntakeQuestionOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntakeQuestion
        fields = ("key", "kind", "label", "label_ko", "help_text", "help_text_ko", "required")


class AssistantOutputSerializer(serializers.ModelSerializer):
    questions = IntakeQuestionOutputSerializer(many=True)

    class Meta:
        model = Assistant
        fields = ("id", "slug", "name", "name_ko", "description", "description_ko", "questions")


class MessageOutputSerializer(serializers.ModelSerializer):
    parent_id = serializers.IntegerField(
        allow_null=True, help_text="The message this one follows (null: a first message, or a /v1 call's record)."
    )

    class Meta:
        model = Message
        fields = ("id", "parent_id", "role", "content", "created_at", "completion_id", "status")


class IntakeAnswerOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntakeAnswer
        fields = ("key", "prompt", "answer")


class ConversationSummaryOutputSerializer(serializers.ModelSerializer):
    assistant = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    # Output counts are declared, not derived: a model field's bounds come from the database backend,
    # and the schema (and the web app's types made from it) must not change with it.
    max_tokens = serializers.IntegerField()

    class Meta:
        model = Conversation
        fields = (
            "id",
            "title",
            "assistant",
            "source",
            "model",
            "temperature",
            "max_tokens",
            "created_at",
            "updated_at",
        )


class ConversationDetailOutputSerializer(ConversationSummaryOutputSerializer):
    intake_answers = IntakeAnswerOutputSerializer(many=True)
    messages = MessageOutputSerializer(
        many=True, help_text="Every message of every branch, oldest first; `parent_id` makes the tree."
    )
    current_leaf_id = serializers.IntegerField(
        allow_null=True,
        help_text="The last message of the branch shown: the path from it up through `parent_id` is what the model "
        "is sent next. null: no messages yet, or a /v1 call's record (flat, every message in order).",
    )
    awaiting_reply = serializers.SerializerMethodField(
        help_text="True when the current leaf is the member's message and has no answer yet; "
        "POST .../messages with no content to get one."
    )

    class Meta(ConversationSummaryOutputSerializer.Meta):
        fields = (
            *ConversationSummaryOutputSerializer.Meta.fields,
            "system_prompt",
            "intake_answers",
            "messages",
            "current_leaf_id",
            "awaiting_reply",
        )

    def get_awaiting_reply(self, conversation: Conversation) -> bool:
        branch = branch_to(conversation.messages.all(), conversation.current_leaf_id)
        return bool(branch) and branch[-1].role == Message.Role.USER


class CompletionOutputSerializer(serializers.ModelSerializer):
    """One model call: outcome and timing, with the exact request and response JSON."""

    request = serializers.SerializerMethodField()
    response = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    answer_message_id = serializers.SerializerMethodField()
    latency_ms = serializers.IntegerField(allow_null=True)
    characters_replaced = serializers.IntegerField(
        help_text=Completion._meta.get_field("characters_replaced").help_text
    )

    class Meta:
        model = Completion
        fields = (
            "id",
            "purpose",
            "status",
            "provider",
            "latency_ms",
            "created_at",
            "finished_at",
            "request_message_id",
            "answer_message_id",
            "error",
            "request",
            "response",
            "characters_replaced",
            "usage_counted",
        )
        extra_kwargs = {
            "usage_counted": {
                "help_text": "The response's usage is haruchat's own count: the model sent none (a stream cut short, "
                "some servers). False when it is the model's."
            }
        }

    @extend_schema_field(serializers.DictField())
    def get_request(self, completion: Completion) -> dict[str, Any]:
        return rebuild_request(completion)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_response(self, completion: Completion) -> dict[str, Any] | None:
        return rebuild_response(completion)

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_error(self, completion: Completion) -> dict[str, Any] | None:
        if completion.status != Completion.Status.FAILED:
            return None
        return {
            "code": completion.error_code,
            "detail": completion.error_detail,
            "upstream_status": completion.upstream_status,
        }

    def get_answer_message_id(self, completion: Completion) -> int | None:
        answer = getattr(completion, "answer", None)
        return answer.pk if answer else None
