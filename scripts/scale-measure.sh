#!/usr/bin/env bash
# Measures Axon scaled out (docs/scaling.md, "Measured costs"): CPU per
# acknowledged event of every process, and latency, for
#
#   monolith  one `axon run` (embedded NATS), PostgreSQL
#   split-1   clientapi | syncapi | core (userapi, keyserver, mediaapi,
#             appservice) | roomserver rs-1, on a 3-node NATS cluster
#             (nats-server on loopback, nats.replicas 3) and PostgreSQL
#   split-2   the same with a second roomserver, rs-2
#
# For each: `axon-bench send` (20 senders, a room each) against the
# clientapi, reading /proc/PID/stat (user+system) of every Axon process,
# every NATS node and the PostgreSQL backends of the test database before
# and after; then one sender alone (send -> ack latency). The monolith and
# an "edge" split (clientapi+syncapi+core | rs-1) also run sync-latency
# (send -> seen in a long-poll), as axon-bench talks to one URL, with one
# receiver and with 20 (the difference is what 19 /sync responses cost).
#
#   scripts/scale-measure.sh [outdir]     # needs nats-server, psql, PostgreSQL on 127.0.0.1:5432
#   ONLY="split edge" scripts/scale-measure.sh   # some of: mono split edge
set -euo pipefail
out=${1:-/tmp/axon-scale-measure}
only=${ONLY:-mono split edge}
secs=${SECS:-20}
cd "$(dirname "$0")/.."
mkdir -p "$out"
go build -o "$out/axon" ./cmd/axon
go build -o "$out/axon-bench" ./cmd/axon-bench
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# ticks PID: user+system CPU of PID in clock ticks (USER_HZ, 100/s).
ticks() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# pgpids DB: the PostgreSQL backends connected to DB.
pgpids() { psql -h 127.0.0.1 -U postgres -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$1'" postgres; }

newdb() {
  local name="axon_scale_$1_$$"
  psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" postgres
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $name" postgres
  echo "$name"
}

natsdirs=()
start_nats() {
  local routes="nats-route://127.0.0.1:16222,nats-route://127.0.0.1:16223,nats-route://127.0.0.1:16224"
  natspids=()
  for i in 1 2 3; do
    local d="$out/nats$i"
    rm -rf "$d" && mkdir -p "$d"
    nats-server -n "n$i" -a 127.0.0.1 -p $((14221 + i)) -js -sd "$d" --cluster_name axonscale \
      --cluster "nats://127.0.0.1:$((16221 + i))" --routes "$routes" 2>"$d/log" &
    pids+=($!)
    natspids+=($!)
  done
  for _ in $(seq 1 150); do
    if nats_ready; then return; fi
    sleep 0.2
  done
  echo "NATS cluster not ready" >&2
  exit 1
}
nats_ready() { grep -q "JetStream cluster new metadata leader\|Self is new JetStream cluster metadata leader" "$out"/nats*/log 2>/dev/null; }
stop_nats() {
  for p in "${natspids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
}

# axon_proc NAME PORT DB NATS_URLS COMPONENTS [INSTANCE]: starts one
# process; its PID goes in procs[NAME].
declare -A procs
axon_proc() {
  local name=$1 port=$2 db=$3 urls=$4 comps=$5 inst=${6:-}
  local dir="$out/$tag-$name"
  mkdir -p "$dir"
  local natsyaml="nats: {urls: [$urls], prefix: axonscale$$$tag, replicas: 3}"
  [ -z "$urls" ] && natsyaml=""
  cat > "$dir/axon.yaml" <<YAML
server_name: "localhost:18108"
data_dir: "$dir/data"
signing_key_path: "$out/signing-$tag.key"
listeners:
  client: {address: "127.0.0.1:$port"}
  metrics: {address: ""}
database: {default: "postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"}
$natsyaml
registration: {mode: open}
rate_limits: {enabled: false}
federation: {enabled: false}
logging: {level: warn}
YAML
  local args=(run --config "$dir/axon.yaml")
  [ -n "$comps" ] && args+=(--components "$comps")
  [ -n "$inst" ] && args+=(--instance "$inst")
  "$out/axon" "${args[@]}" 2>"$dir/log" &
  procs[$name]=$!
  pids+=($!)
  for _ in $(seq 1 300); do
    curl -s "http://127.0.0.1:$port/_matrix/client/versions" >/dev/null 2>&1 && return
    kill -0 "${procs[$name]}" 2>/dev/null || { echo "$name died:"; cat "$dir/log"; exit 1; }
    sleep 0.2
  done
}

# measure LABEL DB -- BENCH ARGS: runs axon-bench and prints each
# process's CPU per acknowledged unit.
measure() {
  local label=$1 db=$2
  shift 3
  declare -A before
  local names=("${!procs[@]}")
  for n in "${names[@]}"; do before[$n]=$(ticks "${procs[$n]}"); done
  local i=0
  for p in "${natspids[@]}"; do i=$((i + 1)); before[nats$i]=$(ticks "$p"); done
  declare -A pg0
  for p in $(pgpids "$db"); do pg0[$p]=$(ticks "$p"); done
  "$out/axon-bench" --quiet --json "$out/$label.json" "$@" | tee "$out/$label.txt"
  local ok
  ok=$(python3 -c "import json,sys; r=json.load(open('$out/$label.json')); print(sum(x['ok'] for x in r))")
  {
    echo "== $label: per-process CPU per acknowledged unit ($ok units) =="
    for n in "${names[@]}"; do
      local d=$(( $(ticks "${procs[$n]}") - ${before[$n]} ))
      echo "  $n: $((d * 10000 / (ok > 0 ? ok : 1))) µs ($d ticks)"
    done
    i=0
    local natsd=0
    for p in "${natspids[@]}"; do i=$((i + 1)); natsd=$((natsd + $(ticks "$p") - ${before[nats$i]})); done
    [ ${#natspids[@]} -gt 0 ] && echo "  nats (3 nodes): $((natsd * 10000 / (ok > 0 ? ok : 1))) µs ($natsd ticks)"
    # Backends alive at the end: their CPU since the start (or since
    # they connected). A backend that left during the run is not counted.
    local pgd=0
    for p in $(pgpids "$db"); do pgd=$((pgd + $(ticks "$p") - ${pg0[$p]:-0})); done
    echo "  postgres backends: $((pgd * 10000 / (ok > 0 ? ok : 1))) µs ($pgd ticks)"
  } | tee -a "$out/$label.txt" "$out/summary.txt"
  grep -E "^== [a-z-]+( \(.*\))? ==$|  ok |latency" "$out/$label.txt" >>"$out/summary.txt"
}

hs=http://127.0.0.1:18108
run_sends() {
  measure "$tag-send" "$db" -- --hs $hs send -c 20 -t "${secs}s" --rooms each
  measure "$tag-send1" "$db" -- --hs $hs send -c 1 -t 10s --rooms each
}

# monolith
if [[ " $only " == *" mono "* ]]; then
tag=mono
natspids=()
db=$(newdb mono)
axon_proc all 18108 "$db" "" ""
run_sends
measure "$tag-synclat" "$db" -- --hs $hs sync-latency -m 200
measure "$tag-synclat20" "$db" -- --hs $hs sync-latency -m 100 -receivers 20
cleanup; pids=(); procs=()
fi

urls='"nats://127.0.0.1:14222", "nats://127.0.0.1:14223", "nats://127.0.0.1:14224"'
for n in 1 2; do
  [[ " $only " == *" split "* ]] || break
  tag=split$n
  start_nats
  db=$(newdb "$tag")
  axon_proc core 18110 "$db" "$urls" userapi,keyserver,mediaapi,appservice
  axon_proc rs1 18111 "$db" "$urls" roomserver rs-1
  [ $n = 2 ] && axon_proc rs2 18112 "$db" "$urls" roomserver rs-2
  axon_proc syncapi 18109 "$db" "$urls" syncapi
  axon_proc clientapi 18108 "$db" "$urls" clientapi
  sleep 6 # let the roomservers' leases settle (lease_ttl 5s) before measuring
  run_sends
  cleanup; pids=(); procs=()
  stop_nats
done

# edge split for send -> seen: clientapi+syncapi+core | rs-1
if [[ " $only " == *" edge "* ]]; then
tag=edge
start_nats
db=$(newdb edge)
axon_proc rs1 18111 "$db" "$urls" roomserver rs-1
axon_proc edge 18108 "$db" "$urls" clientapi,syncapi,userapi,keyserver,mediaapi,appservice
measure "$tag-send1" "$db" -- --hs $hs send -c 1 -t 10s --rooms each
measure "$tag-synclat" "$db" -- --hs $hs sync-latency -m 200
measure "$tag-synclat20" "$db" -- --hs $hs sync-latency -m 100 -receivers 20
cleanup; pids=(); procs=()
stop_nats
fi
echo "results in $out (summary.txt)"
