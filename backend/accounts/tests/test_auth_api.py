"""Sign-up, login, token refresh and logout, as a client of the API sees them."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from conftest import PASSWORD, make_member

SIGNUP = "/api/auth/signup"
LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
LOGOUT = "/api/auth/logout"
ME = "/api/auth/me"

pytestmark = pytest.mark.django_db


def signup_body(**fields: Any) -> dict[str, Any]:
    return {"email": "new@example.com", "password": PASSWORD, "nickname": "newbie", **fields}


def login(client: APIClient, email: str = "haru@example.com", password: str = PASSWORD):
    return client.post(LOGIN, {"email": email, "password": password}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def assert_json_error(response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


# --- sign-up -----------------------------------------------------------------


def test_signup_creates_the_member_and_returns_their_profile_and_tokens(anon):
    response = anon.post(SIGNUP, signup_body(born_year=1990, job="baker"), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["access"] and body["refresh"]
    user = body["user"]
    assert {"id", "email", "nickname", "born_year", "job"} <= set(user)
    assert "password" not in user
    assert (user["email"], user["nickname"], user["born_year"], user["job"]) == (
        "new@example.com",
        "newbie",
        1990,
        "baker",
    )
    assert User.objects.get(pk=user["id"]).check_password(PASSWORD)


def test_signup_profile_facts_are_optional(anon):
    response = anon.post(SIGNUP, signup_body(), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["user"]["born_year"] is None
    assert response.json()["user"]["job"] == ""


def test_the_access_token_from_signup_opens_the_members_profile(anon):
    body = anon.post(SIGNUP, signup_body(), format="json").json()

    response = bearer(body["access"]).get(ME)

    assert response.status_code == 200
    assert response.json()["id"] == body["user"]["id"]
    assert response.json()["email"] == "new@example.com"


def test_the_refresh_token_from_signup_can_be_refreshed(anon):
    body = anon.post(SIGNUP, signup_body(), format="json").json()

    response = anon.post(REFRESH, {"refresh": body["refresh"]}, format="json")

    assert response.status_code == 200, response.content


def test_signup_stores_the_email_lower_cased(anon):
    response = anon.post(SIGNUP, signup_body(email="  Mixed.Case@Example.COM "), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["user"]["email"] == "mixed.case@example.com"
    assert User.objects.filter(email="mixed.case@example.com").exists()


def test_signing_up_twice_with_the_same_email_in_another_case_is_email_taken(anon):
    assert anon.post(SIGNUP, signup_body(email="twin@example.com"), format="json").status_code == 201

    response = anon.post(SIGNUP, signup_body(email="TWIN@Example.com", nickname="other"), format="json")

    body = assert_json_error(response, 400, "email_taken")
    assert "email" in body["errors"]
    assert User.objects.filter(email__iexact="twin@example.com").count() == 1


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short1!", "shorter than eight characters"),
        ("password123", "too common"),
        ("48213975610", "entirely numeric"),
        ("new@example.com", "the same as the email"),
    ],
)
def test_signup_refuses_a_weak_password(anon, password, why):
    response = anon.post(SIGNUP, signup_body(password=password), format="json")

    body = assert_json_error(response, 400)
    assert body["errors"]["password"], why
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.parametrize("missing", ["email", "password", "nickname"])
def test_signup_without_a_required_field_names_the_field(anon, missing):
    body = signup_body()
    del body[missing]

    response = anon.post(SIGNUP, body, format="json")

    error = assert_json_error(response, 400, "required")
    assert missing in error["errors"]
    assert User.objects.count() == 0


def test_signup_with_an_empty_body_lists_every_missing_field(anon):
    response = anon.post(SIGNUP, {}, format="json")

    body = assert_json_error(response, 400)
    assert {"email", "password", "nickname"} <= set(body["errors"])


def test_signup_refuses_an_invalid_email(anon):
    response = anon.post(SIGNUP, signup_body(email="not-an-email"), format="json")

    assert "email" in assert_json_error(response, 400)["errors"]


@pytest.mark.parametrize("born_year", [1899, timezone.now().year + 1, 0, -5, "nineteen-ninety"])
def test_signup_refuses_a_born_year_out_of_range(anon, born_year):
    response = anon.post(SIGNUP, signup_body(born_year=born_year), format="json")

    assert "born_year" in assert_json_error(response, 400)["errors"]
    assert User.objects.count() == 0


@pytest.mark.parametrize("born_year", [1900, timezone.now().year])
def test_signup_accepts_the_edges_of_the_born_year_range(anon, born_year):
    response = anon.post(SIGNUP, signup_body(born_year=born_year), format="json")

    assert response.status_code == 201, response.content
    assert response.json()["user"]["born_year"] == born_year


# --- login -------------------------------------------------------------------


def test_login_with_the_right_credentials_returns_tokens_and_the_member(anon, member):
    response = login(anon)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["access"] and body["refresh"]
    assert body["user"]["id"] == member.id
    assert body["user"]["email"] == "haru@example.com"
    assert bearer(body["access"]).get(ME).json()["id"] == member.id


def test_login_ignores_the_case_of_the_email(anon, member):
    response = login(anon, email=" HARU@Example.com ")

    assert response.status_code == 200, response.content
    assert response.json()["user"]["id"] == member.id


def test_login_records_the_last_login(anon, member):
    assert member.last_login is None

    login(anon)

    member.refresh_from_db()
    assert member.last_login is not None


def test_a_wrong_password_and_an_unknown_email_get_the_same_401(anon, member):
    wrong_password = assert_json_error(login(anon, password="not the password"), 401, "invalid_credentials")
    unknown_email = assert_json_error(login(anon, email="nobody@example.com"), 401, "invalid_credentials")

    assert wrong_password["detail"] == unknown_email["detail"]


def test_an_inactive_member_cannot_log_in(anon, db):
    make_member(email="gone@example.com", is_active=False)

    assert_json_error(login(anon, email="gone@example.com"), 401, "invalid_credentials")


def test_login_without_a_password_is_400_naming_the_field(anon, member):
    response = anon.post(LOGIN, {"email": "haru@example.com"}, format="json")

    assert "password" in assert_json_error(response, 400)["errors"]


# --- refresh -----------------------------------------------------------------


def test_refresh_returns_a_new_access_token_and_a_rotated_refresh_token(anon, member):
    tokens = login(anon).json()

    response = anon.post(REFRESH, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["access"] and body["access"] != tokens["access"]
    assert body["refresh"] and body["refresh"] != tokens["refresh"]
    assert bearer(body["access"]).get(ME).json()["id"] == member.id


def test_a_refresh_token_cannot_be_used_twice(anon, member):
    old = login(anon).json()["refresh"]
    assert anon.post(REFRESH, {"refresh": old}, format="json").status_code == 200

    response = anon.post(REFRESH, {"refresh": old}, format="json")

    assert_json_error(response, 401, "token_not_valid")


def test_the_rotated_refresh_token_keeps_working(anon, member):
    first = login(anon).json()["refresh"]
    second = anon.post(REFRESH, {"refresh": first}, format="json").json()["refresh"]

    response = anon.post(REFRESH, {"refresh": second}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["refresh"] not in (first, second)


def test_an_access_token_is_not_accepted_as_a_refresh_token(anon, member):
    access = login(anon).json()["access"]

    assert_json_error(anon.post(REFRESH, {"refresh": access}, format="json"), 401, "token_not_valid")


def test_refresh_with_a_garbage_token_is_401_json(anon):
    assert_json_error(anon.post(REFRESH, {"refresh": "not.a.token"}, format="json"), 401, "token_not_valid")


def test_refresh_without_a_token_is_400_naming_the_field(anon):
    assert "refresh" in assert_json_error(anon.post(REFRESH, {}, format="json"), 400)["errors"]


def test_a_deactivated_member_cannot_refresh(anon, member):
    refresh = login(anon).json()["refresh"]
    member.is_active = False
    member.save()

    assert_json_error(anon.post(REFRESH, {"refresh": refresh}, format="json"), 401)


def test_a_member_removed_outside_the_api_cannot_refresh(anon, member):
    """E.g. deleted in the admin, where the member's tokens are not blacklisted first."""
    refresh = login(anon).json()["refresh"]
    User.objects.filter(pk=member.pk).delete()

    assert_json_error(anon.post(REFRESH, {"refresh": refresh}, format="json"), 401, "token_not_valid")


# --- logout ------------------------------------------------------------------


def test_logout_revokes_the_refresh_token(anon, member):
    refresh = login(anon).json()["refresh"]

    response = anon.post(LOGOUT, {"refresh": refresh}, format="json")

    assert response.status_code == 204
    assert response.content == b""
    assert_json_error(anon.post(REFRESH, {"refresh": refresh}, format="json"), 401, "token_not_valid")


def test_logout_leaves_the_members_other_sessions_alone(anon, member):
    phone = login(anon).json()["refresh"]
    laptop = login(anon).json()["refresh"]

    assert anon.post(LOGOUT, {"refresh": phone}, format="json").status_code == 204

    assert anon.post(REFRESH, {"refresh": laptop}, format="json").status_code == 200


def test_logging_out_twice_with_the_same_token_is_401(anon, member):
    refresh = login(anon).json()["refresh"]
    assert anon.post(LOGOUT, {"refresh": refresh}, format="json").status_code == 204

    assert_json_error(anon.post(LOGOUT, {"refresh": refresh}, format="json"), 401, "token_not_valid")


def test_logout_with_a_garbage_token_is_401_json(anon):
    assert_json_error(anon.post(LOGOUT, {"refresh": "garbage"}, format="json"), 401, "token_not_valid")


def test_logout_with_an_access_token_is_401_json(anon, member):
    access = login(anon).json()["access"]

    assert_json_error(anon.post(LOGOUT, {"refresh": access}, format="json"), 401, "token_not_valid")


def test_logout_without_a_token_is_400_naming_the_field(anon):
    assert "refresh" in assert_json_error(anon.post(LOGOUT, {}, format="json"), 400)["errors"]
