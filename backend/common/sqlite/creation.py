"""The test database goes with its write-ahead log.

Database threads (common.db) keep their SQLite connections open, so when the
test run deletes its database the log and shared-memory files stay behind
(tens of MB after a full run). They go with it here.
"""

from __future__ import annotations

import contextlib
import os

from django.db.backends.sqlite3 import creation


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        super()._destroy_test_db(test_database_name, verbosity)
        if test_database_name and not self.is_in_memory_db(test_database_name):
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(f"{test_database_name}{suffix}")
