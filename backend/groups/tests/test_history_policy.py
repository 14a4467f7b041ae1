"""HARUCHAT_OPERATOR_READS_HISTORY: off, nobody reads a member's conversations; on, their group's operator
may, read-only, and every read is in the audit log the member and admins can see."""

from __future__ import annotations

import pytest

from chat.selectors import assistant_default
from chat.services.conversations import conversation_create
from conftest import client_for, make_member
from groups.models import Group, HistoryRead, Membership


@pytest.fixture
def school(db, upstream):
    operator = make_member("teacher@example.com", "teacher")
    admin = make_member("admin@example.com", "admin", is_staff=True)
    alice, carol = make_member("alice@example.com", "alice"), make_member("carol@example.com", "carol")
    group_a, group_b = Group.objects.create(name="A"), Group.objects.create(name="B")
    Membership.objects.create(group=group_a, user=operator, role=Membership.Role.OPERATOR)
    Membership.objects.create(group=group_a, user=alice)
    Membership.objects.create(group=group_b, user=carol)
    conversation = conversation_create(user=alice, assistant=assistant_default(), title="my essay")
    client_for(alice).post(f"/api/conversations/{conversation.pk}/messages", {"content": "secret"}, format="json")
    return {"operator": operator, "admin": admin, "alice": alice, "carol": carol, "A": group_a, "B": group_b,
            "conversation": conversation}  # fmt: skip


def paths(school, member: str = "alice", group: str = "A") -> tuple[str, str]:
    base = f"/api/groups/{school[group].pk}/members/{school[member].pk}/conversations"
    return base, f"{base}/{school['conversation'].pk}"


def test_off_by_default_every_route_is_404_for_everyone(school, settings):
    assert settings.HARUCHAT_OPERATOR_READS_HISTORY is False
    for reader in ("operator", "admin"):
        for path in paths(school):
            assert client_for(school[reader]).get(path).status_code == 404
    assert not HistoryRead.objects.exists()
    assert client_for(school["alice"]).get("/api/auth/registration").json()["operator_reads_history"] is False


def test_on_the_operator_reads_and_each_read_is_audited(school, settings):
    settings.HARUCHAT_OPERATOR_READS_HISTORY = True
    operator = client_for(school["operator"])
    listing, detail = paths(school)
    assert [c["title"] for c in operator.get(listing).json()] == ["my essay"]
    read = operator.get(detail).json()
    assert read["messages"][0]["content"] == "secret"
    assert read["completions"][0]["request"]["messages"][-1]["content"] == "secret"
    mine = client_for(school["alice"]).get("/api/auth/me/audit").json()
    assert [(r["action"], r["reader"]["email"], r["conversation_id"]) for r in mine] == [
        ("read", "teacher@example.com", school["conversation"].pk),
        ("list", "teacher@example.com", None),
    ]
    assert mine[0]["conversation_title"] == "my essay" and mine[0]["group"]["name"] == "A"
    assert len(client_for(school["admin"]).get("/api/audit").json()) == 2
    assert client_for(school["alice"]).get("/api/auth/registration").json()["operator_reads_history"] is True


def test_on_reading_is_read_only_and_kept_to_the_operators_group(school, settings):
    settings.HARUCHAT_OPERATOR_READS_HISTORY = True
    operator = client_for(school["operator"])
    listing, detail = paths(school)
    assert operator.patch(detail, {"title": "x"}, format="json").status_code == 405
    assert operator.delete(detail).status_code == 405
    for path in (*paths(school, "carol", "A"), *paths(school, "carol", "B")):
        assert operator.get(path).status_code == 404  # another group's member, or through another group
    for path in paths(school):
        assert client_for(school["carol"]).get(path).status_code == 404  # a member is no operator
    assert client_for(school["operator"]).get("/api/audit").status_code == 403
    assert client_for(school["carol"]).get("/api/auth/me/audit").json() == []
    assert HistoryRead.objects.count() == 0
    school["conversation"].delete()  # the audit outlives what was read
    operator.get(listing)
    assert HistoryRead.objects.count() == 1
