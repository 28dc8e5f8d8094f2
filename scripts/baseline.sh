#!/usr/bin/env bash
# Runs every axon-bench scenario against a fresh Axon on one backend and
# writes the summaries and JSON to an output directory. Used to produce
# docs/performance.md.
#
#   scripts/baseline.sh sqlite   [outdir]
#   scripts/baseline.sh postgres [outdir]   # needs PostgreSQL on 127.0.0.1:5432
#   MEMORY_LIMIT_MB=128 scripts/baseline.sh sqlite   # with limits.memory_limit_mb
#   PASSWORD_HASH_COST=4 BENCH="bigroom --members 2,1000,10000" scripts/baseline.sh sqlite
#       # one scenario instead of all (BENCH: axon-bench arguments); cheap
#       # registrations for the thousands of users it creates
#   PORT=28008 METRICS_PORT=29108 ...   # when another server holds 18008/19108
#
# Only loopback addresses are used.
set -euo pipefail
backend=${1:-sqlite}
out=${2:-/tmp/axon-baseline-$backend}
cd "$(dirname "$0")/.."
rm -rf "$out" && mkdir -p "$out"
# Installed, not run from the linker's output: a file the Go linker has
# just written sits in the page cache in 2 MB folios, so the kernel maps
# (and counts in RSS) whole 2 MB pieces of the binary for any byte used.
go build -o "$out/axon.built" ./cmd/axon
install -m 755 "$out/axon.built" "$out/axon" && rm "$out/axon.built"
go build -o "$out/axon-bench" ./cmd/axon-bench

port=${PORT:-18008}
metrics_port=${METRICS_PORT:-19108}
db=sqlite
if [ "$backend" = postgres ]; then
  name="axon_bench_$$"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $name" postgres
  trap 'psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" postgres >/dev/null 2>&1 || true' EXIT
  db="postgres://postgres@127.0.0.1:5432/$name?sslmode=disable"
fi

cat > "$out/axon.yaml" <<YAML
server_name: "localhost:$port"
data_dir: "$out/data"
listeners:
  client: {address: "127.0.0.1:$port"}
  metrics: {address: "127.0.0.1:$metrics_port"}
database: {default: "$db"}
registration: {mode: open, password_hash_cost: ${PASSWORD_HASH_COST:-10}}
rate_limits: {enabled: false}
federation: {enabled: false}
logging: {level: warn}
limits: {memory_limit_mb: ${MEMORY_LIMIT_MB:-0}}
YAML

"$out/axon" run --config "$out/axon.yaml" 2>"$out/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$port/_matrix/client/versions >/dev/null && break; sleep 0.2; done

bench() { "$out/axon-bench" --hs http://127.0.0.1:$port --pid "$pid" --quiet --json "$out/$1.json" "$@" | tee -a "$out/summary.txt"; }
if [ -n "${BENCH:-}" ]; then
  # shellcheck disable=SC2086 # BENCH is a list of arguments
  bench $BENCH
else
  bench register -n 1000 -c 20
  bench send -c 50 -t 30s --rooms both
  bench sync-latency -m 500
  bench initial-sync -r 500 -k 10 --repeat 5
  bench herd -h 300 --members 500 --events 1000
  bench mixed -t 40s
fi
grep -E "VmHWM|VmRSS" /proc/$pid/status | tee -a "$out/summary.txt"
echo "results in $out"
