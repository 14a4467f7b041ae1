"""The quota under real concurrency: 30 sends at once over HTTP to uvicorn, one member."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.client import HTTPMessage

from accounts.services import user_tokens_issue
from chat.models import Completion, Message
from chat.selectors import assistant_default
from chat.services.conversations import conversation_create
from conftest import make_member
from quota.models import DailyUsage


def post_json(url: str, token: str, body: dict) -> tuple[int, HTTPMessage, dict]:
    """Status, headers (looked up case-insensitively, as HTTP's are) and JSON body."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


def test_thirty_concurrent_sends_over_http_let_exactly_five_through(live_uvicorn, upstream):
    upstream.configure(latency=0.2)  # keep the calls in flight together
    member = make_member()
    token = user_tokens_issue(user=member)["access"]
    conversation = conversation_create(user=member, assistant=assistant_default())
    url = f"{live_uvicorn.url}/api/conversations/{conversation.pk}/messages"
    barrier = threading.Barrier(30)
    results: list[tuple[int, dict, dict]] = []

    def send(n: int) -> None:
        barrier.wait()
        results.append(post_json(url, token, {"content": f"concurrent {n}"}))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _, _ in results)
    assert statuses == [201] * 5 + [429] * 25, [body for _, _, body in results if _ not in (201, 429)]
    assert all(body["code"] == "quota_exceeded" for status, _, body in results if status == 429)
    assert all(int(headers["Retry-After"]) > 0 for status, headers, _ in results if status == 429)
    assert len(upstream.exchanges) == 5
    assert DailyUsage.objects.get(user=member).requests == 5
    assert Completion.objects.filter(conversation=conversation, status="succeeded").count() == 5
    assert Message.objects.filter(conversation=conversation, role="assistant").count() == 5
