"""The daily allowance: atomic reservation, refunds, overrides and the day's edge."""

from __future__ import annotations

import datetime as dt
import threading
import zoneinfo

import pytest
from django.db import connection

from common.sql_batch import Batch
from conftest import make_member
from quota.models import DailyUsage, QuotaOverride
from quota.services import (
    QuotaExceeded,
    QuotaUnavailable,
    quota_day,
    quota_refund,
    quota_reserve,
    quota_resets_at,
    quota_settle,
    quota_status,
)

SEOUL = zoneinfo.ZoneInfo("Asia/Seoul")


def test_five_requests_a_day_then_quota_exceeded(member):
    for expected_used in range(1, 6):
        assert quota_reserve(user=member).status.used == expected_used
    with pytest.raises(QuotaExceeded) as caught:
        quota_reserve(user=member)
    error = caught.value
    assert error.status_code == 429
    assert error.get_codes() == "quota_exceeded"
    assert int(error.headers["Retry-After"]) > 0
    assert error.headers["X-RateLimit-Remaining"] == "0"
    assert quota_status(user=member).used == 5


def test_refund_gives_back_one_request(member):
    reservation = quota_reserve(user=member)
    quota_refund(reservation=reservation)
    assert quota_status(user=member).used == 0
    quota_refund(reservation=reservation)  # never below zero
    assert quota_status(user=member).used == 0


def test_limit_and_time_zone_are_settings(member, settings):
    settings.HARUCHAT_DAILY_LIMIT = 2
    quota_reserve(user=member)
    quota_reserve(user=member)
    with pytest.raises(QuotaExceeded):
        quota_reserve(user=member)


def test_admin_override_replaces_the_default_limit(member, other_member):
    QuotaOverride.objects.create(user=member, daily_limit=7)
    QuotaOverride.objects.create(user=other_member, daily_limit=0)
    for _ in range(7):
        quota_reserve(user=member)
    with pytest.raises(QuotaExceeded):
        quota_reserve(user=member)
    with pytest.raises(QuotaExceeded):
        quota_reserve(user=other_member)
    assert quota_status(user=other_member).used == 0  # a limit of 0 never counts the first
    assert quota_status(user=member).limit == 7


def test_the_day_turns_at_midnight_in_seoul(member):
    late = dt.datetime(2026, 3, 1, 23, 59, tzinfo=SEOUL)
    early_next = dt.datetime(2026, 3, 2, 0, 1, tzinfo=SEOUL)
    for _ in range(5):
        quota_reserve(user=member, now=late)
    with pytest.raises(QuotaExceeded):
        quota_reserve(user=member, now=late)
    assert quota_reserve(user=member, now=early_next).status.used == 1
    # 23:59 in Seoul is 14:59 UTC on the same date: the UTC date alone would be wrong.
    assert quota_day(dt.datetime(2026, 3, 1, 15, 1, tzinfo=dt.UTC)) == dt.date(2026, 3, 2)
    assert quota_resets_at(dt.date(2026, 3, 1)) == dt.datetime(2026, 3, 2, tzinfo=SEOUL)


def test_refund_after_midnight_goes_to_the_day_it_was_counted(member):
    yesterday = dt.datetime(2026, 3, 1, 23, 59, tzinfo=SEOUL)
    reservation = quota_reserve(user=member, now=yesterday)
    quota_reserve(user=member, now=dt.datetime(2026, 3, 2, 0, 1, tzinfo=SEOUL))
    quota_refund(reservation=reservation)
    rows = dict(DailyUsage.objects.filter(user=member).values_list("day", "requests"))
    assert rows == {dt.date(2026, 3, 1): 0, dt.date(2026, 3, 2): 1}


def test_settle_adds_token_usage_to_the_ledger(member):
    writes = Batch()
    quota_settle(writes, reservation=quota_reserve(user=member), prompt_tokens=12, completion_tokens=30)
    quota_settle(writes, reservation=quota_reserve(user=member), prompt_tokens=1, completion_tokens=2)
    writes.run()
    usage = DailyUsage.objects.get(user=member)
    assert (usage.requests, usage.prompt_tokens, usage.completion_tokens) == (2, 13, 32)


def test_unreachable_ledger_refuses_the_request(member):
    with connection.cursor() as cursor:  # rolled back with the test's transaction
        cursor.execute("ALTER TABLE quota_dailyusage RENAME TO quota_dailyusage_gone")
    with pytest.raises(QuotaUnavailable) as caught:
        quota_reserve(user=member)
    assert caught.value.status_code == 503


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_reservations_count_exactly_five():
    member = make_member()
    results: list[str] = []
    barrier = threading.Barrier(30)

    def reserve() -> None:
        barrier.wait()
        try:
            quota_reserve(user=member)
            results.append("ok")
        except QuotaExceeded:
            results.append("exceeded")
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve) for _ in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("ok") == 5
    assert results.count("exceeded") == 25
    assert DailyUsage.objects.get(user=member).requests == 5
