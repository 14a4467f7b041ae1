"""SQLite's write-ahead log is checkpointed by the server's own thread, not inside a request's commit."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest
from django.db import connection

from common.db import sqlite_checkpoint
from conftest import LiveUvicorn, make_member

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write-ahead log")


def _in_database_file(email: str, tmp_path: Path) -> bool:
    """Whether the member is in the database file itself (a copy without its log sees only checkpointed pages)."""
    copy = tmp_path / f"copy-{time.monotonic_ns()}.sqlite3"
    shutil.copyfile(connection.settings_dict["NAME"], copy)
    with sqlite3.connect(copy) as db:
        return db.execute("SELECT 1 FROM accounts_user WHERE email = ?", (email,)).fetchone() is not None


@pytest.mark.django_db(transaction=True)
def test_commits_leave_the_checkpoint_to_the_server_thread():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 10_000  # SQLite's own checkpoint is only a backstop
    make_member(email="written@example.com")
    busy, logged, folded = sqlite_checkpoint()
    assert (busy, folded) == (0, logged) and logged > 0  # every committed page is now in the file


@pytest.mark.django_db(transaction=True)
def test_the_server_checkpoints_in_the_background(builtin_assistants, settings, tmp_path):
    settings.HARUCHAT_SQLITE_CHECKPOINT_SECONDS = 0.05
    make_member(email="checkpointed@example.com")
    assert not _in_database_file("checkpointed@example.com", tmp_path)  # committed, still only in the log
    server = LiveUvicorn(lifespan="on").start()
    try:
        deadline = time.monotonic() + 10
        while not _in_database_file("checkpointed@example.com", tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        server.stop()
    assert _in_database_file("checkpointed@example.com", tmp_path)
