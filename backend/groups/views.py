"""Group endpoints: admins create groups; operators run theirs (404 for anyone else's); members join."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from common.schema import ErrorSerializer
from groups import selectors, services
from groups.models import Group, Invite


class AdminOnly(exceptions.PermissionDenied):
    default_detail = "Only an admin may do this."
    default_code = "admin_only"


def _admin_only(request: Request) -> None:
    if not request.user.is_staff:
        raise AdminOnly()


class GroupOutputSerializer(serializers.ModelSerializer):
    # Declared, not derived: a model field's bounds come from the database backend, and the schema must not.
    daily_limit = serializers.IntegerField(allow_null=True)
    monthly_token_budget = serializers.IntegerField(allow_null=True)

    class Meta:
        model = Group
        fields = ("id", "name", "description", "daily_limit", "monthly_token_budget", "created_at")


class GroupInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    daily_limit = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    monthly_token_budget = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class GroupListView(APIView):
    @extend_schema(responses={200: GroupOutputSerializer(many=True)}, summary="Groups you run (all, for an admin)")
    def get(self, request: Request) -> Response:
        return Response(GroupOutputSerializer(selectors.group_list(user=request.user), many=True).data)

    @extend_schema(
        request=GroupInputSerializer,
        responses={201: GroupOutputSerializer, 403: OpenApiResponse(ErrorSerializer, description="Not an admin")},
        summary="Create (admin)",
    )
    def post(self, request: Request) -> Response:
        _admin_only(request)
        data = GroupInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_create(**data.validated_data)
        return Response(GroupOutputSerializer(group).data, status=status.HTTP_201_CREATED)


class GroupDetailView(APIView):
    @extend_schema(responses={200: GroupOutputSerializer}, summary="One group you run")
    def get(self, request: Request, group_id: int) -> Response:
        return Response(GroupOutputSerializer(selectors.group_get(user=request.user, group_id=group_id)).data)

    @extend_schema(request=GroupInputSerializer(partial=True), responses={200: GroupOutputSerializer}, summary="Change")
    def patch(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        data = GroupInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return Response(GroupOutputSerializer(services.group_update(group=group, data=data.validated_data)).data)

    @extend_schema(
        responses={204: None, 403: OpenApiResponse(ErrorSerializer, description="An operator, not an admin")},
        summary="Delete (admin)",
    )
    def delete(self, request: Request, group_id: int) -> Response:
        group = selectors.group_get(user=request.user, group_id=group_id)
        _admin_only(request)
        services.group_delete(group=group)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        max_uses = serializers.IntegerField(min_value=1, required=False, allow_null=True)

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

    @extend_schema(request=InputSerializer, responses={200: GroupOutputSerializer}, summary="Join a group")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        group = services.group_join(user=request.user, code=data.validated_data["code"])
        return Response(GroupOutputSerializer(group).data)
