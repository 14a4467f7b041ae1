#!/usr/bin/env bash
# The whole suite: lint, then pytest on SQLite, then again on PostgreSQL
# when DATABASE_URL names one (CI always sets it; see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

echo "== ruff"
"$BIN/ruff" check backend bench
"$BIN/ruff" format --check backend bench

echo "== pytest on SQLite"
env -u DATABASE_URL "$BIN/pytest" "$@"

if [[ -n "${DATABASE_URL:-}" ]]; then
  echo "== pytest on PostgreSQL ($DATABASE_URL)"
  "$BIN/pytest" "$@"
else
  echo "== PostgreSQL pass SKIPPED: DATABASE_URL is not set (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test make test)"
fi
