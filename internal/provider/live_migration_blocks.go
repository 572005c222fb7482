package provider

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// The live migration's settings are blocks, not object attributes: Terraform drops a
// key it does not know from an object attribute's value before the provider sees it
// (`transform = { dorp = ["ssn"] }` would plan as if no drop were configured, and the
// attribute meant to be stripped would be copied), while in a block a misspelt
// argument is an error ("An argument named "dorp" is not expected here").
func liveMigrationBlocks() map[string]schema.Block {
	return map[string]schema.Block{
		"source": tableSideBlock("source"),
		"target": tableSideBlock("target (with `backfill.method = \"scan\"` it must exist, e.g. an `aws_dynamodb_table`; with `\"restore\"` it must not)"),
		"backfill": schema.SingleNestedBlock{
			MarkdownDescription: "How the existing items are copied. Absent: every setting at its default.",
			PlanModifiers: []planmodifier.Object{objectplanmodifier.RequiresReplaceIf(sameEffective(func(m liveMigrationModel) any {
				b := m.backfill(context.Background())
				if b == nil {
					return [3]any{int64(defaultSegments), string(migration.HandOffAuto), string(migration.BackfillScan)}
				}
				h := b.HandOff.ValueString()
				if h == "" {
					h = string(migration.HandOffAuto)
				}
				return [3]any{b.Segments.ValueInt64(), h, cmp.Or(b.Method.ValueString(), string(migration.BackfillScan))}
			}), "Changing backfill.method, backfill.segments or backfill.hand_off starts a new migration.",
				"Changing backfill.method, backfill.segments or backfill.hand_off starts a new migration.")},
			Attributes: map[string]schema.Attribute{
				"method": backfillMethodAttribute(),
				"segments": schema.Int64Attribute{
					MarkdownDescription: fmt.Sprintf("Parallel Scan segments (1 to 1000000, default %d). Changing it starts a new migration (the resource is replaced).", defaultSegments),
					Optional:            true,
					Computed:            true,
					Default:             int64default.StaticInt64(defaultSegments),
					Validators:          []validator.Int64{int64validator.Between(1, 1_000_000)},
				},
				"hand_off": schema.StringAttribute{
					MarkdownDescription: "How the backfill and the stream meet without an older value overwriting a newer one: " +
						"`replay` backfills with fast BatchWriteItem calls and then replays the stream from the capture (only " +
						"when the backfill ends well inside the stream's 24-hour retention); `insert_if_absent` applies the " +
						"stream during the backfill, whose writes are conditional inserts (one PutItem per item, any length); " +
						"`auto` (default) chooses replay when the estimated backfill (item count and size at " +
						"`max_write_units_per_second`, or 4,000 units/s) takes 12 hours or less, `insert_if_absent` otherwise, and " +
						"switches a running replay backfill to conditional writes when its measured pace would end it later than that. " +
						"The plan says which and why; `hand_off_in_use` records it. Changing it starts a new migration.",
					Optional:   true,
					Computed:   true,
					Default:    stringdefault.StaticString(string(migration.HandOffAuto)),
					Validators: []validator.String{stringvalidator.OneOf(handOffs...)},
				},
				"max_read_units_per_second": schema.Float64Attribute{
					MarkdownDescription: "Read capacity the backfill may use on the source, charged with what DynamoDB reports. Unset: unlimited.",
					Optional:            true,
					Validators:          []validator.Float64{float64validator.Between(1, 10_000_000)},
				},
				"max_write_units_per_second": schema.Float64Attribute{
					MarkdownDescription: "Write capacity the backfill and sync may use on the target. Unset: unlimited.",
					Optional:            true,
					Validators:          []validator.Float64{float64validator.Between(1, 10_000_000)},
				},
			},
		},
		"transform": schema.SingleNestedBlock{
			MarkdownDescription: "Changes applied to every copied item, backfilled and streamed alike, and in " +
				"verification. Order: drop, rename, set. Renaming a source key attribute onto the target's key is " +
				"how a key-schema change is expressed. The plan shows the transform in effect. Changing it starts a new migration.",
			PlanModifiers: []planmodifier.Object{objectplanmodifier.RequiresReplaceIf(sameEffective(func(m liveMigrationModel) any {
				tr, _ := m.transform(context.Background())
				return transformText(tr)
			}), "Changing the transform starts a new migration.", "Changing the transform starts a new migration.")},
			Attributes: map[string]schema.Attribute{
				"rename": schema.MapAttribute{
					MarkdownDescription: "Source attribute name → target attribute name.",
					Optional:            true,
					ElementType:         types.StringType,
				},
				"drop": schema.SetAttribute{
					MarkdownDescription: "Source attributes not copied.",
					Optional:            true,
					ElementType:         types.StringType,
				},
				"set": schema.MapAttribute{
					MarkdownDescription: "Attributes set on every item to a typed constant in DynamoDB JSON, e.g. " +
						"`jsonencode({ N = \"2\" })`.",
					Optional:    true,
					ElementType: types.StringType,
				},
			},
		},
	}
}

func tableSideBlock(role string) schema.SingleNestedBlock {
	return schema.SingleNestedBlock{
		MarkdownDescription: "The " + role + " table (required). Changing it starts a new migration.",
		PlanModifiers:       []planmodifier.Object{objectplanmodifier.RequiresReplace()},
		Validators:          []validator.Object{objectvalidator.IsRequired()},
		Attributes: map[string]schema.Attribute{
			"table_name": schema.StringAttribute{
				MarkdownDescription: "Table name.",
				Required:            true,
				Validators:          []validator.String{tableNameValidator()},
			},
			"region": schema.StringAttribute{
				MarkdownDescription: "Region of the table.",
				Required:            true,
				Validators:          []validator.String{regionValidator()},
			},
			"role_arn": schema.StringAttribute{
				MarkdownDescription: "Role to assume for this table, e.g. in another account. Empty uses the provider's credentials.",
				Optional:            true,
				Validators:          []validator.String{arnValidator()},
			},
		},
	}
}

// sameEffective replaces the resource when a setting's effective value (defaults
// applied, so an absent block equals a block of defaults) changes.
func sameEffective(effective func(liveMigrationModel) any) objectplanmodifier.RequiresReplaceIfFunc {
	return func(ctx context.Context, req planmodifier.ObjectRequest, resp *objectplanmodifier.RequiresReplaceIfFuncResponse) {
		var plan, state liveMigrationModel
		if fullModel(ctx, req.Plan, &plan) || fullModel(ctx, req.State, &state) {
			return
		}
		resp.RequiresReplace = !reflect.DeepEqual(effective(plan), effective(state))
	}
}

func fullModel(ctx context.Context, from interface {
	Get(context.Context, any) diag.Diagnostics
}, m *liveMigrationModel) bool {
	return from.Get(ctx, m).HasError()
}

// transformText is the transform in effect, as the plan shows it.
func transformText(tr migration.Transform) string {
	if tr.IsZero() {
		return "none: items are copied as they are"
	}
	var parts []string
	if len(tr.Drop) > 0 {
		parts = append(parts, fmt.Sprintf("drop %s", strings.Join(quoteAll(tr.Drop), ", ")))
	}
	if len(tr.Rename) > 0 {
		var r []string
		for _, k := range sortedStringKeys(tr.Rename) {
			r = append(r, fmt.Sprintf("%q → %q", k, tr.Rename[k]))
		}
		parts = append(parts, "rename "+strings.Join(r, ", "))
	}
	if len(tr.Set) > 0 {
		names := make([]string, 0, len(tr.Set))
		for k := range tr.Set {
			names = append(names, k)
		}
		sort.Strings(names)
		var r []string
		for _, k := range names {
			v, err := ddb.FormatAttributeValueJSON(tr.Set[k])
			if err != nil {
				v = "?"
			}
			r = append(r, fmt.Sprintf("%q = %s", k, v))
		}
		parts = append(parts, "set "+strings.Join(r, ", "))
	}
	return strings.Join(parts, "; ")
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}
