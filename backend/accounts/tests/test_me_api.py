"""The member's own profile: read, change, delete; members only."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from conftest import PASSWORD, client_for

ME = "/api/auth/me"
LOGIN = "/api/auth/login"
REFRESH = "/api/auth/refresh"
NEW_PASSWORD = "a brand new passphrase 42"

pytestmark = pytest.mark.django_db


def login(email: str, password: str):
    return APIClient().post(LOGIN, {"email": email, "password": password}, format="json")


def assert_json_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_anonymous_callers_get_401_json(anon, member, method):
    response = getattr(anon, method)(ME, {}, format="json")

    assert_json_error(response, 401, "not_authenticated")
    assert User.objects.filter(pk=member.pk).exists()


def test_a_garbage_bearer_token_is_401_json(anon, member):
    anon.credentials(HTTP_AUTHORIZATION="Bearer not.a.token")

    assert_json_error(anon.get(ME), 401, "token_not_valid")


def test_get_returns_the_members_own_profile(api, member):
    response = api.get(ME)

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == member.id
    assert body["email"] == "haru@example.com"
    assert body["nickname"] == "haru"
    assert "password" not in body


def test_each_member_sees_only_their_own_profile(api, other_member):
    assert client_for(other_member).get(ME).json()["email"] == "dal@example.com"
    assert api.get(ME).json()["email"] == "haru@example.com"


def test_patch_changes_nickname_born_year_and_job(api, member):
    response = api.patch(ME, {"nickname": " Haru Kim ", "born_year": 1988, "job": "nurse"}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["nickname"], response.json()["born_year"], response.json()["job"]) == (
        "Haru Kim",
        1988,
        "nurse",
    )
    assert api.get(ME).json()["nickname"] == "Haru Kim"
    member.refresh_from_db()
    assert (member.nickname, member.born_year, member.job) == ("Haru Kim", 1988, "nurse")


def test_patch_leaves_fields_it_does_not_mention_alone(api, member):
    member.born_year, member.job = 1990, "baker"
    member.save()

    response = api.patch(ME, {"nickname": "h"}, format="json")

    assert response.status_code == 200
    assert (response.json()["born_year"], response.json()["job"]) == (1990, "baker")


def test_patch_can_clear_born_year_and_job(api, member):
    member.born_year, member.job = 1990, "baker"
    member.save()

    response = api.patch(ME, {"born_year": None, "job": ""}, format="json")

    assert response.status_code == 200, response.content
    assert (response.json()["born_year"], response.json()["job"]) == (None, "")


@pytest.mark.parametrize("born_year", [1899, timezone.now().year + 1])
def test_patch_refuses_a_born_year_out_of_range(api, member, born_year):
    response = api.patch(ME, {"born_year": born_year}, format="json")

    assert "born_year" in assert_json_error(response, 400)["errors"]
    member.refresh_from_db()
    assert member.born_year is None


def test_patch_refuses_an_empty_nickname(api, member):
    assert "nickname" in assert_json_error(api.patch(ME, {"nickname": ""}, format="json"), 400)["errors"]


def test_patch_changes_the_email_lower_cased_and_login_follows_it(api, member):
    response = api.patch(ME, {"email": "Haru.New@Example.com"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "haru.new@example.com"
    assert login("haru.new@example.com", PASSWORD).status_code == 200
    assert login("haru@example.com", PASSWORD).status_code == 401


def test_patch_email_to_another_members_email_is_email_taken(api, member, other_member):
    response = api.patch(ME, {"email": "DAL@example.com", "nickname": "sneaky"}, format="json")

    assert "email" in assert_json_error(response, 400, "email_taken")["errors"]
    member.refresh_from_db()
    assert (member.email, member.nickname) == ("haru@example.com", "haru")


def test_patch_password_with_the_right_current_password_changes_it(api, member):
    response = api.patch(ME, {"password": NEW_PASSWORD, "current_password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    assert "password" not in response.json() and "current_password" not in response.json()
    assert login("haru@example.com", NEW_PASSWORD).status_code == 200
    assert login("haru@example.com", PASSWORD).status_code == 401


def test_changing_the_password_logs_out_every_other_session(api, member):
    elsewhere = login("haru@example.com", PASSWORD).json()["refresh"]
    assert api.patch(ME, {"password": NEW_PASSWORD, "current_password": PASSWORD}, format="json").status_code == 200
    assert_json_error(APIClient().post(REFRESH, {"refresh": elsewhere}, format="json"), 401, "token_not_valid")
    fresh = login("haru@example.com", NEW_PASSWORD).json()["refresh"]
    assert APIClient().post(REFRESH, {"refresh": fresh}, format="json").status_code == 200


def test_patch_password_with_a_wrong_current_password_is_refused(api, member):
    response = api.patch(ME, {"password": NEW_PASSWORD, "current_password": "wrong guess"}, format="json")

    assert "current_password" in assert_json_error(response, 400)["errors"]
    assert login("haru@example.com", PASSWORD).status_code == 200
    assert login("haru@example.com", NEW_PASSWORD).status_code == 401


def test_patch_password_without_the_current_password_is_refused(api, member):
    response = api.patch(ME, {"password": NEW_PASSWORD, "nickname": "changed"}, format="json")

    assert "current_password" in assert_json_error(response, 400)["errors"]
    member.refresh_from_db()
    assert member.nickname == "haru"
    assert member.check_password(PASSWORD)


def test_patch_refuses_a_weak_new_password(api, member):
    response = api.patch(ME, {"password": "12345678", "current_password": PASSWORD}, format="json")

    assert assert_json_error(response, 400)["errors"]["password"]
    assert login("haru@example.com", PASSWORD).status_code == 200


def test_delete_removes_the_account(api, member):
    response = api.delete(ME)

    assert response.status_code == 204
    assert response.content == b""
    assert not User.objects.filter(pk=member.pk).exists()


def test_after_delete_the_access_token_no_longer_works(api, member):
    assert api.delete(ME).status_code == 204

    assert_json_error(api.get(ME), 401)
    assert_json_error(api.delete(ME), 401)


def test_after_delete_login_fails(api, member):
    assert api.delete(ME).status_code == 204

    assert_json_error(login("haru@example.com", PASSWORD), 401, "invalid_credentials")


def test_after_delete_the_refresh_token_is_refused(member):
    refresh = login("haru@example.com", PASSWORD).json()["refresh"]
    assert client_for(member).delete(ME).status_code == 204

    assert_json_error(APIClient().post(REFRESH, {"refresh": refresh}, format="json"), 401)


def test_the_email_of_a_deleted_account_can_sign_up_again(api, member):
    assert api.delete(ME).status_code == 204

    response = APIClient().post(
        "/api/auth/signup", {"email": "haru@example.com", "password": PASSWORD, "nickname": "again"}, format="json"
    )

    assert response.status_code == 201, response.content
