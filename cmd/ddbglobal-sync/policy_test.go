package main

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// policyStatement is one statement of an aws_iam_policy_document: its actions
// and the locals its resources name.
type policyStatement struct {
	actions   []string
	resources []string // e.g. "local.source_arn"
	template  string   // the resources expression as written
}

// taskPolicy reads the statements of the runners' policy document (data
// "aws_iam_policy_document" "task") in the ECS example, keyed by sid, from
// statement blocks and dynamic "statement" blocks' content.
func taskPolicy(t *testing.T) map[string]policyStatement {
	t.Helper()
	const path = "../../examples/modules/sync_fleet_ecs/main.tf"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var doc *hclsyntax.Block
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type == "data" && slices.Equal(b.Labels, []string{"aws_iam_policy_document", "task"}) {
			doc = b
		}
	}
	if doc == nil {
		t.Fatalf("%s has no data \"aws_iam_policy_document\" \"task\"", path)
	}
	out := map[string]policyStatement{}
	for _, b := range doc.Body.Blocks {
		body := b.Body
		switch {
		case b.Type == "statement":
		case b.Type == "dynamic" && slices.Equal(b.Labels, []string{"statement"}):
			for _, c := range b.Body.Blocks {
				if c.Type == "content" {
					body = c.Body
				}
			}
		default:
			continue
		}
		var sid string
		var st policyStatement
		for name, attr := range body.Attributes {
			switch name {
			case "sid", "actions":
				v, diags := attr.Expr.Value(nil) // literals only: no action may hide behind a variable
				if diags.HasErrors() {
					t.Fatalf("%s: statement %s is not a literal: %v", path, name, diags)
				}
				if name == "sid" {
					sid = v.AsString()
					continue
				}
				for _, a := range v.AsValueSlice() {
					st.actions = append(st.actions, a.AsString())
				}
			case "resources":
				for _, tr := range attr.Expr.Variables() {
					root := tr.RootName()
					if a, ok := tr[1].(hcl.TraverseAttr); ok && len(tr) == 2 {
						root += "." + a.Name
					}
					st.resources = append(st.resources, root)
				}
				st.template = string(attr.Expr.Range().SliceBytes(src))
			}
		}
		if sid == "" {
			t.Fatalf("%s: a statement of the task policy has no sid", path)
		}
		out[sid] = st
	}
	return out
}

// The ECS example's task policy grants the runners exactly what a runner calls:
// migration.RunnerPermissions, which TestIAMRunnerPermissionsMatchCalls compares
// with a runner's calls. Each resource's actions are in a statement of their
// own on that resource alone, and the only other statement is sts:AssumeRole on
// the named roles. Catches: an action added to or dropped from the example (or
// from the engine) without the other.
func TestECSExamplePolicyIsRunnerPermissions(t *testing.T) {
	sids := map[string]struct {
		resource string
		local    string // the ARN it applies to
		suffix   string // after the ARN, for the stream
	}{
		"Checkpoints":  {"checkpoint table", "local.checkpoint_arn", ""},
		"Source":       {"source table", "local.source_arn", ""},
		"SourceStream": {"source stream", "local.source_arn", "/stream/*"},
		"SourceBackup": {"source backup", "local.source_arn", "/backup/*"},
		"Target":       {"target table", "local.target_arn", ""},
	}
	policy := taskPolicy(t)
	for sid, st := range policy {
		if sid == "NamedRolesOnly" {
			if !slices.Equal(st.actions, []string{"sts:AssumeRole"}) || !slices.Equal(st.resources, []string{"local.roles_to_assume"}) {
				t.Errorf("statement NamedRolesOnly: %v on %v, want sts:AssumeRole on local.roles_to_assume", st.actions, st.resources)
			}
			continue
		}
		if _, ok := sids[sid]; !ok {
			t.Errorf("statement %s (%v) is not one of a runner's resources", sid, st.actions)
		}
	}
	for _, p := range migration.RunnerPermissions() {
		var sid string
		for s, r := range sids {
			if r.resource == p.Resource {
				sid = s
			}
		}
		want := sids[sid]
		st, ok := policy[sid]
		if sid == "" || !ok {
			t.Errorf("the task policy has no statement for the %s (want sid %q)", p.Resource, sid)
			continue
		}
		var names []string
		for _, a := range p.Actions {
			names = append(names, a.Name)
		}
		got := slices.Sorted(slices.Values(st.actions))
		if !slices.Equal(got, names) {
			t.Errorf("statement %s grants %v on the %s; a runner calls %v", sid, got, p.Resource, names)
		}
		if !slices.Equal(st.resources, []string{want.local}) || !strings.HasSuffix(strings.Trim(st.template, `[]"`), want.suffix) {
			t.Errorf("statement %s applies to %s, want %s%s only", sid, st.template, want.local, want.suffix)
		}
	}
}

// The fleet guide lists the runners' actions exactly as RunnerPermissions has
// them (the template carries the list; this catches an edit of either alone).
func TestFleetGuideListsRunnerPermissions(t *testing.T) {
	doc, err := os.ReadFile("../../docs/guides/running-the-sync-fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), migration.RunnerPermissionsMarkdown()) {
		t.Errorf("docs/guides/running-the-sync-fleet.md does not list migration.RunnerPermissions; want:\n%s", migration.RunnerPermissionsMarkdown())
	}
}
