#!/usr/bin/env bash
# `make bench`: the numbers recorded in BENCHMARKS.md. Run on an otherwise idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/narrate-target}"
export CARGO_TARGET_DIR

echo "== machine"
echo "$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"

echo "== release wasm size"
cargo leptos build --release >/dev/null 2>&1
for f in target/site/pkg/narrate.wasm target/site/pkg/narrate.js target/site/pkg/narrate.css; do
  node -e '
    const fs = require("fs"), zlib = require("zlib");
    const b = fs.readFileSync(process.argv[1]);
    const br = zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } });
    console.log(`${process.argv[1]}: ${(b.length / 1024).toFixed(1)} KiB raw, ${(br.length / 1024).toFixed(1)} KiB brotli`);
  ' "$f"
done

echo "== time to ready on a fresh database with demo data"
dir=$(mktemp -d)
start=$(date +%s.%N)
DATABASE_URL="sqlite://$dir/narrate.db" NARRATE_DEMO=1 LEPTOS_SITE_ADDR=127.0.0.1:3199 NARRATE_SCHEDULER=external \
  "$CARGO_TARGET_DIR/release/narrate" serve >"$dir/log" 2>&1 &
pid=$!
until curl -sf http://127.0.0.1:3199/healthz >/dev/null; do sleep 0.05; done
end=$(date +%s.%N)
echo "ready in $(echo "$end - $start" | bc) s"

echo "== first visit to a dashboard in Chromium (cold cache, CPU 4x throttled)"
(cd end2end && test -d node_modules/playwright-core || npm ci --no-audit --no-fund >/dev/null)
node end2end/bench/first-visit.mjs http://127.0.0.1:3199 5

echo "== server memory over 1 000 PDF exports (the same server)"
NARRATE_BIN="$CARGO_TARGET_DIR/release/narrate" scripts/server-rss.sh http://127.0.0.1:3199 "$pid" "sqlite://$dir/narrate.db" 1000
kill "$pid"; wait "$pid" 2>/dev/null || true
rm -rf "$dir"

echo "== render (the system allocator, the default)"
cargo bench -p server --bench render
echo "== render with mimalloc, to compare memory"
cargo bench -p server --bench render --features mimalloc

echo "== tick (SQLite, one process), then the burst across three processes (PostgreSQL)"
# A throwaway PostgreSQL cluster for the burst unless BENCH_DATABASE_URL names one.
if [ -z "${BENCH_DATABASE_URL:-}" ] && PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1) && [ -n "$PGBIN" ]; then
  pgdata=$(mktemp -d /tmp/narrate-bench-pg.XXXXXX)
  runpg() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdata"
  runpg "$PGBIN/initdb -D $pgdata -A trust -U postgres >/dev/null"
  runpg "$PGBIN/pg_ctl -D $pgdata -l $pgdata/server.log -w -o '-p 55499 -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=300' start >/dev/null"
  trap 'runpg "$PGBIN/pg_ctl -D $pgdata -m fast stop >/dev/null 2>&1" || true; rm -rf "$pgdata"' EXIT
  export BENCH_DATABASE_URL="postgres://postgres@127.0.0.1:55499/postgres"
fi
NARRATE_BIN="$CARGO_TARGET_DIR/release/narrate" cargo bench -p server --bench tick

echo "== dashboards"
cargo bench -p server --bench dashboards
