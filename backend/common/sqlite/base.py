"""Django's SQLite backend, with the process's writers taking turns at a lock of ours.

SQLite lets one writer in at a time; the others wait in its busy handler,
which polls by sleeping, so a writer can sleep long after the lock came free
and under load some lose again and again. Here a transaction of this process
first queues at a Python lock, which wakes the next writer the moment the
last one commits; SQLite's own wait still covers other processes (manage.py,
a second server). A writer that cannot get the lock in the connection's
timeout goes on to SQLite, which then answers "database is locked" as before.
"""

from __future__ import annotations

import threading
from typing import Any

from django.db.backends.sqlite3 import base

from common.sqlite.creation import DatabaseCreation

_writer_locks: dict[str, threading.Lock] = {}
_writer_locks_guard = threading.Lock()


def _writer_lock(name: str) -> threading.Lock:
    with _writer_locks_guard:
        return _writer_locks.setdefault(name, threading.Lock())


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._held_writer_lock: threading.Lock | None = None

    def _start_transaction_under_autocommit(self) -> None:
        lock = _writer_lock(str(self.settings_dict["NAME"]))
        if lock.acquire(timeout=self.settings_dict.get("OPTIONS", {}).get("timeout", 5)):
            self._held_writer_lock = lock
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_writer_lock()
            raise

    def _release_writer_lock(self) -> None:
        lock, self._held_writer_lock = self._held_writer_lock, None
        if lock is not None:
            lock.release()

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._release_writer_lock()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._release_writer_lock()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._release_writer_lock()
