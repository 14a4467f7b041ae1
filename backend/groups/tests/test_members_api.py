"""A group's members as its operator sees them (today's use, effective limit, this month's tokens); adding and
removing them; and what `/api/auth/me` tells the web app about the roles of whoever asks."""

from __future__ import annotations

import datetime as dt

from conftest import client_for, make_member
from groups.models import Group, Membership
from quota.models import DailyUsage, MonthlyTokens, QuotaOverride
from quota.services import quota_day


def _members(client, group: Group) -> dict[str, dict]:
    answer = client.get(f"/api/groups/{group.pk}/members")
    assert answer.status_code == 200, answer.content
    return {m["nickname"]: m for m in answer.json()}


def test_members_show_todays_use_their_effective_limit_and_this_months_tokens(world, settings):
    settings.HARUCHAT_DAILY_LIMIT = 5
    today = quota_day()
    world.class_a.daily_limit = 10
    world.class_a.save()
    generous = Group.objects.create(name="Generous", daily_limit=20)
    Membership.objects.create(group=generous, user=world.member)
    QuotaOverride.objects.create(user=world.operator_a, daily_limit=50)
    DailyUsage.objects.create(user=world.member, day=today, requests=3)
    DailyUsage.objects.create(user=world.member, day=today - dt.timedelta(days=1), requests=4)  # yesterday
    MonthlyTokens.objects.create(user=world.member, month=today.replace(day=1), used=1234, reserved=99)
    newcomer = make_member(email="new@example.com", nickname="new")
    Membership.objects.create(group=world.class_b, user=newcomer)

    members = _members(client_for(world.operator_a), world.class_a)
    assert set(members) == {"op-a", "student"}
    student = members["student"]
    assert student["id"] == world.member.pk and student["email"] == "student@example.com"
    assert (student["role"], student["requests_today"], student["tokens_this_month"]) == ("member", 3, 1234)
    assert (student["daily_limit"], student["daily_limit_source"]) == (20, "group")  # the most generous group
    assert (members["op-a"]["role"], members["op-a"]["daily_limit"], members["op-a"]["daily_limit_source"]) == (
        "operator",
        50,
        "member",
    )
    assert members["op-a"]["requests_today"] == 0 and members["op-a"]["tokens_this_month"] == 0
    assert "joined_at" in student
    world.class_b.daily_limit = None
    world.class_b.save()
    assert _members(client_for(world.admin), world.class_b)["new"]["daily_limit"] == 5  # the default


def test_the_member_list_takes_the_same_queries_for_any_number_of_members(world, django_assert_num_queries):
    operator = client_for(world.operator_a)
    with django_assert_num_queries(3):  # the asker, the group, its members with their usage and allowances
        operator.get(f"/api/groups/{world.class_a.pk}/members")
    today = quota_day()
    for n in range(12):
        someone = make_member(email=f"m{n}@example.com", nickname=f"m{n}")
        Membership.objects.create(group=world.class_a, user=someone)
        Membership.objects.create(group=world.class_b, user=someone)
        DailyUsage.objects.create(user=someone, day=today, requests=n)
        MonthlyTokens.objects.create(user=someone, month=today.replace(day=1), used=n * 100)
        if n % 3 == 0:
            QuotaOverride.objects.create(user=someone, daily_limit=n + 1)
    with django_assert_num_queries(3):
        assert len(operator.get(f"/api/groups/{world.class_a.pk}/members").json()) == 14


def test_an_operator_may_not_add_an_existing_account_and_learns_nothing_about_who_has_one(world):
    """Being put in a group changes one's allowance and models and shows one's usage to its operators: only an
    admin enrols an existing account directly. An operator sends an invite link, and gets the same 403 whether
    the email has an account, has none, or is not an email at all."""
    operator = client_for(world.operator_a)
    url = f"/api/groups/{world.class_a.pk}/members"
    before = list(Membership.objects.order_by("pk").values_list("group_id", "user_id", "role"))
    bodies = [
        {"email": "student-b@example.com"},  # another group's member
        {"email": "admin@example.com"},
        {"email": "student@example.com", "role": "member"},  # already in the group
        {"email": "student-b@example.com", "role": "operator"},
        {"email": "nobody@example.com"},  # no account
        {"email": "not an address"},
        {},
    ]
    answers = [operator.post(url, body, format="json") for body in bodies]
    assert {(a.status_code, a.json()["code"], a.json()["detail"]) for a in answers} == {
        (403, "admin_only", answers[0].json()["detail"])
    }
    assert "invite link" in answers[0].json()["detail"]
    assert list(Membership.objects.order_by("pk").values_list("group_id", "user_id", "role")) == before


def test_an_admin_adds_an_existing_account_once(world):
    admin = client_for(world.admin)
    url = f"/api/groups/{world.class_a.pk}/members"
    added = admin.post(url, {"email": " Student-B@Example.com "}, format="json")
    assert added.status_code == 201 and added.json()["id"] == world.member_b.pk and added.json()["role"] == "member"
    again = admin.post(url, {"email": "student-b@example.com", "role": "member"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == world.member_b.pk
    assert Membership.objects.filter(group=world.class_a, user=world.member_b).count() == 1
    unknown = admin.post(url, {"email": "nobody@example.com"}, format="json")
    assert (unknown.status_code, unknown.json()["code"]) == (400, "unknown_member")


def test_an_admin_adds_an_operator_or_makes_a_member_one(world):
    admin = client_for(world.admin)
    url = f"/api/groups/{world.class_a.pk}/members"
    made = admin.post(url, {"email": "op-b@example.com", "role": "operator"}, format="json")
    assert made.status_code == 201 and made.json()["role"] == "operator"
    promoted = admin.post(url, {"email": "student@example.com", "role": "operator"}, format="json")
    assert promoted.status_code == 200 and promoted.json()["role"] == "operator"


def test_an_operator_removes_members_but_only_an_admin_removes_an_operator(world):
    operator = client_for(world.operator_a)
    a = world.class_a.pk
    assert operator.delete(f"/api/groups/{a}/members/{world.member.pk}").status_code == 204
    assert not Membership.objects.filter(group=world.class_a, user=world.member).exists()
    assert operator.delete(f"/api/groups/{a}/members/{world.member.pk}").status_code == 404  # no longer in it
    refused = operator.delete(f"/api/groups/{a}/members/{world.operator_a.pk}")
    assert (refused.status_code, refused.json()["code"]) == (403, "admin_only")
    assert client_for(world.admin).delete(f"/api/groups/{a}/members/{world.operator_a.pk}").status_code == 204
    world.member.refresh_from_db()  # the account stays
    assert world.member.is_active


def test_me_says_whether_one_is_an_admin_and_which_groups_one_runs(world, django_assert_num_queries):
    other = Group.objects.create(name="Evening class")
    Membership.objects.create(group=other, user=world.operator_a, role=Membership.Role.OPERATOR)
    operator = client_for(world.operator_a)
    with django_assert_num_queries(2):  # the asker, the groups they run
        me = operator.get("/api/auth/me").json()
    assert me["is_admin"] is False
    assert me["operates"] == [{"id": world.class_a.pk, "name": "Class A"}, {"id": other.pk, "name": "Evening class"}]
    assert client_for(world.member).get("/api/auth/me").json()["operates"] == []  # a member of Class A, no more
    admin = client_for(world.admin).get("/api/auth/me").json()
    assert admin["is_admin"] is True and admin["operates"] == []
