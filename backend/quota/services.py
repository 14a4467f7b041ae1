"""The daily allowance: reserve before a model call, refund or settle after.

Following the race-safe design of Zulip's AI summaries: the reservation is
one conditional statement (`requests = requests + 1 WHERE requests < limit`,
as an upsert that also creates the day's row), never held open across the
model call, so any number of processes, threads and retries can never pass
the limit.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import F, QuerySet, Subquery
from django.utils import timezone
from rest_framework import status

from accounts.models import User
from common.errors import ApiError
from common.sql_batch import Batch, Returned
from groups.models import Membership
from quota.models import DailyUsage, QuotaOverride
from quota.serializers import quota_output

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Allowance:
    """A member's daily limit and the rule that gave it: their own (`member`), a group's, or the default."""

    limit: int
    source: str = "default"
    group: dict[str, Any] | None = None  # {"id", "name"} when a group's limit applies


@dataclass(frozen=True)
class QuotaStatus:
    limit: int
    used: int
    resets_at: dt.datetime
    source: str = "default"
    group: dict[str, Any] | None = None

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def time_zone(self) -> str:
        """The quota's time zone, in which the day and `resets_at` are told."""
        return str(self.resets_at.tzinfo)

    def headers(self) -> dict[str, str]:
        """The rate-limit headers sent with every chat response."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.resets_at.timestamp())),
        }


@dataclass(frozen=True)
class Reservation:
    """One counted request; `day` is kept so a refund after midnight hits the right row."""

    user_id: int
    day: dt.date
    status: QuotaStatus


class QuotaExceeded(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "quota_exceeded"


class QuotaUnavailable(ApiError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The usage ledger cannot be reached, so no model request can be counted. Try again shortly."
    default_code = "quota_unavailable"


def quota_timezone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.HARUCHAT_QUOTA_TZ)


def quota_day(now: dt.datetime | None = None) -> dt.date:
    """Today in the quota's time zone."""
    return (now or timezone.now()).astimezone(quota_timezone()).date()


def quota_resets_at(day: dt.date) -> dt.datetime:
    """The next midnight after `day` in the quota's time zone."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=quota_timezone())


# The group whose daily limit is the most generous among a member's (ties: the oldest group).
def _most_generous_group(user_id: Any) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user_id, group__daily_limit__isnull=False).order_by(
        "-group__daily_limit", "group_id"
    )


def group_allowance_subqueries(user_ref: Any) -> dict[str, Subquery]:
    """Annotations that read the most generous group's limit with the member (no query of their own)."""
    best = _most_generous_group(user_ref)
    return {
        "group_daily_limit": Subquery(best.values("group__daily_limit")[:1]),
        "group_daily_limit_id": Subquery(best.values("group_id")[:1]),
        "group_daily_limit_name": Subquery(best.values("group__name")[:1]),
    }


def quota_allowance(user: User) -> Allowance:
    """The one rule: the member's own limit if set, else the most generous of their groups', else the default.

    Reads what was loaded with the member when it was (an override, the group annotations of
    `group_allowance_subqueries`); otherwise one query each.
    """
    try:
        return Allowance(user.quota_override.daily_limit, "member")
    except QuotaOverride.DoesNotExist:
        pass
    if hasattr(user, "group_daily_limit"):
        limit, group_id, name = user.group_daily_limit, user.group_daily_limit_id, user.group_daily_limit_name
    else:
        limit, group_id, name = _most_generous_group(user.pk).values_list(
            "group__daily_limit", "group_id", "group__name"
        ).first() or (None, None, None)
    if limit is not None:
        return Allowance(limit, "group", {"id": group_id, "name": name})
    return Allowance(settings.HARUCHAT_DAILY_LIMIT)


def quota_status(*, user: User, now: dt.datetime | None = None) -> QuotaStatus:
    day = quota_day(now)
    used = DailyUsage.objects.filter(user=user, day=day).values_list("requests", flat=True).first() or 0
    allowance = quota_allowance(user)
    return QuotaStatus(allowance.limit, used, quota_resets_at(day), allowance.source, allowance.group)


# One statement creates today's row or counts one more on it, only while under
# the limit, and says how many are used: no row comes back when the allowance
# is spent. (INSERT ... SELECT ... WHERE: SQLite needs the WHERE to parse an
# upsert from a SELECT; it also keeps a limit of 0 from counting the first.)
_RESERVE_SQL = """
    INSERT INTO {table} (user_id, day, requests, prompt_tokens, completion_tokens)
    SELECT %s, %s, 1, 0, 0 WHERE %s > 0
    ON CONFLICT (user_id, day) DO UPDATE SET requests = {table}.requests + 1
    WHERE {table}.requests < %s
    RETURNING requests
"""


def quota_reserve(*, user: User, now: dt.datetime | None = None) -> Reservation:
    """Count one model request, or raise 429 when today's allowance is spent.

    Fails closed: if the ledger can't be written, the request is refused (503).
    """
    writes = Batch()
    pending = quota_reserve_in(writes, user=user, now=now)
    try:
        writes.run()
    except DatabaseError as exc:
        logger.exception("quota ledger unavailable")
        raise QuotaUnavailable() from exc
    return pending.reservation()


@dataclass(frozen=True)
class PendingReservation:
    """A reservation sent in a batch; `reservation()` reads its outcome once the batch has run."""

    user: User
    day: dt.date
    allowance: Allowance
    now: dt.datetime | None
    counted: Returned

    def status(self, used: int) -> QuotaStatus:
        allowance = self.allowance
        return QuotaStatus(allowance.limit, used, quota_resets_at(self.day), allowance.source, allowance.group)

    def reservation(self) -> Reservation:
        """The counted request, or 429 when the allowance was spent (roll the batch's transaction back)."""
        resets_at = quota_resets_at(self.day)
        if not self.counted.rows:
            used = DailyUsage.objects.filter(user=self.user, day=self.day).values_list("requests", flat=True).first()
            current = self.status(used or 0)
            retry_after = max(math.ceil((resets_at - (self.now or timezone.now())).total_seconds()), 1)
            raise QuotaExceeded(
                f"You have used all {current.limit} model requests for today. "
                f"The allowance resets at {resets_at.isoformat()}.",
                headers={**current.headers(), "Retry-After": str(retry_after)},
                extra={"quota": quota_output(current)},
            )
        return Reservation(user_id=self.user.pk, day=self.day, status=self.status(self.counted.rows[0][0]))


def quota_reserve_in(batch: Batch, *, user: User, now: dt.datetime | None = None) -> PendingReservation:
    """Add the reservation's one statement to `batch`, so it travels with the call's record."""
    day = quota_day(now)
    allowance = quota_allowance(user)
    table = connection.ops.quote_name(DailyUsage._meta.db_table)
    counted = batch.statement(_RESERVE_SQL.format(table=table), [user.pk, day, allowance.limit, allowance.limit])
    return PendingReservation(user=user, day=day, allowance=allowance, now=now, counted=counted)


def quota_refund(*, reservation: Reservation) -> None:
    """Give back a reserved request whose model call produced nothing."""
    quota_refund_day(user_id=reservation.user_id, day=reservation.day)


def quota_refund_day(*, user_id: int, day: dt.date) -> None:
    """Give back one request counted on `day` (never below zero)."""
    DailyUsage.objects.filter(user_id=user_id, day=day, requests__gt=0).update(requests=F("requests") - 1)


def quota_settle(batch: Batch, *, reservation: Reservation, prompt_tokens: int, completion_tokens: int) -> None:
    """Add a successful call's token usage, in `batch`, to the day it was counted on."""
    batch.update(
        DailyUsage,
        {"user_id": reservation.user_id, "day": reservation.day},
        add={"prompt_tokens": max(prompt_tokens, 0), "completion_tokens": max(completion_tokens, 0)},
    )
