"""Group writes: create and change groups, name operators, add and remove members, issue and revoke invite
codes, and join with one."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework import exceptions, status

from accounts.models import User, normalize_email
from chat.models import Assistant
from common.errors import ApiError
from groups.models import Group, Invite, Membership
from llm.providers import get_provider


class InvalidInvite(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = (
        "This invite code is unknown, expired, revoked or used up. Ask your group's operator for a new one."
    )
    default_code = "invalid_invite"


class UnknownMember(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "No account has this email address. Invite them with a code, or import them from a CSV file."
    default_code = "unknown_member"


def _invalid(field: str, message: str, code: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [exceptions.ErrorDetail(message, code=code)]})


def _unique(values: list[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def group_models_check(models: list[str]) -> list[str]:
    """The model ids, each once, in order; any the provider doesn't offer is a 400 `unknown_model`
    (a misspelt id would otherwise lock the group out of every model)."""
    offered = get_provider().models()
    unknown = [model for model in _unique(models) if model not in offered]
    if unknown:
        raise _invalid(
            "models",
            f"Unknown model(s): {', '.join(unknown)}. This haruchat offers: {', '.join(offered)}.",
            "unknown_model",
        )
    return _unique(models)


def group_assistants_resolve(slugs: list[str]) -> list[Assistant]:
    """The active assistants with these slugs; any other slug is a 400 `unknown_assistant`."""
    slugs = _unique(slugs)
    found = {a.slug: a for a in Assistant.objects.filter(slug__in=slugs, is_active=True)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise _invalid("assistants", f"Unknown or inactive assistant(s): {', '.join(unknown)}.", "unknown_assistant")
    return [found[slug] for slug in slugs]


def group_operators_resolve(user_ids: list[int]) -> list[User]:
    """The active accounts with these ids; any other id is a 400 `unknown_member`."""
    user_ids = _unique(user_ids)
    found = {u.pk: u for u in User.objects.filter(pk__in=user_ids, is_active=True)}
    unknown = [str(pk) for pk in user_ids if pk not in found]
    if unknown:
        raise _invalid("operators", f"No active account with the id(s) {', '.join(unknown)}.", "unknown_member")
    return [found[pk] for pk in user_ids]


def group_operators_set(*, group: Group, users: list[User]) -> None:
    """Make exactly these members the group's operators: they join if they weren't in it; operators not
    listed stay on as plain members. Insert-or-ignore then update, so a concurrent join can't collide."""
    with transaction.atomic():
        group.memberships.filter(role=Membership.Role.OPERATOR).exclude(user__in=users).update(
            role=Membership.Role.MEMBER
        )
        Membership.objects.bulk_create(
            [Membership(group=group, user=user, role=Membership.Role.OPERATOR) for user in users],
            ignore_conflicts=True,
        )
        group.memberships.filter(user__in=users).update(role=Membership.Role.OPERATOR)


def _resolved(data: dict[str, Any]) -> dict[str, Any]:
    """Check every reference before anything is written, so a bad one changes nothing."""
    resolved = {}
    if data.get("models") is not None:
        resolved["allowed_models"] = group_models_check(data["models"])
    if data.get("assistants") is not None:
        resolved["assistants"] = group_assistants_resolve(data["assistants"])
    if data.get("operators") is not None:
        resolved["operators"] = group_operators_resolve(data["operators"])
    return resolved


def _apply(group: Group, data: dict[str, Any], resolved: dict[str, Any]) -> None:
    for field in ("name", "description", "daily_limit", "monthly_token_budget"):
        if field in data:
            setattr(group, field, data[field].strip() if isinstance(data[field], str) else data[field])
    if "allowed_models" in resolved:
        group.allowed_models = resolved["allowed_models"]
    group.save()
    if "assistants" in resolved:
        group.allowed_assistants.set(resolved["assistants"])
    if "operators" in resolved:
        group_operators_set(group=group, users=resolved["operators"])


def group_create(
    *,
    name: str,
    description: str = "",
    daily_limit: int | None = None,
    monthly_token_budget: int | None = None,
    models: list[str] | None = None,
    assistants: list[str] | None = None,
    operators: list[int] | None = None,
) -> Group:
    data = {"name": name, "description": description, "daily_limit": daily_limit}
    data |= {"monthly_token_budget": monthly_token_budget, "models": models, "assistants": assistants}
    resolved = _resolved({**data, "operators": operators})
    with transaction.atomic():
        group = Group()
        _apply(group, data, resolved)
    return group


def group_update(*, group: Group, data: dict[str, Any]) -> Group:
    """Change what `data` names; `models`, `assistants` and `operators` replace the lists (empty: all models,
    all assistants, no operators)."""
    resolved = _resolved(data)
    with transaction.atomic():
        _apply(group, data, resolved)
    return group


def group_delete(*, group: Group) -> None:
    """Delete a group with its memberships and invites (its members stay members of the deployment)."""
    group.delete()


def member_add(*, group: Group, email: str, role: str | None = None) -> tuple[Membership, bool]:
    """Put the account with this email in the group (400 `unknown_member` when there is none); whether it
    was added. Someone already in it stays as they are unless a role is given.

    For admins only (the view checks): it enrols someone without their consent, which puts them under the
    group's allowance and models and shows their usage to its operators. Operators send an invite link.
    """
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None:
        raise UnknownMember()
    membership, created = Membership.objects.get_or_create(
        group=group, user=user, defaults={"role": role or Membership.Role.MEMBER}
    )
    if not created and role and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership, created


def member_remove(*, membership: Membership) -> None:
    """Take the member out of the group (their account, conversations and usage stay)."""
    membership.delete()


def invite_create(
    *, group: Group, created_by: User, expires_at: dt.datetime | None = None, max_uses: int | None = None
) -> Invite:
    """A new code for the group: 72 random bits, short enough to read out to a class."""
    return Invite.objects.create(
        group=group, code=secrets.token_urlsafe(9), expires_at=expires_at, max_uses=max_uses, created_by=created_by
    )


def invite_revoke(*, invite: Invite) -> None:
    invite.revoked_at = timezone.now()
    invite.save(update_fields=["revoked_at"])


def _live_invites() -> Q:
    now = timezone.now()
    return (
        Q(revoked_at__isnull=True)
        & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        & (Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
    )


def group_join(*, user: User, code: str) -> Group:
    """Enrol the member in the group of a live invite, taking one of its uses (400 invalid_invite otherwise).

    One conditional UPDATE takes the use, so concurrent joins never pass `max_uses`.
    A member already in the group keeps their place and takes no use.
    """
    invite = Invite.objects.select_related("group").filter(code=code.strip()).first()
    if invite is None:
        raise InvalidInvite()
    try:
        with transaction.atomic():
            if Membership.objects.filter(group=invite.group, user=user).exists():
                return invite.group
            if not Invite.objects.filter(_live_invites(), pk=invite.pk).update(uses=F("uses") + 1):
                raise InvalidInvite()
            Membership.objects.create(group=invite.group, user=user, role=Membership.Role.MEMBER)
    except IntegrityError:  # the same member joining twice at once: the other request enrolled them
        pass
    return invite.group
