"""GET /api/usage: the roll-up agrees with the call records and the ledger, and each asker sees only theirs."""

from __future__ import annotations

import csv
import io

import pytest
from django.db.models import Sum

from chat.models import Completion, CompletionReply
from chat.selectors import assistant_default
from chat.services.conversations import conversation_create
from conftest import client_for, make_member
from groups.models import Group, Membership
from quota.models import DailyUsage
from quota.services import quota_day


def send(client, conversation_id: int, text: str) -> int:
    return client.post(f"/api/conversations/{conversation_id}/messages", {"content": text}, format="json").status_code


@pytest.fixture
def world(db, upstream, settings):
    """Two groups (an operator runs A), three members (one in both), and calls: answered, failed, refused."""
    settings.HARUCHAT_DAILY_LIMIT = 3
    operator, admin = make_member("op@example.com", "op"), make_member("admin@example.com", "admin", is_staff=True)
    alice, bob, carol = (make_member(f"{n}@example.com", n) for n in ("alice", "bob", "carol"))
    group_a, group_b = Group.objects.create(name="A"), Group.objects.create(name="B")
    Membership.objects.create(group=group_a, user=operator, role=Membership.Role.OPERATOR)
    for member, group in ((alice, group_a), (bob, group_a), (bob, group_b), (carol, group_b)):
        Membership.objects.create(group=group, user=member)
    statuses: dict[str, list[int]] = {}
    for member, sends in ((alice, 5), (bob, 2), (carol, 1)):  # alice: 3 answered, 2 refused
        conversation = conversation_create(user=member, assistant=assistant_default())
        statuses[member.nickname] = [send(client_for(member), conversation.pk, f"q{n}") for n in range(sends)]
    upstream.configure(status=500, fail_times=1)  # one of carol's fails (refunded)
    conversation = conversation_create(user=carol, assistant=assistant_default(), model="fake-model-large")
    statuses["carol"].append(send(client_for(carol), conversation.pk, "fails"))
    return {
        "operator": operator, "admin": admin, "alice": alice, "bob": bob, "carol": carol,
        "A": group_a, "B": group_b, "statuses": statuses,
    }  # fmt: skip


def report(user, **params):
    response = client_for(user).get("/api/usage", params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_totals_agree_with_the_ledger_and_the_call_records(world):
    totals = report(world["admin"])["totals"]
    ledger = DailyUsage.objects.aggregate(r=Sum("requests"), p=Sum("prompt_tokens"), c=Sum("completion_tokens"))
    replies = CompletionReply.objects.aggregate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"))
    statuses = [s for member in world["statuses"].values() for s in member]
    assert totals["requests"] == ledger["r"] == statuses.count(201) == 6
    assert totals["refused"] == statuses.count(429) == 2
    assert totals["failed"] == Completion.objects.filter(status="failed").count() == 1
    assert (
        (totals["prompt_tokens"], totals["completion_tokens"])
        == (ledger["p"], ledger["c"])
        == (replies["p"], replies["c"])
    )
    assert totals["active_members"] == 3


def test_by_member_model_and_day(world):
    by_member = {row["member"]["email"]: row for row in report(world["admin"], by="member")["rows"]}
    assert (by_member["alice@example.com"]["requests"], by_member["alice@example.com"]["refused"]) == (3, 2)
    assert (by_member["carol@example.com"]["requests"], by_member["carol@example.com"]["failed"]) == (1, 1)
    by_model = {row["model"]: row for row in report(world["admin"], by="model")["rows"]}
    assert by_model["fake-model-large"]["failed"] == 1 and by_model["fake-model"]["requests"] == 6
    [today] = report(world["admin"], by="day")["rows"]
    assert today["day"] == quota_day().isoformat() and today["requests"] == 6
    assert report(world["admin"], by="assistant")["rows"][0]["assistant"] == "free-chat"
    assert report(world["admin"], source="gateway")["totals"]["requests"] == 0


def test_a_member_in_two_groups_counts_in_both(world):
    rows = {row["group"]["name"]: row for row in report(world["admin"], by="group")["rows"]}
    assert rows["A"]["requests"] == 3 + 2 and rows["B"]["requests"] == 2 + 1
    assert rows["A"]["active_members"] == 2 and rows["B"]["active_members"] == 2


def test_an_operator_sees_only_their_groups_members(world):
    emails = {row["member"]["email"] for row in report(world["operator"], by="member")["rows"]}
    assert emails == {"alice@example.com", "bob@example.com"}
    assert [row["group"]["name"] for row in report(world["operator"], by="group")["rows"]] == ["A"]
    operator = client_for(world["operator"])
    assert operator.get("/api/usage", {"group": world["B"].pk}).status_code == 404
    assert operator.get("/api/usage", {"member": world["carol"].pk}).status_code == 404
    assert report(world["operator"], member=world["bob"].pk)["totals"]["requests"] == 2


def test_a_member_sees_only_themself(world):
    mine = report(world["alice"])
    assert mine["totals"]["requests"] == 3 and report(world["alice"], member="me") == mine
    alice = client_for(world["alice"])
    assert alice.get("/api/usage", {"member": world["bob"].pk}).status_code == 404
    for who in ("alice", "operator", "admin"):  # an id past any 64-bit one is nobody, not a database error
        assert client_for(world[who]).get("/api/usage", {"member": "9999999999999999999"}).status_code == 404
    assert alice.get("/api/usage", {"group": world["A"].pk}).status_code == 404


def test_csv_carries_the_same_rows_as_json(world):
    for by in ("day", "member", "group", "model"):
        data = report(world["admin"], by=by)
        response = client_for(world["admin"]).get("/api/usage", {"by": by, "format": "csv"})
        assert response["Content-Type"].startswith("text/csv")
        lines = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert len(lines) == len(data["rows"])
        for line, row in zip(lines, data["rows"], strict=True):
            assert {k: int(line[k]) for k in row if k not in ("day", "member", "group", "model")} == {
                k: v for k, v in row.items() if k not in ("day", "member", "group", "model")
            }


def test_deleting_conversations_leaves_usage_as_it_was(world):
    before = report(world["admin"])["totals"]
    client_for(world["alice"]).delete(f"/api/conversations/{world['alice'].conversations.first().pk}")
    assert report(world["admin"])["totals"] == before


@pytest.mark.parametrize(
    ("params", "field"),
    [({"by": "week"}, "by"), ({"from": "2026-12-10", "to": "2026-12-01"}, "from"),
     ({"from": "2020-01-01", "to": "2026-12-01"}, "from"), ({"member": "you"}, "member")],
)  # fmt: skip
def test_bad_parameters_are_a_400_naming_them(world, params, field):
    response = client_for(world["admin"]).get("/api/usage", params)
    assert response.status_code == 400 and field in response.json()["errors"]
