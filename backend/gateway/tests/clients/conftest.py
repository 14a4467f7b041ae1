"""Real clients (langchain-openai, LiteLLM, the `llm` CLI) against haruchat's /v1, with the fake upstream behind it.

Each test asserts what the client's user sees and what the upstream received."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from accounts.models import User
from conftest import make_member
from gateway.models import ApiKey
from gateway.services import api_key_create
from quota.models import DailyUsage
from testing.fake_upstream import Exchange, FakeUpstream

# LiteLLM, when imported, fetches its model price list from the network unless told to use the copy it ships,
# and in its default "DEV" mode loads the nearest .env (the repository's) into os.environ: neither, here.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("LITELLM_MODE", "PRODUCTION")

HERE = Path(__file__).parent
# What the clients' own code warns about, which says nothing about haruchat.
THIRD_PARTY_WARNINGS = (
    "ignore:.*`ReadOnly` qualifier.*:UserWarning",
    "ignore:Accessing the .* attribute on the instance is deprecated:DeprecationWarning",
)


@dataclass
class Haruchat:
    """haruchat's /v1 served live, a member's API key for it, and the fake upstream behind it."""

    base_url: str
    api_key: str
    member: User
    key: ApiKey
    upstream: FakeUpstream

    def received(self) -> dict[str, Any]:
        """The one request the upstream received."""
        [exchange] = self.upstream.exchanges
        return exchange.request

    @property
    def exchanges(self) -> list[Exchange]:
        return self.upstream.exchanges

    def used(self) -> int:
        return DailyUsage.objects.filter(user=self.member).values_list("requests", flat=True).first() or 0


@pytest.fixture
def haruchat(live_uvicorn, upstream) -> Haruchat:
    member = make_member()
    key, secret = api_key_create(user=member, name="real clients")
    return Haruchat(f"{live_uvicorn.url}/v1", secret, member, key, upstream)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.parents:
            for warning in THIRD_PARTY_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(warning))
