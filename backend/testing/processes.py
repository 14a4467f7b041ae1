"""haruchat's own server as a separate process, for tests that need a real one (production settings,
several processes on one database, a process killed mid-answer)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """This environment without haruchat's own settings, then production mode with a fresh secret."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("HARUCHAT_", "DJANGO_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        HARUCHAT_ENV="production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="chat.example.com,127.0.0.1,localhost",
        HARUCHAT_VAR_DIR=str(tmp_path),
        HARUCHAT_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "python"), "backend/manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True
    )


@contextmanager
def app_process(env: dict[str, str], *uvicorn_args: str) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """One uvicorn process of haruchat on a free port (and the process, to kill), until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [str(BIN / "uvicorn"), "config.asgi:application", "--app-dir", "backend", "--port", str(port),
         "--timeout-graceful-shutdown", "2", *uvicorn_args],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn did not start: {process.stderr.read()}") from None
                time.sleep(0.05)
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stderr.close()


def shared_database_url() -> str:
    """The URL of the database the tests run on, for app processes that must share it (PostgreSQL)."""
    from django.db import connection

    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
