"""Operators reading their members' conversations: off unless HARUCHAT_OPERATOR_READS_HISTORY, always audited.

When the setting is off these routes are 404 for everyone (usage reports
still give counts, never content). When on, an operator of the member's
group (or an admin) may list and read, never change, and each read is
written to the audit log in the same transaction as it is served.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from chat.models import Conversation
from chat.selectors import conversation_completions
from chat.serializers import (
    CompletionOutputSerializer,
    ConversationDetailOutputSerializer,
    ConversationSummaryOutputSerializer,
)
from common.schema import ErrorSerializer
from groups import selectors
from groups.models import Group, HistoryRead
from groups.views import AdminOnly


def _readable_member(*, reader: User, group_id: int, member_id: int) -> tuple[Group, User]:
    """The group the reader runs and its member, when the policy lets anyone read; 404 otherwise."""
    if not settings.HARUCHAT_OPERATOR_READS_HISTORY:
        raise Http404("Reading members' conversations is turned off here.")
    group = selectors.group_get(user=reader, group_id=group_id)
    member = User.objects.filter(pk=member_id, memberships__group=group).first()
    if member is None:
        raise Http404("No such member.")
    return group, member


def _audit(*, reader: User, member: User, group: Group, action: str, conversation: Conversation | None = None) -> None:
    HistoryRead.objects.create(
        reader=reader,
        reader_email=reader.email,
        member=member,
        group=group,
        action=action,
        conversation_id=conversation.pk if conversation else None,
        conversation_title=conversation.title[:200] if conversation else "",
    )


class HistoryReadOutputSerializer(serializers.ModelSerializer):
    reader = serializers.SerializerMethodField()
    member = serializers.SerializerMethodField()
    group = serializers.SerializerMethodField()
    conversation_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = HistoryRead
        fields = ("id", "reader", "member", "group", "action", "conversation_id", "conversation_title", "created_at")

    def get_reader(self, read: HistoryRead) -> dict:
        return {"id": read.reader_id, "email": read.reader_email}

    def get_member(self, read: HistoryRead) -> dict:
        return {"id": read.member_id, "email": read.member.email}

    def get_group(self, read: HistoryRead) -> dict | None:
        return {"id": read.group_id, "name": read.group.name} if read.group else None


NOT_READABLE = OpenApiResponse(ErrorSerializer, description="Turned off, or not your group's member")


class MemberConversationListView(APIView):
    @extend_schema(
        responses={200: ConversationSummaryOutputSerializer(many=True), 404: NOT_READABLE},
        summary="A member's conversations (operator; only with HARUCHAT_OPERATOR_READS_HISTORY; audited)",
    )
    def get(self, request: Request, group_id: int, user_id: int) -> Response:
        group, member = _readable_member(reader=request.user, group_id=group_id, member_id=user_id)
        conversations = Conversation.objects.filter(user=member).select_related("assistant").order_by("-updated_at")
        with transaction.atomic():
            _audit(reader=request.user, member=member, group=group, action=HistoryRead.Action.LIST)
            body = ConversationSummaryOutputSerializer(conversations[:500], many=True).data
        return Response(body)


class MemberConversationDetailView(APIView):
    class OutputSerializer(ConversationDetailOutputSerializer):
        completions = serializers.SerializerMethodField()

        class Meta(ConversationDetailOutputSerializer.Meta):
            fields = (*ConversationDetailOutputSerializer.Meta.fields, "completions")

        def get_completions(self, conversation: Conversation) -> list[dict]:
            return CompletionOutputSerializer(conversation_completions(conversation=conversation), many=True).data

    @extend_schema(
        responses={200: OutputSerializer, 404: NOT_READABLE},
        summary="A member's conversation with its call records (operator; read-only; audited)",
    )
    def get(self, request: Request, group_id: int, user_id: int, conversation_id: int) -> Response:
        group, member = _readable_member(reader=request.user, group_id=group_id, member_id=user_id)
        conversation = (
            Conversation.objects.filter(user=member, pk=conversation_id)
            .select_related("assistant")
            .prefetch_related("messages", "intake_answers")
            .first()
        )
        if conversation is None:
            raise Http404("No such conversation.")
        with transaction.atomic():
            _audit(reader=request.user, member=member, group=group, action=HistoryRead.Action.READ,
                   conversation=conversation)  # fmt: skip
            body = self.OutputSerializer(conversation).data
        return Response(body)


class AuditListView(APIView):
    @extend_schema(
        responses={200: HistoryReadOutputSerializer(many=True), 403: OpenApiResponse(ErrorSerializer)},
        summary="Who read whose history (admin)",
    )
    def get(self, request: Request) -> Response:
        if not request.user.is_staff:
            raise AdminOnly()
        reads = HistoryRead.objects.select_related("member", "group")[:1000]
        return Response(HistoryReadOutputSerializer(reads, many=True).data)


class MyAuditListView(APIView):
    @extend_schema(responses={200: HistoryReadOutputSerializer(many=True)}, summary="Who read your history")
    def get(self, request: Request) -> Response:
        reads = HistoryRead.objects.filter(member=request.user).select_related("member", "group")[:1000]
        return Response(HistoryReadOutputSerializer(reads, many=True).data)
