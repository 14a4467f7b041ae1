"""Group writes: create and change groups, issue and revoke invite codes, and join with one."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from rest_framework import status

from accounts.models import User
from common.errors import ApiError
from groups.models import Group, Invite, Membership


class InvalidInvite(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = (
        "This invite code is unknown, expired, revoked or used up. Ask your group's operator for a new one."
    )
    default_code = "invalid_invite"


def group_create(*, name: str, description: str = "", **limits: Any) -> Group:
    return Group.objects.create(name=name.strip(), description=description.strip(), **limits)


def group_update(*, group: Group, data: dict[str, Any]) -> Group:
    for field in ("name", "description", "daily_limit", "monthly_token_budget"):
        if field in data:
            setattr(group, field, data[field].strip() if isinstance(data[field], str) else data[field])
    group.save()
    return group


def group_delete(*, group: Group) -> None:
    """Delete a group with its memberships and invites (its members stay members of the deployment)."""
    group.delete()


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
