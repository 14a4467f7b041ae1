"""Shared fixtures: members with tokens, the fake upstream, a live uvicorn server."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import user_tokens_issue
from testing.fake_upstream import FakeUpstream
from testing.loopback import LoopbackServer

PASSWORD = "correct horse battery staple"


def make_member(email: str = "haru@example.com", nickname: str = "haru", **fields: Any) -> User:
    return User.objects.create_user(email=email, password=PASSWORD, nickname=nickname, **fields)


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_tokens_issue(user=user)['access']}")
    return client


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Counts kept in the cache (failed logins) belong to one test only."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def no_remembered_api_keys() -> Iterator[None]:
    """A key one test authenticated is not remembered into the next."""
    from gateway.services import api_keys_forget

    api_keys_forget()
    yield
    api_keys_forget()


@pytest.fixture(autouse=True)
def fast_password_hasher(settings) -> None:
    """Hashing passwords slowly is a production feature, not something tests need to wait for."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def member(db) -> User:
    return make_member()


@pytest.fixture
def other_member(db) -> User:
    return make_member(email="dal@example.com", nickname="dal")


@pytest.fixture
def anon() -> APIClient:
    return APIClient()


@pytest.fixture
def api(member: User) -> APIClient:
    """An API client authenticated as `member`."""
    return client_for(member)


@pytest.fixture(scope="session")
def fake_upstream_server() -> Iterator[FakeUpstream]:
    server = FakeUpstream().start()
    yield server
    server.stop()


@pytest.fixture
def upstream(fake_upstream_server: FakeUpstream, settings) -> FakeUpstream:
    """The fake OpenAI-compatible upstream, reset, with haruchat pointed at it."""
    fake_upstream_server.reset()
    settings.HARUCHAT_LLM_PROVIDER = "openai_compat"
    settings.HARUCHAT_LLM_BASE_URL = fake_upstream_server.base_url
    settings.HARUCHAT_LLM_API_KEY = "sk-test"
    settings.HARUCHAT_LLM_MODEL = "fake-model"
    settings.HARUCHAT_LLM_MODELS = ["fake-model", "fake-model-large"]
    settings.HARUCHAT_LLM_TIMEOUT = 5.0
    # One member request, one upstream exchange: the title call after a first exchange is tested on its own.
    settings.HARUCHAT_MODEL_TITLES = False
    return fake_upstream_server


class LiveUvicorn(LoopbackServer):
    """haruchat's ASGI app served by uvicorn in a thread, against the test database, with its
    lifespan (the stale-call sweep at start, the provider's connections closed at the end)."""

    def __init__(self, lifespan: str = "on") -> None:
        from config.asgi import application

        super().__init__(application, lifespan=lifespan)


@pytest.fixture
def builtin_assistants(transactional_db) -> None:
    """Committed data, with the built-in assistants back: transactional tests empty every table afterwards,
    data migrations' rows included."""
    from django.apps import apps

    importlib.import_module("chat.migrations.0002_builtin_assistants").create_assistants(apps, None)


@pytest.fixture
def live_uvicorn(builtin_assistants) -> Iterator[LiveUvicorn]:
    server = LiveUvicorn().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def oauth_standins_server() -> Iterator[Any]:
    from testing.oauth_standins import OAuthStandins

    server = OAuthStandins().start()
    yield server
    server.stop()


@pytest.fixture
def oauth_standins(oauth_standins_server, settings) -> Any:
    """GitHub and Kakao stand-ins on loopback, with haruchat configured to use both."""
    oauth_standins_server.state.reset()
    for name, value in oauth_standins_server.settings().items():
        setattr(settings, name, value)
    app = {"client_id": "standin-client", "secret": "standin-secret"}
    settings.SOCIALACCOUNT_PROVIDERS = {
        "github": {
            "provider_class": "accounts.oauth.GitHubProvider",
            "SCOPE": ["read:user", "user:email"],
            "APPS": [app],
        },
        "kakao": {"provider_class": "accounts.oauth.KakaoProvider", "APPS": [app]},
    }
    return oauth_standins_server
