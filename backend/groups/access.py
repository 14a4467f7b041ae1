"""What a member may use: the models and assistants their groups allow.

The rule: the union over the member's groups, where a group that lists none
allows all; a member in no group may use everything. `None` means all.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from rest_framework import exceptions

from accounts.models import User
from chat.models import Assistant
from groups.models import Group


class ModelNotAllowed(exceptions.PermissionDenied):
    default_code = "model_not_allowed"


class AssistantNotAllowed(exceptions.PermissionDenied):
    default_code = "assistant_not_allowed"


def _groups_of(user: User) -> QuerySet[Group]:
    return Group.objects.filter(memberships__user_id=user.pk)


def allowed_models(user: User) -> set[str] | None:
    """The model ids the member may call, or None for all."""
    lists = list(_groups_of(user).values_list("allowed_models", flat=True))
    if not lists or any(not models for models in lists):
        return None
    return {model for models in lists for model in models}


def allowed_assistants(user: User) -> QuerySet[Assistant] | None:
    """The assistants the member may talk to, or None for all."""
    groups = _groups_of(user)
    if not groups.exists() or groups.filter(allowed_assistants__isnull=True).exists():
        return None
    return Assistant.objects.filter(Q(pk__in=groups.values("allowed_assistants"))).distinct()


def models_for(user: User, models: list[str]) -> list[str]:
    """`models`, in their order, keeping those the member may use."""
    allowed = allowed_models(user)
    return models if allowed is None else [m for m in models if m in allowed]


def assistants_for(user: User, assistants: QuerySet[Assistant]) -> QuerySet[Assistant]:
    allowed = allowed_assistants(user)
    return assistants if allowed is None else assistants.filter(pk__in=allowed.values("pk"))


def model_check(user: User, model: str) -> None:
    """Refuse (403 model_not_allowed) a model none of the member's groups allows."""
    allowed = allowed_models(user)
    if allowed is not None and model not in allowed:
        choices = ", ".join(sorted(allowed)) or "none"
        raise ModelNotAllowed(f"Your groups do not allow the model {model!r}. You may use: {choices}.")


def assistant_check(user: User, assistant: Assistant) -> None:
    """Refuse (403 assistant_not_allowed) an assistant none of the member's groups allows."""
    allowed = allowed_assistants(user)
    if allowed is not None and not allowed.filter(pk=assistant.pk).exists():
        raise AssistantNotAllowed(f"Your groups do not allow the assistant {assistant.slug!r}.")
