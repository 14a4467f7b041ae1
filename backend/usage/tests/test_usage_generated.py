"""Usage reports on generated traffic: every dimension's rows and totals are what the call records say.

Members in two overlapping groups send through the web app and /v1, on two
models, some calls failing and some refused, in a seeded random order.
The expected figures are computed from the records alone (Completion,
CompletionReply, the refusals' status codes), never from the roll-ups.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict

import pytest
from django.db.models import Sum

from chat.models import Completion, CompletionReply
from chat.selectors import assistant_default
from chat.services.conversations import conversation_create
from chat.tests.test_concurrency_http import post_json
from conftest import client_for, make_member
from gateway.services import api_key_create
from groups.models import Group, Membership
from quota.services import quota_day
from usage.models import COUNTS, UsageDay, UsageMemberDay, UsageModelDay

MODELS = ("fake-model", "fake-model-large")


@pytest.fixture
def traffic(live_uvicorn, upstream, settings):
    settings.HARUCHAT_DAILY_LIMIT = 4
    rng = random.Random(2026)
    admin = make_member("admin@example.com", "admin", is_staff=True)
    members = [make_member(f"m{n}@example.com", f"m{n}") for n in range(5)]
    groups = [Group.objects.create(name="North"), Group.objects.create(name="South")]
    for n, member in enumerate(members):  # m2 is in both
        for group in groups[: 1 + (n == 2)] if n <= 2 else groups[1:]:
            Membership.objects.create(group=group, user=member)
    keys = {member.pk: api_key_create(user=member, name="generated")[1] for member in members}
    refused: Counter[tuple[int, str, str]] = Counter()  # (member, model, source) → 429s
    for n in range(40):
        member, model = rng.choice(members), rng.choice(MODELS)
        if rng.random() < 0.2:
            upstream.configure(status=500, fail_times=1)
        if rng.random() < 0.4:
            source = "gateway"
            body = {"model": model, "messages": [{"role": "user", "content": f"q{n}"}]}
            status, _, _ = post_json(f"{live_uvicorn.url}/v1/chat/completions", keys[member.pk], body)
        else:
            source = "web"
            conversation = conversation_create(user=member, assistant=assistant_default(), model=model)
            status = (
                client_for(member)
                .post(f"/api/conversations/{conversation.pk}/messages", {"content": f"q{n}"}, format="json")
                .status_code
            )
        upstream.configure(status=200, fail_times=0)
        assert status in (200, 201, 429, 502), status
        if status == 429:
            refused[(member.pk, model, source)] += 1
    return {"admin": admin, "members": members, "groups": groups, "refused": refused}


def expected(traffic, key) -> dict:
    """Figures per `key(member_id, model, source)` from the call records and the refusals alone."""
    figures: dict = defaultdict(Counter)
    replies = CompletionReply.objects.values("completion_id")
    tokens = {row["completion_id"]: row for row in replies.annotate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"))}
    calls = Completion.objects.filter(purpose=Completion.Purpose.ANSWER).values_list(
        "pk", "user_id", "model", "conversation__source", "status"
    )
    for pk, user_id, model, source, status in calls:
        for k in key(user_id, model, source):
            row = figures[k]
            row["requests"] += status == Completion.Status.SUCCEEDED
            row["failed"] += status == Completion.Status.FAILED
            row["prompt_tokens"] += (tokens.get(pk) or {}).get("p") or 0
            row["completion_tokens"] += (tokens.get(pk) or {}).get("c") or 0
            row["members"] = row.get("members", frozenset()) | {user_id}
    for (user_id, model, source), count in traffic["refused"].items():
        for k in key(user_id, model, source):
            figures[k]["refused"] += count
            figures[k]["members"] = figures[k].get("members", frozenset()) | {user_id}
    return {
        k: {name: row[name] for name in ("requests", "refused", "failed", "prompt_tokens", "completion_tokens")}
        | {"active_members": len(row["members"])}
        for k, row in figures.items()
    }


def reported(admin, by: str, **params) -> tuple[dict, dict]:
    response = client_for(admin).get("/api/usage", {"by": by, **params})
    assert response.status_code == 200, response.json()
    body = response.json()
    label = {"member": lambda r: r["member"]["id"], "group": lambda r: r["group"]["id"]}.get(by, lambda r: r[by])
    rows = {label(row): {k: v for k, v in row.items() if k not in (by,)} for row in body["rows"]}
    return rows, body["totals"]


def test_the_traffic_has_every_outcome(traffic):
    statuses = Counter(Completion.objects.values_list("status", flat=True))
    assert statuses["succeeded"] and statuses["failed"] and sum(traffic["refused"].values())
    assert set(Completion.objects.values_list("conversation__source", flat=True)) == {"web", "gateway"}


@pytest.mark.parametrize("by", ["member", "model", "source", "day"])
def test_each_dimensions_rows_are_the_records_summed(traffic, by):
    key = {
        "member": lambda user, model, source: [user],
        "model": lambda user, model, source: [model],
        "source": lambda user, model, source: [source],
        "day": lambda user, model, source: [quota_day().isoformat()],
    }[by]
    rows, totals = reported(traffic["admin"], by)
    assert rows == expected(traffic, key)
    assert totals == expected(traffic, lambda *_: ["all"])["all"]


def test_group_rows_count_a_member_in_each_of_their_groups(traffic):
    memberships = defaultdict(list)
    for group_id, user_id in Membership.objects.values_list("group_id", "user_id"):
        memberships[user_id].append(group_id)
    rows, _ = reported(traffic["admin"], "group")
    assert rows == expected(traffic, lambda user, *_: memberships[user])


def test_filters_narrow_to_the_records_that_match(traffic):
    north = traffic["groups"][0]
    in_north = set(Membership.objects.filter(group=north).values_list("user_id", flat=True))
    for params, keep in (
        ({"model": "fake-model-large"}, lambda user, model, source: model == "fake-model-large"),
        ({"source": "gateway"}, lambda user, model, source: source == "gateway"),
        ({"group": north.pk}, lambda user, model, source: user in in_north),
        ({"group": north.pk, "model": "fake-model"}, lambda u, m, s: u in in_north and m == "fake-model"),
    ):
        _, totals = reported(traffic["admin"], "day", **params)
        assert totals == expected(traffic, lambda *k, keep=keep: ["all"] if keep(*k) else [])["all"], params


@pytest.mark.parametrize(
    ("roll_up", "key"), [(UsageMemberDay, ["user_id", "day"]), (UsageModelDay, ["user_id", "day", "model"])]
)
def test_the_smaller_roll_ups_are_the_detailed_one_summed(traffic, roll_up, key):
    summed = UsageDay.objects.values(*key).annotate(**{f"sum_{name}": Sum(name) for name in COUNTS})
    detailed = {tuple(row[k] for k in key): [row[f"sum_{name}"] for name in COUNTS] for row in summed}
    smaller = {tuple(getattr(row, k) for k in key): [getattr(row, n) for n in COUNTS] for row in roll_up.objects.all()}
    assert smaller == detailed and len(smaller) >= 5
