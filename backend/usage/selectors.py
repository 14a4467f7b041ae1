"""Usage reports: the roll-up summed over a date range, by one dimension, within what the asker may see.

A member sees themself; an operator the members of the groups they run;
an admin everyone. Anything outside that is indistinguishable from missing
(404), as everywhere else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404

from accounts.models import User
from groups.models import Group, Membership
from groups.selectors import groups_run_by
from usage.models import COUNTS, UsageDay, UsageMemberDay, UsageModelDay

METRICS = tuple(COUNTS)
# A member is active on a row that counts a request, a refusal or a failure (tokens alone are not use).
ACTIVITY = ("requests", "refused", "failed")
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
    limit: int | None = None  # only the rows with the most requests


def usage_scope(*, user: User, query: UsageQuery) -> QuerySet[Any]:
    """The roll-up rows the asker may read, narrowed by the query's filters (404 for what they may not).

    From the smallest roll-up that has the columns the query splits or filters by: the member's day,
    the model's day, or the detailed one (assistant and source).
    """
    if query.source or query.by in ("assistant", "source"):
        table: type[models.Model] = UsageDay
    elif query.model or query.by == "model":
        table = UsageModelDay
    else:
        table = UsageMemberDay
    rows = table.objects.filter(day__gte=query.start, day__lte=query.end)
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


BIGGEST_ID = 2**63 - 1  # ids are 64-bit: a larger number is no member (and no database could look it up)


def _member_id(value: str) -> int:
    try:
        member_id = int(value)
    except ValueError:
        raise Http404("No such member.") from None
    if not 0 < member_id <= BIGGEST_ID:
        raise Http404("No such member.")
    return member_id


def _visible_member(user: User, operated: QuerySet[Group], member_id: int) -> bool:
    if user.is_staff:
        return User.objects.filter(pk=member_id).exists()
    return Membership.objects.filter(group__in=operated, user_id=member_id).exists()


def _sums() -> dict[str, Sum]:
    # Named apart from the columns they sum: an annotation may not shadow a field.
    return {f"sum_{name}": Sum(name) for name in METRICS}


ACTIVE = Q(requests__gt=0) | Q(refused__gt=0) | Q(failed__gt=0)  # ACTIVITY, as a filter


def usage_report(*, user: User, query: UsageQuery) -> dict[str, Any]:
    """Rows by the query's dimension, and the totals, as the API shows them."""
    rows = usage_scope(user=user, query=query)
    if query.by == "group":
        # A member counts in each group of theirs the asker runs (so group rows may add up to more than the total).
        keyed = rows.filter(user__memberships__group__in=groups_run_by(user))
        if query.group_id is not None:
            keyed = keyed.filter(user__memberships__group_id=query.group_id)
        keyed = keyed.annotate(
            group_id=F("user__memberships__group_id"), group_name=F("user__memberships__group__name")
        )
        per_member = keyed.values("group_name", "group_id", "user_id").annotate(**_sums())
        summed, _ = _summed(per_member, ["group_name", "group_id"])
        report_rows = [{"group": {"id": row.pop("group_id"), "name": row.pop("group_name")}, **row} for row in summed]
        totals = _metrics(rows.aggregate(**_sums(), sum_active_members=Count("user", distinct=True, filter=ACTIVE)))
    elif query.by == "member":
        report_rows, totals = _member_rows(rows)
    else:
        if query.by == "day" and (rows.model is UsageMemberDay or (rows.model is UsageModelDay and query.model)):
            # Already one row per member and day: nothing to sum first.
            per_member = rows.values("day", "user_id", **{f"sum_{name}": F(name) for name in METRICS})
        else:
            per_member = rows.values(query.by, "user_id").annotate(**_sums())
        report_rows, totals = _summed(per_member, [query.by])
    if query.limit is not None:  # the most requests first; a stable sort keeps ties in the dimension's order
        report_rows = sorted(report_rows, key=lambda row: -row["requests"])[: query.limit]
    return {"rows": report_rows, "totals": totals}


def _summed(per_member: QuerySet[Any], keys: list[str]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows summed by `keys` from `per_member` (sums per key and member, named sum_*), and the totals.

    Summing per member first lets each key count its distinct active members
    from a few thousand sums: PostgreSQL hashes that grouping, where
    COUNT(DISTINCT user_id) over the roll-up would sort every row (some 70k a
    month for 2,000 members). Django can't aggregate over an aggregate, so the
    outer query is SQL; the totals come in the same statement.
    """
    sql, params = per_member.order_by().query.sql_with_params()
    quote = connection.ops.quote_name
    names = [quote(key) for key in keys]
    sums = ", ".join(f"SUM({quote('sum_' + name)})" for name in METRICS)
    active = " + ".join(quote(f"sum_{name}") for name in ACTIVITY)
    positions = ", ".join(str(n) for n in range(1, len(keys) + 2))
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH per_member AS ({sql}) "
            f"SELECT 0, {', '.join(names)}, {sums}, SUM(CASE WHEN {active} > 0 THEN 1 ELSE 0 END) "
            f"FROM per_member GROUP BY {', '.join(names)} "
            f"UNION ALL SELECT 1, {', '.join(['NULL'] * len(keys))}, {sums}, "
            f"COUNT(DISTINCT CASE WHEN {active} > 0 THEN {quote('user_id')} END) FROM per_member "
            f"ORDER BY {positions}",
            params,
        )
        found = cursor.fetchall()
    width = len(keys) + 1
    report_rows = [{**dict(zip(keys, row[1:width], strict=True)), **_counts(row[width:])} for row in found[:-1]]
    if "day" in keys:  # SQLite hands a subquery's dates back as text
        for row in report_rows:
            row["day"] = row["day"] if isinstance(row["day"], dt.date) else dt.date.fromisoformat(row["day"])
    return report_rows, _counts(found[-1][width:])


def _member_rows(rows: QuerySet[Any]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows by member, sorted by email, and their totals (a member is one row, so the rows add up exactly).

    Summed by user id first, then joined to the (far fewer) members: joining first would make the
    database sort every roll-up row by email.
    """
    sql, params = rows.values("user_id").annotate(**_sums()).order_by().query.sql_with_params()
    quote = connection.ops.quote_name
    sums = ", ".join(f"per_member.{quote('sum_' + name)}" for name in METRICS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT member.id, member.email, member.nickname, {sums} FROM ({sql}) AS per_member "
            f"JOIN {quote(User._meta.db_table)} AS member ON member.id = per_member.{quote('user_id')} "
            "ORDER BY member.email, member.id",
            params,
        )
        found = cursor.fetchall()
    report_rows = []
    totals = dict.fromkeys((*METRICS, "active_members"), 0)
    for pk, email, nickname, *counts in found:
        metrics = dict(zip(METRICS, (int(count or 0) for count in counts), strict=True))
        metrics["active_members"] = int(any(metrics[name] for name in ACTIVITY))
        for name, value in metrics.items():
            totals[name] += value
        report_rows.append({"member": {"id": pk, "email": email, "nickname": nickname}, **metrics})
    return report_rows, totals


def _counts(values: tuple[Any, ...]) -> dict[str, int]:
    return {name: int(value or 0) for name, value in zip((*METRICS, "active_members"), values, strict=True)}


def _metrics(row: dict[str, Any]) -> dict[str, int]:
    return {name: int(row[f"sum_{name}"] or 0) for name in (*METRICS, "active_members")}
