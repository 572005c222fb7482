//go:build tools

// Package tools pins the command-line tools the build uses, so `go run` and
// `go install` resolve them from go.mod.
package tools

import (
	_ "github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs"
)
