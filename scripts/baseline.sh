#!/usr/bin/env bash
# Runs every axon-bench scenario against a fresh Axon on one backend and
# writes the summaries and JSON to an output directory. Used to produce
# docs/performance.md.
#
#   scripts/baseline.sh sqlite   [outdir]
#   scripts/baseline.sh postgres [outdir]   # needs PostgreSQL on 127.0.0.1:5432
#   MEMORY_LIMIT_MB=128 scripts/baseline.sh sqlite   # with limits.memory_limit_mb
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

db=sqlite
if [ "$backend" = postgres ]; then
  name="axon_bench_$$"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $name" postgres
  trap 'psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" postgres >/dev/null 2>&1 || true' EXIT
  db="postgres://postgres@127.0.0.1:5432/$name?sslmode=disable"
fi

cat > "$out/axon.yaml" <<YAML
server_name: "localhost:18008"
data_dir: "$out/data"
listeners:
  client: {address: "127.0.0.1:18008"}
  metrics: {address: "127.0.0.1:19108"}
database: {default: "$db"}
registration: {mode: open}
rate_limits: {enabled: false}
federation: {enabled: false}
logging: {level: warn}
limits: {memory_limit_mb: ${MEMORY_LIMIT_MB:-0}}
YAML

"$out/axon" run --config "$out/axon.yaml" 2>"$out/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18008/_matrix/client/versions >/dev/null && break; sleep 0.2; done

bench() { "$out/axon-bench" --hs http://127.0.0.1:18008 --pid "$pid" --quiet --json "$out/$1.json" "$@" | tee -a "$out/summary.txt"; }
bench register -n 1000 -c 20
bench send -c 50 -t 30s --rooms both
bench sync-latency -m 500
bench initial-sync -r 500 -k 10 --repeat 5
bench herd -h 300 --members 500 --events 1000
bench mixed -t 40s
grep -E "VmHWM|VmRSS" /proc/$pid/status | tee -a "$out/summary.txt"
echo "results in $out"
