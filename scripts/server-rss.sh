#!/usr/bin/env bash
# The server's memory over 1 000 PDF exports (`make bench`, BENCHMARKS.md): the resident set of a
# running `narrate serve` process, read from /proc, before the first export and after 100, 500 and
# 1 000 — each a `POST /api/v1/reports/preview` of a PDF with its narrative, cycling through every
# dashboard and period of the demo tenant (and every one stamped with its own generated-at, so no
# two documents are the same). Exports are rate-limited per caller (30 a minute), so the script
# makes one viewer API key per 30 exports with the CLI, as an operator would.
#
# usage: scripts/server-rss.sh BASE_URL PID DATABASE_URL [EXPORTS]
set -euo pipefail
base=$1 pid=$2 db=$3 n=${4:-1000}
bin="${NARRATE_BIN:-${CARGO_TARGET_DIR:-target}/release/narrate}"

rss() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }

keys=()
for i in $(seq 1 $(((n + 29) / 30))); do
  keys+=("$(DATABASE_URL="$db" "$bin" apikey create --tenant acme --role viewer --name "rss-bench-$i" 2>/dev/null)")
done

dashboards=(executive business operations model-health data-health attribution)
periods=(7d 30d 90d)
echo "server RSS before the first export: $(rss) MiB"
start=$(date +%s.%N)
for i in $(seq 0 $((n - 1))); do
  d=${dashboards[$((i % 6))]} p=${periods[$(((i / 6) % 3))]}
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: ${keys[$((i / 30))]}" \
    -H 'Content-Type: application/json' \
    -d "{\"dashboard\":\"$d\",\"format\":\"pdf\",\"period\":\"$p\",\"narrative\":true}" \
    "$base/api/v1/reports/preview")
  if [ "$code" != 200 ]; then
    echo "export $((i + 1)) ($d, $p) answered $code" >&2
    exit 1
  fi
  case $((i + 1)) in
    100 | 500 | "$n") echo "server RSS after $((i + 1)) PDF exports: $(rss) MiB" ;;
  esac
done
echo "$n PDF exports in $(echo "$(date +%s.%N) - $start" | bc) s (one at a time, curl included)"
