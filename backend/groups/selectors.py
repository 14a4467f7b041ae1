"""Reads of groups, scoped to who asks: an admin sees every group, an operator the groups they run."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.models import User
from groups.models import Group, Invite, Membership


def group_list(*, user: User) -> QuerySet[Group]:
    if user.is_staff:
        return Group.objects.all()
    return Group.objects.filter(memberships__user=user, memberships__role=Membership.Role.OPERATOR)


def group_get(*, user: User, group_id: int) -> Group:
    """A group the asker may run; any other is indistinguishable from missing (404)."""
    group = group_list(user=user).filter(pk=group_id).first()
    if group is None:
        raise Http404("No such group.")
    return group


def invite_get(*, group: Group, invite_id: int) -> Invite:
    invite = group.invites.filter(pk=invite_id, revoked_at__isnull=True).first()
    if invite is None:
        raise Http404("No such invite.")
    return invite
