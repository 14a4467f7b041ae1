"""Production: settings that pass `check --deploy`, HTTPS served by uvicorn, plain
HTTP redirected, and several app processes sharing one PostgreSQL and Redis."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from chat.selectors import assistant_default
from chat.services.conversations import conversation_create
from conftest import PASSWORD, make_member
from quota.models import DailyUsage
from testing.processes import BIN, REPO, app_process, free_port, manage, production_env, shared_database_url


def test_production_settings_pass_check_deploy(tmp_path):
    result = manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = production_env(tmp_path)
    del env["DJANGO_SECRET_KEY"]
    result = manage(env, "check")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_logs_are_json_lines_with_a_request_id(tmp_path):
    env = production_env(tmp_path, HARUCHAT_SSL_REDIRECT="false", HARUCHAT_LOG_LEVEL="INFO")
    assert manage(env, "migrate", "-v0").returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "uvicorn"), "config.asgi:application", "--app-dir", "backend", "--port", str(port),
         "--no-access-log"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                connection_ = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                connection_.request("GET", "/api/nothing-here", headers={"X-Request-ID": "req-test-123"})
                response = connection_.getresponse()
                break
            except OSError:
                time.sleep(0.1)
        assert response.status == 404
        assert response.getheader("X-Request-ID") == "req-test-123"
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    not_found = [e for e in entries if "Not Found" in e["message"]]
    assert not_found and not_found[0]["request_id"] == "req-test-123"


def test_uvicorn_serves_https_and_plain_http_is_redirected(tmp_path):
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    certificate = authority.issue_cert("localhost", "127.0.0.1")
    key_file, cert_file = tmp_path / "key.pem", tmp_path / "cert.pem"
    certificate.private_key_pem.write_to_path(str(key_file))
    certificate.cert_chain_pems[0].write_to_path(str(cert_file))
    env = production_env(tmp_path, HARUCHAT_BEHIND_PROXY="false")
    assert manage(env, "migrate", "-v0").returncode == 0

    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    with app_process(env, "--ssl-keyfile", str(key_file), "--ssl-certfile", str(cert_file)) as (_, port):
        tls = http.client.HTTPSConnection("localhost", port, context=client_context, timeout=10)
        tls.request("GET", "/api/health")
        response = tls.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["database"] == "ok"
        assert "max-age=31536000" in response.getheader("Strict-Transport-Security")
        assert tls.sock.version() in {"TLSv1.2", "TLSv1.3"}

    with app_process(env) as (_, port):  # the same app reached over plain HTTP
        plain = http.client.HTTPConnection("localhost", port, timeout=10)
        plain.request("GET", "/api/auth/me")
        redirect = plain.getresponse()
        assert redirect.status == 301
        assert redirect.getheader("Location") == f"https://localhost:{port}/api/auth/me"


def _redis_url() -> str | None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return None
    return "redis://127.0.0.1:6379/15"


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_app_processes_on_one_postgres_let_exactly_five_of_sixty_through(tmp_path, fake_upstream_server):
    if connection.vendor != "postgresql":
        pytest.skip("several app processes share one PostgreSQL; run with DATABASE_URL=postgres://...")
    fake_upstream_server.reset()
    fake_upstream_server.configure(latency=0.2)
    import importlib

    from django.apps import apps

    importlib.import_module("chat.migrations.0002_builtin_assistants").create_assistants(apps, None)
    member = make_member()
    # The app processes know only the production hashers, not the tests' fast one.
    member.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    member.save(update_fields=["password"])
    conversation = conversation_create(user=member, assistant=assistant_default())

    database_url = shared_database_url()
    redis_url = _redis_url()
    extra = {"REDIS_URL": redis_url} if redis_url else {}
    env = production_env(
        tmp_path,
        DATABASE_URL=database_url,
        HARUCHAT_SSL_REDIRECT="false",
        HARUCHAT_LLM_PROVIDER="openai_compat",
        HARUCHAT_LLM_BASE_URL=fake_upstream_server.base_url,
        HARUCHAT_LLM_MODEL="fake-model",
        HARUCHAT_MODEL_TITLES="false",  # one send, one exchange: the count below is of answers
        **extra,
    )
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()

    with app_process(env) as (_, port_a), app_process(env) as (_, port_b):
        login_a = http.client.HTTPConnection("127.0.0.1", port_a, timeout=10)
        body = json.dumps({"email": member.email, "password": PASSWORD})
        login_a.request("POST", "/api/auth/login", body=body, headers={"Content-Type": "application/json"})
        token = json.loads(login_a.getresponse().read())["access"]  # issued by one process, accepted by both
        results: list[int] = []
        barrier = threading.Barrier(60)

        def send(port: int, n: int) -> None:
            barrier.wait()
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            body = json.dumps({"content": f"message {n}"})
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            client.request("POST", f"/api/conversations/{conversation.pk}/messages", body=body, headers=headers)
            results.append(client.getresponse().status)

        threads = [threading.Thread(target=send, args=((port_a, port_b)[n % 2], n)) for n in range(60)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(results) == [201] * 5 + [429] * 55
        assert len(fake_upstream_server.exchanges) == 5
        assert DailyUsage.objects.get(user=member).requests == 5

        if redis_url:  # failed logins counted by one process pause login on the other

            def login(port: int, password: str) -> int:
                client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                body = json.dumps({"email": member.email, "password": password})
                client.request("POST", "/api/auth/login", body=body, headers={"Content-Type": "application/json"})
                return client.getresponse().status

            assert [login(port_a, "wrong") for _ in range(5)] == [401] * 5
            assert login(port_b, PASSWORD) == 429


def test_health_tells_liveness_from_readiness(anon, db, upstream, settings):
    live = anon.get("/api/health/live")
    assert live.status_code == 200 and live.json()["status"] == "ok"
    ready = anon.get("/api/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "provider": "ok"}
    settings.HARUCHAT_LLM_BASE_URL = f"http://127.0.0.1:{free_port()}/v1"
    not_ready = anon.get("/api/health/ready")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["provider"] == "unavailable"
    assert anon.get("/api/health/live").status_code == 200  # alive, just not ready


def test_behind_a_proxy_the_forwarded_scheme_counts_as_https(tmp_path):
    env = production_env(tmp_path)
    assert manage(env, "migrate", "-v0").returncode == 0
    with app_process(env) as (_, port):
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request("GET", "/api/health/live", headers={"X-Forwarded-Proto": "https"})
        live = client.getresponse()
        live.read()
        assert live.status == 200
        client.request("GET", "/api/auth/me", headers={"X-Forwarded-Proto": "https", "Host": "chat.example.com"})
        response = client.getresponse()
        assert response.status == 401  # served, not redirected
        assert urllib.parse.urlparse(response.getheader("Location") or "").scheme == ""


def test_collected_static_files_are_served_in_production(tmp_path):
    """What the Dockerfile does: collectstatic at build time, WhiteNoise serving the fingerprinted files."""
    env = production_env(tmp_path, HARUCHAT_SSL_REDIRECT="false")
    assert manage(env, "collectstatic", "--noinput", "-v0").returncode == 0
    assert manage(env, "migrate", "-v0").returncode == 0
    with app_process(env) as (_, port):
        client = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        client.request("GET", "/admin/login/")
        page = client.getresponse().read().decode()
        stylesheet = next(part.split('"')[0] for part in page.split('href="') if part.startswith("/static/admin/css/"))
        assert stylesheet != "/static/admin/css/base.css"  # fingerprinted name, cacheable forever
        client.request("GET", stylesheet)
        response = client.getresponse()
        served = response.read()
        assert response.status == 200
        assert served == (tmp_path / "static" / stylesheet.removeprefix("/static/")).read_bytes()
        assert "max-age=315360000" in response.getheader("Cache-Control")
        client.request("HEAD", stylesheet)
        head = client.getresponse()
        assert head.status == 200 and head.read() == b""
        assert int(head.getheader("Content-Length")) == len(served)


def test_health_probes_by_address_answer_whatever_the_host(tmp_path):
    """The deploy guide allows only the domain; a load balancer or the Dockerfile's HEALTHCHECK probes
    http://127.0.0.1:PORT over plain HTTP. The probes answer; everything else still refuses that Host."""
    env = production_env(tmp_path, DJANGO_ALLOWED_HOSTS="chat.example.com")
    assert manage(env, "migrate", "-v0").returncode == 0
    with app_process(env) as (_, port):
        for path, body in (("/api/health/live", {"status": "ok"}), ("/api/health/ready", None), ("/api/health", None)):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)  # Host: 127.0.0.1:PORT, plain HTTP
            response = connection.getresponse()
            answer = json.loads(response.read())
            assert response.status == 200, (path, answer)
            assert answer == body if body else answer["status"] == "ok"
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/quota")
        assert connection.getresponse().status == 400  # DisallowedHost for everything else


@pytest.mark.parametrize(
    "setting, django_id",
    [
        ({"HARUCHAT_HSTS_SECONDS": "0"}, "security.W004"),
        ({"HARUCHAT_SSL_REDIRECT": "false"}, "security.W008"),
    ],
)
def test_check_deploy_still_catches_bad_security_settings_behind_our_middleware(tmp_path, setting, django_id):
    """Django's checks look for its middleware by path; haruchat's subclasses must not switch them off."""
    result = manage(production_env(tmp_path, **setting), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert django_id in result.stdout + result.stderr


def test_the_sign_up_limit_is_shared_by_every_process_through_redis(tmp_path):
    redis_url = _redis_url()
    if redis_url is None:
        pytest.skip("needs Redis at 127.0.0.1:6379")
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    env = production_env(tmp_path, HARUCHAT_SSL_REDIRECT="false", REDIS_URL=redis_url, HARUCHAT_SIGNUP_MAX_PER_IP="4")
    assert manage(env, "migrate", "-v0").returncode == 0
    statuses = []
    with app_process(env) as (_, port_a), app_process(env) as (_, port_b):
        for n in range(8):  # alternating between the two processes
            client = http.client.HTTPConnection("127.0.0.1", (port_a, port_b)[n % 2], timeout=30)
            body = json.dumps({"email": f"flood{n}@example.com", "password": PASSWORD, "nickname": f"f{n}"})
            client.request("POST", "/api/auth/signup", body=body, headers={"Content-Type": "application/json"})
            statuses.append(client.getresponse().status)
    assert statuses == [201] * 4 + [429] * 4


def _served_flags(recipe: str) -> list[str]:
    """The uvicorn flags a shipped command line passes, less where it listens (app_process picks the port)."""
    line = next(line for line in recipe.splitlines() if "uvicorn config.asgi:application" in line)
    words = line.split("config.asgi:application", 1)[1].replace("'", " ").replace('"', " ").replace("]", " ").split()
    flags, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("--app-dir", "--host", "--port", "--workers"):
            skip = True
        else:
            flags.append(word)
    return flags


@pytest.mark.parametrize("shipped", ["Makefile", "Dockerfile"])
def test_a_loopback_client_cannot_change_its_address_with_x_forwarded_for(tmp_path, shipped):
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told not to, and would hand Django the
    client's chosen address: `make run` and the image must not, or the per-address sign-up limit is dodged."""
    env = production_env(tmp_path, HARUCHAT_SSL_REDIRECT="false", HARUCHAT_SIGNUP_MAX_PER_IP="2")
    assert manage(env, "migrate", "-v0").returncode == 0
    statuses = []
    with app_process(env, *_served_flags((REPO / shipped).read_text())) as (_, port):
        for n in range(4):
            client = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            body = json.dumps({"email": f"spoof{n}@example.com", "password": PASSWORD, "nickname": f"s{n}"})
            headers = {"Content-Type": "application/json", "X-Forwarded-For": f"203.0.113.{n}"}
            client.request("POST", "/api/auth/signup", body=body, headers=headers)
            statuses.append(client.getresponse().status)
    assert statuses == [201, 201, 429, 429]
