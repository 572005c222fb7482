package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
)

// The identity schemas are written into the resource pages by hand (tfplugindocs renders
// them only when it runs on Terraform 1.12 or later, which `make generate` does not
// need): each page lists exactly the attributes of the schema, each under Required or
// Optional as the schema says, with the schema's description. Catches a new or renamed
// identity attribute, or a changed description, that the page does not show.
func TestIdentityDocs(t *testing.T) {
	for page, r := range map[string]resource.ResourceWithIdentity{
		"replica":         &replicaResource{},
		"version_upgrade": &versionUpgradeResource{},
		"live_migration":  &liveMigrationResource{},
	} {
		t.Run(page, func(t *testing.T) {
			var resp resource.IdentitySchemaResponse
			r.IdentitySchema(context.Background(), resource.IdentitySchemaRequest{}, &resp)
			b, err := os.ReadFile("../../docs/resources/" + page + ".md")
			if err != nil {
				t.Fatal(err)
			}
			_, section, ok := strings.Cut(string(b), "#### Identity Schema\n")
			if !ok {
				t.Fatalf("docs/resources/%s.md has no Identity Schema section", page)
			}
			if i := strings.Index(section, "\n#"); i >= 0 {
				section = section[:i]
			}
			want := map[string]bool{}
			for name, a := range resp.IdentitySchema.Attributes {
				group := "Optional"
				if a.(identityschema.StringAttribute).RequiredForImport {
					group = "Required"
				}
				line := fmt.Sprintf("- `%s` (String) %s", name, a.GetDescription())
				want[line] = true
				required, optional, _ := strings.Cut(section, "Optional:\n")
				if !strings.Contains(map[string]string{"Required": required, "Optional": optional}[group], line+"\n") {
					t.Errorf("docs/resources/%s.md does not list under %s:\n%s", page, group, line)
				}
			}
			for _, l := range regexp.MustCompile("(?m)^- `.*$").FindAllString(section, -1) {
				if !want[l] {
					t.Errorf("docs/resources/%s.md lists an identity attribute the schema does not have:\n%s", page, l)
				}
			}
		})
	}
}
