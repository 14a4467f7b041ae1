from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework import exceptions

from groups.models import Group, Invite, Membership
from groups.services import group_models_check
from llm.providers import get_provider


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


class GroupForm(forms.ModelForm):
    """The allowed models as the API checks them: each one a model this haruchat offers."""

    class Meta:
        model = Group
        fields = ("name", "description", "daily_limit", "monthly_token_budget", "allowed_models", "allowed_assistants")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        offered = ", ".join(get_provider().models())
        self.fields["allowed_models"].help_text = f'A JSON list of model ids, e.g. ["…"]; [] allows all. ({offered})'

    def clean_allowed_models(self) -> list[str]:
        models = self.cleaned_data["allowed_models"] or []
        if not isinstance(models, list) or not all(isinstance(m, str) for m in models):
            raise forms.ValidationError('A JSON list of model ids, e.g. ["model-a", "model-b"].')
        try:
            return group_models_check(models)
        except exceptions.ValidationError as exc:  # the API's 400, as the form's message
            raise forms.ValidationError(exc.detail["models"][0]) from exc


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    form = GroupForm
    list_display = ("name", "daily_limit", "monthly_token_budget", "models_shown", "assistants_shown", "created_at")
    search_fields = ("name",)
    filter_horizontal = ("allowed_assistants",)
    inlines = (MembershipInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return super().get_queryset(request).prefetch_related("allowed_assistants")

    @admin.display(description="Allowed models")
    def models_shown(self, group: Group) -> str:
        return ", ".join(group.allowed_models) or "all"

    @admin.display(description="Allowed assistants")
    def assistants_shown(self, group: Group) -> str:
        return ", ".join(a.slug for a in group.allowed_assistants.all()) or "all"


@admin.register(Invite)
class InviteAdmin(admin.ModelAdmin):
    list_display = ("code", "group", "uses", "max_uses", "expires_at", "revoked_at")
    raw_id_fields = ("created_by",)
