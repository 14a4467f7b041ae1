"""Groups and invites: who may do what (object- and function-level authorization), and enrolment."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import requests
from django.utils import timezone

from conftest import PASSWORD, client_for, make_member
from groups.models import Group, Invite, Membership
from groups.services import invite_create


def test_an_admin_creates_groups_and_sees_all_an_operator_only_theirs_a_member_none(world):
    created = client_for(world.admin).post("/api/groups", {"name": "Cohort 7", "daily_limit": 20}, format="json")
    assert created.status_code == 201 and created.json()["daily_limit"] == 20
    assert len(client_for(world.admin).get("/api/groups").json()) == 3
    assert [g["name"] for g in client_for(world.operator_a).get("/api/groups").json()] == ["Class A"]
    assert client_for(world.member).get("/api/groups").json() == []
    for who in (world.operator_a, world.member):
        refused = client_for(who).post("/api/groups", {"name": "mine"}, format="json")
        assert refused.status_code == 403 and refused.json()["code"] == "admin_only"


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/groups/{b}"),
        ("patch", "/api/groups/{b}"),
        ("delete", "/api/groups/{b}"),
        ("get", "/api/groups/{b}/invites"),
        ("post", "/api/groups/{b}/invites"),
        ("delete", "/api/groups/{b}/invites/{invite_b}"),
    ],
)
def test_an_operator_of_one_group_gets_404_for_anothers_and_a_member_for_any(world, method, path):
    invite_b = invite_create(group=world.class_b, created_by=world.operator_b)
    url = path.format(b=world.class_b.pk, invite_b=invite_b.pk)
    for who in (world.operator_a, world.member):
        answer = getattr(client_for(who), method)(url, {"name": "taken over"}, format="json")
        assert answer.status_code == 404, (who.email, answer.content)
    world.class_b.refresh_from_db()
    invite_b.refresh_from_db()
    assert world.class_b.name == "Class B" and invite_b.revoked_at is None


def test_an_operator_runs_their_group_but_only_an_admin_deletes_it(world):
    operator = client_for(world.operator_a)
    url = f"/api/groups/{world.class_a.pk}"
    assert operator.patch(url, {"daily_limit": 10, "description": "Mon 9am"}, format="json").json()["daily_limit"] == 10
    assert operator.delete(url).status_code == 403
    assert client_for(world.admin).delete(url).status_code == 204
    assert not Group.objects.filter(pk=world.class_a.pk).exists()


def test_invites_are_made_listed_and_revoked_by_the_groups_operator(world):
    operator = client_for(world.operator_a)
    made = operator.post(f"/api/groups/{world.class_a.pk}/invites", {"max_uses": 30}, format="json").json()
    assert made["max_uses"] == 30 and made["uses"] == 0
    assert made["url"] == f"http://testserver/#/join/{made['code']}"
    assert [i["code"] for i in operator.get(f"/api/groups/{world.class_a.pk}/invites").json()] == [made["code"]]
    assert operator.delete(f"/api/groups/{world.class_a.pk}/invites/{made['id']}").status_code == 204
    assert operator.get(f"/api/groups/{world.class_a.pk}/invites").json() == []
    newcomer = make_member(email="late@example.com", nickname="late")
    refused = client_for(newcomer).post("/api/auth/join", {"code": made["code"]}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_invite"


def test_a_member_joins_with_a_live_code_once_and_not_with_a_dead_one(world):
    live = invite_create(group=world.class_b, created_by=world.operator_b, max_uses=1)
    expired = invite_create(
        group=world.class_b, created_by=world.operator_b, expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    member = client_for(world.member)
    joined = member.post("/api/auth/join", {"code": live.code}, format="json")
    assert joined.status_code == 200 and joined.json()["name"] == "Class B"
    assert member.post("/api/auth/join", {"code": live.code}, format="json").status_code == 200  # already in: no use
    live.refresh_from_db()
    assert live.uses == 1
    assert Membership.objects.filter(user=world.member).count() == 2  # Class A and Class B
    someone = client_for(make_member(email="x@example.com", nickname="x"))
    for code in (live.code, expired.code, "no-such-code"):
        assert someone.post("/api/auth/join", {"code": code}, format="json").json()["code"] == "invalid_invite"


def test_concurrent_joins_never_pass_an_invites_maximum(live_uvicorn):
    group = Group.objects.create(name="Workshop")
    operator = make_member(email="op@example.com", nickname="op")
    invite = invite_create(group=group, created_by=operator, max_uses=3)
    tokens = [
        requests.post(
            f"{live_uvicorn.url}/api/auth/signup",
            json={"email": f"j{n}@example.com", "password": PASSWORD, "nickname": f"j{n}"},
        ).json()["access"]
        for n in range(10)
    ]
    barrier, statuses = threading.Barrier(10), []

    def join(token: str) -> None:
        barrier.wait()
        answer = requests.post(
            f"{live_uvicorn.url}/api/auth/join",
            json={"code": invite.code},
            headers={"Authorization": f"Bearer {token}"},
        )
        statuses.append(answer.status_code)

    threads = [threading.Thread(target=join, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 3 + [400] * 7
    assert Membership.objects.filter(group=group).count() == 3
    assert Invite.objects.get(pk=invite.pk).uses == 3


@pytest.mark.django_db
def test_invite_only_registration_needs_a_live_code_and_enrols_the_new_member(anon, settings):
    settings.HARUCHAT_REGISTRATION = "invite"
    group = Group.objects.create(name="Class C")
    invite = invite_create(group=group, created_by=make_member(email="op@example.com", nickname="op"))
    body = {"email": "new@example.com", "password": PASSWORD, "nickname": "new"}
    missing = anon.post("/api/auth/signup", body, format="json")
    assert missing.status_code == 403 and missing.json()["code"] == "invite_required"
    wrong = anon.post("/api/auth/signup", {**body, "invite_code": "nope"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_invite"
    assert not Membership.objects.filter(user__email="new@example.com").exists()
    signed_up = anon.post("/api/auth/signup", {**body, "invite_code": invite.code}, format="json")
    assert signed_up.status_code == 201
    assert Membership.objects.get(user__email="new@example.com").group == group
    assert anon.get("/api/auth/registration").json()["mode"] == "invite"


@pytest.mark.django_db
def test_an_open_sign_up_with_a_code_joins_the_group_too(anon):
    group = Group.objects.create(name="Open class")
    invite = invite_create(group=group, created_by=make_member(email="op@example.com", nickname="op"))
    body = {"email": "o@example.com", "password": PASSWORD, "nickname": "o", "invite_code": invite.code}
    assert anon.post("/api/auth/signup", body, format="json").status_code == 201
    assert Membership.objects.filter(group=group, user__email="o@example.com").exists()


def test_invite_only_admits_a_first_provider_login_only_from_an_invite_link(live_uvicorn, oauth_standins, settings):
    from accounts.models import User
    from accounts.tests.test_oauth import dance

    settings.HARUCHAT_REGISTRATION = "invite"
    group = Group.objects.create(name="Class D")
    invite = invite_create(group=group, created_by=make_member(email="op@example.com", nickname="op"))
    assert dance(live_uvicorn, "github")[1].get("oauth_error") == "closed"  # no invite link
    assert dance(live_uvicorn, "github", next_path="/join/not-a-code")[1].get("oauth_error") == "invite"
    assert not User.objects.filter(email="octocat@example.com").exists()
    path, query, _ = dance(live_uvicorn, "github", next_path=f"/join/{invite.code}")
    assert (path, query["next"]) == ("/oauth", f"/join/{invite.code}")
    member = User.objects.get(email="octocat@example.com")
    assert Membership.objects.get(user=member).group == group


# Each number column's largest value, and numbers just past it: past PostgreSQL's integer (2**31) and
# past a 64-bit integer, SQLite's too (2**63, 10**20). Each is a 400, not a server error, on either database.
BOUNDS = [
    ("/api/groups/{a}", "patch", "daily_limit", 2**31 - 1),
    ("/api/groups", "post", "daily_limit", 2**31 - 1),
    ("/api/groups/{a}", "patch", "monthly_token_budget", 2**63 - 1),
    ("/api/groups", "post", "monthly_token_budget", 2**63 - 1),
    ("/api/groups/{a}/invites", "post", "max_uses", 2**31 - 1),
]


@pytest.mark.parametrize(("path", "method", "field", "largest"), BOUNDS)
def test_numbers_past_their_columns_range_are_a_400_and_the_largest_is_kept(world, path, method, field, largest):
    url = path.format(a=world.class_a.pk)
    who = client_for(world.admin if path == "/api/groups" else world.operator_a)
    base = {"name": "Cohort 7"} if path == "/api/groups" else {}
    before = (Group.objects.count(), Invite.objects.count())
    for too_big in sorted({largest + 1, 2**63, 10**20}):
        answer = getattr(who, method)(url, {**base, field: too_big}, format="json")
        assert (answer.status_code, answer.json()["code"]) == (400, "max_value"), (field, too_big, answer.content)
        assert field in answer.json()["errors"]
    assert (Group.objects.count(), Invite.objects.count()) == before
    world.class_a.refresh_from_db()
    assert (world.class_a.daily_limit, world.class_a.monthly_token_budget) == (None, None)
    kept = getattr(who, method)(url, {**base, field: largest}, format="json")
    assert kept.status_code in (200, 201), kept.content
    assert kept.json()[field] == largest
    if field == "max_uses":
        assert Invite.objects.get(pk=kept.json()["id"]).max_uses == largest
    else:
        assert getattr(Group.objects.get(pk=kept.json()["id"]), field) == largest
