"""A member who forgot the password: a single-use, expiring link by mail, and a reset that ends every token."""

from __future__ import annotations

import re

import pytest

from conftest import PASSWORD, make_member

NEW_PASSWORD = "a brand new pass phrase"


def ask(anon, email: str):
    return anon.post("/api/auth/password-reset", {"email": email}, format="json")


def confirm(anon, token: str, password: str = NEW_PASSWORD):
    return anon.post("/api/auth/password-reset/confirm", {"token": token, "password": password}, format="json")


def login(anon, email: str, password: str):
    return anon.post("/api/auth/login", {"email": email, "password": password}, format="json")


def token_from(mail) -> str:
    return re.search(r"#/reset/(\S+)", mail.body).group(1)


@pytest.mark.django_db
def test_the_answer_is_the_same_whether_or_not_the_address_is_registered(anon, mailoutbox):
    make_member(email="haru@example.com")
    known, unknown = ask(anon, "haru@example.com"), ask(anon, "nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert [mail.to for mail in mailoutbox] == [["haru@example.com"]]
    assert "http://testserver/#/reset/" in mailoutbox[0].body  # a link into the web app


@pytest.mark.django_db
def test_the_link_sets_a_new_password_once_and_ends_every_token(anon, mailoutbox):
    member = make_member(email="haru@example.com")
    before = login(anon, member.email, PASSWORD).json()
    ask(anon, "haru@example.com")
    token = token_from(mailoutbox[0])
    assert confirm(anon, token).status_code == 204
    assert login(anon, member.email, PASSWORD).status_code == 401
    assert login(anon, member.email, NEW_PASSWORD).status_code == 200
    assert anon.post("/api/auth/refresh", {"refresh": before["refresh"]}, format="json").status_code == 401
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {before['access']}")
    assert anon.get("/api/auth/me").status_code == 401
    anon.credentials()
    used = confirm(anon, token, "yet another pass phrase")
    assert used.status_code == 400 and used.json()["code"] == "invalid_reset_token"


@pytest.mark.django_db
def test_an_expired_link_is_refused(anon, mailoutbox, settings):
    make_member(email="haru@example.com")
    ask(anon, "haru@example.com")
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is already past its time
    refused = confirm(anon, token_from(mailoutbox[0]))
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_reset_token"


@pytest.mark.django_db
def test_a_weak_new_password_is_refused_and_the_link_still_works(anon, mailoutbox):
    make_member(email="haru@example.com")
    ask(anon, "haru@example.com")
    token = token_from(mailoutbox[0])
    weak = confirm(anon, token, "123")
    assert weak.status_code == 400 and "password" in weak.json()["errors"]
    assert confirm(anon, token).status_code == 204


@pytest.mark.django_db
@pytest.mark.parametrize(
    "token", ["", "nonsense", ".", "MQ.", ".abc-def", "ZZZZ.abc-def", "MQ.abc-def", "7J2Y.x", "\u2603.x"]
)
def test_a_forged_or_broken_token_is_a_clear_400(anon, token):
    make_member(email="haru@example.com")
    refused = confirm(anon, token)
    assert refused.status_code == 400
    assert refused.json()["code"] in ("invalid_reset_token", "blank")


@pytest.mark.django_db
def test_the_form_cannot_flood_an_inbox(anon, mailoutbox):
    make_member(email="haru@example.com")
    assert {ask(anon, "haru@example.com").status_code for _ in range(5)} == {202}
    assert len(mailoutbox) == 3


@pytest.mark.django_db
def test_a_member_from_a_provider_with_no_password_can_set_one(anon, mailoutbox):
    member = make_member(email="kakao@example.com")
    member.set_unusable_password()
    member.save()
    ask(anon, member.email)
    assert confirm(anon, token_from(mailoutbox[0])).status_code == 204
    assert login(anon, member.email, NEW_PASSWORD).status_code == 200
