# The ddbglobal-sync runner. GoReleaser (dockers_v2 in .goreleaser.yml) builds
# the binary and passes it in the build context under the target platform; by hand:
#   CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -o build/docker/linux/amd64/ddbglobal-sync ./cmd/ddbglobal-sync
#   docker build --platform linux/amd64 -f build/docker/sync.Dockerfile -t ddbglobal-sync build/docker
# Static binary, no shell, non-root user (65532).
FROM gcr.io/distroless/static-debian12:nonroot
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/ddbglobal-sync /usr/local/bin/ddbglobal-sync
# Metrics and health checks when DDBGLOBAL_SYNC_LISTEN=:9090 (or -listen :9090).
EXPOSE 9090
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ddbglobal-sync"]
