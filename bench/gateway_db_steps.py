"""The database steps of one /v1 call, timed in-process with no server around them.

What a call costs in the database thread, step by step: authenticating the
key, counting and recording the request (one batch), recording the answer
and its usage (another). No HTTP, no event loop: this isolates haruchat's own
database work from the stack around it (bench.gateway_overhead measures the
whole call).

    .venv/bin/python -m bench.gateway_db_steps [--calls 400] [--database-url postgres://postgres@127.0.0.1:5432/steps]

Without --database-url it uses a fresh SQLite file; a PostgreSQL database is
migrated first. Prints each step's median over the calls (the first 20 warm up).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=400)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="haruchat-steps-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        HARUCHAT_VAR_DIR=workdir,
        DATABASE_URL=args.database_url or f"sqlite:///{workdir}/steps.sqlite3",
        HARUCHAT_LLM_PROVIDER="openai_compat",
        HARUCHAT_LLM_BASE_URL="http://127.0.0.1:9/v1",  # never called: ANSWER stands in for it
        HARUCHAT_LLM_MODEL="fake-model",
        HARUCHAT_DAILY_LIMIT="1000000000",
    )
    sys.path.insert(0, str(REPO / "backend"))
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from chat.services.calls import call_succeed
    from common.db import _release_connection
    from gateway.services import api_key_authenticate, api_key_create, gateway_call_start
    from testing.samples import ANSWER, REQUEST

    call_command("migrate", verbosity=0)
    tag = str(time.time_ns())
    member = User.objects.create_user(
        email=f"steps-{tag}@example.com", password="steps pass phrase", nickname=tag[-12:]
    )
    _, secret = api_key_create(user=member, name="steps")
    names = ("authenticate the key", "count and record the request", "record the answer")
    steps: dict[str, list[float]] = {name: [] for name in names}
    for number in range(args.calls + 20):
        started = time.perf_counter()
        key = api_key_authenticate(secret)
        authenticated = time.perf_counter()
        call = gateway_call_start(key=key, request=REQUEST)
        prepared = time.perf_counter()
        call_succeed(call=call, response=ANSWER)
        finished = time.perf_counter()
        _release_connection()  # as the database thread does after each unit
        if number >= 20:
            timings = (authenticated - started, prepared - authenticated, finished - prepared)
            for name, seconds in zip(names, timings, strict=True):
                steps[name].append(seconds * 1000)
    from django.db import connection

    print(f"{connection.vendor}, {args.calls} calls, median ms per step:")
    for name, values in steps.items():
        print(f"  {name:32} {statistics.median(values):.3f}")


if __name__ == "__main__":
    main()
