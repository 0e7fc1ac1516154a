# syntax=docker/dockerfile:1
# A small image that runs slsd as an unprivileged user. The SQLite driver
# is pure Go, so the binaries are static and the runtime image holds no
# shell and no package manager.
FROM golang:1.26-bookworm AS build
# Build with the patched Go that go.mod's toolchain line names.
ENV GOTOOLCHAIN=auto
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/slsd ./cmd/slsd \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/slsctl ./cmd/slsctl \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/slsbench ./cmd/slsbench

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/slsd /out/slsctl /out/slsbench /usr/local/bin/
USER nonroot:nonroot
# /data holds the SQLite file (when no --db is given), the sealing key,
# the audit signing key and the bootstrap secret: mount a volume.
VOLUME ["/data"]
# HTTP (portal, API, OpenID Connect) and SFTP statement delivery.
EXPOSE 8080 2222
ENTRYPOINT ["/usr/local/bin/slsd"]
CMD ["--listen", "0.0.0.0:8080", "--sftp-listen", "0.0.0.0:2222", "--data", "/data", "--log-format", "json"]
