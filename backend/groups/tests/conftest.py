"""The people of the groups tests: an admin, two classes each with its operator, and their members."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conftest import make_member
from groups.models import Group, Membership


@pytest.fixture
def world(db) -> SimpleNamespace:
    """An admin; Class A run by operator_a, with `member`; Class B run by operator_b, with `member_b`."""
    admin = make_member(email="admin@example.com", nickname="admin", is_staff=True)
    class_a, class_b = Group.objects.create(name="Class A"), Group.objects.create(name="Class B")
    operator_a = make_member(email="op-a@example.com", nickname="op-a")
    operator_b = make_member(email="op-b@example.com", nickname="op-b")
    Membership.objects.create(group=class_a, user=operator_a, role=Membership.Role.OPERATOR)
    Membership.objects.create(group=class_b, user=operator_b, role=Membership.Role.OPERATOR)
    member = make_member(email="student@example.com", nickname="student")
    Membership.objects.create(group=class_a, user=member)
    member_b = make_member(email="student-b@example.com", nickname="student-b")
    Membership.objects.create(group=class_b, user=member_b)
    return SimpleNamespace(
        admin=admin,
        class_a=class_a,
        class_b=class_b,
        operator_a=operator_a,
        operator_b=operator_b,
        member=member,
        member_b=member_b,
    )
