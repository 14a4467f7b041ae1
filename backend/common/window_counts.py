"""Counts kept in the cache for a window of time (Redis when REDIS_URL is set, so every process shares them).

A count starts at its first `window_count_up` and lives `window` seconds
from then; failed logins, sign-ups per address and reset mails are counted so.
"""

from __future__ import annotations

import math
import time

from django.core.cache import cache


def window_count_up(key: str, *, window: int) -> int:
    """One more in the count under `key` (starting its window if it has none); returns the new count."""
    cache.add(f"{key}:since", time.time(), timeout=window)
    cache.add(key, 0, timeout=window)
    try:
        return cache.incr(key)
    except ValueError:  # the window ended between add and incr
        cache.set(key, 1, timeout=window)
        return 1


def window_count_down(key: str) -> None:
    """One less, for something counted that did not happen after all."""
    try:
        cache.decr(key)
    except ValueError:  # the window ended meanwhile
        pass


def window_retry_after(key: str, *, window: int) -> int:
    """Whole seconds until the count's window ends (at least 1)."""
    since = cache.get(f"{key}:since") or time.time()
    return max(math.ceil(since + window - time.time()), 1)
