package acctest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// LegacySpec describes a fixture legacy (2017.11.29) global table: one empty table per
// Region with a string partition key "pk" and a NEW_AND_OLD_IMAGES stream, joined by
// the emulator's admin call (POST /_emulator/legacy-global-table).
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
	// AWS refuses CreateGlobalTable for new legacy tables; the emulator's admin API
	// makes one over the empty tables, standing in for a legacy table that exists.
	body, _ := json.Marshal(map[string]any{"globalTableName": spec.Name, "regions": spec.Regions})
	resp, err := http.Post(backend.Endpoint+"/_emulator/legacy-global-table", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("creating legacy global table %s: %v", spec.Name, err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("creating legacy global table %s: %s: %s", spec.Name, resp.Status, msg)
	}
	client := DynamoDB(t, spec.Regions[0])
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
