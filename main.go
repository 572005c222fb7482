// Command terraform-provider-ddbglobal is the Terraform provider for DynamoDB global
// tables: adding Regions, upgrading legacy global tables and live table migrations.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/provider"
)

// Set by the release build through -ldflags.
var (
	version = "dev"
	commit  = "none"
)

//go:generate terraform fmt -recursive ./examples/
//go:generate go run github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs generate --provider-name ddbglobal

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version, commit), providerserver.ServeOpts{
		Address:         "registry.terraform.io/ddbglobal/ddbglobal",
		Debug:           debug,
		ProtocolVersion: 6,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
