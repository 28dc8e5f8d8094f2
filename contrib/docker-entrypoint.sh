#!/bin/sh
# Generates /data/axon.yaml on first start (server name from
# AXON_SERVER_NAME), then runs axon with the given arguments.
set -eu
if [ "${1:-}" = "run" ] && [ ! -f /data/axon.yaml ]; then
	name="${AXON_SERVER_NAME:-localhost:8008}"
	axon generate-config --server-name "$name" --out /data/axon.yaml.new
	# Listen on every interface inside the container; keep data in /data.
	sed -e 's|address: "127.0.0.1:8008"|address: "0.0.0.0:8008"|' \
		-e 's|data_dir: "./data"|data_dir: "/data"|' \
		/data/axon.yaml.new > /data/axon.yaml
	rm /data/axon.yaml.new
	echo "axon: wrote /data/axon.yaml for $name; edit it and restart to change settings" >&2
fi
exec axon "$@"
