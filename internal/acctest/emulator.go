package acctest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// LegacySpec describes a fixture legacy (2017.11.29) global table: one empty table per
// Region with a string partition key "pk" and a NEW_AND_OLD_IMAGES stream, joined by
// CreateGlobalTable.
type LegacySpec struct {
	Name    string
	Regions []string
	// Provisioned selects PROVISIONED billing with 5/5 units and no auto scaling;
	// default is PAY_PER_REQUEST.
	Provisioned bool
}

// CreateLegacyGlobalTable makes a legacy global table on the emulator and deletes its
// tables when the test ends. Legacy global tables cannot be created in AWS any more, so
// the test is skipped against real AWS.
func CreateLegacyGlobalTable(t *testing.T, spec LegacySpec) {
	t.Helper()
	Emulator(t)
	ctx := context.Background()
	for _, region := range spec.Regions {
		CreateTable(t, TableSpec{Name: spec.Name, Region: region, HashKey: "pk",
			StreamView: types.StreamViewTypeNewAndOldImages, Provisioned: spec.Provisioned})
	}
	group := make([]types.Replica, 0, len(spec.Regions))
	for _, region := range spec.Regions {
		group = append(group, types.Replica{RegionName: aws.String(region)})
	}
	client := DynamoDB(t, spec.Regions[0])
	if _, err := client.CreateGlobalTable(ctx, &dynamodb.CreateGlobalTableInput{
		GlobalTableName: aws.String(spec.Name), ReplicationGroup: group,
	}); err != nil {
		t.Fatalf("creating legacy global table %s: %v", spec.Name, err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := client.DescribeGlobalTable(ctx, &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String(spec.Name)})
		if err != nil {
			t.Fatalf("describing legacy global table %s: %v", spec.Name, err)
		}
		if out.GlobalTableDescription.GlobalTableStatus == types.GlobalTableStatusActive {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("legacy global table %s still %s", spec.Name, out.GlobalTableDescription.GlobalTableStatus)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ConsoleUpgrade stands in for the operator: after the given time the emulator
// performs the console's "Update version" on a legacy global table, and keeps trying
// every half second while the prerequisites fail (as a patient operator would).
func ConsoleUpgrade(t *testing.T, table string, after time.Duration) {
	t.Helper()
	if err := Emulator(t).UpdateVersion(context.Background(), table, after); err != nil {
		t.Fatalf("scheduling the console upgrade of %s: %v", table, err)
	}
}
