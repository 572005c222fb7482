package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// fleetPoll is how often an apply that waits for the runners' backfill reads
// its progress.
var fleetPoll = 2 * time.Second

// backfillProgressAttribute is the computed progress of the backfill, read from
// the checkpoint table at every refresh (with sync = "external" the runners do
// the backfill, outside any apply).
func backfillProgressAttribute() schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		MarkdownDescription: "The backfill's progress as of the last refresh. `percent` is measured against the source's " +
			"item count at capture (which DynamoDB updates about every six hours), so it is an estimate until the backfill ends.",
		Computed: true,
		Attributes: map[string]schema.Attribute{
			"estimated_items":  schema.Int64Attribute{MarkdownDescription: "The source's item count when the stream was captured.", Computed: true},
			"percent":          schema.Float64Attribute{MarkdownDescription: "Share of the estimate copied (100 once the backfill is over).", Computed: true},
			"items_per_second": schema.Float64Attribute{MarkdownDescription: "Items copied per second, on average since the capture (until the end of the backfill).", Computed: true},
			"eta_seconds":      schema.Int64Attribute{MarkdownDescription: "Estimated seconds left (0 once the backfill is over; null while nothing is copied yet).", Computed: true},
		},
	}
}

var backfillProgressAttrTypes = map[string]attr.Type{
	"estimated_items": types.Int64Type, "percent": types.Float64Type, "items_per_second": types.Float64Type, "eta_seconds": types.Int64Type,
}

// progressOf computes the backfill's progress from a status.
type progress struct {
	percent, rate float64
	eta           time.Duration // -1: unknown
}

func progressOf(st migration.Status, now time.Time) progress {
	if st.Phase != migration.PhaseBackfilling && st.Phase != "" {
		end := st.BackfillDoneAt
		if end.IsZero() {
			end = now
		}
		p := progress{percent: 100}
		if d := end.Sub(st.StartedAt).Seconds(); d > 0 && !st.StartedAt.IsZero() {
			p.rate = float64(st.ItemsCopied) / d
		}
		return p
	}
	p := progress{eta: -1}
	if st.EstimatedItems > 0 {
		p.percent = min(99.9, 100*float64(st.ItemsCopied)/float64(st.EstimatedItems))
	}
	if d := now.Sub(st.StartedAt).Seconds(); d > 0 && !st.StartedAt.IsZero() {
		p.rate = float64(st.ItemsCopied) / d
	}
	if p.rate > 0 {
		p.eta = time.Duration(float64(max(st.EstimatedItems-st.ItemsCopied, 0)) / p.rate * float64(time.Second))
	}
	return p
}

func backfillProgressValue(st migration.Status) types.Object {
	p := progressOf(st, time.Now())
	eta := types.Int64Null()
	if p.eta >= 0 {
		eta = types.Int64Value(int64(p.eta.Seconds()))
	}
	return types.ObjectValueMust(backfillProgressAttrTypes, map[string]attr.Value{
		"estimated_items":  types.Int64Value(st.EstimatedItems),
		"percent":          types.Float64Value(float64(int64(p.percent*10)) / 10),
		"items_per_second": types.Float64Value(float64(int64(p.rate*10)) / 10),
		"eta_seconds":      eta,
	})
}

// finishBackfill brings the migration past its backfill. With sync = "apply"
// the apply does the backfill itself. With sync = "external" the runners do it:
// the apply returns at once (the state records phase backfilling), unless it
// is to cut over, in which case it waits for the runners to finish, bounded by
// the apply's timeout.
func finishBackfill(ctx context.Context, m *migration.Migration, plan liveMigrationModel) error {
	if plan.Sync.ValueString() != "external" {
		return m.Backfill(ctx)
	}
	if !plan.Cutover.ValueBool() {
		tflog.Info(ctx, "the ddbglobal-sync runners do the backfill; refresh to follow it")
		return nil
	}
	return waitForFleetBackfill(ctx, m)
}

// waitForFleetBackfill waits until the runners have finished the backfill.
func waitForFleetBackfill(ctx context.Context, m *migration.Migration) error {
	var st migration.Status
	var err error
	for {
		st, err = m.Status(ctx)
		if err != nil {
			return err
		}
		if st.Phase != migration.PhaseBackfilling {
			return nil
		}
		p := progressOf(st, time.Now())
		tflog.Info(ctx, "waiting for the ddbglobal-sync runners to finish the backfill", map[string]any{
			"items_copied": st.ItemsCopied, "percent": fmt.Sprintf("%.1f", p.percent), "items_per_second": int64(p.rate),
			"segments_done": st.SegmentsDone, "segments": st.Segments,
		})
		select {
		case <-ctx.Done():
			eta := "unknown"
			if p.eta >= 0 {
				eta = p.eta.Round(time.Second).String()
			}
			return fmt.Errorf("the backfill is not finished: %d items copied (%.1f%% of the estimate, %d of %d segments done, "+
				"ETA %s). With sync = \"external\" the ddbglobal-sync runners do the backfill: check that they run, then apply "+
				"again (or raise timeouts.update): %w", st.ItemsCopied, p.percent, st.SegmentsDone, st.Segments, eta, ctx.Err())
		case <-time.After(fleetPoll):
		}
	}
}
