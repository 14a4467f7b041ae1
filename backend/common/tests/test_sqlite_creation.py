"""On SQLite, a destroyed test database leaves no write-ahead log behind."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own files")


def test_the_log_and_shared_memory_files_go_with_the_database(tmp_path):
    database = tmp_path / "test.sqlite3"
    for name in ("test.sqlite3", "test.sqlite3-wal", "test.sqlite3-shm", "other.sqlite3-wal"):
        (tmp_path / name).write_bytes(b"x")
    connection.creation._destroy_test_db(str(database), verbosity=0)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["other.sqlite3-wal"]


def test_a_database_without_a_log_is_destroyed_as_before(tmp_path):
    database = tmp_path / "test.sqlite3"
    database.write_bytes(b"x")
    connection.creation._destroy_test_db(str(database), verbosity=0)
    assert list(tmp_path.iterdir()) == []
