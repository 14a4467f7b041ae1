"""The daily allowance and the monthly token budget: reserve before a model call, refund or settle after.

Following the race-safe design of Zulip's AI summaries: the reservation is
one conditional statement (`requests = requests + 1 WHERE requests < limit`,
as an upsert that also creates the day's row), never held open across the
model call, so any number of processes, threads and retries can never pass
the limit. A group's monthly token budget works the same way on
`MonthlyTokens`: a call reserves an upper bound of what it can use (its
prompt's bound plus its `max_tokens`), and settling swaps that for its real
usage (or releases it, when the call failed).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, QuerySet, Subquery
from django.utils import timezone
from rest_framework import status

from accounts.models import User
from common.errors import ApiError
from common.sql_batch import Batch, Returned
from groups.models import Membership
from quota.models import DailyUsage, MonthlyTokens, QuotaOverride
from quota.serializers import quota_output

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Allowance:
    """A member's daily limit and the rule that gave it (their own (`member`), a group's, or the default),
    and their monthly token budget, if a group gives one."""

    limit: int
    source: str = "default"
    group: dict[str, Any] | None = None  # {"id", "name"} when a group's limit applies
    token_budget: int | None = None
    token_budget_group: dict[str, Any] | None = None


@dataclass(frozen=True)
class TokenBudgetStatus:
    """This month's tokens against the budget; `reserved` is held by calls in progress."""

    limit: int
    used: int
    reserved: int
    resets_at: dt.datetime
    group: dict[str, Any] | None

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used - self.reserved, 0)


@dataclass(frozen=True)
class QuotaStatus:
    limit: int
    used: int
    resets_at: dt.datetime
    source: str = "default"
    group: dict[str, Any] | None = None
    tokens: TokenBudgetStatus | None = None

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    @property
    def time_zone(self) -> str:
        """The quota's time zone, in which the day and `resets_at` are told."""
        return str(self.resets_at.tzinfo)

    def headers(self) -> dict[str, str]:
        """The rate-limit headers sent with every chat response."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.resets_at.timestamp())),
        }
        if self.tokens is not None:  # OpenAI's names for its token limits; the reset as a Unix time, like ours
            headers["X-RateLimit-Limit-Tokens"] = str(self.tokens.limit)
            headers["X-RateLimit-Remaining-Tokens"] = str(self.tokens.remaining)
            headers["X-RateLimit-Reset-Tokens"] = str(int(self.tokens.resets_at.timestamp()))
        return headers


@dataclass(frozen=True)
class Reservation:
    """One counted request and the tokens it holds; `day` is kept so a refund after midnight hits the right row
    (the month is the day's)."""

    user_id: int
    day: dt.date
    status: QuotaStatus
    tokens_reserved: int = 0


class QuotaExceeded(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "quota_exceeded"


class TokenBudgetExceeded(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "token_budget_exceeded"


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


def quota_month(day: dt.date) -> dt.date:
    """The month `day` is in, as its first day (the token budget's row)."""
    return day.replace(day=1)


def tokens_reset_at(day: dt.date) -> dt.datetime:
    """The first midnight of the month after `day`'s, in the quota's time zone."""
    following = (quota_month(day) + dt.timedelta(days=32)).replace(day=1)
    return dt.datetime.combine(following, dt.time.min, tzinfo=quota_timezone())


def _retry_after(until: dt.datetime, now: dt.datetime | None) -> str:
    return str(max(math.ceil((until - (now or timezone.now())).total_seconds()), 1))


# The most generous group of a member's for one of its allowances (ties: the oldest group).
def _most_generous_group(user_id: Any, field: str) -> QuerySet[Membership]:
    return Membership.objects.filter(user_id=user_id, **{f"group__{field}__isnull": False}).order_by(
        f"-group__{field}", "group_id"
    )


GROUP_ALLOWANCES = {"daily_limit": "group_daily_limit", "monthly_token_budget": "group_token_budget"}


def group_allowance_subqueries(user_ref: Any) -> dict[str, Subquery]:
    """Annotations that read the most generous groups' allowances with the member (no query of their own)."""
    annotations = {}
    for field, name in GROUP_ALLOWANCES.items():
        best = _most_generous_group(user_ref, field)
        annotations[name] = Subquery(best.values(f"group__{field}")[:1])
        annotations[f"{name}_id"] = Subquery(best.values("group_id")[:1])
        annotations[f"{name}_name"] = Subquery(best.values("group__name")[:1])
    return annotations


def group_allowance_names() -> list[str]:
    """The attributes `group_allowance_subqueries` sets, to copy onto the member they describe."""
    return [f"{name}{suffix}" for name in GROUP_ALLOWANCES.values() for suffix in ("", "_id", "_name")]


def _group_allowances(user: User) -> dict[str, tuple[Any, Any, Any]]:
    """For each group allowance: (value, group id, group name) of the most generous of the member's groups."""
    if hasattr(user, "group_daily_limit"):
        return {
            name: (getattr(user, name), getattr(user, f"{name}_id"), getattr(user, f"{name}_name"))
            for name in GROUP_ALLOWANCES.values()
        }
    rows = list(
        Membership.objects.filter(user_id=user.pk).values_list(
            "group_id", "group__name", "group__daily_limit", "group__monthly_token_budget"
        )
    )
    best = {}
    for index, name in enumerate(GROUP_ALLOWANCES.values()):
        candidates = sorted((r for r in rows if r[2 + index] is not None), key=lambda r: (-r[2 + index], r[0]))
        best[name] = (candidates[0][2 + index], candidates[0][0], candidates[0][1]) if candidates else (None,) * 3
    return best


def quota_allowance(user: User) -> Allowance:
    """The one rule. Daily limit: the member's own if set, else the most generous of their groups', else the
    default. Monthly token budget: the most generous of those their groups set; none when no group sets one.

    Reads what was loaded with the member when it was (an override, the annotations of
    `group_allowance_subqueries`); otherwise one query each.
    """
    groups = _group_allowances(user)
    budget, budget_group_id, budget_group_name = groups["group_token_budget"]
    tokens: dict[str, Any] = {"token_budget": budget}
    if budget is not None:
        tokens["token_budget_group"] = {"id": budget_group_id, "name": budget_group_name}
    try:
        return Allowance(user.quota_override.daily_limit, "member", **tokens)
    except QuotaOverride.DoesNotExist:
        pass
    limit, group_id, name = groups["group_daily_limit"]
    if limit is not None:
        return Allowance(limit, "group", {"id": group_id, "name": name}, **tokens)
    return Allowance(settings.HARUCHAT_DAILY_LIMIT, **tokens)


def quota_status(*, user: User, now: dt.datetime | None = None) -> QuotaStatus:
    day = quota_day(now)
    used = DailyUsage.objects.filter(user=user, day=day).values_list("requests", flat=True).first() or 0
    allowance = quota_allowance(user)
    tokens = None
    if allowance.token_budget is not None:
        month = MonthlyTokens.objects.filter(user=user, month=quota_month(day)).values_list("used", "reserved")
        tokens = _token_status(allowance, day, *(month.first() or (0, 0)))
    return QuotaStatus(allowance.limit, used, quota_resets_at(day), allowance.source, allowance.group, tokens)


def _token_status(allowance: Allowance, day: dt.date, used: int, reserved: int) -> TokenBudgetStatus:
    assert allowance.token_budget is not None
    return TokenBudgetStatus(allowance.token_budget, used, reserved, tokens_reset_at(day), allowance.token_budget_group)


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

# The same for the month's tokens: hold `n` more only while used + reserved + n stays within the budget.
_RESERVE_TOKENS_SQL = """
    INSERT INTO {table} (user_id, month, used, reserved)
    SELECT %s, %s, 0, %s WHERE %s <= %s
    ON CONFLICT (user_id, month) DO UPDATE SET reserved = {table}.reserved + %s
    WHERE {table}.used + {table}.reserved + %s <= %s
    RETURNING used, reserved
"""

# Settle a call on the month: its real usage is added and what it held given back (a call a sweep closed
# has had its hold given back already, and settles with none). Every call's tokens are kept, budget or not.
_SETTLE_TOKENS_SQL = """
    INSERT INTO {table} (user_id, month, used, reserved) VALUES (%s, %s, %s, 0)
    ON CONFLICT (user_id, month) DO UPDATE SET used = {table}.used + %s,
    reserved = CASE WHEN {table}.reserved > %s THEN {table}.reserved - %s ELSE 0 END
"""


def _table(model: type[Any]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def quota_reserve(*, user: User, now: dt.datetime | None = None, tokens: int = 0) -> Reservation:
    """Count one model request (and hold `tokens` of a token budget), or raise 429 when the allowance is spent.

    Fails closed: if the ledger can't be written, the request is refused (503).
    """
    writes = Batch()
    pending = quota_reserve_in(writes, user=user, now=now, tokens=tokens)
    try:
        with transaction.atomic():
            writes.run()
            return pending.reservation()
    except DatabaseError as exc:
        logger.exception("quota ledger unavailable")
        raise QuotaUnavailable() from exc


@dataclass(frozen=True)
class PendingReservation:
    """A reservation sent in a batch; `reservation()` reads its outcome once the batch has run."""

    user: User
    day: dt.date
    allowance: Allowance
    now: dt.datetime | None
    counted: Returned
    tokens: int  # held against the token budget (0 when none applies)
    held: Returned | None

    def status(self, used: int, tokens: tuple[int, int] | None = None) -> QuotaStatus:
        allowance = self.allowance
        token_status = _token_status(allowance, self.day, *tokens) if tokens is not None else None
        return QuotaStatus(
            allowance.limit, used, quota_resets_at(self.day), allowance.source, allowance.group, token_status
        )

    def reservation(self) -> Reservation:
        """The counted request, or 429 when an allowance was spent (roll the batch's transaction back)."""
        if not self.counted.rows:
            used = DailyUsage.objects.filter(user=self.user, day=self.day).values_list("requests", flat=True).first()
            current = self.status(used or 0, self._month_now())
            resets_at = quota_resets_at(self.day)
            raise QuotaExceeded(
                f"You have used all {current.limit} model requests for today. "
                f"The allowance resets at {resets_at.isoformat()}.",
                headers={**current.headers(), "Retry-After": _retry_after(resets_at, self.now)},
                extra={"quota": quota_output(current)},
            )
        used = self.counted.rows[0][0]
        if self.held is not None and not self.held.rows:
            current = self.status(used - 1, self._month_now())  # this request is not counted: it rolls back
            assert current.tokens is not None
            resets_at = current.tokens.resets_at
            group = f" by {current.tokens.group['name']}" if current.tokens.group else ""
            raise TokenBudgetExceeded(
                f"This request could use up to {self.tokens} tokens, and {current.tokens.remaining} of the "
                f"{current.tokens.limit} tokens this month's budget{group} gives you are left. A smaller "
                f"max_tokens or a shorter conversation needs fewer; the budget renews at {resets_at.isoformat()}.",
                headers={**current.headers(), "Retry-After": _retry_after(resets_at, self.now)},
                extra={"quota": quota_output(current), "tokens_needed": self.tokens},
            )
        held = tuple(self.held.rows[0]) if self.held is not None else None
        return Reservation(
            user_id=self.user.pk, day=self.day, status=self.status(used, held), tokens_reserved=self.tokens
        )

    def _month_now(self) -> tuple[int, int] | None:
        if self.held is None:
            return None
        month = MonthlyTokens.objects.filter(user=self.user, month=quota_month(self.day))
        return month.values_list("used", "reserved").first() or (0, 0)


def quota_reserve_in(
    batch: Batch,
    *,
    user: User,
    now: dt.datetime | None = None,
    tokens: int = 0,
    allowance: Allowance | None = None,
) -> PendingReservation:
    """Add the reservation's statements to `batch`, so they travel with the call's record.

    `tokens`: the most the call can use, held against the member's token budget if one applies.
    """
    day = quota_day(now)
    allowance = allowance or quota_allowance(user)
    counted = batch.statement(
        _RESERVE_SQL.format(table=_table(DailyUsage)), [user.pk, day, allowance.limit, allowance.limit]
    )
    held = None
    budget = allowance.token_budget
    if budget is None:
        tokens = 0
    else:
        held = batch.statement(
            _RESERVE_TOKENS_SQL.format(table=_table(MonthlyTokens)),
            [user.pk, quota_month(day), tokens, tokens, budget, tokens, tokens, budget],
        )
    return PendingReservation(
        user=user, day=day, allowance=allowance, now=now, counted=counted, tokens=tokens, held=held
    )


def quota_refund(*, reservation: Reservation) -> None:
    """Give back a reserved request whose model call produced nothing, and the tokens it held."""
    quota_refund_day(user_id=reservation.user_id, day=reservation.day, tokens=reservation.tokens_reserved)


def quota_refund_day(*, user_id: int, day: dt.date, tokens: int = 0) -> None:
    """Give back one request counted on `day` (never below zero), and `tokens` held in its month."""
    DailyUsage.objects.filter(user_id=user_id, day=day, requests__gt=0).update(requests=F("requests") - 1)
    if tokens:
        writes = Batch()
        tokens_settle_in(writes, user_id=user_id, day=day, held=tokens, used=0)
        writes.run()


def tokens_settle_in(batch: Batch, *, user_id: int, day: dt.date, held: int, used: int) -> None:
    """Add a call's real token usage to its month and give back what it held, in `batch`."""
    batch.statement(
        _SETTLE_TOKENS_SQL.format(table=_table(MonthlyTokens)),
        [user_id, quota_month(day), used, used, held, held],
        returns_rows=False,
    )


def quota_settle(
    batch: Batch, *, reservation: Reservation, prompt_tokens: int, completion_tokens: int, swept: bool = False
) -> None:
    """Add a successful call's token usage, in `batch`, to the day it was counted on and to its month.

    `swept`: a sweep closed the call (its process looked gone) and gave back its request and hold before it
    answered after all; the answer is counted again and there is no hold left to give back.
    """
    prompt_tokens, completion_tokens = max(prompt_tokens, 0), max(completion_tokens, 0)
    batch.update(
        DailyUsage,
        {"user_id": reservation.user_id, "day": reservation.day},
        add={"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens, "requests": int(swept)},
    )
    tokens_settle_in(
        batch,
        user_id=reservation.user_id,
        day=reservation.day,
        held=0 if swept else reservation.tokens_reserved,
        used=prompt_tokens + completion_tokens,
    )
