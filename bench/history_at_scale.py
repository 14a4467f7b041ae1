"""Reading history at scale: PostgreSQL seeded with members x conversations x
messages (1 000 x 100 x 10 = 1M messages by default), then one member's
list, search and open timed over HTTP through haruchat and, in the same
run, the same SQL run straight on the database (the zero-overhead path).

    .venv/bin/python -m bench.history_at_scale [--members 1000] [--conversations 100] [--messages 10]
        [--rounds 5] [--requests 100] [--database-url postgres://postgres@127.0.0.1:5432/bench_history]
        [--reseed] [--write docs/benchmarks.md]

Seeding is done by PostgreSQL itself (INSERT ... SELECT generate_series) and
skipped when the database already holds the requested size.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import psycopg

from bench.concurrent_streams import ensure_database
from bench.gateway_overhead import BIN, REPO, free_port, percentile, wait_for_port

WORDS = (
    "breath calm focus exam study plan sleep walk tea morning evening river mountain "
    "music lesson grammar vocabulary history science garden habit journal"
).split()
SEARCH_WORD = "mountain"


def seed(db: psycopg.Connection, member_id: int, members: int, conversations: int, messages: int) -> None:
    """Other members, then every member's conversations and messages, written by PostgreSQL itself."""
    words = "ARRAY[" + ",".join(f"'{w}'" for w in WORDS) + "]"
    db.execute(
        """INSERT INTO accounts_user (password, is_superuser, email, nickname, job, is_active, is_staff, date_joined)
           SELECT '!', false, 'seed-' || n || '@example.com', 'seed ' || n, '', true, false, now()
           FROM generate_series(1, %s) AS n""",
        [members - 1],
    )
    assistant = db.execute("SELECT id FROM chat_assistant WHERE slug = 'free-chat'").fetchone()[0]
    db.execute(
        f"""INSERT INTO chat_conversation (title, system_prompt, model, temperature, max_tokens, created_at,
                                            updated_at, assistant_id, user_id, source)
            SELECT 'Talk ' || c || ' about ' || ({words})[1 + (u.id + c) %% {len(WORDS)}], '', 'smollm2', 0.7, 512,
                   now() - (c || ' hours')::interval, now() - (c || ' hours')::interval, %s, u.id, 'web'
            FROM accounts_user u CROSS JOIN generate_series(1, %s) AS c
            WHERE u.id = %s OR u.email LIKE 'seed-%%'""",
        [assistant, conversations, member_id],
    )
    db.execute(
        f"""INSERT INTO chat_message (role, content, created_at, conversation_id)
            SELECT CASE WHEN m %% 2 = 1 THEN 'user' ELSE 'assistant' END,
                   'Message ' || m || ': some words on ' || ({words})[1 + (c.id * 7 + m) %% {len(WORDS)}]
                   || ' and ' || ({words})[1 + (c.id * 13 + m * 3) %% {len(WORDS)}] || '.',
                   c.created_at + (m || ' seconds')::interval, c.id
            FROM chat_conversation c CROSS JOIN generate_series(1, %s) AS m""",
        [messages],
    )
    db.execute("ANALYZE")


def timed_http(connection: http.client.HTTPConnection, path: str, token: str) -> float:
    started = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}: {body[:200]!r}")
    return (time.perf_counter() - started) * 1000


def captured_sql(env: dict[str, str], member_id: int, conversation_id: int) -> dict[str, list[str]]:
    """The SQL each endpoint issues, captured by running its selector and serializer in a Django shell."""
    script = f"""
import json
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from accounts.models import User
client = APIClient()
client.force_authenticate(User.objects.get(pk={member_id}))
out = {{}}
for name, path in (("list", "/api/conversations"), ("search", "/api/conversations?search={SEARCH_WORD}"),
                   ("open", "/api/conversations/{conversation_id}")):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    out[name] = [q["sql"] for q in captured.captured_queries]
print(json.dumps(out))
"""
    result = subprocess.run(
        [str(BIN / "python"), "backend/manage.py", "shell", "-c", script],
        cwd=REPO, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed_sql(db: psycopg.Connection, statements: list[str]) -> float:
    started = time.perf_counter()
    for statement in statements:
        db.execute(statement).fetchall()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--conversations", type=int, default=100)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100, help="requests per endpoint per round")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_history")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument("--write", help="append the results to this Markdown file")
    args = parser.parse_args()
    ensure_database(args.database_url)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARUCHAT_", "DJANGO_", "DATABASE_URL"))}
    env.update(
        HARUCHAT_VAR_DIR=tempfile.mkdtemp(prefix="haruchat-history-"),
        DATABASE_URL=args.database_url,
        HARUCHAT_LOG_LEVEL="WARNING",
        DJANGO_SECRET_KEY="history-benchmark-" + "x" * 40,
    )
    subprocess.run([str(BIN / "python"), "backend/manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "config.asgi:application", "--app-dir", "backend", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        cwd=REPO, env=env,
    )  # fmt: skip
    db = psycopg.connect(args.database_url, autocommit=True)
    try:
        wait_for_port(port, server)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        total = args.members * args.conversations * args.messages
        if args.reseed:
            db.execute("TRUNCATE chat_message, chat_conversation, accounts_user CASCADE")
        signup = {"email": "history@example.com", "password": "history pass phrase", "nickname": "history"}
        connection.request("POST", "/api/auth/signup", json.dumps(signup), {"Content-Type": "application/json"})
        response = connection.getresponse()
        response.read()
        connection.request("POST", "/api/auth/login", json.dumps(signup), {"Content-Type": "application/json"})
        token = json.loads(connection.getresponse().read())["access"]
        member_id = db.execute("SELECT id FROM accounts_user WHERE email = 'history@example.com'").fetchone()[0]
        if db.execute("SELECT count(*) FROM chat_message").fetchone()[0] != total:
            db.execute("TRUNCATE chat_message, chat_conversation CASCADE")
            db.execute("DELETE FROM accounts_user WHERE email LIKE 'seed-%'")
            started = time.perf_counter()
            seed(db, member_id, args.members, args.conversations, args.messages)
            print(f"seeded {total} messages in {time.perf_counter() - started:.0f} s", flush=True)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # the old one idled out
        conversation_id = db.execute(
            "SELECT id FROM chat_conversation WHERE user_id = %s ORDER BY updated_at DESC LIMIT 1 OFFSET 50",
            [member_id],
        ).fetchone()[0]
        paths = {
            "list": "/api/conversations",
            "search": f"/api/conversations?search={SEARCH_WORD}",
            "open": f"/api/conversations/{conversation_id}",
        }
        sql = captured_sql(env, member_id, conversation_id)
        samples: dict[str, dict[str, list[list[float]]]] = {n: {"http": [], "sql": []} for n in paths}
        for _ in range(args.rounds):  # interleaved: each endpoint over HTTP, then its SQL straight on PostgreSQL
            for name, path in paths.items():
                samples[name]["http"].append(sorted(timed_http(connection, path, token) for _ in range(args.requests)))
                samples[name]["sql"].append(sorted(timed_sql(db, sql[name]) for _ in range(args.requests)))
    finally:
        server.terminate()
        db.close()

    def cell(rounds: list[list[float]], q: float) -> str:
        per_round = [percentile(r, q) for r in rounds]
        return f"{statistics.median(per_round):.2f} [{min(per_round):.2f}-{max(per_round):.2f}]"

    lines = [
        "| endpoint | queries | haruchat p50 | p95 | p99 | SQL alone p50 | p95 | haruchat ÷ SQL (p50) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in paths:
        http_rounds, sql_rounds = samples[name]["http"], samples[name]["sql"]
        ratio = statistics.median(percentile(r, 0.5) for r in http_rounds) / max(
            statistics.median(percentile(r, 0.5) for r in sql_rounds), 1e-6
        )
        lines.append(
            f"| {name} | {len(sql[name])} | {cell(http_rounds, 0.5)} | {cell(http_rounds, 0.95)} "
            f"| {cell(http_rounds, 0.99)} | {cell(sql_rounds, 0.5)} | {cell(sql_rounds, 0.95)} | {ratio:.1f}x |"
        )
    print("\n".join(lines), flush=True)
    if args.write:
        memory = f"{int(open('/proc/meminfo').read().split()[1]) // 1024 // 1024} GiB"
        header = (
            f"\n## History at scale — {dt.date.today().isoformat()}\n\n"
            f"Machine: {os.cpu_count()} cores, {memory}, {platform.python_implementation()} "
            f"{platform.python_version()}, PostgreSQL on the same host, one uvicorn process. "
            f"{args.members} members x {args.conversations} conversations x {args.messages} messages "
            f"({total:,} messages); one member's list (first page of 20), search for a word in its messages, "
            f"and one conversation opened; milliseconds, median of {args.rounds} rounds [min-max]. Command:\n\n"
            f"```sh\n.venv/bin/python -m bench.history_at_scale {' '.join(sys.argv[1:])}\n```\n\n"
        )
        with open(args.write, "a") as out:
            out.write(header + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
