from django.contrib import admin

from quota.models import DailyUsage, QuotaOverride


@admin.register(DailyUsage)
class DailyUsageAdmin(admin.ModelAdmin):
    """Per-member usage by day: requests, prompt and completion tokens."""

    list_display = ("day", "user", "requests", "prompt_tokens", "completion_tokens", "total_tokens")
    list_filter = ("day",)
    search_fields = ("user__email", "user__nickname")
    date_hierarchy = "day"
    list_select_related = ("user",)
    readonly_fields = ("user", "day", "requests", "prompt_tokens", "completion_tokens")

    @admin.display(description="total tokens")
    def total_tokens(self, usage: DailyUsage) -> int:
        return usage.prompt_tokens + usage.completion_tokens

    def has_add_permission(self, request) -> bool:  # the ledger is written only by the quota service
        return False


@admin.register(QuotaOverride)
class QuotaOverrideAdmin(admin.ModelAdmin):
    list_display = ("user", "daily_limit", "note", "updated_at")
    search_fields = ("user__email", "user__nickname")
    autocomplete_fields = ("user",)
