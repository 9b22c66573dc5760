# syntax=docker/dockerfile:1
# Boss Raid: one static binary on distroless. `make docker` builds it; docker-compose.yml runs it.

# npm packages at their locked versions, copied into static/vendor/ (the list is in scripts/assets.sh).
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
COPY scripts/assets.sh scripts/
RUN mkdir -p static/vendor && scripts/assets.sh

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
COPY --from=assets /src/static/vendor/ static/vendor/
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
	go tool templ generate -path views && \
	CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/bossraid ./cmd/bossraid

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bossraid /usr/local/bin/bossraid
USER nonroot:nonroot
ENV APP_ENV=production \
	HTTP_ADDR=0.0.0.0:8080
EXPOSE 8080
# `bossraid healthcheck` GETs /healthz on HTTP_ADDR's port (no curl in a distroless image).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
	CMD ["/usr/local/bin/bossraid", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/bossraid"]
CMD ["serve"]
