"""What a member may use: the models and assistants their groups allow.

The rule: the union over the member's groups, where a group that lists none
allows all; a member in no group may use everything. `None` means all.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet
from rest_framework import exceptions

from accounts.models import User
from chat.models import Assistant
from groups.models import Group


class ModelNotAllowed(exceptions.PermissionDenied):
    default_code = "model_not_allowed"


class AssistantNotAllowed(exceptions.PermissionDenied):
    default_code = "assistant_not_allowed"


@dataclass(frozen=True)
class Access:
    models: frozenset[str] | None
    assistant_ids: frozenset[int] | None

    def allows_model(self, model: str) -> bool:
        return self.models is None or model in self.models

    def allows_assistant(self, assistant_id: int) -> bool:
        return self.assistant_ids is None or assistant_id in self.assistant_ids


def member_access(user: User) -> Access:
    """The member's access, in one query (two when every group of theirs lists assistants)."""
    rows = list(
        Group.objects.filter(memberships__user_id=user.pk)
        .annotate(assistant_count=Count("allowed_assistants"))
        .values_list("id", "allowed_models", "assistant_count")
    )
    models = None
    if rows and all(listed for _, listed, _ in rows):
        models = frozenset(model for _, listed, _ in rows for model in listed)
    assistant_ids = None
    if rows and all(count for _, _, count in rows):
        through = Group.allowed_assistants.through.objects.filter(group_id__in=[pk for pk, _, _ in rows])
        assistant_ids = frozenset(through.values_list("assistant_id", flat=True))
    return Access(models, assistant_ids)


def models_for(user: User, models: list[str]) -> list[str]:
    """`models`, in their order, keeping those the member may use."""
    access = member_access(user)
    return [m for m in models if access.allows_model(m)]


def assistants_for(user: User, assistants: QuerySet[Assistant]) -> QuerySet[Assistant]:
    allowed = member_access(user).assistant_ids
    return assistants if allowed is None else assistants.filter(pk__in=allowed)


def model_check(access: Access, model: str) -> None:
    """Refuse (403 model_not_allowed) a model none of the member's groups allows."""
    if not access.allows_model(model):
        choices = ", ".join(sorted(access.models or ())) or "none"
        raise ModelNotAllowed(f"Your groups do not allow the model {model!r}. You may use: {choices}.")


def conversation_check(user: User, *, model: str, assistant: Assistant) -> None:
    """Refuse a conversation's model or assistant that the member's groups don't allow (403)."""
    access = member_access(user)
    model_check(access, model)
    if not access.allows_assistant(assistant.pk):
        raise AssistantNotAllowed(f"Your groups do not allow the assistant {assistant.slug!r}.")
