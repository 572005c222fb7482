#!/usr/bin/env bash
# Builds, or reuses, the test binary of hashicorp/aws's DynamoDB acceptance tests
# (terraform-provider-aws internal/service/dynamodb at TPA_VERSION, from the Go module
# proxy) as $TOOLS_DIR/aws-dynamodb.test. Niced: the build takes 30 minutes or more
# on two cores.
#
# TRIM=1 builds $TOOLS_DIR/aws-dynamodb-trim.test instead, from a copy of the provider
# trimmed by scripts/awstrim: it registers only the services the DynamoDB tests use
# (DynamoDB, KMS, STS, Application Auto Scaling, the meta data sources, and those its
# test helpers import anyway) and keeps only the SDK clients that code needs. Same
# tests, same resource code, far less to compile (on a busy machine the full build
# can take hours). run.sh uses the full binary when it exists.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TPA_VERSION="${TPA_VERSION:-v1.60.1-0.20260602190131-5f2286d6d836}"
TOOLS="${TOOLS_DIR:-/work/tools}"
SRC="$TOOLS/tpa-src"
BIN="$TOOLS/aws-dynamodb.test"
[ -n "${TRIM:-}" ] && BIN="$TOOLS/aws-dynamodb-trim.test"
if [ -x "$BIN" ] && [ -z "${FORCE_REBUILD:-}" ]; then
  echo "reusing $BIN"; exit 0
fi
mkdir -p "$TOOLS"
if [ ! -f "$SRC/go.mod" ]; then
  dir=$(cd /tmp && go mod download -json "github.com/hashicorp/terraform-provider-aws@$TPA_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "go mod download of terraform-provider-aws@$TPA_VERSION failed" >&2; exit 1; }
  rm -rf "$SRC.tmp"; cp -r "$dir" "$SRC.tmp"; chmod -R u+w "$SRC.tmp"; mv "$SRC.tmp" "$SRC"
fi
if [ -n "${TRIM:-}" ]; then
  if [ ! -f "$SRC-trim/go.mod" ]; then
    rm -rf "$SRC-trim.tmp"; cp -r "$SRC" "$SRC-trim.tmp"
    (cd "$ROOT" && go run ./scripts/awstrim -src "$SRC-trim.tmp" -keep "dynamodb kms sts meta appautoscaling")
    mv "$SRC-trim.tmp" "$SRC-trim"
  fi
  SRC="$SRC-trim"
fi
cd "$SRC"
nice -n 19 go test -c -vet=off -o "$BIN.tmp" ./internal/service/dynamodb
mv "$BIN.tmp" "$BIN"
echo "built $BIN"
