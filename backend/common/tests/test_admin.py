"""The admin: members, overrides, usage by day, assistants, conversations and call records."""

from __future__ import annotations

import pytest

from accounts.models import User
from chat.models import Completion
from chat.tests.helpers import send, start_conversation


@pytest.fixture
def admin_client(client, db):
    admin = User.objects.create_superuser(email="admin@example.com", password="admin pass phrase")
    client.force_login(admin)
    return client


def test_admin_shows_usage_by_day_and_the_exact_call_json(admin_client, api, member, upstream):
    conversation = start_conversation(api)
    send(api, conversation["id"], "admin can see this")
    usage_page = admin_client.get("/admin/quota/dailyusage/").content.decode()
    assert member.email in usage_page
    completion = Completion.objects.get()
    call_page = admin_client.get(f"/admin/chat/completion/{completion.pk}/change/").content.decode()
    assert "Echo: admin can see this" in call_page and "fp_fake_upstream" in call_page


@pytest.mark.parametrize(
    "path",
    [
        "/admin/accounts/user/",
        "/admin/quota/quotaoverride/",
        "/admin/quota/dailyusage/",
        "/admin/chat/assistant/",
        "/admin/chat/conversation/",
        "/admin/chat/completion/",
        "/admin/quota/quotaoverride/add/",
    ],
)
def test_admin_pages_open(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_admin_member_page_shows_their_override_and_usage(admin_client, member):
    page = admin_client.get(f"/admin/accounts/user/{member.pk}/change/")
    assert page.status_code == 200
    assert "Quota override" in page.content.decode() and "Daily usage" in page.content.decode()
