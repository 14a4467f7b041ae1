"""OAuth endpoints: which providers exist, start, finish, exchange, and linked accounts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.base.constants import AuthProcess
from django.contrib.auth import logout
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import oauth
from accounts.serializers import TokenPairOutputSerializer, UserOutputSerializer
from accounts.services import user_tokens_issue
from common.errors import ApiError
from common.exceptions import page_not_found

NEXT_SESSION_KEY = oauth.NEXT_SESSION_KEY
PROVIDER_SESSION_KEY = "haruchat_oauth_provider"
RESTARTED_SESSION_KEY = "haruchat_oauth_restarted"
logger = logging.getLogger(__name__)


def configured_providers(request: HttpRequest) -> list:
    """The providers with a client id and secret set; the others are simply not offered."""
    adapter = get_adapter()
    providers = []
    for provider_id in oauth.PROVIDER_NAMES:
        try:
            providers.append(adapter.get_provider(request, provider_id))
        except (ImproperlyConfigured, LookupError, SocialApp.DoesNotExist):
            continue
    return providers


class ProvidersView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField()
        name = serializers.CharField()
        login_url = serializers.CharField(help_text="Send the browser here (GET) to log in; add ?next=/path.")

    @extend_schema(responses={200: OutputSerializer(many=True)}, summary="Configured OAuth providers")
    def get(self, request: Request) -> Response:
        return Response(
            [
                {
                    "id": provider.id,
                    "name": oauth.PROVIDER_NAMES[provider.id],
                    "login_url": reverse("oauth-start", args=[provider.id]),
                }
                for provider in configured_providers(request)
            ]
        )


class OAuthStartView(View):
    """Send the browser to the provider's consent page (the flow's state lives in the session)."""

    def get(self, request: HttpRequest, provider_id: str) -> HttpResponse:
        provider = next((p for p in configured_providers(request) if p.id == provider_id), None)
        if provider is None:
            return HttpResponseRedirect(oauth.web_app_url("/login?oauth_error=unavailable"))
        request.session[NEXT_SESSION_KEY] = oauth.safe_next(request.GET.get("next"))
        request.session[PROVIDER_SESSION_KEY] = provider.id
        return provider.redirect(request, AuthProcess.LOGIN, next_url=reverse("oauth-finish"))


class OAuthFinishView(View):
    """allauth has logged the member in: trade that for a one-time code and end the session."""

    def get(self, request: HttpRequest) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(oauth.web_app_url("/login?oauth_error=failed"))
        next_path = request.session.get(NEXT_SESSION_KEY, "/")
        code = oauth.oauth_code_issue(user=request.user)
        logout(request)  # the API's one token system is the JWT pair
        return oauth.finish_redirect(code, next_path)


def _start_over(request: HttpRequest) -> HttpResponse:
    """Begin the login again with the same provider and `next`, once per login; then give up clearly.

    For a callback that lost a race with another for the same new identity: the
    provider consents at once, and the new dance finds the member the other made.
    """
    provider_id = request.session.get(PROVIDER_SESSION_KEY)
    if provider_id is None or request.session.get(RESTARTED_SESSION_KEY):
        return HttpResponseRedirect(oauth.web_app_url("/login?oauth_error=failed"))
    request.session[RESTARTED_SESSION_KEY] = True
    next_path = request.session.get(NEXT_SESSION_KEY, "/")
    return HttpResponseRedirect(f"{reverse('oauth-start', args=[provider_id])}?next={quote(next_path)}")


def _starting_over_on_a_lost_race(callback: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A provider's callback that starts over when a concurrent one linked the identity first."""

    def view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return callback(request, *args, **kwargs)
        except IntegrityError:
            logger.info("a concurrent OAuth callback linked this identity first; starting over")
            return _start_over(request)

    return view


github_callback = _starting_over_on_a_lost_race(oauth.github_callback)
kakao_callback = _starting_over_on_a_lost_race(oauth.kakao_callback)


@csrf_exempt  # a form posted here gets the 404, not a CSRF refusal
def allauth_page(request: HttpRequest) -> HttpResponse:
    """allauth's own pages under /accounts/, which haruchat does not serve.

    allauth sends a callback to its sign-up form when the identity's email was
    taken in the meantime (another callback for it won a race): that login
    starts over. Any other page sends a browser to the web app's login; anything
    but a GET is a 404.
    """
    if request.method not in ("GET", "HEAD"):
        return page_not_found(request)
    if request.path_info == reverse("socialaccount_signup"):
        return _start_over(request)
    return HttpResponseRedirect(oauth.web_app_url("/login"))


class InvalidOAuthCode(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "The login code is unknown, expired or already used. Log in again."
    default_code = "invalid_code"


class OAuthExchangeView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=200)

    @extend_schema(request=InputSerializer, responses={200: TokenPairOutputSerializer}, summary="OAuth code → JWTs")
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = oauth.oauth_code_redeem(code=data.validated_data["code"])
        if user is None:
            raise InvalidOAuthCode()
        return Response({**user_tokens_issue(user=user), "user": UserOutputSerializer(user).data})


class SocialAccountOutputSerializer(serializers.ModelSerializer):
    name = serializers.SerializerMethodField()

    class Meta:
        model = SocialAccount
        fields = ("id", "provider", "name", "uid", "date_joined", "last_login")

    def get_name(self, account: SocialAccount) -> str:
        return oauth.PROVIDER_NAMES.get(account.provider, account.provider)


class SocialAccountListView(APIView):
    @extend_schema(responses={200: SocialAccountOutputSerializer(many=True)}, summary="Linked login providers")
    def get(self, request: Request) -> Response:
        accounts = SocialAccount.objects.filter(user=request.user).order_by("id")
        return Response(SocialAccountOutputSerializer(accounts, many=True).data)


class LastLoginMethod(ApiError):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This is your only way to log in. Set a password or link another provider first."
    default_code = "last_login_method"


class SocialAccountDetailView(APIView):
    @extend_schema(responses={204: None}, summary="Unlink a login provider")
    def delete(self, request: Request, account_id: int) -> Response:
        account = SocialAccount.objects.filter(user=request.user, pk=account_id).first()
        if account is None:
            raise exceptions.NotFound("No such linked account.")
        others = SocialAccount.objects.filter(user=request.user).exclude(pk=account.pk).exists()
        if not others and not (request.user.has_usable_password() and request.user.email):
            raise LastLoginMethod()
        account.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
