"""Who may become a member: the registration mode, allowed email domains, and a per-address limit.

Each new account brings a fresh daily allowance, so sign-ups are what the
allowance is worth. The per-address count lives in the cache (Redis when
REDIS_URL is set), shared by every process; a sign-up takes its place in the
count before the account is made, so a burst can't slip past the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from rest_framework import exceptions, status

from accounts.login_attempts import address_block
from common.errors import ApiError
from common.window_counts import window_count_down, window_count_up, window_retry_after

OPEN, INVITE, CLOSED = "open", "invite", "closed"
MODES = (OPEN, INVITE, CLOSED)


class RegistrationClosed(ApiError):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = "Sign-up is closed on this haruchat. Ask its operator for an account."
    default_code = "registration_closed"


class SignupThrottled(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "signup_throttled"


def registration_domains() -> list[str]:
    return [domain.strip().lower().lstrip("@") for domain in settings.HARUCHAT_REGISTRATION_DOMAINS if domain.strip()]


def registration_allows_email(email: str | None) -> bool:
    """Whether the domain list (if any) admits this address; a member without an email never matches one."""
    domains = registration_domains()
    if not domains:
        return True
    return bool(email) and email.rsplit("@", 1)[-1].lower() in domains


class InviteRequired(RegistrationClosed):
    default_detail = "Sign-up here needs an invite code from your group's operator."
    default_code = "invite_required"


def registration_check(*, email: str | None, invite_code: str | None = None) -> None:
    """Refuse a new member the deployment's rules don't admit: 403 when closed, or invite-only without a
    code (the code itself is checked as the member joins), 400 outside the email domains."""
    mode = settings.HARUCHAT_REGISTRATION
    if mode == INVITE and not invite_code:
        raise InviteRequired()
    if mode not in (OPEN, INVITE):
        raise RegistrationClosed()
    if not registration_allows_email(email):
        raise exceptions.ValidationError(
            {
                "email": [
                    exceptions.ErrorDetail(
                        f"Sign-up is limited to addresses at {', '.join(registration_domains())}.",
                        code="email_domain_not_allowed",
                    )
                ]
            }
        )


def _count_key(ip: str) -> str:
    return f"signups:ip:{address_block(ip)}"


@contextmanager
def signup_slot(*, ip: str) -> Iterator[None]:
    """Take one of the address's sign-ups for the block (429 when none is left); a failed sign-up gives it back."""
    key, window = _count_key(ip), settings.HARUCHAT_SIGNUP_WINDOW_SECONDS
    if window_count_up(key, window=window) > settings.HARUCHAT_SIGNUP_MAX_PER_IP:
        window_count_down(key)
        retry_after = window_retry_after(key, window=window)
        raise SignupThrottled(
            f"Too many sign-ups from this address. Try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )
    try:
        yield
    except BaseException:
        window_count_down(key)
        raise
