"""One rule for a member's daily limit: their own, else the most generous of their groups', else the default;
/api/quota says which gave it, and the web app and /v1 both obey it."""

from __future__ import annotations

import pytest

from chat.tests.helpers import send, start_conversation
from conftest import client_for, make_member
from gateway.services import api_key_authenticate, api_key_create, gateway_call_start
from groups.models import Group, Membership
from quota.models import QuotaOverride
from quota.services import QuotaExceeded
from testing.samples import REQUEST


def member_of(member, *limits):
    for n, limit in enumerate(limits):
        Membership.objects.create(group=Group.objects.create(name=f"g{n}", daily_limit=limit), user=member)


@pytest.mark.django_db
def test_with_no_group_and_no_override_the_default_applies(settings):
    settings.HARUCHAT_DAILY_LIMIT = 5
    quota = client_for(make_member()).get("/api/quota").json()
    assert (quota["limit"], quota["source"], quota["group"]) == (5, "default", None)


@pytest.mark.django_db
def test_the_most_generous_group_gives_the_limit_and_is_named(settings):
    settings.HARUCHAT_DAILY_LIMIT = 5
    member = make_member()
    member_of(member, 3, 12, None)  # a group with no limit of its own inherits: it doesn't count
    quota = client_for(member).get("/api/quota").json()
    assert (quota["limit"], quota["source"], quota["group"]["name"]) == (12, "group", "g1")


@pytest.mark.django_db
def test_a_groups_limit_may_also_be_lower_than_the_default(settings):
    settings.HARUCHAT_DAILY_LIMIT = 5
    member = make_member()
    member_of(member, 2)
    assert client_for(member).get("/api/quota").json()["limit"] == 2


@pytest.mark.django_db
def test_the_members_own_limit_wins_over_every_group():
    member = make_member()
    member_of(member, 50)
    QuotaOverride.objects.create(user=member, daily_limit=1)
    quota = client_for(member).get("/api/quota").json()
    assert (quota["limit"], quota["source"], quota["group"]) == (1, "member", None)


def test_the_web_app_obeys_the_groups_limit(api, member, upstream):
    member_of(member, 2)
    conversation = start_conversation(api)
    assert [send(api, conversation["id"], f"m{n}").status_code for n in range(3)] == [201, 201, 429]
    refused = send(api, conversation["id"], "again").json()
    assert refused["quota"]["source"] == "group" and refused["quota"]["limit"] == 2


def test_v1_obeys_the_groups_limit(member, upstream, settings):
    settings.HARUCHAT_API_KEY_CACHE_SECONDS = 0
    member_of(member, 2)
    _, secret = api_key_create(user=member, name="k")
    for _ in range(2):
        call = gateway_call_start(key=api_key_authenticate(secret), request=REQUEST)
        assert call.reservation.status.source == "group"
    with pytest.raises(QuotaExceeded):
        gateway_call_start(key=api_key_authenticate(secret), request=REQUEST)
