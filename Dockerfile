# Axon homeserver image: multi-stage (build with the Go toolchain, run on a
# slim Debian with only the binary and CA certificates), non-root, all
# state under the /data volume.
#
#   docker build -t axon .
#   docker run -v axon-data:/data -e AXON_SERVER_NAME=example.org -p 8008:8008 axon
#
# On first start without /data/axon.yaml a commented config is generated
# there (server name from AXON_SERVER_NAME, listening on 0.0.0.0:8008);
# edit it and restart. Or mount your own config at /data/axon.yaml.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
# go.mod replaces gomatrixserverlib with the patched copy in third_party.
COPY third_party ./third_party
RUN go mod download
COPY . .
# mattn/go-sqlite3 needs cgo; the result links only against glibc.
ARG VERSION=dev
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/axon ./cmd/axon

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
	&& rm -rf /var/lib/apt/lists/* \
	&& useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin axon \
	&& mkdir /data && chown axon:axon /data
COPY --from=build /out/axon /usr/local/bin/axon
COPY contrib/docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
USER axon
WORKDIR /data
VOLUME /data
EXPOSE 8008 8448
ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]
CMD ["run", "--config", "/data/axon.yaml"]
