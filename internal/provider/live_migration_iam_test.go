package provider

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// The resource page and the live-migration guide list the engine's IAM actions exactly (the engine's list is
// compared with the calls it makes by TestIAMPermissionsMatchCalls), and the plan's
// summary names every action of it. Adding an action to migration.Permissions
// without updating templates/resources/live_migration.md.tmpl and
// templates/guides/migrating-a-live-table.md.tmpl fails this test.
func TestIAMActionsDocumentedAndPlanned(t *testing.T) {
	doc, err := os.ReadFile("../../docs/resources/live_migration.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "## IAM permissions\n") || !strings.Contains(string(doc), migration.PermissionsMarkdown()) {
		t.Errorf("docs/resources/live_migration.md does not list the actions of migration.Permissions; want:\n%s", migration.PermissionsMarkdown())
	}
	guide, err := os.ReadFile("../../docs/guides/migrating-a-live-table.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(guide), "## Permissions\n") || !strings.Contains(string(guide), migration.PermissionsMarkdown()) {
		t.Errorf("docs/guides/migrating-a-live-table.md does not list the actions of migration.Permissions; want:\n%s", migration.PermissionsMarkdown())
	}
	m := withRates(0, 0)
	m.Source = &tableSideModel{TableName: types.StringValue("orders"), Region: types.StringValue("us-east-1"), RoleARN: types.StringValue("arn:aws:iam::123456789012:role/reader")}
	m.Target = &tableSideModel{TableName: types.StringValue("orders-v2"), Region: types.StringValue("eu-west-1"), RoleARN: types.StringNull()}
	m.CheckpointTable = types.StringValue("ddbglobal-migrations")
	got := iamSummary(m)
	for _, want := range []string{"source table, orders in us-east-1: ", "target table, orders-v2 in eu-west-1: ",
		"checkpoint table, ddbglobal-migrations in eu-west-1: ", "arn:aws:dynamodb:us-east-1:*:table/orders/stream/*",
		"arn:aws:dynamodb:us-east-1:*:table/orders/backup/*",
		"the role arn:aws:iam::123456789012:role/reader (assumed for orders): sts:AssumeRole"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan summary lacks %q:\n%s", want, got)
		}
	}
	for _, p := range migration.Permissions() {
		for _, a := range p.Actions {
			if !strings.Contains(got, a.Name) {
				t.Errorf("plan summary lacks %s for the %s:\n%s", a.Name, p.Resource, got)
			}
		}
	}
}
