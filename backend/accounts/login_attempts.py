"""Brute-force protection for password login: failures are counted per account
and per client address in the cache (Redis when REDIS_URL is set, so every
process shares the count); past the limit, login pauses with 429."""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework import status

from common.errors import ApiError
from common.window_counts import window_count_up, window_retry_after


class LoginThrottled(ApiError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "login_throttled"


def client_ip(request: HttpRequest) -> str:
    """The caller's address. Behind HARUCHAT_TRUSTED_PROXIES proxies, each of which appends
    the address it saw to X-Forwarded-For, it is the N-th entry from the right: entries to
    its left came from the client and are never read. With no proxy (0), or when that entry
    is missing or not an address, the connection's own address (REMOTE_ADDR)."""
    connection = request.META.get("REMOTE_ADDR", "")
    fallback = _address(connection) or connection or "unknown"
    header = settings.HARUCHAT_CLIENT_IP_HEADER
    # HARUCHAT_CLIENT_IP_HEADER on its own (its meaning before the count existed): one proxy.
    hops = settings.HARUCHAT_TRUSTED_PROXIES or (1 if header else 0)
    if hops <= 0:
        return fallback
    entries = [entry.strip() for entry in request.headers.get(header or "X-Forwarded-For", "").split(",")]
    if len(entries) < hops:
        return fallback
    return _address(entries[-hops]) or fallback


def _address(value: str) -> str | None:
    """An IP address in its canonical spelling (a port, as some proxies add, dropped), or None."""
    if value.startswith("[") and "]" in value:  # [2001:db8::1]:443
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # 203.0.113.5:443
        value = value.split(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def address_block(ip: str) -> str:
    """What a per-address limit counts: an IPv4 address, or the /64 an IPv6 address is in.

    An IPv6 host is usually given a whole /64 and can take a new address in it at will,
    so counting single IPv6 addresses would give it a fresh allowance per address.
    """
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:203.0.113.5 is an IPv4 client
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _keys(email: str, ip: str) -> list[tuple[str, int]]:
    """The cache keys of the account's and the address's counts, with their limits."""
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"login-failures:account:{account}", settings.HARUCHAT_LOGIN_MAX_FAILURES),
        (f"login-failures:ip:{address_block(ip)}", settings.HARUCHAT_LOGIN_MAX_FAILURES_PER_IP),
    ]


def login_attempt_check(*, email: str, ip: str) -> None:
    """Refuse (429 with Retry-After) while the account or the address is paused."""
    pause = settings.HARUCHAT_LOGIN_LOCKOUT_SECONDS
    for key, limit in _keys(email, ip):
        if (cache.get(key) or 0) >= limit:
            retry_after = window_retry_after(key, window=pause)
            raise LoginThrottled(
                f"Too many failed logins. Try again in {retry_after} seconds.",
                headers={"Retry-After": str(retry_after)},
            )


def login_failure_record(*, email: str, ip: str) -> None:
    pause = settings.HARUCHAT_LOGIN_LOCKOUT_SECONDS
    for key, _ in _keys(email, ip):
        window_count_up(key, window=pause)


def login_success_record(*, email: str) -> None:
    """A successful login clears the account's count (the address's stays)."""
    account_key = _keys(email, "")[0][0]
    cache.delete_many([account_key, f"{account_key}:since"])
