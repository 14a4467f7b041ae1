"""Whose address failed logins are counted under: behind HARUCHAT_TRUSTED_PROXIES proxies, the
entry that many from the right of X-Forwarded-For, never one the client wrote. Proven on
client_ip itself, through the login API, and end to end behind the shipped deploy/nginx.conf
and deploy/Caddyfile run by Debian's own nginx and caddy."""

from __future__ import annotations

import http.client
import json
import os
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from accounts.login_attempts import client_ip
from testing.processes import REPO, app_process, free_port, manage, production_env

PROXY = "10.0.0.254"  # REMOTE_ADDR: the proxy the app sees
CLIENT = "203.0.113.5"  # the address the (last) proxy saw
SPOOFS = ["198.51.100.1", "192.0.2.2", "8.8.8.8"]


def address(settings, forwarded: str | None, *, proxies: int = 0, header: str = "", **extra: str) -> str:
    settings.HARUCHAT_TRUSTED_PROXIES = proxies
    settings.HARUCHAT_CLIENT_IP_HEADER = header
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return client_ip(RequestFactory().get("/", REMOTE_ADDR=PROXY, **headers, **extra))


# --- client_ip -------------------------------------------------------------------------------


def test_with_no_trusted_proxy_the_header_is_not_read(settings):
    assert address(settings, None) == PROXY
    assert address(settings, CLIENT) == PROXY
    assert address(settings, f"{SPOOFS[0]}, {CLIENT}") == PROXY


def test_one_proxy_the_rightmost_entry_is_the_client_whatever_it_sent_before(settings):
    assert address(settings, CLIENT, proxies=1) == CLIENT
    for spoof in SPOOFS:
        assert address(settings, f"{spoof}, {CLIENT}", proxies=1) == CLIENT
    assert address(settings, f"{SPOOFS[0]}, {SPOOFS[1]},{CLIENT}", proxies=1) == CLIENT


def test_two_proxies_the_second_entry_from_the_right(settings):
    # Client -> load balancer (appends CLIENT) -> nginx (appends the balancer's address) -> app.
    assert address(settings, f"{CLIENT}, 10.0.0.2", proxies=2) == CLIENT
    for spoof in SPOOFS:
        assert address(settings, f"{spoof}, {CLIENT}, 10.0.0.2", proxies=2) == CLIENT


def test_fewer_entries_than_proxies_fall_back_to_the_connection(settings):
    assert address(settings, None, proxies=1) == PROXY
    assert address(settings, "", proxies=1) == PROXY
    assert address(settings, CLIENT, proxies=2) == PROXY


@pytest.mark.parametrize(
    "entry", ["not-an-ip", "unknown", "203.0.113", "203.0.113.5.6", "999.1.1.1", "[2001:db8::1", "_hidden", " "]
)
def test_an_entry_that_is_not_an_address_falls_back_to_the_connection(settings, entry):
    assert address(settings, f"{CLIENT}, {entry}", proxies=1) == PROXY
    assert address(settings, f"{entry}, 10.0.0.2", proxies=2) == PROXY


def test_addresses_are_counted_in_one_spelling(settings):
    assert address(settings, "203.0.113.5:4711", proxies=1) == CLIENT
    assert address(settings, "2001:DB8:0:0::1", proxies=1) == "2001:db8::1"
    assert address(settings, "[2001:db8::1]:443", proxies=1) == "2001:db8::1"
    settings.HARUCHAT_TRUSTED_PROXIES = 0
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="2001:DB8::0:1")) == "2001:db8::1"


def test_the_header_setting_alone_means_one_proxy(settings):
    """HARUCHAT_CLIENT_IP_HEADER=X-Forwarded-For (what compose.yaml sets) used to read the leftmost entry."""
    assert address(settings, f"{SPOOFS[0]}, {CLIENT}", header="X-Forwarded-For") == CLIENT
    assert address(settings, f"{SPOOFS[0]}, {CLIENT}, 10.0.0.2", header="X-Forwarded-For", proxies=2) == CLIENT


def test_another_header_can_be_named(settings):
    assert address(settings, SPOOFS[0], header="X-Real-IP", proxies=1, HTTP_X_REAL_IP=CLIENT) == CLIENT
    assert address(settings, SPOOFS[0], header="X-Real-IP", proxies=1) == PROXY  # missing: the connection


@pytest.mark.parametrize("value", ["-1", "two", "1.5"])
def test_a_nonsense_number_of_proxies_stops_start_up(tmp_path, value):
    result = manage(production_env(tmp_path, HARUCHAT_TRUSTED_PROXIES=value), "check")
    assert result.returncode != 0
    assert f"ImproperlyConfigured: HARUCHAT_TRUSTED_PROXIES='{value}'" in result.stderr


@pytest.mark.django_db
def test_spoofed_entries_share_the_clients_count_through_the_login_api(settings):
    settings.HARUCHAT_TRUSTED_PROXIES = 1
    settings.HARUCHAT_LOGIN_MAX_FAILURES_PER_IP = 3
    client = APIClient(REMOTE_ADDR=PROXY)

    def login(n: int, forwarded: str):
        body = {"email": f"nobody{n}@example.com", "password": "guess"}
        return client.post("/api/auth/login", body, format="json", HTTP_X_FORWARDED_FOR=forwarded)

    for n, spoof in enumerate(SPOOFS):
        assert login(n, f"{spoof}, {CLIENT}").status_code == 401
    assert login(3, f"1.1.1.1, {CLIENT}").status_code == 429
    assert login(4, "198.51.100.77").status_code == 401  # another client behind the same proxy


# --- Behind the shipped proxy configurations, run by Debian's nginx and caddy ------------------

DEPLOY = REPO / "deploy"


@pytest.fixture(scope="session")
def proxy_binaries() -> dict[str, str]:
    """Debian's nginx and caddy, installed by scripts/ensure-proxies.sh if absent."""
    result = subprocess.run([str(REPO / "scripts" / "ensure-proxies.sh")], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"Debian's nginx and caddy could not be installed: {result.stderr.strip()[-500:]}")
    return {
        "nginx": os.environ.get("NGINX_PATH", "/usr/sbin/nginx"),
        "caddy": os.environ.get("CADDY_PATH", "/usr/bin/caddy"),
    }


def shipped(name: str, replacements: dict[str, str]) -> str:
    """A deploy/ file with its ports and paths replaced, each of which must be there exactly once."""
    text = (DEPLOY / name).read_text()
    for old, new in replacements.items():
        assert text.count(old) == 1, f"deploy/{name} no longer has {old!r} once; update this test"
        text = text.replace(old, new)
    return text


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=0.5).connect()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the proxy did not start:\n{log.read_text()}") from None
            time.sleep(0.05)


class Proxy:
    """A running proxy: connections to it from a chosen loopback address (the client)."""

    def __init__(self, port: int, context: ssl.SSLContext | None = None) -> None:
        self.port, self.context = port, context

    def connection(self, source: str) -> http.client.HTTPConnection:
        if self.context:
            return http.client.HTTPSConnection(
                "127.0.0.1", self.port, context=self.context, timeout=10, source_address=(source, 0)
            )
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=10, source_address=(source, 0))


@contextmanager
def running(command: list[str], port: int, log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, process, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def nginx(binary: str, upstream: int, tmp: Path) -> Iterator[Proxy]:
    """deploy/nginx.conf as shipped, on free ports with a throwaway certificate, in its own prefix."""
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    certificate = authority.issue_cert("127.0.0.1", "localhost")
    certificate.private_key_pem.write_to_path(str(tmp / "privkey.pem"))
    (tmp / "fullchain.pem").write_bytes(b"".join(pem.bytes() for pem in certificate.cert_chain_pems))
    port, redirect_port = free_port(), free_port()
    site = shipped(
        "nginx.conf",
        {
            "listen 443 ": f"listen 127.0.0.1:{port} ",
            "listen 80;": f"listen 127.0.0.1:{redirect_port};",
            "/etc/letsencrypt/live/chat.example.com/fullchain.pem": str(tmp / "fullchain.pem"),
            "/etc/letsencrypt/live/chat.example.com/privkey.pem": str(tmp / "privkey.pem"),
            "proxy_pass http://127.0.0.1:8000;": f"proxy_pass http://127.0.0.1:{upstream};",
        },
    )
    (tmp / "site.conf").write_text(site)
    (tmp / "nginx.conf").write_text(
        f"""daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    )
    command = [binary, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")]
    with running(command, port, tmp / "nginx.log"):
        context = ssl.create_default_context()
        authority.configure_trust(context)
        yield Proxy(port, context)


@contextmanager
def caddy(binary: str, upstream: int, tmp: Path) -> Iterator[Proxy]:
    """deploy/Caddyfile as shipped (site from HARUCHAT_DOMAIN, as in compose.yaml), plain HTTP on a
    free port, with its admin endpoint off and its storage under tmp."""
    port = free_port()
    config = "{\n\tadmin off\n}\n" + shipped(
        "Caddyfile", {"reverse_proxy app:8000 ": f"reverse_proxy 127.0.0.1:{upstream} "}
    )
    (tmp / "Caddyfile").write_text(config)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp),
        "XDG_CONFIG_HOME": str(tmp / "config"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "HARUCHAT_DOMAIN": f"http://127.0.0.1:{port}",
    }
    command = [binary, "run", "--config", str(tmp / "Caddyfile"), "--adapter", "caddyfile"]
    with running(command, port, tmp / "caddy.log", env):
        yield Proxy(port)


PROXIES: dict[str, Callable[[str, int, Path], AbstractContextManager[Proxy]]] = {"nginx": nginx, "caddy": caddy}


class EchoForwardedFor(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(self.headers.get_all("X-Forwarded-For") or []).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echo() -> Iterator[int]:
    """An upstream that answers with the X-Forwarded-For headers it was sent."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoForwardedFor)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("name", PROXIES)
def test_the_shipped_proxy_forwards_only_the_address_it_saw(name, proxy_binaries, echo, tmp_path):
    """What HARUCHAT_TRUSTED_PROXIES=1 relies on: one entry, the connection's address, written
    by the proxy, whatever the client sent (Caddy since 2.5 ignores it from untrusted clients)."""
    with PROXIES[name](proxy_binaries[name], echo, tmp_path) as proxy:
        for sent in [None, "198.51.100.1", "198.51.100.1, 192.0.2.2"]:
            connection = proxy.connection("127.0.0.2")
            connection.request("GET", "/", headers={"X-Forwarded-For": sent} if sent else {})
            assert json.loads(connection.getresponse().read()) == ["127.0.0.2"], sent


@pytest.fixture(scope="module")
def haruchat(tmp_path_factory) -> Iterator[int]:
    """One production-like app process (SQLite, per-process counts) set for one trusted proxy."""
    var = tmp_path_factory.mktemp("haruchat")
    env = production_env(
        var,
        HARUCHAT_TRUSTED_PROXIES="1",
        HARUCHAT_LOGIN_MAX_FAILURES_PER_IP="3",
        HARUCHAT_SSL_REDIRECT="false",  # Caddy is tested over plain HTTP
    )
    migrated = manage(env, "migrate", "-v0")
    assert migrated.returncode == 0, migrated.stderr
    with app_process(env) as (_, port):
        yield port


@pytest.mark.parametrize(
    "name, client, neighbour", [("nginx", "127.0.0.2", "127.0.0.3"), ("caddy", "127.0.0.4", "127.0.0.5")]
)
def test_behind_the_shipped_proxy_spoofed_addresses_share_one_count(
    name, client, neighbour, proxy_binaries, haruchat, tmp_path
):
    with PROXIES[name](proxy_binaries[name], haruchat, tmp_path) as proxy:

        def login(source: str, n: int, spoof: str) -> http.client.HTTPResponse:
            connection = proxy.connection(source)
            body = json.dumps({"email": f"nobody{n}-{name}@example.com", "password": "guess"})
            headers = {"Content-Type": "application/json", "X-Forwarded-For": spoof}
            connection.request("POST", "/api/auth/login", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            return response

        for n, spoof in enumerate(SPOOFS):  # three different accounts, three made-up addresses
            assert login(client, n, spoof).status == 401
        paused = login(client, 3, "203.0.113.99")
        assert paused.status == 429
        assert 0 < int(paused.getheader("Retry-After")) <= 300
        assert login(neighbour, 4, SPOOFS[0]).status == 401  # another client of the same proxy is not paused
