"""One provider per process, even when the first calls of a burst arrive together from several threads."""

from __future__ import annotations

import threading
import time
from typing import Any

from llm.providers import Provider, get_provider


class SlowToBuild(Provider):
    """Takes a while to build, as a model that loads its weights does."""

    name = "slow_to_build"
    built = 0

    def __init__(self) -> None:
        time.sleep(0.05)
        type(self).built += 1

    def default_model(self) -> str:
        return "slow"

    def complete(self, request: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


def test_threads_asking_at_once_share_one_provider(settings):
    settings.HARUCHAT_LLM_PROVIDER = "llm.tests.test_provider_instance.SlowToBuild"
    SlowToBuild.built = 0
    start = threading.Barrier(8)
    got: list[Provider] = []

    def ask() -> None:
        start.wait()
        got.append(get_provider())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert SlowToBuild.built == 1
    assert len({id(provider) for provider in got}) == 1 and isinstance(got[0], SlowToBuild)
