"""Accounts: sign-up, login, the refresh token's rotation and revocation, and the profile."""

from __future__ import annotations

import pytest

from accounts.models import User
from conftest import PASSWORD, client_for, make_member

SIGNUP = {"email": "New.Member@Example.com", "password": "a long pass phrase", "nickname": "newbie"}


def signup(anon, **fields):
    return anon.post("/api/auth/signup", {**SIGNUP, **fields}, format="json")


def login(anon, email="haru@example.com", password=PASSWORD):
    return anon.post("/api/auth/login", {"email": email, "password": password}, format="json")


@pytest.mark.django_db
def test_signup_returns_the_member_and_a_working_token_pair(anon):
    response = signup(anon, born_year=1995, job="teacher")
    assert response.status_code == 201
    body = response.json()
    assert body["user"] == {**body["user"], "email": "new.member@example.com", "nickname": "newbie", "born_year": 1995}
    assert body["user"]["job"] == "teacher"
    assert body["access"] and body["refresh"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access']}")
    assert anon.get("/api/auth/me").json()["email"] == "new.member@example.com"


@pytest.mark.django_db
def test_born_year_and_job_are_optional(anon):
    body = signup(anon).json()
    assert (body["user"]["born_year"], body["user"]["job"]) == (None, "")


@pytest.mark.django_db
def test_an_email_is_taken_whatever_its_case(anon):
    signup(anon)
    again = signup(anon, email="NEW.member@example.COM")
    assert again.status_code == 400
    assert again.json()["code"] == "email_taken"
    assert User.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "newbie12"])
def test_weak_passwords_are_refused_by_djangos_validators(anon, password):
    response = signup(anon, password=password, nickname="newbie")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert not User.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"nickname": ""}, "nickname"),
        ({"born_year": 1800}, "born_year"),
        ({"born_year": 3000}, "born_year"),
        ({"born_year": "nineteen"}, "born_year"),
        ({"nickname": "x" * 51}, "nickname"),
    ],
)
def test_bad_signup_fields_are_named_in_the_error(anon, fields, field):
    response = signup(anon, **fields)
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["detail"]


def test_login_with_any_case_of_the_email(anon, member):
    response = login(anon, email="HARU@example.com")
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh", "user"}


@pytest.mark.parametrize(
    ("email", "password"), [("haru@example.com", "wrong password"), ("nobody@example.com", PASSWORD)]
)
def test_wrong_credentials_are_401_with_one_message(anon, member, email, password):
    response = login(anon, email=email, password=password)
    assert response.status_code == 401
    assert response.json() == {"detail": "The email or password is not correct.", "code": "invalid_credentials"}


def test_an_inactive_member_cannot_log_in(anon, member):
    member.is_active = False
    member.save()
    assert login(anon).status_code == 401


def test_refresh_rotates_and_the_old_refresh_token_stops_working(anon, member):
    tokens = login(anon).json()
    rotated = anon.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert rotated.status_code == 200
    new = rotated.json()
    assert new["access"] and new["refresh"] and new["refresh"] != tokens["refresh"]
    reused = anon.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_not_valid"
    assert anon.post("/api/auth/refresh", {"refresh": new["refresh"]}, format="json").status_code == 200


def test_logout_revokes_the_refresh_token(anon, member):
    tokens = login(anon).json()
    assert anon.post("/api/auth/logout", {"refresh": tokens["refresh"]}, format="json").status_code == 204
    reused = anon.post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert reused.status_code == 401
    garbage = anon.post("/api/auth/logout", {"refresh": "garbage"}, format="json")
    assert (garbage.status_code, garbage.json()["code"]) == (401, "token_not_valid")


def test_an_access_token_is_not_a_refresh_token(anon, member):
    tokens = login(anon).json()
    assert anon.post("/api/auth/refresh", {"refresh": tokens["access"]}, format="json").status_code == 401


def test_me_reads_and_updates_the_profile(api):
    assert api.get("/api/auth/me").json()["nickname"] == "haru"
    response = api.patch("/api/auth/me", {"nickname": "하루", "born_year": 2001, "job": "student"}, format="json")
    assert response.status_code == 200
    assert (response.json()["nickname"], response.json()["born_year"], response.json()["job"]) == (
        "하루",
        2001,
        "student",
    )
    cleared = api.patch("/api/auth/me", {"born_year": None, "job": ""}, format="json").json()
    assert (cleared["born_year"], cleared["job"]) == (None, "")


def test_me_cannot_take_another_members_email(api, other_member):
    response = api.patch("/api/auth/me", {"email": "DAL@example.com"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "email_taken"


def test_changing_the_password_needs_the_current_one(api, anon, member):
    wrong = api.patch("/api/auth/me", {"password": "a brand new phrase", "current_password": "nope"}, format="json")
    assert wrong.status_code == 400 and "current_password" in wrong.json()["errors"]
    right = api.patch("/api/auth/me", {"password": "a brand new phrase", "current_password": PASSWORD}, format="json")
    assert right.status_code == 200
    assert login(anon).status_code == 401
    assert login(anon, password="a brand new phrase").status_code == 200


def test_deleting_the_account_ends_its_tokens(api, anon, member):
    assert api.delete("/api/auth/me").status_code == 204
    after = api.get("/api/auth/me")
    assert after.status_code == 401 and after.json()["code"]
    assert login(anon).status_code == 401


@pytest.mark.django_db
def test_me_is_401_json_for_anonymous_callers(anon):
    for method in ("get", "patch", "delete"):
        response = getattr(anon, method)("/api/auth/me")
        assert response.status_code == 401
        assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_a_bad_token_is_401_json(anon):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")
    response = anon.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.django_db
@pytest.mark.parametrize("raw", [b"{bad", b"[1, 2]", b'"just text"', b"null"])
def test_bad_bodies_are_400_json(anon, raw):
    response = anon.generic("POST", "/api/auth/signup", raw, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


def test_tokens_of_one_member_show_only_that_member(member, other_member):
    assert client_for(other_member).get("/api/auth/me").json()["email"] == "dal@example.com"
    assert make_member(email="third@example.com", nickname="t").email == "third@example.com"
