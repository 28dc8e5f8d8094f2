#!/usr/bin/env bash
# Starts SeaweedFS's S3 gateway on 127.0.0.1:8333 (all its ports on
# loopback) with the credentials the media tests use (access key "axon").
# The binary is built from the Go module on first use and kept.
set -euo pipefail
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
DIR=/var/lib/axon-ci/seaweedfs
BIN=$DIR/weed-$WEED_VERSION
mkdir -p "$DIR/data"
if [ ! -x "$BIN" ]; then
  echo "building SeaweedFS $WEED_VERSION (once)" >&2
  # `go install` refuses modules with replace directives: build in a copy.
  src=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "github.com/seaweedfs/seaweedfs@$WEED_VERSION" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  tmp=$(mktemp -d)
  cp -r "$src/." "$tmp/"
  chmod -R u+w "$tmp"
  (cd "$tmp" && go build -o "$BIN" ./weed)
  rm -rf "$tmp"
fi
cat > "$DIR/s3.json" <<'JSON'
{"identities":[{"name":"axon","credentials":[{"accessKey":"axon","secretKey":"axon-test-secret"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
start-stop-daemon --start --oknodo --background --chdir "$DIR" --output "$DIR/weed.log" --exec "$BIN" -- \
  server -ip=127.0.0.1 -ip.bind=127.0.0.1 -dir="$DIR/data" -volume.max=0 -master.volumeSizeLimitMB=64 \
  -s3 -s3.port=8333 -s3.config="$DIR/s3.json"
for _ in $(seq 1 90); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8333/healthz 2>/dev/null)" = 200 ] && exit 0
  sleep 1
done
echo "SeaweedFS S3 did not come up on 127.0.0.1:8333; its log:" >&2
tail -20 "$DIR/weed.log" >&2
exit 1
