"""Usage reports: the roll-up summed over a date range, by one dimension, within what the asker may see.

A member sees themself; an operator the members of the groups they run;
an admin everyone. Anything outside that is indistinguishable from missing
(404), as everywhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.http import Http404

from accounts.models import User
from groups.models import Group, Membership
from groups.selectors import groups_run_by
from usage.models import UsageDay

METRICS = ("requests", "refused", "failed", "prompt_tokens", "completion_tokens")
DIMENSIONS = ("day", "member", "group", "model", "assistant", "source")


@dataclass(frozen=True)
class UsageQuery:
    start: dt.date
    end: dt.date  # inclusive
    by: str
    group_id: int | None = None
    member: str | None = None  # "me" or a member's id
    model: str | None = None
    source: str | None = None


def usage_scope(*, user: User, query: UsageQuery) -> QuerySet[UsageDay]:
    """The roll-up rows the asker may read, narrowed by the query's filters (404 for what they may not)."""
    rows = UsageDay.objects.filter(day__gte=query.start, day__lte=query.end)
    operated = groups_run_by(user)
    # Who is in scope is read first and passed as a list of ids: PostgreSQL plans `user_id IN (…ids)` over
    # the roll-up several times faster than the same condition as a subquery (or OR-ed with one).
    if not user.is_staff:
        visible = set(Membership.objects.filter(group__in=operated).values_list("user_id", flat=True))
        rows = rows.filter(user_id__in=sorted(visible | {user.pk}))
    if query.group_id is not None:
        group = operated.filter(pk=query.group_id).first()
        if group is None:
            raise Http404("No such group.")
        rows = rows.filter(user_id__in=sorted(Membership.objects.filter(group=group).values_list("user_id", flat=True)))
    if query.member is not None:
        member_id = user.pk if query.member == "me" else _member_id(query.member)
        if member_id != user.pk and not _visible_member(user, operated, member_id):
            raise Http404("No such member.")
        rows = rows.filter(user_id=member_id)
    if query.model:
        rows = rows.filter(model=query.model)
    if query.source:
        rows = rows.filter(source=query.source)
    return rows


def _member_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise Http404("No such member.") from None


def _visible_member(user: User, operated: QuerySet[Group], member_id: int) -> bool:
    if user.is_staff:
        return User.objects.filter(pk=member_id).exists()
    return Membership.objects.filter(group__in=operated, user_id=member_id).exists()


def _sums() -> dict[str, Sum]:
    # Named apart from the columns they sum: an annotation may not shadow a field.
    return {f"sum_{name}": Sum(name) for name in METRICS}


def _totals() -> dict[str, Any]:
    active = Q(requests__gt=0) | Q(refused__gt=0) | Q(failed__gt=0)
    return {**_sums(), "sum_active_members": Count("user", distinct=True, filter=active)}


def usage_report(*, user: User, query: UsageQuery) -> dict[str, Any]:
    """Rows by the query's dimension, and the totals, as the API shows them."""
    rows = usage_scope(user=user, query=query)
    if query.by == "group":
        # A member counts in each group of theirs the asker runs (so group rows may add up to more than the total).
        keyed = rows.filter(user__memberships__group__in=groups_run_by(user))
        if query.group_id is not None:
            keyed = keyed.filter(user__memberships__group_id=query.group_id)
        grouped = keyed.values(
            group_id=F("user__memberships__group_id"), group_name=F("user__memberships__group__name")
        )
        report_rows = [
            {**_dimension(query.by, row), **_metrics(row)}
            for row in grouped.annotate(**_totals()).order_by("group_name", "group_id")
        ]
        return {"rows": report_rows, "totals": _metrics(rows.aggregate(**_totals()))}
    if query.by == "member":
        report_rows = _member_rows(rows)
    else:
        column = {"day": "day", "model": "model", "assistant": "assistant", "source": "source"}[query.by]
        report_rows = [
            {**_dimension(query.by, row), **_metrics(row)}
            for row in rows.values(column).annotate(**_totals()).order_by(column)
        ]
    return {"rows": report_rows, "totals": _partition_totals(rows, report_rows)}


def _partition_totals(rows: QuerySet[UsageDay], report_rows: list[dict[str, Any]]) -> dict[str, int]:
    """Totals of rows that split the scope without overlap: their sums, and the active members counted once.

    Members are counted by probing each one's (user, day) index for an active row, which is far cheaper
    than a second pass over every roll-up row to count distinct ids.
    """
    totals = {name: sum(row[name] for row in report_rows) for name in METRICS}
    active = rows.filter(user_id=OuterRef("pk")).filter(Q(requests__gt=0) | Q(refused__gt=0) | Q(failed__gt=0))
    totals["active_members"] = User.objects.filter(Exists(active)).count()
    return totals


def _member_rows(rows: QuerySet[UsageDay]) -> list[dict[str, Any]]:
    """Rows by member: summed by user id first, then joined to the (far fewer) members and sorted by email.

    Joining first would make the database sort every roll-up row by email
    (about 72k for a month of 2,000 members), which dominated this report.
    """
    sums = {row["user_id"]: row for row in rows.values("user_id").annotate(**_sums()).order_by()}
    members = User.objects.filter(pk__in=list(sums)).only("email", "nickname").order_by("email", "pk")
    report_rows = []
    for member in members:
        metrics = _metrics({**sums[member.pk], "sum_active_members": None})
        metrics["active_members"] = int(metrics["requests"] + metrics["refused"] + metrics["failed"] > 0)
        report_rows.append({"member": {"id": member.pk, "email": member.email, "nickname": member.nickname}, **metrics})
    return report_rows


def _dimension(by: str, row: dict[str, Any]) -> dict[str, Any]:
    if by == "group":
        return {"group": {"id": row["group_id"], "name": row["group_name"]}}
    return {by: row[by]}


def _metrics(row: dict[str, Any]) -> dict[str, int]:
    return {name: row[f"sum_{name}"] or 0 for name in (*METRICS, "active_members")}
