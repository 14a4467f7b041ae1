"""Chat endpoints: thin views over chat.services and chat.selectors."""

from __future__ import annotations

import datetime as dt
import json

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import export, selectors
from chat.export import EXPORT_FORMATS
from chat.limits import MessageContentField, max_tokens_limit
from chat.models import Assistant, Conversation
from chat.serializers import (
    AssistantOutputSerializer,
    CompletionOutputSerializer,
    ConversationDetailOutputSerializer,
    ConversationSummaryOutputSerializer,
    MessageOutputSerializer,
)
from chat.services.calls import PreparedCall, answer_placeholder_create
from chat.services.conversations import (
    CURRENT_LEAF,
    answer_regenerate,
    call_complete,
    conversation_create,
    conversation_delete,
    conversation_rename,
    conversation_switch_branch,
    message_prepare,
)
from chat.services.generations import answer_events, answer_stop, call_answer_events
from chat.services.titles import conversation_title_write, title_wanted
from common.schema import ErrorSerializer
from common.streams import event_stream_response
from groups.access import assistants_for, models_for
from llm.providers import get_provider
from quota.serializers import QuotaOutputSerializer


class ConversationPagination(CursorPagination):
    ordering = ("-updated_at", "-id")
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request: Request) -> Cursor | None:
        """DRF's, but a cursor whose position is no time is invalid (404) too, not a query that fails (500)."""
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                position = Conversation._meta.get_field("updated_at").to_python(cursor.position)
                if timezone.is_naive(position):
                    position = timezone.make_aware(position)
                position.astimezone(dt.UTC)  # out of range once in UTC, e.g. 0001-01-01 at +14:00
            except (DjangoValidationError, ValueError, OverflowError) as exc:
                raise NotFound(self.invalid_cursor_message) from exc
        return cursor


class AssistantListView(APIView):
    @extend_schema(
        responses={200: AssistantOutputSerializer(many=True)}, summary="Assistants and their intake questions"
    )
    def get(self, request: Request) -> Response:
        assistants = assistants_for(request.user, selectors.assistant_list())
        return Response(AssistantOutputSerializer(assistants, many=True).data)


class ModelListView(APIView):
    class OutputSerializer(serializers.Serializer):
        default = serializers.CharField()
        models = serializers.ListField(child=serializers.CharField())
        provider = serializers.CharField()

    @extend_schema(
        responses={200: OutputSerializer}, summary="Models a conversation may use (those the member's groups allow)"
    )
    def get(self, request: Request) -> Response:
        provider = get_provider()
        models = models_for(request.user, provider.models())
        default = provider.default_model() if provider.default_model() in models else (models or [""])[0]
        return Response({"default": default, "models": models, "provider": provider.name})


class ConversationPageOutputSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next (older) page, or null.")
    previous = serializers.URLField(allow_null=True)
    results = ConversationSummaryOutputSerializer(many=True)


class SlugNotFoundOnNul(serializers.SlugRelatedField):
    """A slug with a NUL byte names nothing; PostgreSQL would refuse the lookup itself (a 500)."""

    def to_internal_value(self, data):  # type: ignore[no-untyped-def]
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\x00"))
        return super().to_internal_value(data)


class ConversationListView(APIView):
    class CreateSerializer(serializers.Serializer):
        assistant = SlugNotFoundOnNul(
            slug_field="slug", queryset=Assistant.objects.filter(is_active=True), required=False
        )
        intake = serializers.DictField(
            child=serializers.CharField(max_length=4000, allow_blank=True), required=False, default=dict
        )
        title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        model = serializers.CharField(max_length=200, required=False)
        temperature = serializers.FloatField(min_value=0.0, max_value=2.0, required=False)
        max_tokens = serializers.IntegerField(min_value=1, required=False, validators=[max_tokens_limit()])

    class ListQuerySerializer(serializers.Serializer):
        search = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("search", str, description="Match titles and message text"),
            OpenApiParameter("cursor", str, description="The position of a page: from its `next` or `previous` link"),
            OpenApiParameter(
                "page_size",
                int,
                description=f"Conversations per page (default {ConversationPagination.page_size}, "
                f"at most {ConversationPagination.max_page_size})",
            ),
        ],
        responses={
            200: ConversationPageOutputSerializer,
            404: OpenApiResponse(ErrorSerializer, description="Invalid cursor"),
        },
        operation_id="conversation_list",
        summary="Own conversations, newest first",
    )
    def get(self, request: Request) -> Response:
        query = self.ListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)  # e.g. a NUL character, which PostgreSQL text can't hold: 400
        conversations = selectors.conversation_list(user=request.user, search=query.validated_data.get("search"))
        paginator = ConversationPagination()
        page = paginator.paginate_queryset(conversations, request, view=self)
        return paginator.get_paginated_response(ConversationSummaryOutputSerializer(page, many=True).data)

    @extend_schema(
        request=CreateSerializer, responses={201: ConversationDetailOutputSerializer}, summary="Start a conversation"
    )
    def post(self, request: Request) -> Response:
        data = self.CreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields["assistant"] = fields.get("assistant") or selectors.assistant_default()
        conversation = conversation_create(user=request.user, **fields)
        conversation = selectors.conversation_get(
            user=request.user, conversation_id=conversation.pk, with_messages=True
        )
        return Response(ConversationDetailOutputSerializer(conversation).data, status=status.HTTP_201_CREATED)


class ConversationDetailView(APIView):
    class ChangeSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200, required=False)
        current_leaf_id = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="Switch branch: any message of the conversation; the branch shown then runs down from it "
            "(by the newest answers) to a leaf.",
        )

        def validate(self, attrs: dict) -> dict:
            if not attrs:
                raise serializers.ValidationError("Give a title, a current_leaf_id, or both.", code="empty")
            return attrs

    @extend_schema(responses={200: ConversationDetailOutputSerializer}, summary="One conversation with its messages")
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = selectors.conversation_get(
            user=request.user, conversation_id=conversation_id, with_messages=True
        )
        return Response(ConversationDetailOutputSerializer(conversation).data)

    @extend_schema(
        request=ChangeSerializer, responses={200: ConversationDetailOutputSerializer}, summary="Rename, switch branch"
    )
    def patch(self, request: Request, conversation_id: int) -> Response:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        data = self.ChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "current_leaf_id" in data.validated_data:
            conversation_switch_branch(conversation=conversation, message_id=data.validated_data["current_leaf_id"])
        if "title" in data.validated_data:
            conversation_rename(conversation=conversation, title=data.validated_data["title"])
        conversation = selectors.conversation_get(
            user=request.user, conversation_id=conversation_id, with_messages=True
        )
        return Response(ConversationDetailOutputSerializer(conversation).data)

    @extend_schema(responses={204: None}, summary="Delete (the day's used quota is not given back)")
    def delete(self, request: Request, conversation_id: int) -> Response:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        conversation_delete(conversation=conversation)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UsageOutputSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField(allow_null=True)
    completion_tokens = serializers.IntegerField(allow_null=True)
    total_tokens = serializers.IntegerField(allow_null=True)


class MessageSendView(APIView):
    class InputSerializer(serializers.Serializer):
        stream = serializers.BooleanField(
            default=False, help_text="Answer as text/event-stream: start, delta..., then done or error."
        )
        content = MessageContentField(
            required=False,
            trim_whitespace=False,
            help_text="The member's message. Leave it out to answer the current leaf when it is the member's "
            "(the intake opening, or a message whose model call failed).",
        )
        parent_id = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            help_text="The message this one follows (default: the current leaf). Give an earlier message's "
            "parent_id to edit it: the new message is its sibling, the old branch stays. null: a new first message.",
        )

        def validate_content(self, value: str) -> str:
            if not value.strip():
                raise serializers.ValidationError("The message is empty.", code="blank")
            return value

        def validate(self, attrs: dict) -> dict:
            if "parent_id" in attrs and "content" not in attrs:
                raise serializers.ValidationError({"parent_id": ["Only a new message (with content) takes a parent."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        user_message = MessageOutputSerializer()
        assistant_message = MessageOutputSerializer(source="answer")
        completion_id = serializers.IntegerField(source="completion.pk")
        conversation_title = serializers.CharField(
            source="completion.conversation.title",
            help_text="The conversation's title after this call (after a first exchange, possibly the model's).",
        )
        usage = UsageOutputSerializer(help_text="The call's token usage as recorded (null: the model reported none).")
        quota = QuotaOutputSerializer()

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer}, summary="Send a message and get the answer"
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        content = data.validated_data.get("content")
        parent = data.validated_data.get("parent_id", CURRENT_LEAF)
        stream = data.validated_data["stream"]
        call = message_prepare(user=request.user, conversation=conversation, content=content, parent=parent,
                               stream=stream)  # fmt: skip
        return answer_response(call, stream=stream)


def answer_response(call: PreparedCall, *, stream: bool) -> Response | StreamingHttpResponse:
    """The answer to a started call: in one piece (201), or streamed (errors up to here were plain JSON)."""
    if stream:
        call = answer_placeholder_create(call=call)
        return event_stream_response(call_answer_events(call=call), headers=call.reservation.status.headers())
    result = call_complete(call=call)
    if title_wanted(result):
        result.completion.conversation.title = (
            conversation_title_write(result=result) or result.completion.conversation.title
        )
    body = MessageSendView.OutputSerializer(result).data
    return Response(body, status=status.HTTP_201_CREATED, headers=result.quota.headers())


class AnswerRegenerateView(APIView):
    class InputSerializer(serializers.Serializer):
        stream = serializers.BooleanField(
            default=False, help_text="Answer as text/event-stream: start, delta..., then done or error."
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: MessageSendView.OutputSerializer},
        summary="Answer again: a new sibling of this answer (or another answer to this message of the member's)",
    )
    def post(self, request: Request, conversation_id: int, message_id: int) -> Response | StreamingHttpResponse:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        stream = data.validated_data["stream"]
        call = answer_regenerate(user=request.user, conversation=conversation, message_id=message_id, stream=stream)
        return answer_response(call, stream=stream)


class AnswerStreamView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "Last-Event-ID",
                int,
                OpenApiParameter.HEADER,
                description="The characters of the answer the client already has (the last `delta` event's id).",
            )
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(description="`delta`... then `done` or `error`"),
            404: OpenApiResponse(ErrorSerializer),
        },
        summary="Follow an answer: the text so far (from Last-Event-ID), then the rest live, then done or error",
    )
    def get(self, request: Request, conversation_id: int, message_id: int) -> StreamingHttpResponse:
        answer = selectors.answer_get(user=request.user, conversation_id=conversation_id, message_id=message_id)
        offset = request.headers.get("Last-Event-ID", "")
        offset = min(int(offset), 10**9) if offset.isdigit() else 0
        return event_stream_response(answer_events(answer_id=answer.pk, offset=offset))


class AnswerStopView(APIView):
    @extend_schema(
        request=None,
        responses={
            202: OpenApiResponse(
                MessageOutputSerializer,
                description="`stopping`; or `interrupted` (ended now) when no live process was writing it",
            ),
            404: OpenApiResponse(ErrorSerializer),
            409: OpenApiResponse(ErrorSerializer, description="The answer has already ended (not_generating)"),
        },
        summary="Stop an answer being generated: it keeps the text so far (counted), or goes if there is none",
    )
    def post(self, request: Request, conversation_id: int, message_id: int) -> Response:
        answer = selectors.answer_get(user=request.user, conversation_id=conversation_id, message_id=message_id)
        answer = answer_stop(answer=answer)
        return Response(MessageOutputSerializer(answer).data, status=status.HTTP_202_ACCEPTED)


class CompletionListView(APIView):
    @extend_schema(
        responses={200: CompletionOutputSerializer(many=True)},
        summary="Every model call: exact request and response JSON",
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        completions = selectors.conversation_completions(conversation=conversation)
        return Response(CompletionOutputSerializer(completions, many=True).data)


class ExportFormatSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=EXPORT_FORMATS, default="json")


def _export_response(request: Request, conversation_id: int | None, filename: str) -> HttpResponse:
    query = ExportFormatSerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    conversations = export.conversations_for_export(user=request.user, conversation_id=conversation_id)
    if query.validated_data["format"] == "markdown":
        body = export.export_markdown(user=request.user, conversations=conversations)
        response = HttpResponse(body, content_type="text/markdown; charset=utf-8")
        extension = "md"
    else:
        data = export.export_json(user=request.user, conversations=conversations)
        response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json")
        extension = "json"
    response["Content-Disposition"] = f'attachment; filename="{filename}.{extension}"'
    return response


class ConversationExportView(APIView):
    @extend_schema(
        operation_id="conversation_export",
        parameters=[ExportFormatSerializer],
        responses={(200, "application/json"): dict, (200, "text/markdown"): str},
    )
    def get(self, request: Request, conversation_id: int) -> HttpResponse:
        """Download one conversation: messages plus the full call records (JSON) or a transcript (Markdown)."""
        selectors.conversation_get(user=request.user, conversation_id=conversation_id)  # 404 unless own
        return _export_response(request, conversation_id, f"haruchat-conversation-{conversation_id}")


class ConversationExportAllView(APIView):
    @extend_schema(
        operation_id="conversation_export_all",
        parameters=[ExportFormatSerializer],
        responses={(200, "application/json"): dict, (200, "text/markdown"): str},
    )
    def get(self, request: Request) -> HttpResponse:
        """Download all of the member's conversations."""
        return _export_response(request, None, f"haruchat-export-{timezone.now():%Y%m%d}")
