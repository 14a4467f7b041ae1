"""A group's conversations in one zip archive, streamed member by member, and written to the audit log.

Admins may always export; a group's operator only when
HARUCHAT_OPERATOR_READS_HISTORY is on (404 otherwise, as the other history
routes). Every member whose conversations go into the archive gets an
"export" entry in the audit log before the first byte is sent, so a member
sees it on their Account page even if the download is cut short.

The archive is built as it is sent: each member's JSON and Markdown are
rendered in a database thread, compressed into the zip, and handed to the
connection before the next member is read, so memory holds one member's
conversations, never the archive.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import AsyncIterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.models import User
from chat import export
from common.db import in_db
from common.schema import ErrorSerializer
from groups import selectors
from groups.models import Group, HistoryRead


class _Spool:
    """A write-only, unseekable file for zipfile: it collects what was written until it is drained."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self._parts = b"".join(self._parts), []
        return data


def group_export_members(*, reader: User, group_id: int) -> tuple[Group, list[User]]:
    """The group and its members when the reader may export it; records the export for each member."""
    group = selectors.group_get(user=reader, group_id=group_id)  # 404 unless the reader runs it
    if not reader.is_staff and not settings.HARUCHAT_OPERATOR_READS_HISTORY:
        raise Http404("Exporting members' conversations is turned off here.")
    members = list(User.objects.filter(memberships__group=group).order_by("email", "pk"))
    with transaction.atomic():
        HistoryRead.objects.bulk_create(
            HistoryRead(
                reader=reader, reader_email=reader.email, member=member, group=group, action=HistoryRead.Action.EXPORT
            )
            for member in members
        )
    return group, members


def _folder(position: int, member: User) -> str:
    """A folder name per member that sorts as the manifest does and is safe on every file system."""
    return f"{position:04d}-" + re.sub(r"[^A-Za-z0-9._@+-]", "_", member.email)[:100]


def _member_entries(archive: zipfile.ZipFile, spool: _Spool, position: int, member: User) -> tuple[bytes, int]:
    """One member's conversations into the archive; the bytes it produced and how many conversations."""
    conversations = list(export.conversations_for_export(user=member))
    folder = _folder(position, member)
    body = export.export_json(user=member, conversations=conversations)
    archive.writestr(f"{folder}/conversations.json", json.dumps(body, ensure_ascii=False, indent=2))
    archive.writestr(f"{folder}/conversations.md", export.export_markdown(user=member, conversations=conversations))
    return spool.drain(), len(conversations)


async def group_archive(*, group: Group, members: list[User], reader: User) -> AsyncIterator[bytes]:
    """The zip, one member at a time; the manifest and the zip's directory last."""
    spool = _Spool()
    archive = zipfile.ZipFile(spool, mode="w", compression=zipfile.ZIP_DEFLATED)
    listed: list[dict[str, Any]] = []
    for position, member in enumerate(members, start=1):
        data, count = await in_db(_member_entries, archive, spool, position, member)
        listed.append({"id": member.pk, "email": member.email, "nickname": member.nickname,
                       "folder": _folder(position, member), "conversations": count})  # fmt: skip
        if data:
            yield data
    manifest = {
        "group": {"id": group.pk, "name": group.name},
        "exported_at": timezone.now().isoformat(),
        "exported_by": reader.email,
        "members": listed,
    }
    archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2))
    archive.close()
    yield spool.drain()


class GroupExportView(APIView):
    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            404: OpenApiResponse(ErrorSerializer, description="Not your group, or exports are turned off here"),
        },
        summary="A group's conversations as one zip of JSON and Markdown per member (admin; operator only with "
        "HARUCHAT_OPERATOR_READS_HISTORY; audited)",
    )
    def get(self, request: Request, group_id: int) -> StreamingHttpResponse:
        group, members = group_export_members(reader=request.user, group_id=group_id)
        response = StreamingHttpResponse(
            group_archive(group=group, members=members, reader=request.user), content_type="application/zip"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="haruchat-group-{group.pk}-{timezone.now():%Y%m%d}.zip"'
        )
        return response
