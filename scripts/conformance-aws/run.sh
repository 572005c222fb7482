#!/usr/bin/env bash
# Runs hashicorp/aws's own DynamoDB acceptance tests (scripts/conformance-aws/tests.txt)
# against the emulator and prints PASS/SKIP/FAIL per test with the reason; a skip
# counts as a failure. Builds the AWS provider's test binary first, or reuses it
# (build.sh; TRIM=1 for the trimmed build). Environment: TOOLS_DIR (default
# /work/tools), PARALLEL (default 4),
# RUN (a -run pattern overriding the list), CONFORMANCE_TIMEOUT (default 150m),
# TF_ACC_TERRAFORM_PATH (default: terraform on PATH), EMULATOR_DELAYS (JSON for the
# emulator's admin API /_emulator/delays, to shorten its AWS-like waits).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
TOOLS="${TOOLS_DIR:-/work/tools}"
BIN="$TOOLS/aws-dynamodb.test"
SRC="$TOOLS/tpa-src"
if [ -n "${TRIM:-}" ] || { [ ! -x "$BIN" ] && [ -x "$TOOLS/aws-dynamodb-trim.test" ]; }; then
  BIN="$TOOLS/aws-dynamodb-trim.test" SRC="$TOOLS/tpa-src-trim" # see build.sh, TRIM=1
  echo "using $BIN (registers only the services the DynamoDB tests use)"
fi
LIST="$ROOT/scripts/conformance-aws/tests.txt"
TF="${TF_ACC_TERRAFORM_PATH:-$(command -v terraform)}"

[ -x "$BIN" ] || "$ROOT/scripts/conformance-aws/build.sh"
[ -f node_modules/.package-lock.json ] || npm ci --no-audit --no-fund

work=$(mktemp -d)
emu_pid=""
cleanup() {
  if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
go build -o "$work/emulator" ./cmd/ddbglobal-emulator
go build -o "$work/awsconformance" ./scripts/awsconformance
EMULATOR_ADDR="${EMULATOR_ADDR:-127.0.0.1:0}" "$work/emulator" >"$work/emulator.log" 2>&1 &
emu_pid=$!
endpoint=""
for _ in $(seq 1 240); do
  endpoint=$(sed -n 's/.*emulator listening on \(http:[^ ]*\).*/\1/p' "$work/emulator.log" | head -1)
  [ -n "$endpoint" ] && break
  kill -0 "$emu_pid" 2>/dev/null || { cat "$work/emulator.log"; exit 1; }
  sleep 0.5
done
[ -n "$endpoint" ] || { echo "the emulator did not start:"; cat "$work/emulator.log"; exit 1; }
if [ -n "${EMULATOR_DELAYS:-}" ]; then
  # e.g. EMULATOR_DELAYS='{"settle":"3s","pitrUnavailable":"2s","pitrEnabling":"2s"}': shorter, never skipped
  curl -fsS -X POST -H 'Content-Type: application/json' -d "$EMULATOR_DELAYS" "$endpoint/_emulator/delays" >/dev/null
fi
echo "emulator at $endpoint; running hashicorp/aws's DynamoDB acceptance tests (log: $TOOLS/conformance-aws.json)"

pattern="${RUN:-$("$work/awsconformance" -list "$LIST" -names)}"
cfg="$work/terraformrc"
: >"$cfg"
set +e
# The Regions are the suite's own defaults (internal/acctest: Region us-west-2,
# AlternateRegion us-east-1, ThirdRegion us-east-2), the ones HashiCorp runs it with:
# some tests read replica[0] and replica[1] of a set, whose order follows the Regions.
(
  cd "$SRC/internal/service/dynamodb"
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
    TF_ACC=1 CHECKPOINT_DISABLE=1 TF_CLI_CONFIG_FILE="$cfg" TF_ACC_TERRAFORM_PATH="$TF" \
    TF_LOG="${TF_LOG:-}" \
    AWS_ACCESS_KEY_ID=AKIDCONFORMANCE AWS_SECRET_ACCESS_KEY=conformance \
    AWS_DEFAULT_REGION=us-west-2 AWS_ALTERNATE_REGION=us-east-1 AWS_THIRD_REGION=us-east-2 \
    AWS_EC2_METADATA_DISABLED=true \
    AWS_ENDPOINT_URL="$endpoint" AWS_ENDPOINT_URL_DYNAMODB="$endpoint" AWS_ENDPOINT_URL_DYNAMODB_STREAMS="$endpoint" \
    AWS_ENDPOINT_URL_STS="$endpoint" AWS_ENDPOINT_URL_KMS="$endpoint" \
    nice -n 10 "$BIN" -test.run "$pattern" -test.v=test2json -test.parallel "${PARALLEL:-4}" \
      -test.timeout "${CONFORMANCE_TIMEOUT:-150m}" 2>&1
) | go tool test2json -t -p dynamodb >"$TOOLS/conformance-aws.json"
set -e
cp "$work/emulator.log" "$TOOLS/conformance-aws-emulator.log"
if [ -n "${RUN:-}" ]; then
  # an ad-hoc pattern: report only what ran
  grep -o '"Test":"[^"/]*"' "$TOOLS/conformance-aws.json" | sort -u | sed 's/"Test":"\(.*\)"/\1/' >"$work/ran.txt"
  "$work/awsconformance" -list "$work/ran.txt" <"$TOOLS/conformance-aws.json"
else
  "$work/awsconformance" -list "$LIST" <"$TOOLS/conformance-aws.json"
fi
