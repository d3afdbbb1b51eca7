# pgraft in a container: a multi-stage build (Go with cgo for SQLite and
# the PostgreSQL parser), then a small Debian image that runs pgraft as a
# non-root user with its data on a volume. See deploy/compose.yaml for a
# three-node cluster with node TLS.
#
#   docker build -t pgraft .
#   docker run -e PGRAFT_PASSWORD=secret -p 5433:5433 -v pgraft:/var/lib/pgraft pgraft

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/pgraft ./cmd/pgraft

FROM debian:bookworm-slim
# tzdata: time zone names for timestamptz; curl: the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/pgraft --create-home pgraft
COPY --from=build /out/pgraft /usr/local/bin/pgraft
USER pgraft
WORKDIR /var/lib/pgraft
VOLUME ["/var/lib/pgraft"]
# PostgreSQL protocol, Raft (node-to-node), HTTP (health, status, metrics).
EXPOSE 5433 7433 8433
# Clients log in with SCRAM (set PGRAFT_PASSWORD or PGRAFT_PASSWORD_FILE
# for the bootstrap superuser "postgres"); a cluster adds node TLS
# (PGRAFT_NODE_TLS_*), as deploy/compose.yaml does.
ENV PGRAFT_DATA_DIR=/var/lib/pgraft/data \
    PGRAFT_PG_ADDR=0.0.0.0:5433 \
    PGRAFT_HTTP_ADDR=0.0.0.0:8433 \
    PGRAFT_RAFT_ADDR=127.0.0.1:7433 \
    PGRAFT_AUTH=scram
HEALTHCHECK --interval=5s --timeout=3s --retries=12 \
    CMD ["curl", "-fsS", "http://127.0.0.1:8433/readyz"]
ENTRYPOINT ["pgraft"]
CMD ["serve"]
