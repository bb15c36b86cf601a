# The hrss binary (subcommands migrate, worker, api) for docker-compose.yml.
# Needs BuildKit (the default builder of current Docker) for the cache mounts.

# Keep the Go patch release equal to the `go` line of go.mod: with
# GOTOOLCHAIN=local a newer go.mod fails the build instead of downloading a
# toolchain behind our back.
FROM golang:1.26.8-bookworm AS build

ENV CGO_ENABLED=0 \
    GOTOOLCHAIN=local \
    GOFLAGS=-trimpath

WORKDIR /src

# Dependencies first: this layer is reused until go.mod or go.sum change, and the
# module cache mount survives even when it is not.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download && go mod verify

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -ldflags="-s -w" -o /hrss ./cmd/hrss


FROM debian:12.13-slim AS runtime

# ca-certificates for TLS to external services; curl for the api healthcheck
# (docker-compose.yml); tzdata so TZ works.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 hrss \
    && useradd --system --uid 10001 --gid hrss --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin hrss

COPY --from=build /hrss /usr/local/bin/hrss

USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/hrss"]
