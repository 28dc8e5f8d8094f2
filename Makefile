# The two commands a newcomer needs: `make run` and `make test`.
.PHONY: run test build bench fuzz

run:
	go run ./cmd/axon run --config axon.yaml

build:
	go build -o bin/axon ./cmd/axon && go build -o bin/axon-bench ./cmd/axon-bench

# All tests, on SQLite and PostgreSQL (127.0.0.1:5432) and embedded + external NATS (127.0.0.1:4222).
test:
	go vet ./...
	go test -count=1 -timeout 40m ./...
	cd third_party/gomatrixserverlib && go test -count=1 .
	cd third_party/nats-server && go test -count=1 -run AxonPatch ./server/

bench:
	go test -run '^$$' -bench . -benchtime 3s ./...
