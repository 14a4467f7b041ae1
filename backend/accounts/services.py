"""Account writes: sign-up, login, tokens, profile changes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, password_validation
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework import exceptions, status
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.login_attempts import login_attempt_check, login_failure_record, login_success_record
from accounts.models import User, normalize_email
from common.errors import ApiError


# ApiError rather than DRF's AuthenticationFailed: these views take no credentials
# header, and DRF would turn an AuthenticationFailed there into a 403.
class InvalidCredentials(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "The email or password is not correct."
    default_code = "invalid_credentials"


class InvalidRefreshToken(ApiError):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = "The refresh token is invalid, expired or already used."
    default_code = "token_not_valid"


def _password_errors(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise exceptions.ValidationError({"password": list(exc.messages)}, code="password_invalid") from exc


def user_create(*, email: str, password: str, nickname: str, born_year: int | None = None, job: str = "") -> User:
    """Create a member after Django's password validators accept the password."""
    user = User(email=normalize_email(email), nickname=nickname.strip(), born_year=born_year, job=job.strip())
    _password_errors(password, user)
    user.set_password(password)
    _save_with_unique_email(user)
    return user


def _save_with_unique_email(user: User) -> None:
    """Save, turning the unique-email constraint into a 400 `email_taken` (it also settles races)."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise exceptions.ValidationError(
            {"email": [exceptions.ErrorDetail("A member with this email already exists.", code="email_taken")]}
        ) from exc


def user_authenticate(*, email: str, password: str, ip: str = "unknown") -> User:
    """The active member with these credentials, or 401 invalid_credentials.

    Repeated failures for one account or one address pause login (429).
    """
    login_attempt_check(email=email, ip=ip)
    user = authenticate(username=normalize_email(email), password=password)
    if user is None:
        login_failure_record(email=email, ip=ip)
        raise InvalidCredentials()
    login_success_record(email=email)
    update_last_login(None, user)
    return user


def user_tokens_issue(*, user: User) -> dict[str, str]:
    """A fresh simplejwt access + refresh pair: the API's one kind of token."""
    refresh = RefreshToken.for_user(user)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def refresh_token_revoke(*, refresh: str) -> None:
    """Blacklist a refresh token so it can never be used again (logout)."""
    try:
        RefreshToken(refresh).blacklist()
    except TokenError as exc:
        raise InvalidRefreshToken() from exc


def refresh_tokens_revoke_all(*, user: User) -> None:
    """Log a member out everywhere: every refresh token issued to them stops working."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )


def user_credentials_revoke_all(*, user: User) -> None:
    """End every way in that someone else may hold: refresh tokens, API keys and sessions.

    For an account whose earlier holder can't be trusted (an address linked to
    a provider that verified it). Sessions end because the password hash they
    are bound to changes; access tokens run out within their short lifetime.
    """
    from gateway.services import api_keys_revoke_all  # gateway builds on accounts, not the other way

    refresh_tokens_revoke_all(user=user)
    api_keys_revoke_all(user=user)
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])


def user_update(*, user: User, data: dict[str, Any]) -> User:
    """Change profile fields; a new email must still be unique."""
    for field in ("nickname", "job"):
        if field in data:
            setattr(user, field, data[field].strip())
    if "born_year" in data:
        user.born_year = data["born_year"]
    if "email" in data:
        user.email = normalize_email(data["email"])
    if "password" in data:
        # A member with no usable password (one who came through a provider) sets one freely.
        if user.has_usable_password() and not user.check_password(data.get("current_password") or ""):
            raise exceptions.ValidationError(
                {"current_password": [exceptions.ErrorDetail("The current password is not correct.", code="invalid")]}
            )
        _password_errors(data["password"], user)
        user.set_password(data["password"])
    _save_with_unique_email(user)
    if "password" in data:
        refresh_tokens_revoke_all(user=user)
    return user


def user_password_set(*, user: User, password: str) -> None:
    """A new password, after Django's validators accept it (the old one is not asked for: the caller proved
    the member some other way, e.g. a reset link)."""
    _password_errors(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])


def user_delete(*, user: User) -> None:
    """Delete a member with their conversations; their tokens stop working."""
    user.delete()
