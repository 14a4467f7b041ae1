import json

from django.contrib import admin

from chat.models import (
    Assistant,
    Completion,
    CompletionChoice,
    CompletionPrompt,
    CompletionReply,
    Conversation,
    IntakeQuestion,
    Message,
)
from chat.records import rebuild_request, rebuild_response


class IntakeQuestionInline(admin.TabularInline):
    model = IntakeQuestion
    extra = 0


@admin.register(Assistant)
class AssistantAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_active", "position")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (IntakeQuestionInline,)


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ("role", "content", "created_at", "completion")
    readonly_fields = fields
    can_delete = False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "assistant", "model", "updated_at")
    list_filter = ("assistant", "model")
    search_fields = ("title", "user__email")
    list_select_related = ("user", "assistant")
    readonly_fields = ("user", "assistant", "system_prompt", "created_at", "updated_at")
    inlines = (MessageInline,)


class CompletionPromptInline(admin.TabularInline):
    model = CompletionPrompt
    extra = 0
    fields = ("position", "role", "content", "extra")
    readonly_fields = fields
    can_delete = False


@admin.register(Completion)
class CompletionAdmin(admin.ModelAdmin):
    """Every model call, with the exact request and response JSON rebuilt from the rows."""

    list_display = ("id", "user", "model", "status", "error_code", "latency_ms", "created_at")
    list_filter = ("status", "provider", "model")
    search_fields = ("user__email", "conversation__title")
    list_select_related = ("user",)
    readonly_fields = (
        "conversation",
        "user",
        "request_message",
        "provider",
        "model",
        "temperature",
        "max_tokens",
        "stream",
        "status",
        "error_code",
        "error_detail",
        "upstream_status",
        "latency_ms",
        "characters_replaced",
        "created_at",
        "finished_at",
        "request_json",
        "response_json",
    )
    exclude = ("request_extra",)
    inlines = (CompletionPromptInline,)

    @admin.display(description="request JSON")
    def request_json(self, completion: Completion) -> str:
        return json.dumps(rebuild_request(completion), indent=2, ensure_ascii=False)

    @admin.display(description="response JSON")
    def response_json(self, completion: Completion) -> str:
        return json.dumps(rebuild_response(completion), indent=2, ensure_ascii=False)


admin.site.register(CompletionReply)
admin.site.register(CompletionChoice)
