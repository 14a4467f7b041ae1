"""A group's allowed models and assistants, its operators and member count: shown, checked, and changed."""

from __future__ import annotations

import pytest

from chat.models import Assistant
from conftest import client_for
from groups.models import Group, Membership


@pytest.fixture
def models(settings) -> list[str]:
    settings.HARUCHAT_LLM_PROVIDER = "openai_compat"
    settings.HARUCHAT_LLM_MODEL = "model-a"
    settings.HARUCHAT_LLM_MODELS = ["model-a", "model-b"]
    return ["model-a", "model-b"]


def test_a_group_shows_its_models_assistants_operators_and_member_count(world, models):
    world.class_a.allowed_models = ["model-b"]
    world.class_a.save()
    world.class_a.allowed_assistants.set(Assistant.objects.filter(slug="study-coach"))
    shown = client_for(world.operator_a).get(f"/api/groups/{world.class_a.pk}").json()
    assert shown["models"] == ["model-b"] and shown["assistants"] == ["study-coach"]
    assert shown["operators"] == [{"id": world.operator_a.pk, "email": "op-a@example.com", "nickname": "op-a"}]
    assert shown["member_count"] == 2  # the operator and the student
    listed = client_for(world.admin).get("/api/groups").json()
    assert [(g["name"], g["member_count"], g["models"]) for g in listed] == [
        ("Class A", 2, ["model-b"]),
        ("Class B", 2, []),
    ]


def test_an_operator_sets_models_and_assistants_and_empty_lists_allow_all_again(world, models):
    operator, url = client_for(world.operator_a), f"/api/groups/{world.class_a.pk}"
    changed = operator.patch(url, {"models": ["model-b", "model-b"], "assistants": ["free-chat"]}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["models"], changed.json()["assistants"]) == (["model-b"], ["free-chat"])
    cleared = operator.patch(url, {"models": [], "assistants": []}, format="json").json()
    assert (cleared["models"], cleared["assistants"]) == ([], [])
    world.class_a.refresh_from_db()
    assert world.class_a.allowed_models == [] and not world.class_a.allowed_assistants.exists()


@pytest.mark.parametrize(
    ("body", "field", "code", "named"),
    [
        ({"models": ["model-a", "gpt-9"]}, "models", "unknown_model", "gpt-9. This haruchat offers: model-a, model-b"),
        ({"assistants": ["free-chat", "no-such-assistant"]}, "assistants", "unknown_assistant", "no-such-assistant"),
        ({"assistants": ["retired"]}, "assistants", "unknown_assistant", "retired"),
        ({"operators": [999_999]}, "operators", "unknown_member", "999999"),
    ],
)
def test_unknown_models_assistants_and_operators_are_refused_and_change_nothing(
    world, models, body, field, code, named
):
    Assistant.objects.create(slug="retired", name="Retired", system_prompt="-", is_active=False)
    answer = client_for(world.admin).patch(
        f"/api/groups/{world.class_a.pk}", {**body, "name": "renamed"}, format="json"
    )
    assert answer.status_code == 400 and answer.json()["code"] == code
    assert field in answer.json()["errors"] and named in answer.json()["detail"]
    world.class_a.refresh_from_db()
    assert world.class_a.name == "Class A"


def test_an_admin_names_operators_who_join_and_the_old_ones_stay_as_members(world, models):
    answer = client_for(world.admin).patch(
        f"/api/groups/{world.class_a.pk}", {"operators": [world.member.pk, world.operator_b.pk]}, format="json"
    )
    assert answer.status_code == 200, answer.content
    assert {o["id"] for o in answer.json()["operators"]} == {world.member.pk, world.operator_b.pk}
    roles = dict(Membership.objects.filter(group=world.class_a).values_list("user__nickname", "role"))
    assert roles == {"op-a": "member", "student": "operator", "op-b": "operator"}
    assert answer.json()["member_count"] == 3


def test_an_operator_may_not_send_operators_even_unchanged(world, models):
    answer = client_for(world.operator_a).patch(
        f"/api/groups/{world.class_a.pk}", {"operators": [world.operator_a.pk], "name": "x"}, format="json"
    )
    assert (answer.status_code, answer.json()["code"]) == (403, "admin_only")
    assert Group.objects.get(pk=world.class_a.pk).name == "Class A"


def test_an_admin_creates_a_group_with_everything_at_once(world, models):
    answer = client_for(world.admin).post(
        "/api/groups",
        {"name": " Cohort 7 ", "models": ["model-a"], "assistants": ["study-coach"], "operators": [world.member.pk]},
        format="json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["name"], body["models"], body["assistants"]) == ("Cohort 7", ["model-a"], ["study-coach"])
    assert [o["id"] for o in body["operators"]] == [world.member.pk] and body["member_count"] == 1
    refused = client_for(world.admin).post("/api/groups", {"name": "Bad", "models": ["nope"]}, format="json")
    assert refused.json()["code"] == "unknown_model" and not Group.objects.filter(name="Bad").exists()


def test_the_group_list_takes_the_same_queries_for_any_number_of_groups(world, models, django_assert_num_queries):
    admin = client_for(world.admin)
    with django_assert_num_queries(4):  # the asker, the groups, their assistants, their operators
        admin.get("/api/groups")
    for n in range(5):
        group = Group.objects.create(name=f"Extra {n}")
        group.allowed_assistants.set(Assistant.objects.all())
        Membership.objects.create(group=group, user=world.operator_b, role=Membership.Role.OPERATOR)
    with django_assert_num_queries(4):
        assert len(admin.get("/api/groups").json()) == 7


def test_a_member_who_joins_sees_the_group_but_not_its_operators(world):
    from groups.services import invite_create

    invite = invite_create(group=world.class_b, created_by=world.operator_b)
    joined = client_for(world.member).post("/api/auth/join", {"code": invite.code}, format="json").json()
    assert joined["name"] == "Class B" and "operators" not in joined and "member_count" not in joined


def test_the_admin_shows_and_checks_allowed_models_and_assistants(world, models, client):
    world.class_a.allowed_models = ["model-b"]
    world.class_a.save()
    world.class_a.allowed_assistants.set(Assistant.objects.filter(slug="study-coach"))
    client.force_login(world.admin)
    world.admin.is_superuser = True
    world.admin.save()
    listing = client.get("/admin/groups/group/").content.decode()
    assert "model-b" in listing and "study-coach" in listing
    page = client.get(f"/admin/groups/group/{world.class_a.pk}/change/").content.decode()
    assert "selectfilter" in page.lower() and "model-a, model-b" in page  # filter_horizontal; the offered models
    form = {
        "name": "Class A",
        "description": "",
        "allowed_models": '["gpt-9"]',
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    refused = client.post(f"/admin/groups/group/{world.class_a.pk}/change/", form)
    assert refused.status_code == 200 and "Unknown model(s): gpt-9" in refused.content.decode()
    accepted = client.post(f"/admin/groups/group/{world.class_a.pk}/change/", {**form, "allowed_models": "[]"})
    assert accepted.status_code == 302
    world.class_a.refresh_from_db()
    assert world.class_a.allowed_models == []
