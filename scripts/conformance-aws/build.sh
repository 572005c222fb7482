#!/usr/bin/env bash
# Builds (or reuses) the test binary of hashicorp/aws's DynamoDB acceptance tests.
set -euo pipefail
TPA_VERSION="${TPA_VERSION:-v1.60.1-0.20260602190131-5f2286d6d836}"
TOOLS="${TOOLS_DIR:-/work/tools}"
BIN="$TOOLS/aws-dynamodb.test"
SRC="$TOOLS/tpa-src"
if [ -x "$BIN" ] && [ -z "${FORCE_REBUILD:-}" ]; then
  echo "reusing $BIN"; exit 0
fi
mkdir -p "$TOOLS"
if [ ! -f "$SRC/go.mod" ]; then
  dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "github.com/hashicorp/terraform-provider-aws@$TPA_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [ -n "$dir" ] || { echo "go mod download failed" >&2; exit 1; }
  rm -rf "$SRC.tmp"; cp -r "$dir" "$SRC.tmp"; chmod -R u+w "$SRC.tmp"; mv "$SRC.tmp" "$SRC"
fi
cd "$SRC"
nice -n 19 go test -c -o "$BIN.tmp" ./internal/service/dynamodb
mv "$BIN.tmp" "$BIN"
echo "built $BIN"
