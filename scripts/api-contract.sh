#!/usr/bin/env bash
# The API contract, judged by schemathesis (PyPI) against a live release server: a fresh database
# with the demo tenant, one API key per role, each role fuzzed for a bounded time. On SQLite always,
# and on PostgreSQL too when TEST_DATABASE_URL is set (as .ci/run does).
# Fails on any 5xx, any response that breaks the OpenAPI document (status, content type, schema),
# any invalid input accepted, and any answer but 403 to a role below an operation's (hooks.py).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET="${CARGO_TARGET_DIR:-$HOME/.cache/narrate-target}"
BIN="${NARRATE_BIN:-$TARGET/release/narrate}"
VENV="${NARRATE_PY_VENV:-$HOME/.cache/narrate-py}"
PORT="${CONTRACT_PORT:-3190}"
PER_ROLE_SECS="${CONTRACT_SECS_PER_ROLE:-50}"
PG_PER_ROLE_SECS="${CONTRACT_PG_SECS_PER_ROLE:-30}"
BASE="http://127.0.0.1:$PORT"

[ -x "$BIN" ] || { echo "build the release server first (make build)" >&2; exit 1; }
[ -x "$VENV/bin/schemathesis" ] || { echo "install the judges first (make py-tools)" >&2; exit 1; }

DATA="$(mktemp -d /tmp/narrate-contract.XXXXXX)"
SERVER=""
stop_server() { if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=""; fi; }
trap 'stop_server; rm -rf "$DATA"' EXIT

# judge <database url> <label> <seconds per role>
judge() {
  local db="$1" label="$2" secs="$3" status=0
  export DATABASE_URL="$db"
  export NARRATE_DEMO=1 LEPTOS_SITE_ADDR="127.0.0.1:$PORT" LEPTOS_SITE_ROOT=target/site
  # No scheduled runs during the fuzzing (templates it creates would otherwise fire), no outbound
  # calls to private addresses, and a fixed key so sealed secrets work.
  export NARRATE_SCHEDULER=external NARRATE_ALLOW_PRIVATE_DESTINATIONS=0
  export NARRATE_SECRET_KEY="$(head -c 32 /dev/urandom | base64)"
  export RUST_LOG="${RUST_LOG:-warn}"
  "$BIN" serve >"$DATA/server-$label.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 120); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$DATA/server-$label.log" >&2; return 1; }
    sleep 0.5
  done
  for role in viewer editor admin; do
    local key
    key="$("$BIN" apikey create --tenant acme --role "$role" --name "contract-$role")"
    echo "--- schemathesis on $label as $role (${secs}s)"
    NARRATE_CONTRACT_ROLE="$role" SCHEMATHESIS_HOOKS="$PWD/end2end/contract/hooks.py" \
      "$VENV/bin/schemathesis" --no-color run "$BASE/api/v1/openapi.json" \
        --header "X-API-Key: $key" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection,role_is_enforced \
        --phases examples,coverage,fuzzing,stateful \
        --max-time "$secs" \
        --request-timeout 30 \
        --workers 1 \
        --suppress-health-check all \
        || status=1
  done
  stop_server
  if [ "$status" != 0 ]; then
    echo "--- server log on $label (tail)" >&2
    tail -n 50 "$DATA/server-$label.log" >&2
  fi
  return "$status"
}

overall=0
judge "sqlite://$DATA/narrate.db" sqlite "$PER_ROLE_SECS" || overall=1
if [ -n "${TEST_DATABASE_URL:-}" ]; then
  db="narrate_contract_$$"
  psql "$TEST_DATABASE_URL" -q -c "CREATE DATABASE $db" >/dev/null
  judge "${TEST_DATABASE_URL%/*}/$db" postgresql "$PG_PER_ROLE_SECS" || overall=1
  psql "$TEST_DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
fi
exit "$overall"
