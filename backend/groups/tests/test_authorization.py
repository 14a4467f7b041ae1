"""Every group route, for every role (OWASP API1 and API5: broken object- and function-level authorization).

An operator of Class A probing Class B, or reaching B's members and invites through A's id, gets 404 and
changes nothing; a plain member gets 404 on every group route and 403 `admin_only` on creating one; an
admin may do everything.
"""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from conftest import client_for, make_member
from groups.models import Group, Invite, Membership
from groups.services import invite_create

CSV = "email,nickname\nnew-one@example.com,new one\n"

# method, path ({g}: the group probed; {u}: a member of it; {i}: its invite), body, the admin's status.
ROUTES = [
    ("get", "/api/groups/{g}", None, 200),
    ("patch", "/api/groups/{g}", {"name": "taken over", "daily_limit": 99}, 200),
    ("delete", "/api/groups/{g}", None, 204),
    ("get", "/api/groups/{g}/members", None, 200),
    ("post", "/api/groups/{g}/members", {"email": "outsider@example.com"}, 201),
    ("delete", "/api/groups/{g}/members/{u}", None, 204),
    ("post", "/api/groups/{g}/members/import", {"csv": CSV}, 200),
    ("post", "/api/groups/{g}/members/import?dry_run=true", {"csv": CSV}, 200),
    ("get", "/api/groups/{g}/invites", None, 200),
    ("post", "/api/groups/{g}/invites", {"max_uses": 5}, 201),
    ("delete", "/api/groups/{g}/invites/{i}", None, 204),
]


def _call(user: Any, method: str, path: str, body: dict | None) -> Any:
    client = client_for(user)
    return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)


def _state() -> tuple:
    """Everything a refused request must leave as it was."""
    return (
        list(Group.objects.order_by("pk").values_list("pk", "name", "daily_limit")),
        list(Membership.objects.order_by("pk").values_list("pk", "group_id", "user_id", "role")),
        list(Invite.objects.order_by("pk").values_list("pk", "revoked_at")),
        sorted(User.objects.values_list("email", flat=True)),
    )


@pytest.mark.parametrize(("method", "path", "body", "admin_status"), ROUTES)
def test_every_group_route_answers_each_role_only_for_what_it_may_run(world, method, path, body, admin_status):
    make_member(email="outsider@example.com", nickname="outsider")
    invite_a = invite_create(group=world.class_a, created_by=world.operator_a)
    invite_b = invite_create(group=world.class_b, created_by=world.operator_b)
    a, b = world.class_a.pk, world.class_b.pk
    before = _state()

    probes = [(world.operator_a, path.format(g=b, u=world.member_b.pk, i=invite_b.pk))]
    if "{u}" in path or "{i}" in path:  # B's member or invite through A's id
        probes.append((world.operator_a, path.format(g=a, u=world.member_b.pk, i=invite_b.pk)))
    probes += [  # a plain member: their own group, and another
        (world.member, path.format(g=a, u=world.member.pk, i=invite_a.pk)),
        (world.member, path.format(g=b, u=world.member_b.pk, i=invite_b.pk)),
    ]
    for who, url in probes:
        answer = _call(who, method, url, body)
        assert answer.status_code == 404, (who.email, method, url, answer.content)
        assert answer.json()["code"] == "not_found"
    assert _state() == before

    done = _call(world.admin, method, path.format(g=b, u=world.member_b.pk, i=invite_b.pk), body)
    assert done.status_code == admin_status, done.content


def test_only_an_admin_creates_groups_and_the_list_shows_each_role_its_own(world):
    for who in (world.operator_a, world.member):
        refused = _call(who, "post", "/api/groups", {"name": "mine"})
        assert refused.status_code == 403 and refused.json()["code"] == "admin_only"
    assert Group.objects.count() == 2
    assert [g["name"] for g in _call(world.operator_a, "get", "/api/groups", None).json()] == ["Class A"]
    assert _call(world.member, "get", "/api/groups", None).json() == []
    assert _call(world.admin, "post", "/api/groups", {"name": "Cohort 7"}).status_code == 201
    assert len(_call(world.admin, "get", "/api/groups", None).json()) == 3


def test_what_only_an_admin_may_do_in_a_group_an_operator_runs(world):
    """Function-level: within their own group an operator may not delete it, name operators, add an operator
    or remove one (403 `admin_only`)."""
    a = world.class_a.pk
    refusals = [
        ("patch", f"/api/groups/{a}", {"operators": [world.member.pk]}),
        ("post", f"/api/groups/{a}/members", {"email": "op-b@example.com", "role": "operator"}),
        ("delete", f"/api/groups/{a}/members/{world.operator_a.pk}", None),
        ("delete", f"/api/groups/{a}", None),
    ]
    before = _state()
    for method, url, body in refusals:
        answer = _call(world.operator_a, method, url, body)
        assert (answer.status_code, answer.json()["code"]) == (403, "admin_only"), (method, url)
    assert _state() == before
    for method, url, body in refusals:
        assert _call(world.admin, method, url, body).status_code in (200, 201, 204), (method, url)
