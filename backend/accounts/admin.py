from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User
from quota.models import DailyUsage, QuotaOverride


class QuotaOverrideInline(admin.StackedInline):
    model = QuotaOverride
    extra = 0
    max_num = 1


class DailyUsageInline(admin.TabularInline):
    """The member's usage by day: requests and tokens, newest first."""

    model = DailyUsage
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("day", "requests", "prompt_tokens", "completion_tokens")
    readonly_fields = fields
    ordering = ("-day",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "nickname", "is_active", "is_staff", "date_joined", "last_login")
    search_fields = ("email", "nickname")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("nickname", "born_year", "job")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "nickname", "password1", "password2")}),)
    inlines = (QuotaOverrideInline, DailyUsageInline)
