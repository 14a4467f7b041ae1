"""Reports over several days: a member active on two days is one active member in the totals, and `limit`
keeps the rows with the most requests while the totals still cover everyone."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import client_for, make_member
from quota.services import quota_day
from usage.ledger import UsageKey, usage_add


@pytest.fixture
def days(db):
    admin = make_member("admin@example.com", "admin", is_staff=True)
    alice, bob, carol = (make_member(f"{n}@example.com", n) for n in ("alice", "bob", "carol"))
    today = quota_day()
    yesterday = today - dt.timedelta(days=1)
    for member, day, model, requests in (
        (alice, yesterday, "small", 2), (alice, today, "small", 1), (alice, today, "large", 1),
        (bob, today, "small", 4), (carol, yesterday, "large", 3),
    ):  # fmt: skip
        usage_add(UsageKey(member.pk, day, model, "free-chat", "web"), requests=requests, prompt_tokens=10 * requests)
    usage_add(UsageKey(carol.pk, yesterday, "large", "", "gateway"), refused=1)
    return {"admin": admin, "today": today, "yesterday": yesterday}


def report(days, **params) -> dict:
    response = client_for(days["admin"]).get("/api/usage", {"from": days["yesterday"], "to": days["today"], **params})
    assert response.status_code == 200, response.json()
    return response.json()


def figures(row: dict) -> tuple[int, int, int]:
    return row["requests"], row["refused"], row["active_members"]


def test_by_day_counts_each_days_members_and_the_range_counts_each_member_once(days):
    data = report(days, by="day")
    assert [(row["day"], figures(row)) for row in data["rows"]] == [
        (days["yesterday"].isoformat(), (5, 1, 2)), (days["today"].isoformat(), (6, 0, 2)),
    ]  # fmt: skip
    assert figures(data["totals"]) == (11, 1, 3) and data["totals"]["prompt_tokens"] == 110


def test_by_model_and_a_model_filter_count_members_once_across_days(days):
    by_model = {row["model"]: figures(row) for row in report(days, by="model")["rows"]}
    assert by_model == {"large": (4, 1, 2), "small": (7, 0, 2)}
    small = report(days, by="day", model="small")
    assert [figures(row) for row in small["rows"]] == [(2, 0, 1), (5, 0, 2)]
    assert figures(small["totals"]) == (7, 0, 2)
    assert figures(report(days, by="source", source="gateway")["totals"]) == (0, 1, 1)


def test_limit_keeps_the_busiest_rows_and_the_totals_of_all(days):
    data = report(days, by="member", limit=2)
    assert [(row["member"]["email"], row["requests"]) for row in data["rows"]] == [
        ("alice@example.com", 4),
        ("bob@example.com", 4),
    ]  # fmt: skip  (a tie keeps the email order)
    assert figures(data["totals"]) == (11, 1, 3)
    csv_lines = (
        client_for(days["admin"])
        .get("/api/usage", {"from": days["yesterday"], "by": "member", "limit": 1, "format": "csv"})
        .content.decode()
        .splitlines()
    )
    assert len(csv_lines) == 2 and csv_lines[1].split(",")[1] == "alice@example.com"
    bad = client_for(days["admin"]).get("/api/usage", {"limit": 0})
    assert bad.status_code == 400 and "limit" in bad.json()["errors"]
