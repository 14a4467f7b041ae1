"""Who may sign up: a per-address limit shared through the cache, and the operator's registration mode."""

from __future__ import annotations

import threading

import pytest
import requests
from rest_framework.test import APIClient

from accounts.models import User
from conftest import PASSWORD


def signup(client: APIClient, email: str, address: str = "203.0.113.7", **fields):
    body = {"email": email, "password": PASSWORD, "nickname": email.split("@")[0], **fields}
    return client.post("/api/auth/signup", body, format="json", REMOTE_ADDR=address)


@pytest.mark.django_db
def test_one_address_gets_a_few_sign_ups_then_429_with_retry_after(anon, settings):
    settings.HARUCHAT_SIGNUP_MAX_PER_IP = 3
    assert [signup(anon, f"m{n}@example.com").status_code for n in range(3)] == [201] * 3
    refused = signup(anon, "m3@example.com")
    assert refused.status_code == 429
    assert refused.json()["code"] == "signup_throttled"
    assert 0 < int(refused["Retry-After"]) <= settings.HARUCHAT_SIGNUP_WINDOW_SECONDS
    assert not User.objects.filter(email="m3@example.com").exists()
    assert signup(anon, "other@example.com", address="198.51.100.9").status_code == 201  # another address


@pytest.mark.django_db
def test_ipv6_addresses_are_counted_by_their_64_so_rotating_within_it_gains_nothing(anon, settings):
    settings.HARUCHAT_SIGNUP_MAX_PER_IP = 2
    rotated = ["2001:db8:7:1::1", "2001:db8:7:1:ffff:1:2:3", "2001:db8:7:1:aaaa::9"]
    assert [signup(anon, f"v6-{n}@example.com", address=a).status_code for n, a in enumerate(rotated)] == [
        201, 201, 429,
    ]  # fmt: skip
    assert signup(anon, "next-door@example.com", address="2001:db8:7:2::1").status_code == 201  # another /64


@pytest.mark.django_db
def test_a_refused_sign_up_does_not_use_up_the_addresss_allowance(anon, settings):
    settings.HARUCHAT_SIGNUP_MAX_PER_IP = 2
    assert signup(anon, "weak@example.com", password="123").status_code == 400
    signup(anon, "taken@example.com")
    assert signup(anon, "taken@example.com").status_code == 400  # email_taken
    assert signup(anon, "second@example.com").status_code == 201
    assert signup(anon, "third@example.com").status_code == 429


def test_a_burst_of_sign_ups_from_one_address_never_passes_the_limit(live_uvicorn, settings):
    settings.HARUCHAT_SIGNUP_MAX_PER_IP = 5
    barrier, statuses = threading.Barrier(20), []

    def one(n: int) -> None:
        barrier.wait()
        body = {"email": f"burst{n}@example.com", "password": PASSWORD, "nickname": f"b{n}"}
        statuses.append(requests.post(f"{live_uvicorn.url}/api/auth/signup", json=body, timeout=30).status_code)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201] * 5 + [429] * 15
    assert User.objects.filter(email__startswith="burst").count() == 5


@pytest.mark.django_db
def test_closed_registration_refuses_sign_up_and_says_so(anon, settings):
    settings.HARUCHAT_REGISTRATION = "closed"
    refused = signup(anon, "new@example.com")
    assert refused.status_code == 403 and refused.json()["code"] == "registration_closed"
    assert anon.get("/api/auth/registration").json() == {
        "mode": "closed", "domains": [], "operator_reads_history": False
    }  # fmt: skip
    assert not User.objects.exists()


@pytest.mark.django_db
def test_registration_limited_to_a_schools_email_domain(anon, settings):
    settings.HARUCHAT_REGISTRATION_DOMAINS = ["school.example", "@Staff.School.Example"]
    outside = signup(anon, "someone@gmail.example")
    assert outside.status_code == 400
    assert (
        outside.json()["code"] == "email_domain_not_allowed"
        and "school.example" in outside.json()["errors"]["email"][0]
    )
    assert signup(anon, "student@School.Example").status_code == 201
    assert signup(anon, "teacher@staff.school.example").status_code == 201
    assert signup(anon, "evil@notschool.example").status_code == 400
    assert anon.get("/api/auth/registration").json() == {
        "mode": "open",
        "domains": ["school.example", "staff.school.example"],
        "operator_reads_history": False,
    }


def test_a_first_provider_login_follows_the_same_rules(live_uvicorn, oauth_standins, settings):
    from accounts.tests.test_oauth import dance

    settings.HARUCHAT_REGISTRATION_DOMAINS = ["school.example"]  # the stand-in's GitHub email is elsewhere
    path, query, _ = dance(live_uvicorn, "github")
    assert (path, query.get("oauth_error")) == ("/login", "closed")
    assert not User.objects.exists()
    settings.HARUCHAT_REGISTRATION_DOMAINS = []
    settings.HARUCHAT_REGISTRATION = "closed"
    assert dance(live_uvicorn, "github")[1].get("oauth_error") == "closed"
    settings.HARUCHAT_REGISTRATION = "open"
    assert "code" in dance(live_uvicorn, "github")[1]
    assert User.objects.count() == 1


def test_a_mistyped_registration_mode_stops_the_server_checks(settings):
    from django.core.checks import run_checks

    settings.HARUCHAT_REGISTRATION = "opne"
    assert [e.id for e in run_checks() if e.id == "haruchat.E006"] == ["haruchat.E006"]
    settings.HARUCHAT_REGISTRATION = "closed"
    assert not [e for e in run_checks() if e.id == "haruchat.E006"]
