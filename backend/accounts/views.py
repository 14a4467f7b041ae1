"""Account endpoints: one APIView per operation; the work is in services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.views import TokenRefreshView

from accounts import services
from accounts.login_attempts import client_ip
from accounts.models import User
from accounts.password_reset import password_reset_confirm, password_reset_request
from accounts.registration import MODES, registration_check, registration_domains, signup_slot
from accounts.serializers import TokenPairOutputSerializer, UserOutputSerializer, validate_born_year
from groups.services import InvalidInvite, group_join


class SignupView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
        nickname = serializers.CharField(max_length=50)
        born_year = serializers.IntegerField(required=False, allow_null=True, validators=[validate_born_year])
        job = serializers.CharField(max_length=100, required=False, allow_blank=True)
        invite_code = serializers.CharField(
            max_length=40,
            required=False,
            allow_blank=True,
            help_text="Joins the invite's group (required when invite-only).",
        )

    @extend_schema(request=InputSerializer, responses={201: TokenPairOutputSerializer}, summary="Sign up")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        invite_code = fields.pop("invite_code", "").strip()
        registration_check(email=fields["email"], invite_code=invite_code)
        with signup_slot(ip=client_ip(request)):
            # Not one transaction: the password is hashed with no database connection held.
            user = services.user_create(**fields)
            if invite_code:
                try:
                    group_join(user=user, code=invite_code)
                except InvalidInvite:
                    user.delete()  # a bad code leaves no account behind
                    raise
        body = {**services.user_tokens_issue(user=user), "user": UserOutputSerializer(user).data}
        return Response(body, status=status.HTTP_201_CREATED)


class PasswordResetView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)

    @extend_schema(request=InputSerializer, responses={202: None}, summary="Mail a password reset link")
    def post(self, request: Request) -> Response:
        """202 whether or not the address is registered; a registered one gets a single-use link by mail."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password_reset_request(
            email=data.validated_data["email"],
            web_app_url=request.build_absolute_uri(settings.HARUCHAT_WEB_APP_URL),
        )
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(max_length=300)
        password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})

    @extend_schema(request=InputSerializer, responses={204: None}, summary="Set a new password with a reset link")
    def post(self, request: Request) -> Response:
        """The new password; every refresh token, session and access token of the member ends."""
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        password_reset_confirm(**data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RegistrationView(APIView):
    """What the sign-up page should offer: open, invite-only or closed, and any email domains."""

    authentication_classes = ()
    permission_classes = (AllowAny,)

    class OutputSerializer(serializers.Serializer):
        mode = serializers.ChoiceField(choices=MODES)
        domains = serializers.ListField(child=serializers.CharField(), help_text="Empty: any address.")
        operator_reads_history = serializers.BooleanField(
            help_text="Whether group operators may read members' conversations (every read is audited)."
        )

    @extend_schema(responses={200: OutputSerializer}, summary="Who may sign up, and the history policy")
    def get(self, request: Request) -> Response:
        return Response(
            {
                "mode": settings.HARUCHAT_REGISTRATION,
                "domains": registration_domains(),
                "operator_reads_history": settings.HARUCHAT_OPERATOR_READS_HISTORY,
            }
        )


class LoginView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer):
        email = serializers.CharField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})

    @extend_schema(request=InputSerializer, responses={200: TokenPairOutputSerializer}, summary="Log in")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_authenticate(**data.validated_data, ip=client_ip(request))
        return Response({**services.user_tokens_issue(user=user), "user": UserOutputSerializer(user).data})


class RefreshView(TokenRefreshView):
    """Exchange a refresh token for a new access token and a rotated refresh token.

    The old refresh token is blacklisted: using it again answers 401.
    """

    class InputSerializer(TokenRefreshSerializer):
        """simplejwt's, but the token of a member deleted since is 401, not 500."""

        def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
            try:
                return super().validate(attrs)
            except User.DoesNotExist as exc:
                raise services.InvalidRefreshToken() from exc

    serializer_class = InputSerializer


class LogoutView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={204: None}, summary="Log out (revoke a refresh token)")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.refresh_token_revoke(refresh=data.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    class UpdateSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254, required=False)
        nickname = serializers.CharField(max_length=50, required=False)
        born_year = serializers.IntegerField(required=False, allow_null=True, validators=[validate_born_year])
        job = serializers.CharField(max_length=100, required=False, allow_blank=True)
        password = serializers.CharField(max_length=128, required=False, trim_whitespace=False, write_only=True)
        current_password = serializers.CharField(max_length=128, required=False, trim_whitespace=False, write_only=True)

    @extend_schema(responses={200: UserOutputSerializer}, summary="Own profile")
    def get(self, request: Request) -> Response:
        return Response(UserOutputSerializer(request.user).data)

    class UpdatedOutputSerializer(UserOutputSerializer):
        access = serializers.CharField(
            required=False, help_text="With a new password: a fresh pair for this device (every other token ended)."
        )
        refresh = serializers.CharField(required=False)

        class Meta(UserOutputSerializer.Meta):
            fields = (*UserOutputSerializer.Meta.fields, "access", "refresh")

    @extend_schema(request=UpdateSerializer, responses={200: UpdatedOutputSerializer}, summary="Update own profile")
    def patch(self, request: Request) -> Response:
        data = self.UpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_update(user=request.user, data=data.validated_data)
        body = UserOutputSerializer(user).data
        if "password" in data.validated_data:  # the change ended every token, this device's too
            body = {**body, **services.user_tokens_issue(user=user)}
        return Response(body)

    @extend_schema(responses={204: None}, summary="Delete own account")
    def delete(self, request: Request) -> Response:
        services.user_delete(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
