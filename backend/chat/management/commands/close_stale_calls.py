from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from chat.services.calls import calls_close_stale


class Command(BaseCommand):
    help = (
        "Close model calls left in progress by a process that is gone (its lease expired, or, for a call "
        "made with no lease, pending too long), and refund them. Every server process does it on its own too."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=None,
            help="seconds a call with no lease must have been pending (default HARUCHAT_STALE_CALL_SECONDS)",
        )

    def handle(self, *args: Any, older_than: int | None = None, **options: Any) -> None:
        age = dt.timedelta(seconds=older_than) if older_than is not None else None
        closed = calls_close_stale(older_than=age)
        self.stdout.write(f"closed {closed} abandoned call(s)")
