package provider

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

func table(items, bytes int64, keys ...string) *awstypes.TableDescription {
	t := &awstypes.TableDescription{ItemCount: aws.Int64(items), TableSizeBytes: aws.Int64(bytes)}
	for i, k := range keys {
		name, typ, _ := strings.Cut(k, ":")
		kt := awstypes.KeyTypeHash
		if i == 1 {
			kt = awstypes.KeyTypeRange
		}
		t.KeySchema = append(t.KeySchema, awstypes.KeySchemaElement{AttributeName: aws.String(name), KeyType: kt})
		t.AttributeDefinitions = append(t.AttributeDefinitions, awstypes.AttributeDefinition{AttributeName: aws.String(name), AttributeType: awstypes.ScalarAttributeType(typ)})
	}
	return t
}

func withRates(read, write float64) liveMigrationModel {
	f := func(v float64) types.Float64 {
		if v == 0 {
			return types.Float64Null()
		}
		return types.Float64Value(v)
	}
	return liveMigrationModel{Backfill: types.ObjectValueMust(backfillAttrTypes, map[string]attr.Value{
		"segments": types.Int64Value(16), "max_read_units_per_second": f(read), "max_write_units_per_second": f(write),
		"hand_off": types.StringValue("auto"), "method": types.StringValue("scan"),
	})}
}

func TestEstimateBackfill(t *testing.T) {
	cases := []struct {
		name string
		src  *awstypes.TableDescription
		plan liveMigrationModel
		want time.Duration
	}{
		// 1 billion 1 KB items: about 69 h at a new on-demand table's 4,000 writes/s, 6.9 h at 40,000.
		{"on-demand default", table(1_000_000_000, 1_000_000_000*1024), liveMigrationModel{Backfill: types.ObjectNull(backfillAttrTypes)}, 250_000 * time.Second},
		{"write limit", table(1_000_000_000, 1_000_000_000*1024), withRates(0, 40_000), 25_000 * time.Second},
		// 3 KB items cost 3 write units each.
		{"larger items", table(1000, 3000*1024), withRates(0, 10), 300 * time.Second},
		// A read limit slower than the writes decides: 4 KB per read unit.
		{"read limit", table(1000, 4096*1000), withRates(1, 1000), 1000 * time.Second},
		{"empty", table(0, 0), withRates(0, 0), 0},
	}
	for _, c := range cases {
		got := estimateBackfill(c.src, c.plan).Round(time.Second)
		if got != c.want {
			t.Errorf("%s: estimate = %s, want %s", c.name, got, c.want)
		}
	}
	if msg := backfillEstimate(table(10, 10*1024), withRates(0, 0)); msg != "" {
		t.Errorf("a sub-minute backfill gets no warning, got %q", msg)
	}
	if msg := backfillEstimate(table(1_000_000_000, 1_000_000_000*1024), withRates(0, 40_000)); !strings.Contains(msg, "about 6h57m") {
		t.Errorf("warning = %q, want the duration", msg)
	}
}

func TestKeyMappingProblem(t *testing.T) {
	src := table(0, 0, "id:S", "sk:N")
	cases := []struct {
		name string
		dst  *awstypes.TableDescription
		tr   migration.Transform
		want string // "" = fine
	}{
		{"same keys", table(0, 0, "id:S", "sk:N"), migration.Transform{}, ""},
		{"renamed keys", table(0, 0, "pk:S", "sort:N"), migration.Transform{Rename: map[string]string{"id": "pk", "sk": "sort"}}, ""},
		{"target key not produced", table(0, 0, "pk:S", "sk:N"), migration.Transform{}, `no source key attribute becomes the target key attribute "pk"`},
		{"key dropped", table(0, 0, "id:S"), migration.Transform{Drop: []string{"sk"}}, `the source key attribute "sk" is dropped`},
		{"collision", table(0, 0, "id:S"), migration.Transform{}, `"sk" becomes "sk", which is not part of the target key`},
		{"type change", table(0, 0, "id:S", "sk:S"), migration.Transform{}, `source key "sk" is of type N but target key "sk" is of type S`},
		{"constant key", table(0, 0, "id:S", "sk:N"), migration.Transform{Set: map[string]awstypes.AttributeValue{"sk": &awstypes.AttributeValueMemberN{Value: "1"}}}, `"sk" is set to a constant`},
	}
	for _, c := range cases {
		got := keyMappingProblem(src, c.dst, c.tr)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTransformFromModel(t *testing.T) {
	ctx := context.Background()
	m := liveMigrationModel{Transform: &transformModel{
		Rename: types.MapValueMust(types.StringType, map[string]attr.Value{"id": types.StringValue("pk")}),
		Drop:   types.SetValueMust(types.StringType, []attr.Value{types.StringValue("b"), types.StringValue("a")}),
		Set:    types.MapValueMust(types.StringType, map[string]attr.Value{"v": types.StringValue(`{"N":"12345678901234567890123456789012345678"}`)}),
	}}
	tr, err := m.transform(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Rename["id"] != "pk" || strings.Join(tr.Drop, ",") != "a,b" {
		t.Errorf("transform = %+v", tr)
	}
	if n, ok := tr.Set["v"].(*awstypes.AttributeValueMemberN); !ok || n.Value != "12345678901234567890123456789012345678" {
		t.Errorf("set v = %#v: the number must stay exact", tr.Set["v"])
	}
	m.Transform.Set = types.MapValueMust(types.StringType, map[string]attr.Value{"v": types.StringValue(`{"N":1}`)})
	if _, err := m.transform(ctx); err == nil || !strings.Contains(err.Error(), `transform.set["v"]`) {
		t.Errorf("untyped number accepted: %v", err)
	}
}

// The plan's restore text: which restore, both costs from the table size, and what
// the restored table lacks.
func TestRestorePlanText(t *testing.T) {
	plan := liveMigrationModel{Source: &tableSideModel{TableName: types.StringValue("orders"), Region: types.StringValue("us-east-1")},
		Target: &tableSideModel{TableName: types.StringValue("orders2"), Region: types.StringValue("eu-west-1")}}
	// 1 billion items of 1 KB: 1,000,000,000 write units ($625) by scan, 953.674 GB ($143.05) by restore.
	info := migration.RestoreInfo{PointInTime: true, Items: 1_000_000_000, SizeBytes: 1_000_000_000 * 1024, ScanWriteUnits: 1_000_000_000}
	got := restorePlanText(plan, info, false)
	for _, want := range []string{"Point-in-time recovery is on for orders", "into orders2 in eu-west-1", "953.674 GB at $0.15 per GB = $143.05",
		"1000000000 write units", "$625.00 at $0.625 per million", "not the source's stream, TTL, tags, point-in-time recovery, auto scaling",
		"import block"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan text lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "in place") {
		t.Errorf("no transform, but the text speaks of an in-place pass:\n%s", got)
	}
	info.PointInTime, info.TransformWriteUnits = false, info.ScanWriteUnits
	got = restorePlanText(plan, info, true)
	for _, want := range []string{"Point-in-time recovery is off for orders", "on-demand backup", "billed per GB-month", "up to 1000000000 more write units ($625.00)"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan text lacks %q:\n%s", want, got)
		}
	}
}
