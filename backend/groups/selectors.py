"""Reads of groups, scoped to who asks: an admin sees every group, an operator the groups they run.

Each read loads what its output shows in a fixed number of queries, however many groups or members.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import User
from chat.models import Assistant
from groups.models import Group, Invite, Membership
from quota.models import DailyUsage, MonthlyTokens
from quota.services import group_allowance_subqueries, quota_allowance, quota_day


def _operated_ids(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user.pk, role=Membership.Role.OPERATOR).values("group_id")


def _with_details(groups: QuerySet[Group]) -> QuerySet[Group]:
    """What a group's output shows: its member count, assistants and operators (three queries in all)."""
    operators = Membership.objects.filter(role=Membership.Role.OPERATOR).select_related("user")
    return groups.annotate(member_count=Count("memberships", distinct=True)).prefetch_related(
        Prefetch("allowed_assistants", queryset=Assistant.objects.only("id", "slug")),
        Prefetch("memberships", queryset=operators, to_attr="operator_memberships"),
    )


def groups_run_by(user: User) -> QuerySet[Group]:
    """The groups the asker runs: every group for an admin, an operator's own otherwise."""
    # By subquery, not a join: a join on memberships would make the member count count only the asker.
    return Group.objects.all() if user.is_staff else Group.objects.filter(pk__in=_operated_ids(user))


def group_list(*, user: User) -> QuerySet[Group]:
    return _with_details(groups_run_by(user))


def group_get(*, user: User, group_id: int, details: bool = False) -> Group:
    """A group the asker may run, with what its output shows when `details`; any other group is
    indistinguishable from a missing one (404)."""
    groups = groups_run_by(user)
    group = (_with_details(groups) if details else groups).filter(pk=group_id).first()
    if group is None:
        raise Http404("No such group.")
    return group


def groups_operated(*, user: User) -> list[dict[str, Any]]:
    """The groups a member runs as an operator, as {id, name} (one query; `/api/auth/me` shows them)."""
    return list(Group.objects.filter(pk__in=_operated_ids(user)).values("id", "name"))


def invite_get(*, group: Group, invite_id: int) -> Invite:
    invite = group.invites.filter(pk=invite_id, revoked_at__isnull=True).first()
    if invite is None:
        raise Http404("No such invite.")
    return invite


@dataclass(frozen=True)
class MemberRow:
    """A member of a group as an operator sees them: their role, today's use and this month's tokens."""

    membership: Membership
    requests_today: int
    daily_limit: int
    daily_limit_source: str
    tokens_this_month: int

    @property
    def user(self) -> User:
        return self.membership.user


def _member_rows(memberships: QuerySet[Membership]) -> list[MemberRow]:
    """One query for any number of members: usage and the allowance rule's inputs come as subqueries.

    The effective limit is quota.services.quota_allowance's, the one rule, fed what it would
    otherwise look up per member (their override, their groups' most generous limits).
    """
    day = quota_day()
    allowance_inputs = group_allowance_subqueries(OuterRef("user_id"))
    usage = DailyUsage.objects.filter(user_id=OuterRef("user_id"), day=day).values("requests")[:1]
    tokens = MonthlyTokens.objects.filter(user_id=OuterRef("user_id"), month=day.replace(day=1)).values("used")[:1]
    rows = memberships.select_related("user", "user__quota_override").annotate(
        requests_today=Coalesce(Subquery(usage), Value(0)),
        tokens_this_month=Coalesce(Subquery(tokens), Value(0)),
        **allowance_inputs,
    )
    result = []
    for membership in rows:
        for name in allowance_inputs:
            setattr(membership.user, name, getattr(membership, name))
        allowance = quota_allowance(membership.user)
        result.append(
            MemberRow(
                membership,
                requests_today=membership.requests_today,
                daily_limit=allowance.limit,
                daily_limit_source=allowance.source,
                tokens_this_month=membership.tokens_this_month,
            )
        )
    return result


def member_list(*, group: Group) -> list[MemberRow]:
    return _member_rows(group.memberships.all())


def member_get(*, group: Group, user_id: int) -> MemberRow:
    """A member of this group; anyone else (a member of another group too) is a 404."""
    rows = _member_rows(group.memberships.filter(user_id=user_id))
    if not rows:
        raise Http404("No such member in this group.")
    return rows[0]


def membership_get(*, group: Group, user_id: int) -> Membership:
    membership = group.memberships.filter(user_id=user_id).select_related("user").first()
    if membership is None:
        raise Http404("No such member in this group.")
    return membership
