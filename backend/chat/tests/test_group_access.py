"""The models and assistants a member's groups allow: offered, and enforced, in the web app and on /v1."""

from __future__ import annotations

import openai
import pytest

from chat.models import Assistant
from chat.selectors import assistant_default
from chat.services.conversations import conversation_create
from conftest import make_member
from gateway.services import api_key_create
from groups.models import Group, Membership
from quota.models import DailyUsage


def join(member, name: str, *, models=(), assistants=()) -> Group:
    group = Group.objects.create(name=name, allowed_models=list(models))
    group.allowed_assistants.set(assistants)
    Membership.objects.create(group=group, user=member)
    return group


def slugs(api) -> list[str]:
    return [a["slug"] for a in api.get("/api/assistants").json()]


def test_a_member_in_no_group_may_use_everything(api, upstream):
    assert api.get("/api/models").json()["models"] == ["fake-model", "fake-model-large"]
    assert slugs(api) == list(Assistant.objects.filter(is_active=True).values_list("slug", flat=True))


def test_the_union_over_groups_is_offered_and_a_group_listing_none_allows_all(api, member, upstream):
    coach = Assistant.objects.exclude(slug="free-chat").filter(is_active=True).first()
    join(member, "A", models=["fake-model-large"], assistants=[assistant_default()])
    join(member, "B", models=["fake-model"], assistants=[coach])
    models = api.get("/api/models").json()
    assert models["models"] == ["fake-model", "fake-model-large"] and models["default"] == "fake-model"
    assert sorted(slugs(api)) == sorted(["free-chat", coach.slug])
    join(member, "C")  # restricts nothing: everything
    assert len(slugs(api)) == Assistant.objects.filter(is_active=True).count()


def test_a_model_or_assistant_not_allowed_is_refused_and_the_default_is_one_that_is(api, member, upstream):
    coach = Assistant.objects.exclude(slug="free-chat").filter(is_active=True).first()
    join(member, "A", models=["fake-model-large"], assistants=[assistant_default()])
    assert api.get("/api/models").json() == {
        "default": "fake-model-large", "models": ["fake-model-large"], "provider": "openai_compat"
    }  # fmt: skip
    refused = api.post("/api/conversations", {"model": "fake-model"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "model_not_allowed"
    assert "fake-model-large" in refused.json()["detail"]
    refused = api.post("/api/conversations", {"assistant": coach.slug}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "assistant_not_allowed"
    created = api.post("/api/conversations", {}, format="json")
    assert created.status_code == 201 and created.json()["model"] == "fake-model-large"


def test_a_conversation_whose_model_a_group_later_forbids_refuses_to_send_uncounted(api, member, upstream):
    conversation = conversation_create(user=member, assistant=assistant_default(), model="fake-model")
    join(member, "Exam week", models=["fake-model-large"])
    sent = api.post(f"/api/conversations/{conversation.pk}/messages", {"content": "hello"}, format="json")
    assert sent.status_code == 403 and sent.json()["code"] == "model_not_allowed"
    assert upstream.exchanges == [] and not DailyUsage.objects.filter(user=member).exists()
    assert not conversation.messages.exists()


@pytest.fixture
def restricted_sdk(live_uvicorn, upstream):
    member = make_member()
    join(member, "A", models=["fake-model-large"])
    _, secret = api_key_create(user=member, name="t")
    return openai.OpenAI(base_url=f"{live_uvicorn.url}/v1", api_key=secret, max_retries=0)


def test_v1_lists_only_allowed_models_and_refuses_others_with_403(restricted_sdk, upstream):
    assert [m.id for m in restricted_sdk.models.list()] == ["fake-model-large"]
    with pytest.raises(openai.PermissionDeniedError) as refused:
        restricted_sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "hi"}])
    assert refused.value.code == "model_not_allowed"
    assert upstream.exchanges == []
    answer = restricted_sdk.chat.completions.create(
        model="fake-model-large", messages=[{"role": "user", "content": "hi"}]
    )
    assert answer.choices[0].message.content
