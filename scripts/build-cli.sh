#!/usr/bin/env bash
# Builds a Terraform or OpenTofu CLI from the Go module proxy into a directory:
#   scripts/build-cli.sh terraform v1.13.3 .cache/terraform-v1.13.3   (makes .cache/terraform-v1.13.3/terraform)
#   scripts/build-cli.sh tofu v1.10.6 .cache/tofu-v1.10.6              (makes .cache/tofu-v1.10.6/tofu)
# It does nothing when the binary is there already.
#
# `go install MODULE@VERSION` refuses both: their go.mod files have replace directives. So this builds a
# copy of the module's source as the main module, where those directives apply:
# - OpenTofu replaces hcl with its own fork (a module version the proxy serves): built as it is.
# - Terraform replaces its remote-state backends with local directories that the module's zip leaves out
#   (each is a module of its own). They are dropped (azurerm, consul, cos, gcs, kubernetes, oci, oss, pg,
#   s3); local, http, inmem, remote and cloud stay. The provider's tests use the local backend only.
set -euo pipefail
usage="usage: build-cli.sh terraform|tofu VERSION DIR"
cli=${1:?$usage}
version=${2:?$usage}
dest=${3:?$usage}
# version.dev=no: a release build, whose version has no "-dev" suffix.
case "$cli" in
  terraform) module=github.com/hashicorp/terraform pkg=. ldflags="-X github.com/hashicorp/terraform/version.dev=no" ;;
  tofu) module=github.com/opentofu/opentofu pkg=./cmd/tofu ldflags="-X github.com/opentofu/opentofu/version.dev=no" ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
if [ -x "$dest/$cli" ]; then exit 0; fi
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

src=$(go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$src" ] || [ ! -f "$src/go.mod" ]; then
  echo "build-cli: could not download $module@$version" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -R "$src/." "$work/"
chmod -R u+w "$work"
cd "$work"

if [ "$cli" = terraform ]; then
  edits=(-droprequire=github.com/hashicorp/terraform/internal/legacy
    -dropreplace=github.com/hashicorp/terraform/internal/legacy)
  for b in azure consul cos gcs kubernetes oci oss pg s3; do
    edits+=(-droprequire="github.com/hashicorp/terraform/internal/backend/remote-state/$b"
      -dropreplace="github.com/hashicorp/terraform/internal/backend/remote-state/$b")
  done
  go mod edit "${edits[@]}"
  # Their imports and their entries in the backend table, by the import aliases of init.go.
  sed -i -E '/\bbackend(Azure|Consul|Cos|GCS|Kubernetes|OCI|OSS|Pg|S3)\b/d' internal/backend/init/init.go
  if grep -n 'remote-state/\(azure\|consul\|cos\|gcs\|kubernetes\|oci\|oss\|pg\|s3\)"' internal/backend/init/init.go; then
    echo "build-cli: init.go of terraform $version imports backends this script does not know how to drop" >&2
    exit 1
  fi
fi

# Built under another name and renamed, so an interrupted build leaves no half-written binary.
GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$dest/$cli.partial" "$pkg"
mv "$dest/$cli.partial" "$dest/$cli"
"$dest/$cli" version | sed -n 1p
