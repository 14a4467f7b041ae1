"""Group endpoints: admins create groups and name operators; operators run theirs (404 for anyone else's);
members join."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.parsers import LimitedJSONParser
from common.schema import ErrorSerializer
from groups import imports, selectors, services
from groups.models import Group, Invite, Membership
from groups.parsers import CsvParser, CsvUploadParser
from quota.serializers import QUOTA_SOURCES

MAX_ID = 2**63 - 1
# The columns' ranges (PositiveIntegerField, PositiveBigIntegerField) on every database haruchat runs on: a number
# above them is a 400, not an OverflowError (SQLite) or a DataError (PostgreSQL).
MAX_INT = 2**31 - 1
MAX_BIGINT = 2**63 - 1


class AdminOnly(exceptions.PermissionDenied):
    default_detail = "Only an admin may do this."
    default_code = "admin_only"


def _admin_only(request: Request) -> None:
    if not request.user.is_staff:
        raise AdminOnly()


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


class GroupSummarySerializer(serializers.ModelSerializer):
    """A group as a member who joins it sees it: no operators or members."""

    # Declared, not derived: a model field's bounds come from the database backend, and the schema must not.
    daily_limit = serializers.IntegerField(allow_null=True)
    monthly_token_budget = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Group
        fields = ("id", "name", "description", "daily_limit", "monthly_token_budget", "created_at")


class GroupOperatorSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField(allow_null=True)
    nickname = serializers.CharField()


class GroupOutputSerializer(GroupSummarySerializer):
    """A group as its operators and admins see it (read through groups.selectors, which loads the lists)."""

    models = serializers.ListField(
        child=serializers.CharField(), source="allowed_models", help_text="Model ids its members may use; empty: all."
    )
    assistants = serializers.SlugRelatedField(
        many=True,
        read_only=True,
        slug_field="slug",
        source="allowed_assistants",
        help_text="Slugs of the assistants its members may use; empty: all.",
    )
    operators = serializers.SerializerMethodField()
    member_count = serializers.IntegerField(help_text="People in the group, operators included.")

    class Meta(GroupSummarySerializer.Meta):
        fields = (*GroupSummarySerializer.Meta.fields, "models", "assistants", "operators", "member_count")

    @extend_schema_field(GroupOperatorSerializer(many=True))
    def get_operators(self, group: Group) -> list[dict[str, Any]]:
        return [
            {"id": m.user.pk, "email": m.user.email, "nickname": m.user.nickname} for m in group.operator_memberships
        ]


class GroupInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    daily_limit = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False, allow_null=True)
    monthly_token_budget = serializers.IntegerField(min_value=0, max_value=MAX_BIGINT, required=False, allow_null=True)
    models = serializers.ListField(
        child=serializers.CharField(max_length=200),
        max_length=200,
        required=False,
        help_text="Model ids (from GET /api/models) its members may use; empty: all.",
    )
    assistants = serializers.ListField(
        child=serializers.SlugField(max_length=50),
        max_length=200,
        required=False,
        help_text="Slugs of active assistants its members may use; empty: all.",
    )
    operators = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        max_length=200,
        required=False,
        help_text="Admin only: the user ids who run the group (they join it); operators left out stay as members.",
    )


def _names_operators(request: Request) -> bool:
    return isinstance(request.data, dict) and "operators" in request.data


class GroupListView(APIView):
    @extend_schema(responses={200: GroupOutputSerializer(many=True)}, summary="Groups you run (all, for an admin)")
    def get(self, request: Request) -> Response:
        return Response(GroupOutputSerializer(selectors.group_list(user=request.user), many=True).data)

    @extend_schema(
        request=GroupInputSerializer,
        responses={201: GroupOutputSerializer, 403: _error("Not an admin (`admin_only`)")},
        summary="Create (admin)",
    )
    def post(self, request: Request) -> Response:
        _admin_only(request)
        data = GroupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_create(**data.validated_data)
        body = GroupOutputSerializer(selectors.group_get(user=request.user, group_id=group.pk, details=True)).data
        return Response(body, status=status.HTTP_201_CREATED)


class GroupDetailView(APIView):
    @extend_schema(responses={200: GroupOutputSerializer}, summary="One group you run")
    def get(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id, details=True)
        return Response(GroupOutputSerializer(group).data)

    @extend_schema(
        request=GroupInputSerializer(partial=True),
        responses={200: GroupOutputSerializer, 403: _error("`operators` sent by an operator, not an admin")},
        summary="Change",
    )
    def patch(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        if _names_operators(request):
            _admin_only(request)
        data = GroupInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.group_update(group=group, data=data.validated_data)
        return Response(
            GroupOutputSerializer(selectors.group_get(user=request.user, group_id=group_id, details=True)).data
        )

    @extend_schema(
        responses={204: None, 403: _error("An operator, not an admin (`admin_only`)")},
        summary="Delete (admin)",
    )
    def delete(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        _admin_only(request)
        services.group_delete(group=group)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MemberOutputSerializer(serializers.Serializer):
    """A member of a group (a selectors.MemberRow) with today's use and this month's tokens."""

    id = serializers.IntegerField(source="user.pk", help_text="The member's user id.")
    email = serializers.EmailField(source="user.email", allow_null=True)
    nickname = serializers.CharField(source="user.nickname")
    role = serializers.ChoiceField(choices=Membership.Role.choices, source="membership.role")
    joined_at = serializers.DateTimeField(source="membership.joined_at")
    requests_today = serializers.IntegerField(help_text="Model requests counted today (the quota's day).")
    daily_limit = serializers.IntegerField(help_text="Their effective daily limit, by the one rule of /api/quota.")
    daily_limit_source = serializers.ChoiceField(choices=QUOTA_SOURCES, help_text="Which rule gave it.")
    tokens_this_month = serializers.IntegerField(help_text="Tokens used this month (the quota's time zone).")


class AddExistingAdminOnly(AdminOnly):
    default_detail = (
        "Only an admin may add an existing account to a group. Send the person an invite link instead: "
        "joining with it is their choice."
    )


class MemberListView(APIView):
    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        role = serializers.ChoiceField(
            choices=Membership.Role.choices,
            required=False,
            help_text="Given, it also changes the role of someone already in.",
        )

    @extend_schema(responses={200: MemberOutputSerializer(many=True)}, summary="A group's members and their use")
    def get(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        return Response(MemberOutputSerializer(selectors.member_list(group=group), many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OpenApiResponse(MemberOutputSerializer, description="Already in the group"),
            201: OpenApiResponse(MemberOutputSerializer, description="Added"),
            400: _error("Invalid input, or no account with this email (`unknown_member`)"),
            403: _error("An operator, not an admin (`admin_only`): an operator sends an invite link instead"),
        },
        summary="Add an existing account (admin)",
        description=(
            "Admin only. An operator gets 403 `admin_only` whatever the email, before it is looked up: putting "
            "someone in a group changes their allowance and models and shows their usage to its operators, so "
            "an operator enrols people with an invite link (which they choose to use) or creates new accounts "
            "with the CSV import."
        ),
    )
    def post(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        if not request.user.is_staff:  # before the email is read, so the answer says nothing about who has an account
            raise AddExistingAdminOnly()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership, added = services.member_add(
            group=group, email=data.validated_data["email"], role=data.validated_data.get("role")
        )
        body = MemberOutputSerializer(selectors.member_get(group=group, user_id=membership.user_id)).data
        return Response(body, status=status.HTTP_201_CREATED if added else status.HTTP_200_OK)


class MemberDetailView(APIView):
    @extend_schema(
        responses={204: None, 403: _error("The member is an operator, and you are not an admin (`admin_only`)")},
        summary="Remove from the group",
    )
    def delete(self, request: Request, group_id: int, user_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        membership = selectors.membership_get(group=group, user_id=user_id)
        if membership.role == Membership.Role.OPERATOR:
            _admin_only(request)
        services.member_remove(membership=membership)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImportRowSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The row's line in the file (the header is line 1).")
    email = serializers.CharField(help_text="As read (lower-cased).")
    nickname = serializers.CharField(allow_blank=True, help_text="The account's nickname (created or added).")
    role = serializers.CharField(help_text="member or operator (as read, when it is neither).")
    action = serializers.ChoiceField(choices=(imports.CREATED, imports.ADDED, imports.SKIPPED))
    reason = serializers.CharField(allow_null=True, help_text="Why it was skipped, or a note.")
    set_password_url = serializers.CharField(
        allow_null=True, help_text="Created rows of a real run: the new member's one-time link to set a password."
    )


class ImportOutputSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField()
    added = serializers.IntegerField()
    skipped = serializers.IntegerField()
    rows = ImportRowSerializer(many=True)


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV file: email,nickname[,role] (UTF-8 or CP949).")


class ImportJsonSerializer(serializers.Serializer):
    csv = serializers.CharField(help_text="The CSV text: email,nickname[,role].")


class MemberImportView(APIView):
    parser_classes = (CsvParser, CsvUploadParser, LimitedJSONParser)

    @extend_schema(
        parameters=[
            OpenApiParameter("dry_run", bool, description="Report what would happen; change nothing.", default=False)
        ],
        request={
            "text/csv": OpenApiTypes.STR,
            "multipart/form-data": ImportUploadSerializer,
            "application/json": ImportJsonSerializer,
        },
        responses={
            200: ImportOutputSerializer,
            400: _error(
                "Invalid input: a file too large (`csv_too_large`, over 1 MiB) or long (`csv_too_many_rows`, over "
                "5,000 rows), not text (`csv_unreadable`), or without an email column (`csv_no_email_column`)"
            ),
            409: _error("Accounts or members changed while importing; nothing was imported (`import_conflict`)"),
        },
        summary="Import members from CSV",
        description=(
            "A CSV file whose first line names the columns `email,nickname[,role]`, as the body (text/csv), "
            'a form\'s `file`, or JSON `{"csv": …}`. Each row creates an account (no password: it gets a '
            "one-time link to set one), adds an existing account (an admin's import only), or is skipped with the "
            "reason. An email that belongs to an account is added only when the nickname is blank or the "
            "account's; in an operator's import it is skipped (`already has an account: send them an invite "
            "link`). All or nothing."
        ),
    )
    def post(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        dry_run = request.query_params.get("dry_run", "").lower() in ("1", "true", "yes")
        rows = imports.import_run(
            group=group,
            text=imports.csv_text(_csv_body(request)),
            by_admin=request.user.is_staff,
            web_app_url=request.build_absolute_uri(settings.HARUCHAT_WEB_APP_URL),
            dry_run=dry_run,
        )
        return Response(imports.import_report(rows, dry_run=dry_run))


def _csv_body(request: Request) -> bytes | str:
    """The file from whichever body was sent: text/csv, a form's `file`, or JSON's `csv`."""
    data = request.data
    if isinstance(data, bytes):
        return data
    if request.content_type.startswith("multipart/"):
        upload = request.FILES.get("file")
        if upload is None:
            raise exceptions.ValidationError({"file": [exceptions.ErrorDetail("Attach the CSV file.", "required")]})
        if upload.size > imports.MAX_BYTES:
            raise imports.CsvTooLarge()
        return upload.read()
    body = ImportJsonSerializer(data=data)
    body.is_valid(raise_exception=True)
    return body.validated_data["csv"]


class InviteOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The web app's page that joins the group with this code.")
    max_uses = serializers.IntegerField(allow_null=True)
    uses = serializers.IntegerField()

    class Meta:
        model = Invite
        fields = ("id", "code", "url", "expires_at", "max_uses", "uses", "created_at")

    def get_url(self, invite: Invite) -> str:
        request = self.context["request"]
        return f"{request.build_absolute_uri(settings.HARUCHAT_WEB_APP_URL)}#/join/{invite.code}"


class InviteListView(APIView):
    class InputSerializer(serializers.Serializer):
        expires_at = serializers.DateTimeField(required=False, allow_null=True)
        max_uses = serializers.IntegerField(min_value=1, max_value=MAX_INT, required=False, allow_null=True)

    @extend_schema(responses={200: InviteOutputSerializer(many=True)}, summary="A group's live invite codes")
    def get(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        invites = group.invites.filter(revoked_at__isnull=True)
        return Response(InviteOutputSerializer(invites, many=True, context={"request": request}).data)

    @extend_schema(request=InputSerializer, responses={201: InviteOutputSerializer}, summary="Create an invite code")
    def post(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invite = services.invite_create(group=group, created_by=request.user, **data.validated_data)
        body = InviteOutputSerializer(invite, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class InviteDetailView(APIView):
    @extend_schema(responses={204: None}, summary="Revoke an invite code")
    def delete(self, request: Request, group_id: int, invite_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        services.invite_revoke(invite=selectors.invite_get(group=group, invite_id=invite_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class JoinView(APIView):
    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=40)

    @extend_schema(request=InputSerializer, responses={200: GroupSummarySerializer}, summary="Join a group")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_join(user=request.user, code=data.validated_data["code"])
        return Response(GroupSummarySerializer(group).data)
