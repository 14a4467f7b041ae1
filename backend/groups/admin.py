from django.contrib import admin

from groups.models import Group, Invite, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ("name", "daily_limit", "monthly_token_budget", "created_at")
    search_fields = ("name",)
    inlines = (MembershipInline,)


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("code", "group", "uses", "max_uses", "expires_at", "revoked_at")
    raw_id_fields = ("created_by",)
