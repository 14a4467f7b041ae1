"""Log in with GitHub or Kakao through django-allauth, ending in haruchat's own JWTs.

The backend runs the authorization-code flow (the client secret never
reaches the browser; allauth checks `state` and uses PKCE where offered).
When allauth has logged the member in, `OAuthFinishView` trades that login
for a one-time code, ends the Django session, and sends the browser back to
the web app, which exchanges the code by POST for the access + refresh pair.
No token travels in a URL.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any
from urllib.parse import quote

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialAccount, SocialLogin
from allauth.socialaccount.providers.base.constants import AuthError
from allauth.socialaccount.providers.github.provider import GitHubProvider as AllauthGitHubProvider
from allauth.socialaccount.providers.github.views import GitHubOAuth2Adapter
from allauth.socialaccount.providers.kakao.provider import KakaoProvider as AllauthKakaoProvider
from allauth.socialaccount.providers.kakao.views import KakaoOAuth2Adapter
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponseRedirect

from accounts.models import User, normalize_email
from accounts.registration import INVITE, OPEN, registration_allows_email
from accounts.services import user_credentials_revoke_all
from groups.services import InvalidInvite, group_join

ONE_TIME_CODE_SECONDS = 120
# Where the web app goes after the login (a path of its own), kept in the session from the start.
NEXT_SESSION_KEY = "haruchat_oauth_next"
JOIN_PATH = re.compile(r"^/join/([\w-]+)$")
PROVIDER_NAMES = {"github": "GitHub", "kakao": "Kakao"}


# --- Provider endpoints from settings (so loopback stand-ins can replace them) ---


class GitHubAdapter(GitHubOAuth2Adapter):
    @property
    def authorize_url(self) -> str:  # type: ignore[override]
        return f"{settings.HARUCHAT_GITHUB_URL.rstrip('/')}/login/oauth/authorize"

    @property
    def access_token_url(self) -> str:  # type: ignore[override]
        return f"{settings.HARUCHAT_GITHUB_URL.rstrip('/')}/login/oauth/access_token"

    @property
    def profile_url(self) -> str:  # type: ignore[override]
        return f"{settings.HARUCHAT_GITHUB_API_URL.rstrip('/')}/user"

    @property
    def emails_url(self) -> str:  # type: ignore[override]
        return f"{settings.HARUCHAT_GITHUB_API_URL.rstrip('/')}/user/emails"


class KakaoAdapter(KakaoOAuth2Adapter):
    @property
    def authorize_url(self) -> str:  # type: ignore[override]
        return f"{settings.HARUCHAT_KAKAO_AUTH_URL.rstrip('/')}/oauth/authorize"

    @property
    def access_token_url(self) -> str:  # type: ignore[override]
        return f"{settings.HARUCHAT_KAKAO_AUTH_URL.rstrip('/')}/oauth/token"

    @property
    def profile_url(self) -> str:  # type: ignore[override]
        return f"{settings.HARUCHAT_KAKAO_API_URL.rstrip('/')}/v2/user/me"


# allauth mounts each provider's `<package>.urls` under /accounts/, the package being the provider class's
# own by default: here `accounts`, so the whole auth API (accounts.urls) was served a second time there. This
# one has no `urlpatterns`: nothing is mounted; the callbacks are routed in config.urls.
NO_PROVIDER_URLS = "allauth.socialaccount.providers.oauth2"


class GitHubProvider(AllauthGitHubProvider):
    oauth2_adapter_class = GitHubAdapter
    package = NO_PROVIDER_URLS


class KakaoProvider(AllauthKakaoProvider):
    oauth2_adapter_class = KakaoAdapter
    package = NO_PROVIDER_URLS


github_callback = OAuth2CallbackView.adapter_view(GitHubAdapter)
kakao_callback = OAuth2CallbackView.adapter_view(KakaoAdapter)


# --- Where the browser goes afterwards ---------------------------------------


def web_app_url(route: str) -> str:
    """A route of the web app (hash routing), e.g. '/login?oauth_error=denied'."""
    return f"{settings.HARUCHAT_WEB_APP_URL}#{route}"


def safe_next(next_path: str | None) -> str:
    """Only a path inside the web app; anything else means the main page."""
    if not next_path or not next_path.startswith("/") or next_path.startswith(("//", "/\\")):
        return "/"
    return next_path


def _invite_code(request: HttpRequest) -> str | None:
    """The invite code of the login's `next`, when the login started from an invite link (#/join/CODE)."""
    match = JOIN_PATH.match(request.session.get(NEXT_SESSION_KEY, ""))
    return match.group(1) if match else None


def _join_or_undo(*, user: User, code: str) -> None:
    """Join the invite's group; a dead code undoes the new member (the caller's transaction) and says so."""
    try:
        group_join(user=user, code=code)
    except InvalidInvite:
        raise ImmediateHttpResponse(HttpResponseRedirect(web_app_url("/login?oauth_error=invite"))) from None


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Members from GitHub or Kakao: nickname from the profile, errors back to the web app."""

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """A provider makes a new member only under the rules a sign-up follows (mode, email domains);
        otherwise the browser lands on the web app's login page saying so (not allauth's HTML page)."""
        mode = settings.HARUCHAT_REGISTRATION
        admitted = mode == OPEN or (mode == INVITE and _invite_code(request) is not None)
        if admitted and registration_allows_email(sociallogin.user.email):
            return True
        raise ImmediateHttpResponse(HttpResponseRedirect(web_app_url("/login?oauth_error=closed")))

    def is_auto_signup_allowed(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        """Always create the member at once: one without an email (Kakao may share none)
        logs in with that provider; there is no extra sign-up form to fill in."""
        return True

    def authenticate_by_email(self, sociallogin: SocialLogin) -> tuple[User, str] | None:
        """A provider vouches for the address of an existing member, whom this login will link to.

        haruchat never verified that address at sign-up, so whoever registered it
        first may not be its owner: everything they hold ends here (allauth only
        wipes the password). Later logins find the linked account and never come here.
        """
        found = super().authenticate_by_email(sociallogin)
        if found is not None:
            user_credentials_revoke_all(user=found[0])
        return found

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """A new login whose unverified email belongs to a member keeps no email: it
        becomes a member of its own and never takes that member's account."""
        super().pre_social_login(request, sociallogin)
        if sociallogin.is_existing:
            return
        taken = {
            address.email.lower()
            for address in sociallogin.email_addresses
            if not address.verified and User.objects.filter(email=normalize_email(address.email)).exists()
        }
        if taken:
            sociallogin.email_addresses = [a for a in sociallogin.email_addresses if a.email.lower() not in taken]
            if (sociallogin.user.email or "").lower() in taken:
                sociallogin.user.email = None

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> User:
        """Create the member and their linked account together, once.

        Two callbacks for one new identity at once (a double click, a retried
        redirect) both find no member; the second's insert then fails on the
        unique provider id or email, and it logs in the member the first made.
        """
        try:
            with transaction.atomic():
                user = super().save_user(request, sociallogin, form)
                if settings.HARUCHAT_REGISTRATION == INVITE:  # admitted by the invite link it came from
                    _join_or_undo(user=user, code=_invite_code(request) or "")
                return user
        except IntegrityError:
            account = (
                SocialAccount.objects.select_related("user")
                .filter(provider=sociallogin.account.provider, uid=sociallogin.account.uid)
                .first()
            )
            if account is None:  # another member holds the email: not this race
                raise
            sociallogin.user, sociallogin.account = account.user, account
            return account.user

    def populate_user(self, request: HttpRequest, sociallogin: SocialLogin, data: dict[str, Any]) -> User:
        user = super().populate_user(request, sociallogin, data)
        user.email = normalize_email(user.email)
        if user.email and User.objects.filter(email=user.email).exists():
            # The provider didn't vouch for this address (a verified one would have
            # logged into that member already): never take over their account.
            user.email = None
        nickname = data.get("name") or data.get("username") or PROVIDER_NAMES.get(sociallogin.account.provider, "")
        user.nickname = str(nickname or "member")[:50]
        return user

    def on_authentication_error(
        self,
        request: HttpRequest,
        provider: Any,
        error: str | None = None,
        exception: Exception | None = None,
        extra_context: dict[str, Any] | None = None,
    ) -> None:
        """Denied consent, a bad or replayed state, an expired code, a provider that is down:
        back to the web app's login page with a reason it can show."""
        reason = "denied" if error in (AuthError.CANCELLED, AuthError.DENIED) else "failed"
        raise ImmediateHttpResponse(HttpResponseRedirect(web_app_url(f"/login?oauth_error={reason}")))


# --- The one-time code --------------------------------------------------------


def _code_key(code: str) -> str:
    return "oauth-code:" + hashlib.sha256(code.encode()).hexdigest()


def oauth_code_issue(*, user: User) -> str:
    """A single-use code, valid for two minutes, standing for this member's login."""
    code = secrets.token_urlsafe(32)
    cache.set(_code_key(code), user.pk, timeout=ONE_TIME_CODE_SECONDS)
    return code


def oauth_code_redeem(*, code: str) -> User | None:
    """The member the code stands for, once; None if unknown, expired or already used."""
    key = _code_key(code)
    user_id = cache.get(key)
    if user_id is None or not cache.delete(key):  # whoever deletes it first redeems it
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def finish_redirect(code: str, next_path: str) -> HttpResponseRedirect:
    return HttpResponseRedirect(web_app_url(f"/oauth?code={quote(code)}&next={quote(safe_next(next_path))}"))
