"""Forgotten passwords: a single-use, expiring link sent through Django's email backend (and the
longer-lived set-password link an import gives the members it creates).

The token is Django's own (`default_token_generator`): it is bound to the
member's current password hash and last login, so it stops working once used
(the password changes) or after PASSWORD_RESET_TIMEOUT. The link points at
the web app (`#/reset/<token>`); sending goes through `send_mail`, so the
console backend by default and SMTP from HARUCHAT_EMAIL_URL in production.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.mail import send_mail
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from rest_framework import status

from accounts.models import User, normalize_email
from accounts.services import refresh_tokens_revoke_all, user_password_set
from common.errors import ApiError
from common.window_counts import window_count_up

MAILS_PER_ADDRESS_PER_HOUR = 3


class InvalidResetToken(ApiError):
    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "This reset link is invalid, expired or already used. Ask for a new one."
    default_code = "invalid_reset_token"


def password_reset_token(*, user: User) -> str:
    """One string for the link: the member's id and Django's token for them."""
    return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{default_token_generator.make_token(user)}"


def password_reset_link(*, user: User, web_app_url: str) -> str:
    """The web app's page that sets a new password with this member's token."""
    return f"{web_app_url}#/reset/{password_reset_token(user=user)}"


WELCOME_SALT = "haruchat.accounts.welcome-link"


def welcome_link(*, user: User, web_app_url: str) -> str:
    """A set-password link for a member an operator's import created, on the same page as a reset link.

    Handed out to a class, so it lasts HARUCHAT_WELCOME_LINK_SECONDS (a week by default) rather than a
    reset link's hour; still single-use: it is bound to the password and last login, which setting the
    password (or logging in) changes.
    """
    token = signing.dumps({"id": user.pk, "state": _password_state(user)}, salt=WELCOME_SALT)
    return f"{web_app_url}#/reset/{token}"


def _password_state(user: User) -> str:
    return hashlib.sha256(f"{user.password}|{user.last_login}".encode()).hexdigest()[:32]


def password_reset_request(*, email: str, web_app_url: str) -> None:
    """Mail a reset link to the active member with this address, if there is one (the caller says the same
    thing either way, so the answer tells nobody whether an address is registered)."""
    address = normalize_email(email)
    if not _within_mail_allowance(address):
        return  # silently: a refusal would say the address is registered
    user = User.objects.filter(email=address, is_active=True).first()
    if user is None:
        return
    link = password_reset_link(user=user, web_app_url=web_app_url)
    minutes = settings.PASSWORD_RESET_TIMEOUT // 60
    send_mail(
        subject="Reset your haruchat password / haruchat 비밀번호 재설정",
        message=(
            f"Someone asked to reset the password of your haruchat account ({user.email}).\n"
            f"Set a new one here within {minutes} minutes:\n\n{link}\n\n"
            "If it wasn't you, ignore this message: your password stays as it is.\n\n"
            f"haruchat 계정({user.email})의 비밀번호 재설정 요청이 있었습니다.\n"
            f"{minutes}분 안에 아래 링크에서 새 비밀번호를 정하세요:\n\n{link}\n\n"
            "요청하지 않았다면 이 메일을 무시하세요. 비밀번호는 바뀌지 않습니다.\n"
        ),
        from_email=None,
        recipient_list=[user.email],
    )


def _within_mail_allowance(address: str) -> bool:
    """At most a few reset mails per address per hour, so the form can't flood someone's inbox."""
    key = "password-reset:" + hashlib.sha256(address.encode()).hexdigest()[:32]
    return window_count_up(key, window=3600) <= MAILS_PER_ADDRESS_PER_HOUR


def password_reset_confirm(*, token: str, password: str) -> User:
    """Set the new password if the token is good; every refresh token, session and access token ends."""
    user = _token_user(token)
    if user is None:
        raise InvalidResetToken()
    user_password_set(user=user, password=password)
    refresh_tokens_revoke_all(user=user)
    return user


def _token_user(token: str) -> User | None:
    if ":" in token:  # signing's separator: a welcome link's token
        return _welcome_token_user(token)
    uid, _, django_token = token.partition(".")
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError):
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, django_token):
        return None
    return user


def _welcome_token_user(token: str) -> User | None:
    try:
        data = signing.loads(token, salt=WELCOME_SALT, max_age=settings.HARUCHAT_WELCOME_LINK_SECONDS)
    except signing.BadSignature:  # also when expired
        return None
    user = User.objects.filter(pk=data.get("id"), is_active=True).first() if isinstance(data, dict) else None
    if user is None or data.get("state") != _password_state(user):
        return None
    return user
