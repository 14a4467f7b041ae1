"""/metrics: off unless enabled, never public by default, and counting what an operator needs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse, StreamingHttpResponse
from django.test import RequestFactory
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from chat.tests.helpers import send, start_conversation
from common import metrics

TOKEN = "s3cret-metrics-token-0123456789"
OUTSIDER = "203.0.113.7"


@pytest.fixture
def metrics_on(settings):
    settings.HARUCHAT_METRICS = True
    settings.HARUCHAT_METRICS_TOKEN = TOKEN
    settings.HARUCHAT_METRICS_ALLOW = ["127.0.0.1/32", "::1/128"]
    return settings


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(client, **extra) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", REMOTE_ADDR=OUTSIDER, **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_off_by_default_then_404_even_from_loopback_with_the_token(anon, settings):
    assert django_settings.HARUCHAT_METRICS is False  # what an unset environment gives
    settings.HARUCHAT_METRICS_TOKEN = TOKEN
    response = anon.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_AUTHORIZATION": "Bearer wrong-token-wrong-token"}, {"HTTP_AUTHORIZATION": TOKEN}],
    ids=["no token", "wrong token", "not a bearer"],
)
def test_on_but_not_allowed_is_the_same_404_as_off(anon, metrics_on, headers):
    response = anon.get("/metrics", REMOTE_ADDR=OUTSIDER, **headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_without_a_token_configured_no_bearer_gets_in(anon, metrics_on):
    metrics_on.HARUCHAT_METRICS_TOKEN = ""
    assert anon.get("/metrics", REMOTE_ADDR=OUTSIDER, HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "::ffff:127.0.0.1"])
def test_loopback_may_scrape_without_a_token(anon, metrics_on, address):
    assert anon.get("/metrics", REMOTE_ADDR=address).status_code == 200


def test_allowed_networks_are_read_through_the_trusted_proxies(anon, metrics_on):
    metrics_on.HARUCHAT_METRICS_ALLOW = ["10.1.0.0/16"]
    metrics_on.HARUCHAT_TRUSTED_PROXIES = 1
    # Through the proxy (10.0.0.254) from inside the allowed network.
    assert anon.get("/metrics", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR="10.1.2.3").status_code == 200
    # From outside it, whatever the client wrote to the left of what the proxy appended.
    forged = anon.get("/metrics", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=f"10.1.2.3, {OUTSIDER}")
    assert forged.status_code == 404
    # The proxy's own address is not the client's.
    assert anon.get("/metrics", REMOTE_ADDR="10.1.0.9", HTTP_X_FORWARDED_FOR=OUTSIDER).status_code == 404


def test_an_empty_allow_list_leaves_the_token_alone(anon, metrics_on):
    metrics_on.HARUCHAT_METRICS_ALLOW = []
    assert anon.get("/metrics").status_code == 404
    assert anon.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_scraped_over_plain_http_by_address_in_production(anon, metrics_on):
    """Like the health probes: no HTTPS redirect and no Host check stand between Prometheus and a worker."""
    metrics_on.SECURE_SSL_REDIRECT = True
    metrics_on.ALLOWED_HOSTS = ["chat.example.com"]
    response = anon.get("/metrics", HTTP_HOST="10.0.3.4:8000", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert anon.get("/api/quota", HTTP_HOST="10.0.3.4:8000").status_code == 400  # everything else still checked


def test_post_is_405(anon, metrics_on):
    assert anon.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 405


def test_requests_are_counted_by_route_pattern_not_by_path(api, anon, metrics_on, upstream):
    conversation = start_conversation(api)
    route = "/api/conversations/<int:conversation_id>"
    labels = {"route": route, "method": "GET", "status": "200"}
    before = value("haruchat_http_requests_total", **labels)
    assert api.get(f"/api/conversations/{conversation['id']}").status_code == 200
    assert api.get(f"/api/conversations/{conversation['id']}").status_code == 200
    assert api.get("/api/conversations/999999").status_code == 404

    samples = scrape(anon)
    assert samples[("haruchat_http_requests_total", tuple(sorted(labels.items())))] == before + 2
    assert samples[("haruchat_http_requests_total", (("method", "GET"), ("route", route), ("status", "404")))] >= 1
    assert samples[("haruchat_http_request_duration_seconds_count", (("route", route),))] >= 3
    assert not any(str(conversation["id"]) in dict(key[1]).get("route", "") for key in samples)


def test_unknown_paths_and_probes_get_bounded_routes(anon, metrics_on):
    before_unmatched = value("haruchat_http_requests_total", route="(unmatched)", method="GET", status="404")
    before_probe = value("haruchat_http_requests_total", route="/api/health/live", method="GET", status="200")
    anon.get("/no/such/page/12345")
    anon.get("/api/health/live")  # answered by a middleware, before URL resolution
    assert value("haruchat_http_requests_total", route="(unmatched)", method="GET", status="404") == (
        before_unmatched + 1
    )
    assert value("haruchat_http_requests_total", route="/api/health/live", method="GET", status="200") == (
        before_probe + 1
    )


def test_nothing_is_counted_while_off(anon, settings):
    settings.HARUCHAT_METRICS = False
    before = value("haruchat_http_requests_total", route="/api/health/live", method="GET", status="200")
    anon.get("/api/health/live")
    assert value("haruchat_http_requests_total", route="/api/health/live", method="GET", status="200") == before


def test_quota_refusals_are_counted_by_reason(api, anon, metrics_on, upstream):
    metrics_on.HARUCHAT_DAILY_LIMIT = 1
    conversation = start_conversation(api)
    before = value("haruchat_quota_refusals_total", reason="quota_exceeded")
    assert send(api, conversation["id"], "one").status_code == 201
    refused = send(api, conversation["id"], "two")
    assert refused.status_code == 429 and refused.json()["code"] == "quota_exceeded"
    samples = scrape(anon)
    assert samples[("haruchat_quota_refusals_total", (("reason", "quota_exceeded"),))] == before + 1
    assert ("haruchat_quota_refusals_total", (("reason", "token_budget_exceeded"),)) in samples
    route = (("method", "POST"), ("route", "/api/conversations/<int:conversation_id>/messages"), ("status", "429"))
    assert samples[("haruchat_http_requests_total", route)] >= 1


def test_other_429s_are_not_quota_refusals(metrics_on):
    request = RequestFactory().post("/api/auth/login")
    before = sum(value("haruchat_quota_refusals_total", reason=reason) for reason in metrics.REFUSAL_REASONS)
    throttled = HttpResponse(b'{"detail": "Too many", "code": "login_throttled"}', status=429)
    throttled["Content-Type"] = "application/json"
    metrics.request_observed(request, throttled, 0.01)
    metrics.request_observed(request, HttpResponse(b"not json", status=429, content_type="application/json"), 0.01)
    after = sum(value("haruchat_quota_refusals_total", reason=reason) for reason in metrics.REFUSAL_REASONS)
    assert after == before


def test_an_event_stream_is_open_until_its_last_byte(metrics_on):
    async def events():
        yield b"data: 1\n\n"
        yield b"data: 2\n\n"

    async def view(request):
        return StreamingHttpResponse(events(), content_type="text/event-stream")

    middleware = metrics.MetricsMiddleware(view)
    start = value("haruchat_open_streams")

    async def run() -> list[float]:
        response = await middleware(RequestFactory().get("/api/conversations/1/messages"))
        seen = [value("haruchat_open_streams")]  # headers out, nothing sent yet
        async for _ in response:
            seen.append(value("haruchat_open_streams"))
        seen.append(value("haruchat_open_streams"))
        return seen

    assert asyncio.run(run()) == [start, start + 1, start + 1, start]


def test_a_stream_the_client_leaves_is_closed_too(metrics_on):
    async def events():
        while True:
            yield b"data: more\n\n"

    async def view(request):
        return StreamingHttpResponse(events(), content_type="text/event-stream")

    start = value("haruchat_open_streams")

    async def run() -> None:
        response = await metrics.MetricsMiddleware(view)(RequestFactory().get("/v1/chat/completions"))
        content = response.streaming_content
        await content.__anext__()
        assert value("haruchat_open_streams") == start + 1
        await content.aclose()  # what Django's handler does when the client goes

    asyncio.run(run())
    assert value("haruchat_open_streams") == start


def test_model_calls_are_counted_and_timed():
    labels = {"provider": "openai_compat", "model": "fake-model", "outcome": "succeeded"}
    before = value("haruchat_model_calls_total", **labels)
    before_slow = value("haruchat_model_call_seconds_bucket", **labels, le="5.0")
    metrics.model_call_observed("openai_compat", "fake-model", "succeeded", 1.5)
    metrics.model_call_observed("openai_compat", "fake-model", "succeeded", 7.0)
    failed = {**labels, "outcome": "abandoned"}
    failed_before = value("haruchat_model_calls_total", **failed)
    timed_before = value("haruchat_model_call_seconds_count", **failed)
    metrics.model_call_observed("openai_compat", "fake-model", "abandoned", None)  # closed by the sweep: no time
    assert value("haruchat_model_calls_total", **labels) == before + 2
    assert value("haruchat_model_call_seconds_bucket", **labels, le="5.0") == before_slow + 1
    assert value("haruchat_model_calls_total", **failed) == failed_before + 1
    assert value("haruchat_model_call_seconds_count", **failed) == timed_before


def test_a_client_naming_models_cannot_make_series_without_end(monkeypatch):
    monkeypatch.setattr(metrics, "_label_values", {})
    for n in range(metrics.MAX_LABEL_VALUES + 5):
        metrics.model_call_observed("openai_compat", f"made-up-{n}", "failed", 0.1)
    models = {
        sample.labels["model"]
        for family in REGISTRY.collect()
        if family.name == "haruchat_model_calls"
        for sample in family.samples
        if sample.labels.get("model", "").startswith("made-up-")
    }
    assert len(models) == metrics.MAX_LABEL_VALUES
    assert value("haruchat_model_calls_total", provider="openai_compat", model="other", outcome="failed") >= 5


def test_the_database_pool_is_read_when_scraped(anon, metrics_on, monkeypatch):
    class FakePool:
        def get_stats(self):
            return {"pool_min": 1, "pool_max": 20, "pool_size": 7, "pool_available": 3, "requests_waiting": 2}

    monkeypatch.setattr(metrics, "_pools", lambda: iter([("default", FakePool())]))
    samples = scrape(anon)
    assert samples[("haruchat_db_pool_connections", (("database", "default"), ("state", "in_use")))] == 4
    assert samples[("haruchat_db_pool_connections", (("database", "default"), ("state", "idle")))] == 3
    assert samples[("haruchat_db_pool_max_connections", (("database", "default"),))] == 20
    assert samples[("haruchat_db_pool_requests_waiting", (("database", "default"),))] == 2


def test_the_pool_gauges_follow_the_database(anon, metrics_on, db):
    """SQLite has no pool, and the scrape still answers; PostgreSQL's pool is read as it stands."""
    from django.db import connection

    connection.ensure_connection()
    samples = scrape(anon)
    assert ("haruchat_open_streams", ()) in samples
    if connection.vendor == "sqlite":
        assert list(metrics._pools()) == []
    else:
        assert any(name == "haruchat_db_pool_max_connections" for name, _ in samples)


def test_several_processes_are_summed_with_prometheus_multiproc_dir(tmp_path: Path):
    """What production runs: uvicorn --workers, each process writing to PROMETHEUS_MULTIPROC_DIR."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    env.pop("DATABASE_URL", None)
    one_process = (
        "import django; django.setup();"
        "from common import metrics;"
        "metrics.quota_refused('token_budget_exceeded'); metrics.stream_opened();"
        "metrics.model_call_observed('llama', 'smollm2', 'succeeded', 0.3);"
        "print(metrics.metrics_text().decode())"
    )
    backend = Path(__file__).resolve().parents[2]
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-c", one_process], cwd=backend, env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, result.stderr
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(result.stdout)
        for sample in family.samples
    }
    assert samples[("haruchat_quota_refusals_total", (("reason", "token_budget_exceeded"),))] == 2
    call = (("model", "smollm2"), ("outcome", "succeeded"), ("provider", "llama"))
    assert samples[("haruchat_model_calls_total", call)] == 2
    # The first process has exited: its open stream left the sum; the scraping one's is still open.
    assert samples[("haruchat_open_streams", ())] == 1


def test_over_real_asgi_streams_are_open_while_sent_and_closed_when_the_client_leaves(
    live_uvicorn, upstream, metrics_on
):
    import time
    import urllib.request

    from accounts.services import user_tokens_issue
    from chat.selectors import assistant_default
    from chat.services.conversations import conversation_create
    from chat.tests.sse import SSEStream
    from conftest import make_member

    member = make_member()
    conversation = conversation_create(user=member, assistant=assistant_default())
    url = f"{live_uvicorn.url}/api/conversations/{conversation.pk}/messages"
    token = user_tokens_issue(user=member)["access"]
    start = value("haruchat_open_streams")

    upstream.configure(chunks=4, chunk_delay=0.02)
    assert [event.name for event in SSEStream(url, token, {"content": "hi", "stream": True}).events()][-1] == "done"

    upstream.configure(chunks=200, chunk_delay=0.05)
    left = SSEStream(url, token, {"content": "a long one", "stream": True})
    next(iter(left.events()))
    assert value("haruchat_open_streams") == start + 1
    left.close()
    deadline = time.monotonic() + 10
    while value("haruchat_open_streams") != start and time.monotonic() < deadline:
        time.sleep(0.05)
    assert value("haruchat_open_streams") == start

    request = urllib.request.Request(f"{live_uvicorn.url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read().decode()
    route = 'route="/api/conversations/<int:conversation_id>/messages"'
    assert any(line.startswith("haruchat_http_requests_total{") and route in line for line in body.splitlines())


def test_the_call_lifecycle_reports_each_calls_outcome(api, anon, metrics_on, upstream):
    labels = {"provider": "openai_compat", "model": "fake-model"}
    before = {o: value("haruchat_model_calls_total", **labels, outcome=o) for o in ("succeeded", "failed")}
    conversation = start_conversation(api)
    assert send(api, conversation["id"], "one").status_code == 201
    upstream.configure(status=500, fail_times=1)
    assert send(api, conversation["id"], "two").status_code == 502
    samples = scrape(anon)
    for outcome in ("succeeded", "failed"):
        key = tuple(sorted({**labels, "outcome": outcome}.items()))
        assert samples[("haruchat_model_calls_total", key)] == before[outcome] + 1
