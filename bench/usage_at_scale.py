"""Usage reports at scale: PostgreSQL seeded with 1M recorded calls over
2 000 members (5 groups of 400, one operator each, plus an admin), 90 days,
3 models, 2 assistants plus "" for /v1, sources web and gateway; then every
query the usage dashboard and "My usage" make timed over HTTP through
haruchat and, in the same run, the same SQL run straight on the database.

    .venv/bin/python -m bench.usage_at_scale [--members 2000] [--groups 5] [--days 90] [--calls 1000000]
        [--rounds 4] [--requests 50] [--database-url postgres://postgres@127.0.0.1:5432/bench_usage]
        [--reseed] [--index SQL] [--explain] [--write docs/benchmarks.md]

The reports read the daily roll-ups (usage.UsageDay: one row per
member, day, model, assistant and source; usage.UsageModelDay: member, day
and model; usage.UsageMemberDay: member and day), so the 1M calls are the
sum of each one's `requests` column, spread over far fewer rows. Seeding
is done by PostgreSQL itself (INSERT ... SELECT generate_series, pseudo-random by
hashtext so it is the same every time) and skipped when the database
already holds the requested size ending today (in the quota's time zone).

The dashboard (frontend/src/usage/UsageDashboard.tsx) asks, for the last
30 days and optionally one group: by=day, by=model, by=member&limit=10
(the top ten), then by=day&model=X for each model it charts (here all
three); "My usage" asks by=day&member=me. The full by=member list (what the
CSV download of it holds) is timed too, though no page waits for it. They
are timed as an admin (all groups, and one group), as an operator (their
group, the page's default view) and as a member.

`--index "CREATE INDEX ..."` (repeatable) creates an index in the bench database before
timing (and drops it after), to measure one the reports might want;
`--explain` prints EXPLAIN (ANALYZE, BUFFERS) of every statement of the
slowest query.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import tempfile
import time
import zoneinfo

import psycopg

from bench.concurrent_streams import ensure_database
from bench.gateway_overhead import BIN, REPO, free_port, percentile, wait_for_port

MODELS = (("smollm2", 500), ("gpt-4o-mini", 340), ("llama-3.1-8b", 180))  # (model, weight out of 1024)
COMBOS = (("free-chat", "web"), ("study-coach", "web"), ("", "gateway"))  # (assistant, source)
ACTIVE_DAY = 410  # out of 1024: a member uses haruchat on ~40 % of days
PASSWORD = "usage bench pass phrase"
ACCOUNTS = {"admin": "usage-admin@example.com", "operator": "usage-operator@example.com",
            "member": "usage-member@example.com"}  # fmt: skip
WINDOW = 30  # the dashboard's default range, and My usage's


def seed(db: psycopg.Connection, args: argparse.Namespace, today: dt.date) -> None:
    """Members, groups and memberships, then the roll-up rows, written by PostgreSQL itself."""
    db.execute(
        """INSERT INTO accounts_user (password, is_superuser, email, nickname, job, is_active, is_staff, date_joined)
           SELECT '!', false, 'seed-' || n || '@example.com', 'seed ' || n, '', true, false, now()
           FROM generate_series(1, %s) AS n""",
        [args.members - 2],  # the bench's operator and member are two of the members
    )
    db.execute(
        """INSERT INTO groups_group (name, description, allowed_models, created_at)
           SELECT 'Class ' || g, '', '[]'::jsonb, now() FROM generate_series(1, %s) AS g""",
        [args.groups],
    )
    per_group = args.members // args.groups
    # The operator first (so they run the first group), the member second (in that group), then the seeds.
    db.execute(
        """WITH members AS (
               SELECT id, row_number() OVER (ORDER BY email <> %s, email <> %s, id) - 1 AS n
               FROM accounts_user WHERE email <> %s),
           groups AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS g FROM groups_group)
           INSERT INTO groups_membership (group_id, user_id, role, joined_at)
           SELECT groups.id, members.id, CASE WHEN members.n %% %s = 0 THEN 'operator' ELSE 'member' END, now()
           FROM members JOIN groups ON groups.g = members.n / %s""",
        [ACCOUNTS["operator"], ACCOUNTS["member"], ACCOUNTS["admin"], per_group, per_group],
    )
    models = ", ".join(f"('{m}', {w})" for m, w in MODELS)
    combos = ", ".join(f"('{a}', '{s}')" for a, s in COMBOS)
    db.execute(
        f"""WITH members AS (SELECT id FROM accounts_user WHERE email <> %s),
                 cells AS (
                     SELECT u.id AS user_id, d, m.model, c.assistant, c.source,
                            hashtext(u.id || ':' || d || ':' || m.model || ':' || c.assistant) AS h
                     FROM members u
                     CROSS JOIN generate_series(0, %s - 1) AS d
                     CROSS JOIN (VALUES {models}) AS m (model, weight)
                     CROSS JOIN (VALUES {combos}) AS c (assistant, source)
                     WHERE (hashtext(u.id || ':' || d) & 1023) < {ACTIVE_DAY}
                       AND (hashtext(u.id || ':' || d || ':' || m.model || ':' || c.assistant || '!') & 1023)
                           < m.weight)
            INSERT INTO usage_usageday (user_id, day, model, assistant, source, requests, refused, failed,
                                        prompt_tokens, completion_tokens)
            SELECT user_id, %s::date - d, model, assistant, source,
                   1 + (h & 7) + CASE WHEN user_id %% 97 = 0 THEN 12 ELSE 0 END,
                   CASE WHEN (h >> 4) & 15 = 0 THEN 1 + ((h >> 8) & 3) ELSE 0 END,
                   CASE WHEN (h >> 10) & 31 = 0 THEN 1 ELSE 0 END,
                   (1 + (h & 7)) * (150 + ((h >> 12) & 255)),
                   (1 + (h & 7)) * (80 + ((h >> 20) & 255))
            FROM cells""",
        [ACCOUNTS["admin"], args.days, today],
    )
    # Bring the requests to exactly --calls: spread the difference one call per row.
    rows, total = db.execute("SELECT count(*), sum(requests) FROM usage_usageday").fetchone()
    missing = args.calls - total
    if missing > 0:
        db.execute(
            """UPDATE usage_usageday
               SET requests = requests + %s / %s + CASE WHEN id %% %s < %s %% %s THEN 1 ELSE 0 END""",
            [missing, rows, rows, missing, rows],
        )
    elif missing < 0:
        db.execute(
            """UPDATE usage_usageday SET requests = requests - 1
               WHERE id IN (SELECT id FROM usage_usageday WHERE requests > 1 ORDER BY id LIMIT %s)""",
            [-missing],
        )
    # The smaller roll-ups are the detailed one summed, as usage.ledger keeps them.
    db.execute(
        """INSERT INTO usage_usagemodelday (user_id, day, model, requests, refused, failed, prompt_tokens,
                                            completion_tokens)
           SELECT user_id, day, model, sum(requests), sum(refused), sum(failed), sum(prompt_tokens),
                  sum(completion_tokens)
           FROM usage_usageday GROUP BY user_id, day, model"""
    )
    db.execute(
        """INSERT INTO usage_usagememberday (user_id, day, requests, refused, failed, prompt_tokens, completion_tokens)
           SELECT user_id, day, sum(requests), sum(refused), sum(failed), sum(prompt_tokens), sum(completion_tokens)
           FROM usage_usageday GROUP BY user_id, day"""
    )
    db.execute("VACUUM ANALYZE")
    assert db.execute("SELECT sum(requests) FROM usage_usageday").fetchone()[0] == args.calls
    assert db.execute("SELECT sum(requests) FROM usage_usagememberday").fetchone()[0] == args.calls
    assert db.execute("SELECT sum(requests) FROM usage_usagemodelday").fetchone()[0] == args.calls


def timed_http(connection: http.client.HTTPConnection, path: str, token: str) -> float:
    started = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}: {body[:200]!r}")
    return (time.perf_counter() - started) * 1000


def captured_sql(env: dict[str, str], queries: dict[str, tuple[str, str]], ids: dict[str, int]) -> dict[str, list[str]]:
    """The SQL each query issues (past authentication), captured by running the view in a Django shell."""
    script = f"""
import json
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from accounts.models import User
ids = {ids!r}
out = {{}}
for name, (who, path) in {queries!r}.items():
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=ids[who]))
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


def login(connection: http.client.HTTPConnection, email: str) -> str:
    body = {"email": email, "password": PASSWORD, "nickname": email.split("@")[0]}
    for path in ("/api/auth/signup", "/api/auth/login"):  # sign-up fails harmlessly once the account exists
        connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
    return json.loads(data)["access"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--groups", type=int, default=5)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--requests", type=int, default=50, help="requests per query per round")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_usage")
    parser.add_argument("--reseed", action="store_true")
    parser.add_argument(
        "--index",
        action="append",
        default=[],
        help="a CREATE INDEX statement to run before timing (dropped after); may be repeated",
    )
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest query's SQL")
    parser.add_argument("--write", help="append the results to this Markdown file")
    args = parser.parse_args()
    ensure_database(args.database_url)

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARUCHAT_", "DJANGO_", "DATABASE_URL"))}
    env.update(
        HARUCHAT_VAR_DIR=tempfile.mkdtemp(prefix="haruchat-usage-"),
        DATABASE_URL=args.database_url,
        HARUCHAT_LOG_LEVEL="WARNING",
        DJANGO_SECRET_KEY="usage-benchmark-" + "x" * 40,
    )
    today = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Seoul")).date()  # HARUCHAT_QUOTA_TZ's default
    start = today - dt.timedelta(days=WINDOW - 1)
    subprocess.run([str(BIN / "python"), "backend/manage.py", "migrate", "-v0"], cwd=REPO, env=env, check=True)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "uvicorn"), "config.asgi:application", "--app-dir", "backend", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--timeout-keep-alive", "120"],  # SQL timing runs between
        cwd=REPO, env=env,
    )  # fmt: skip
    db = psycopg.connect(args.database_url, autocommit=True)
    index_names: list[str] = []
    try:
        wait_for_port(port, server)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        tokens = {who: login(connection, email) for who, email in ACCOUNTS.items()}
        db.execute("UPDATE accounts_user SET is_staff = true WHERE email = %s", [ACCOUNTS["admin"]])
        ids = {who: db.execute("SELECT id FROM accounts_user WHERE email = %s", [e]).fetchone()[0]
               for who, e in ACCOUNTS.items()}  # fmt: skip
        held = db.execute(
            """SELECT coalesce(sum(requests), 0), max(day), (SELECT count(*) FROM groups_membership),
                      (SELECT coalesce(sum(requests), 0) FROM usage_usagememberday),
                      (SELECT coalesce(sum(requests), 0) FROM usage_usagemodelday) FROM usage_usageday"""
        ).fetchone()
        if args.reseed or held != (args.calls, today, args.members, args.calls, args.calls):
            db.execute(
                "TRUNCATE usage_usageday, usage_usagememberday, usage_usagemodelday, groups_membership, groups_group "
                "CASCADE"
            )
            db.execute("DELETE FROM accounts_user WHERE email LIKE 'seed-%'")
            started = time.perf_counter()
            seed(db, args, today)
            print(f"seeded {args.calls:,} calls in {time.perf_counter() - started:.0f} s", flush=True)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # the old one idled out
        rows = db.execute("SELECT count(*) FROM usage_usageday").fetchone()[0]
        window_rows = db.execute("SELECT count(*) FROM usage_usageday WHERE day >= %s", [start]).fetchone()[0]
        member_days, window_member_days = db.execute(
            "SELECT count(*), count(*) FILTER (WHERE day >= %s) FROM usage_usagememberday", [start]
        ).fetchone()
        model_days, window_model_days = db.execute(
            "SELECT count(*), count(*) FILTER (WHERE day >= %s) FROM usage_usagemodelday", [start]
        ).fetchone()
        group = db.execute(
            "SELECT group_id FROM groups_membership WHERE user_id = %s AND role = 'operator'", [ids["operator"]]
        ).fetchone()[0]
        for statement in args.index:
            index_names.append(re.search(r"INDEX\s+(?:IF NOT EXISTS\s+)?(\w+)", statement, re.I)[1])
            db.execute(statement)
        # As autovacuum would have by now in a deployment: statistics for the planner, and the visibility
        # map that lets the covering indexes answer without reading the table.
        db.execute("VACUUM ANALYZE usage_usageday")
        db.execute("VACUUM ANALYZE usage_usagememberday")
        db.execute("VACUUM ANALYZE usage_usagemodelday")

        base = f"/api/usage?from={start}&to={today}"
        dashboard = ["by=day", "by=model", "by=member&limit=10", *(f"by=day&model={m}" for m, _ in MODELS)]
        queries: dict[str, tuple[str, str]] = {}
        for who, scope in (("admin", ""), ("admin", f"&group={group}"), ("operator", "")):
            label = {"": "all groups", f"&group={group}": "one group"}[scope] if who == "admin" else "own group"
            for query in dashboard:
                queries[f"{who} ({label}) · {query}"] = (who, f"{base}&{query}{scope}")
        queries["member · by=day&member=me"] = ("member", f"{base}&by=day&member=me")
        # Not a dashboard query: every member's row, as the JSON behind the CSV download of by=member.
        queries["admin (all groups) · by=member, every row"] = ("admin", f"{base}&by=member")
        sql = captured_sql(env, queries, ids)
        samples: dict[str, dict[str, list[float]]] = {n: {"http": [], "sql": []} for n in queries}
        for who, path in queries.values():  # warm-up
            timed_http(connection, path, tokens[who])
        for _ in range(args.rounds):  # interleaved: each query over HTTP, then its SQL straight on PostgreSQL
            for name, (who, path) in queries.items():
                samples[name]["http"] += [timed_http(connection, path, tokens[who]) for _ in range(args.requests)]
                samples[name]["sql"] += [timed_sql(db, sql[name]) for _ in range(args.requests)]
        if args.explain:
            slowest = max(queries, key=lambda n: percentile(sorted(samples[n]["http"]), 0.95))
            print(f"EXPLAIN of {slowest}: {queries[slowest][1]}")
            for statement in sql[slowest]:
                plan = db.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement).fetchall()
                print(statement, "\n" + "\n".join(line for (line,) in plan), "\n", flush=True)
    finally:
        for name in index_names:
            db.execute(f"DROP INDEX IF EXISTS {name}")
        server.terminate()
        db.close()

    lines = [
        "| asker · query | SQL statements | haruchat p50 | p95 | p99 | SQL alone p50 | p95 | p99 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    over = []
    for name in queries:
        h, s = sorted(samples[name]["http"]), sorted(samples[name]["sql"])
        p95 = percentile(h, 0.95)
        if p95 > 50:
            over.append(name)
        lines.append(
            f"| {name} | {len(sql[name])} | {percentile(h, 0.5):.1f} | {'**' * (p95 > 50)}{p95:.1f}{'**' * (p95 > 50)} "
            f"| {percentile(h, 0.99):.1f} | {percentile(s, 0.5):.1f} | {percentile(s, 0.95):.1f} "
            f"| {percentile(s, 0.99):.1f} |"
        )
    summary = (
        f"{len(queries)} queries; slowest p95 over HTTP "
        f"{max(percentile(sorted(samples[n]['http']), 0.95) for n in queries):.1f} ms; "
        + (f"over 50 ms: {', '.join(over)}." if over else "all within 50 ms.")
    )
    print("\n".join(lines), "\n" + summary, flush=True)
    if args.write:
        memory = f"{int(open('/proc/meminfo').read().split()[1]) // 1024 // 1024} GiB"
        header = (
            f"\n## Usage reports at scale — {dt.date.today().isoformat()}\n\n"
            f"Machine: {os.cpu_count()} cores, {memory}, {platform.python_implementation()} "
            f"{platform.python_version()}, PostgreSQL on the same host, one uvicorn process. "
            f"{args.calls:,} recorded calls by {args.members:,} members ({args.groups} groups of "
            f"{args.members // args.groups}, one operator each, plus an admin) over {args.days} days, "
            f'{len(MODELS)} models, 2 assistants and "" for /v1, sources web and gateway. The reports read the '
            f"daily roll-up (`usage.UsageDay`), which keeps one row per member·day·model·assistant·source and "
            f"counts calls in its `requests` column, so the 1M calls are {rows:,} rows "
            f"({window_rows:,} of them in the dashboard's last {WINDOW} days); the reports read the smallest of "
            f"three roll-ups with the columns they need: that one only for assistant or source, member·day·model "
            f"(`usage.UsageModelDay`, {model_days:,} rows, {window_model_days:,} in the window) for model, "
            f"member·day (`usage.UsageMemberDay`, {member_days:,} rows, {window_member_days:,}) for the rest"
            + (
                "; with extra indexes made for this run only: " + ", ".join(f"`{i}`" for i in args.index)
                if args.index
                else ""
            )
            + ". Every query the usage dashboard makes for the last "
            f"{WINDOW} days (by=day, by=model, by=member&limit=10, then by=day&model=X for each charted model), "
            f"as an admin (all groups, and one group), as a group's operator, and My usage's by=day&member=me "
            f"as a member "
            f"(plus, not a dashboard query, every member's by=member row, as the CSV download has them); "
            f"{args.rounds * args.requests} requests each ({args.rounds} interleaved rounds of {args.requests}) "
            f"over one keep-alive connection, then the same SQL (past authentication) straight on PostgreSQL; "
            f"milliseconds. Command:\n\n"
            f"```sh\n.venv/bin/python -m bench.usage_at_scale {shlex.join(sys.argv[1:])}\n```\n\n"
        )
        with open(args.write, "a") as out:
            out.write(header + "\n".join(lines) + "\n\n" + summary + "\n")


if __name__ == "__main__":
    main()
