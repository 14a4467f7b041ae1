"""Password guessing is paused: per account after a few failures, per address after more."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from conftest import PASSWORD, make_member

pytestmark = pytest.mark.django_db


def login(email: str, password: str, ip: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=ip).post("/api/auth/login", {"email": email, "password": password}, format="json")


def test_an_account_pauses_after_five_failures_even_for_the_right_password(member, settings):
    for _ in range(5):
        assert login("haru@example.com", "guess").status_code == 401
    paused = login("haru@example.com", PASSWORD)
    assert paused.status_code == 429
    assert paused.json()["code"] == "login_throttled"
    assert 0 < int(paused["Retry-After"]) <= settings.HARUCHAT_LOGIN_LOCKOUT_SECONDS
    # ...from any address: the count belongs to the account.
    assert login("haru@example.com", PASSWORD, ip="10.9.9.9").status_code == 429


def test_a_success_clears_the_accounts_count(member):
    for _ in range(4):
        login("haru@example.com", "guess")
    assert login("haru@example.com", PASSWORD).status_code == 200
    for _ in range(4):
        assert login("haru@example.com", "guess").status_code == 401
    assert login("haru@example.com", PASSWORD).status_code == 200


def test_an_address_guessing_many_accounts_is_paused(settings):
    settings.HARUCHAT_LOGIN_MAX_FAILURES_PER_IP = 8
    make_member(email="victim@example.com", nickname="v")
    for n in range(8):
        assert login(f"nobody{n}@example.com", "guess", ip="10.6.6.6").status_code == 401
    assert login("victim@example.com", PASSWORD, ip="10.6.6.6").status_code == 429
    assert login("victim@example.com", PASSWORD, ip="10.7.7.7").status_code == 200


def test_behind_a_proxy_the_configured_header_names_the_client(settings):
    settings.HARUCHAT_CLIENT_IP_HEADER = "X-Forwarded-For"
    settings.HARUCHAT_LOGIN_MAX_FAILURES_PER_IP = 3
    client = APIClient(REMOTE_ADDR="10.0.0.254")  # the proxy
    for n in range(3):
        client.post(
            "/api/auth/login",
            {"email": f"x{n}@e.com", "password": "g"},
            format="json",
            HTTP_X_FORWARDED_FOR="203.0.113.5",
        )
    other = client.post(
        "/api/auth/login", {"email": "y@e.com", "password": "g"}, format="json", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert other.status_code == 401  # a different client behind the same proxy is not paused


def test_an_ipv6_guesser_rotating_within_its_64_is_paused_as_one_address(settings):
    settings.HARUCHAT_LOGIN_MAX_FAILURES_PER_IP = 4
    make_member(email="victim@example.com", nickname="v")
    for n in range(4):
        assert login(f"nobody{n}@example.com", "guess", ip=f"2001:db8:66:1::{n + 1:x}").status_code == 401
    assert login("victim@example.com", PASSWORD, ip="2001:db8:66:1:dead:beef::1").status_code == 429
    assert login("victim@example.com", PASSWORD, ip="2001:db8:66:2::1").status_code == 200
