#!/usr/bin/env bash
# Builds a Terraform CLI from the Go module proxy into a directory:
#   scripts/build-terraform.sh VERSION DIR     e.g. scripts/build-terraform.sh v1.13.3 .cache/terraform-v1.13.3
#
# `go install github.com/hashicorp/terraform@VERSION` refuses every release since the remote-state
# backends became modules of their own: terraform's go.mod replaces them with local directories that
# the module's zip leaves out. This builds a copy of the module without those backends (azurerm,
# consul, cos, gcs, kubernetes, oci, oss, pg, s3); local, http, inmem, remote and cloud stay. The
# tests use the local backend only.
set -euo pipefail
version=${1:?usage: build-terraform.sh VERSION DIR}
dest=${2:?usage: build-terraform.sh VERSION DIR}
if [ -x "$dest/terraform" ]; then exit 0; fi
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

src=$(go mod download -json "github.com/hashicorp/terraform@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -f "$src/go.mod" ]; then
  echo "build-terraform: could not download github.com/hashicorp/terraform@$version" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -R "$src/." "$work/"
chmod -R u+w "$work"
cd "$work"

backends="azure consul cos gcs kubernetes oci oss pg s3"
edits=(-droprequire=github.com/hashicorp/terraform/internal/legacy
  -dropreplace=github.com/hashicorp/terraform/internal/legacy)
for b in $backends; do
  edits+=(-droprequire="github.com/hashicorp/terraform/internal/backend/remote-state/$b"
    -dropreplace="github.com/hashicorp/terraform/internal/backend/remote-state/$b")
done
go mod edit "${edits[@]}"
# Their imports and their entries in the backend table, by the import aliases of init.go.
sed -i -E '/\bbackend(Azure|Consul|Cos|GCS|Kubernetes|OCI|OSS|Pg|S3)\b/d' internal/backend/init/init.go
if grep -n 'remote-state/\(azure\|consul\|cos\|gcs\|kubernetes\|oci\|oss\|pg\|s3\)"' internal/backend/init/init.go; then
  echo "build-terraform: init.go of $version imports backends this script does not know how to drop" >&2
  exit 1
fi

# Built under another name and renamed, so an interrupted build leaves no half-written binary.
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -o "$dest/terraform.partial" .
mv "$dest/terraform.partial" "$dest/terraform"
"$dest/terraform" version | sed -n 1p
