"""GET /api/groups/{id}/export: a group's conversations in one zip, streamed, and in the audit log.

Over real HTTP (uvicorn on loopback): the archive arrives in chunks with no
Content-Length, and unpacks to each member's JSON and Markdown.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import zipfile
from urllib.parse import urlparse

import pytest

from accounts.services import user_tokens_issue
from chat.selectors import assistant_default
from chat.services.conversations import conversation_create
from conftest import client_for, make_member
from groups import exports
from groups.models import Group, HistoryRead, Membership


@pytest.fixture
def school(transactional_db, upstream, builtin_assistants):
    operator = make_member("teacher@example.com", "teacher")
    admin = make_member("admin@example.com", "admin", is_staff=True)
    alice, bob = make_member("alice@example.com", "alice"), make_member("bob@example.com", "bob")
    outsider = make_member("carol@example.com", "carol")
    group, other = Group.objects.create(name="Class 1"), Group.objects.create(name="Class 2")
    Membership.objects.create(group=group, user=operator, role=Membership.Role.OPERATOR)
    for member in (alice, bob):
        Membership.objects.create(group=group, user=member)
    Membership.objects.create(group=other, user=outsider)
    for member, text in ((alice, "alice's secret essay"), (bob, "bob asks about 광합성"), (outsider, "not in it")):
        conversation = conversation_create(user=member, assistant=assistant_default(), title=f"{member.nickname}'s")
        client_for(member).post(f"/api/conversations/{conversation.pk}/messages", {"content": text}, format="json")
    return {"operator": operator, "admin": admin, "alice": alice, "bob": bob, "outsider": outsider,
            "group": group, "other": other}  # fmt: skip


def download(base_url: str, user, group: Group) -> tuple[int, dict[str, str], bytes, int]:
    """Status, headers, body and how many reads the body took (a streamed body arrives in pieces)."""
    url = urlparse(base_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request(
        "GET",
        f"/api/groups/{group.pk}/export",
        headers={"Authorization": f"Bearer {user_tokens_issue(user=user)['access']}"},
    )
    response = connection.getresponse()
    headers = {name.lower(): value for name, value in response.getheaders()}
    pieces = []
    while chunk := response.read1(65536):
        pieces.append(chunk)
    connection.close()
    return response.status, headers, b"".join(pieces), len(pieces)


def test_an_admin_downloads_every_members_conversations_streamed(school, live_uvicorn):
    status, headers, body, _ = download(live_uvicorn.url, school["admin"], school["group"])
    assert status == 200
    assert headers["content-type"] == "application/zip"
    assert "content-length" not in headers and headers.get("transfer-encoding") == "chunked"
    assert 'filename="haruchat-group-' in headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert [m["email"] for m in manifest["members"]] == [
        "alice@example.com", "bob@example.com", "teacher@example.com"
    ]  # fmt: skip
    assert manifest["exported_by"] == "admin@example.com" and manifest["group"]["name"] == "Class 1"
    bob = next(m for m in manifest["members"] if m["email"] == "bob@example.com")
    assert bob["conversations"] == 1
    exported = json.loads(archive.read(f"{bob['folder']}/conversations.json"))
    messages = exported["conversations"][0]["messages"]
    assert messages[0]["content"] == "bob asks about 광합성" and messages[1]["role"] == "assistant"
    assert (
        exported["conversations"][0]["completions"][0]["request"]["messages"][-1]["content"] == messages[0]["content"]
    )
    assert "bob asks about 광합성" in archive.read(f"{bob['folder']}/conversations.md").decode()
    assert not any("not in it" in archive.read(name).decode() for name in archive.namelist())


def test_each_exported_member_sees_the_export_in_their_audit_log(school, live_uvicorn):
    download(live_uvicorn.url, school["admin"], school["group"])
    mine = client_for(school["alice"]).get("/api/auth/me/audit").json()
    assert [(r["action"], r["reader"]["email"], r["group"]["name"]) for r in mine] == [
        ("export", "admin@example.com", "Class 1")
    ]
    assert not client_for(school["outsider"]).get("/api/auth/me/audit").json()
    assert HistoryRead.objects.filter(action="export").count() == 3


def test_an_operator_exports_only_when_the_policy_allows(school, live_uvicorn, settings):
    status, _, _, _ = download(live_uvicorn.url, school["operator"], school["group"])
    assert status == 404 and not HistoryRead.objects.exists()
    settings.HARUCHAT_OPERATOR_READS_HISTORY = True
    status, _, body, _ = download(live_uvicorn.url, school["operator"], school["group"])
    assert status == 200 and "manifest.json" in zipfile.ZipFile(io.BytesIO(body)).namelist()
    assert HistoryRead.objects.filter(reader=school["operator"], action="export").count() == 3


def test_nobody_exports_a_group_they_do_not_run(school, live_uvicorn, settings):
    settings.HARUCHAT_OPERATOR_READS_HISTORY = True
    for reader, group in (("operator", "other"), ("alice", "group"), ("outsider", "group")):
        status, headers, _, _ = download(live_uvicorn.url, school[reader], school[group])
        assert status == 404 and headers["content-type"] == "application/json", (reader, group)
    assert not HistoryRead.objects.exists()


def test_the_archive_is_sent_member_by_member_not_built_whole(school):
    """Each member's part leaves before the next member is read: the first piece holds only the first member."""
    group, members = exports.group_export_members(reader=school["admin"], group_id=school["group"].pk)

    async def pieces() -> list[bytes]:
        return [piece async for piece in exports.group_archive(group=group, members=members, reader=school["admin"])]

    parts = asyncio.run(pieces())
    assert len(parts) == len(members) + 1  # one per member, then the manifest and the zip's directory
    assert b"0001-alice@example.com/conversations.json" in parts[0]
    assert b"bob@example.com" not in parts[0]
    assert zipfile.ZipFile(io.BytesIO(b"".join(parts))).testzip() is None
