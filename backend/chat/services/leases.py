"""This process's lease: how a sweep tells a call whose process is gone from one still under way.

Each app process takes a lease when it starts (the ASGI lifespan, config.asgi)
and renews it every third of HARUCHAT_CALL_LEASE_SECONDS; each call it starts
records the lease (`call_start`, in the INSERT it makes anyway: no query of
its own). A process killed or crashed stops renewing, its lease expires, and
the next sweep of any live process (or `manage.py close_stale_calls`) closes
its calls in progress and refunds them (`calls_close_stale`). Expiry is set
and compared on the database's clock, so hosts whose clocks differ agree.

A process holding no lease (manage.py, WSGI, a server that could not reach
the database as it started) makes calls with none; those are closed by age.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket

from django.conf import settings
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now

from chat.models import ProcessLease

logger = logging.getLogger(__name__)

# A stopped process's lease is deleted this long after it expired (its calls keep the id; any still
# pending by then count as having no lease, and are long past the age that closes those).
LEASE_KEPT = dt.timedelta(days=1)

_held: int | None = None


def lease_held() -> int | None:
    """This process's lease, if it holds one (read on the hot path: no query)."""
    return _held


def lease_renew_interval() -> float:
    """Seconds between renewals: a lease outlives two missed ones."""
    return settings.HARUCHAT_CALL_LEASE_SECONDS / 3


def _from_now(delta: dt.timedelta) -> ExpressionWrapper:
    """The database's now plus `delta`."""
    return ExpressionWrapper(Now() + delta, output_field=DateTimeField())


def _expiry() -> ExpressionWrapper:
    return _from_now(dt.timedelta(seconds=settings.HARUCHAT_CALL_LEASE_SECONDS))


def lease_take() -> int:
    """Take a new lease for this process (and delete the leases of processes long stopped)."""
    global _held
    ProcessLease.objects.filter(expires_at__lt=_from_now(-LEASE_KEPT)).delete()
    lease = ProcessLease.objects.create(
        host=socket.gethostname()[:255], pid=os.getpid(), started_at=Now(), expires_at=_expiry()
    )
    _held = lease.pk
    return lease.pk


def lease_renew() -> None:
    """Push this process's lease's expiry on: one UPDATE, no transaction. Take one if it holds none.

    A lease found expired (the process stalled longer than the lease: the
    database out of reach, the event loop blocked) is revived, not replaced:
    its calls that no sweep closed in the meantime stay this process's.
    """
    if _held is None:
        lease_take()
        return
    if ProcessLease.objects.filter(pk=_held, expires_at__gte=Now()).update(expires_at=_expiry()):
        return
    logger.error("this process's lease %s had expired: its calls in progress may have been closed as abandoned", _held)
    if not ProcessLease.objects.filter(pk=_held).update(expires_at=_expiry()):
        lease_take()  # deleted meanwhile


def lease_drop() -> None:
    """Stop holding the lease (the server is stopping); it expires by itself.

    Not expired at once: a request cancelled by the shutdown may still be
    settling its call in a database thread, and a sweep must not close it too.
    """
    global _held
    _held = None
