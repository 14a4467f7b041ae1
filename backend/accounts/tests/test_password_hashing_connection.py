"""Logging in gives its pooled PostgreSQL connection back while it hashes the password,
so a burst of logins (a few hundred ms of CPU each) cannot empty the pool."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection
from rest_framework.test import APIClient

from conftest import PASSWORD, make_member

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no pool to empty"),
    pytest.mark.django_db(transaction=True),  # a test's own transaction would keep the connection
]


class ConnectionWatchingHasher(MD5PasswordHasher):
    """Notes, each time it hashes, whether this thread holds a database connection."""

    held: list[bool] = []

    def verify(self, password: str, encoded: str) -> bool:
        self.held.append(connection.connection is not None)
        return super().verify(password, encoded)

    def encode(self, password: str, salt: str) -> str:
        self.held.append(connection.connection is not None)
        return super().encode(password, salt)


@pytest.fixture
def watching(settings):
    settings.PASSWORD_HASHERS = [f"{__name__}.ConnectionWatchingHasher"]
    ConnectionWatchingHasher.held = []
    return ConnectionWatchingHasher.held


def login(email: str, password: str):
    return APIClient().post("/api/auth/login", {"email": email, "password": password}, format="json")


def test_a_login_hashes_with_no_connection_held_and_still_logs_in(watching):
    make_member()
    watching.clear()
    response = login("haru@example.com", PASSWORD)
    assert response.status_code == 200 and response.json()["user"]["email"] == "haru@example.com"
    assert watching and not any(watching)


def test_a_wrong_password_and_an_unknown_email_hash_with_no_connection_held(watching):
    make_member()
    watching.clear()
    assert login("haru@example.com", "not the password").status_code == 401
    assert watching and not any(watching)
    watching.clear()
    assert login("nobody@example.com", PASSWORD).status_code == 401
    assert watching and not any(watching)


def test_a_sign_up_hashes_with_no_connection_held(watching):
    body = {"email": "new@example.com", "password": "a long enough pass phrase", "nickname": "new"}
    response = APIClient().post("/api/auth/signup", body, format="json")
    assert response.status_code == 201
    assert watching and not any(watching)
