// Command demo is `make demo`: it starts the local DynamoDB backend, creates the demo
// table, builds the provider, applies examples/demo with Terraform through a
// dev_overrides CLI config in a temporary directory, and prints the result.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/emulator"
)

const (
	region    = "us-east-1"
	tableName = "demo-orders"
	// legacyTableName is a 2017.11.29 global table that the demo upgrades.
	legacyTableName = "demo-music"
	// The live migration's target: a new name, Region and key attribute name.
	v2TableName = "demo-orders-v2"
	v2Region    = "eu-central-1"
)

// legacyRegions are the members of the legacy global table.
var legacyRegions = []string{"us-east-1", "eu-west-1"}

func main() {
	log.SetFlags(0)
	log.SetPrefix("demo: ")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "ddbglobal-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	step("starting the local emulator (DynamoDB Local behind a multi-Region front)")
	backend, err := emulator.Start(ctx, emulator.Options{})
	if err != nil {
		return err
	}
	defer backend.Stop()
	fmt.Printf("   %s (DynamoDB Local pid %d)\n", backend.Endpoint, backend.LocalPID())

	step("creating the demo table " + tableName + " in " + region)
	if err := createDemoTable(ctx, backend.Endpoint); err != nil {
		return err
	}

	step("creating the legacy (2017.11.29) global table " + legacyTableName + " in " + strings.Join(legacyRegions, " and "))
	if err := createLegacyTable(ctx, backend.Endpoint); err != nil {
		return err
	}
	// No API performs the upgrade: the emulator's console "Update version" stands in for
	// the operator, and keeps trying until the prerequisites pass (after remediation).
	if err := backend.UpdateVersion(ctx, legacyTableName, 5*time.Second); err != nil {
		return err
	}
	fmt.Println("   the emulated operator chooses \"Update version\" in the console in 5s")

	step("building the provider")
	pluginDir := filepath.Join(work, "plugins")
	if err := sh(ctx, root, nil, "go", "build", "-o", filepath.Join(pluginDir, "terraform-provider-ddbglobal"), "."); err != nil {
		return err
	}
	cliConfig := filepath.Join(work, "terraformrc")
	if err := os.WriteFile(cliConfig, fmt.Appendf(nil, `provider_installation {
  dev_overrides {
    "registry.terraform.io/ddbglobal/ddbglobal" = %q
  }
  direct {}
}
`, pluginDir), 0o600); err != nil {
		return err
	}

	config := filepath.Join(work, "config")
	if err := copyDir(filepath.Join(root, "examples", "demo"), config); err != nil {
		return err
	}
	env := []string{"TF_CLI_CONFIG_FILE=" + cliConfig, "CHECKPOINT_DISABLE=1", "TF_IN_AUTOMATION=1"}
	vars := []string{"-var", "endpoint=" + backend.Endpoint}

	step("creating the ledger table " + ledgerTableName + " in account " + emulator.AccountID + ", whose policy lets account " + partnerAccount + " replicate it")
	if err := createLedgerTable(ctx, backend.Endpoint); err != nil {
		return err
	}

	step("creating the migration target " + v2TableName + " in " + v2Region + " (customerId + order key)")
	if err := createV2Table(ctx, backend.Endpoint); err != nil {
		return err
	}

	step("terraform apply examples/demo, while an application keeps writing orders in " + region)
	stopWriter := startOrderWriter(ctx, backend.Endpoint)
	err = sh(ctx, config, env, "terraform", append([]string{"apply", "-auto-approve", "-input=false", "-no-color"}, vars...)...)
	if err != nil {
		stopWriter()
		return err
	}
	step("the demo table as the provider describes it")
	if err := sh(ctx, config, env, "terraform", "output", "-no-color", "table"); err != nil {
		return err
	}
	step("writing an order in eu-west-1 and reading it back in ap-northeast-1")
	if err := crossRegionRoundTrip(ctx, backend.Endpoint); err != nil {
		return err
	}
	step("the ledger's replica in account " + partnerAccount + " (us-west-2): an entry written in account " + emulator.AccountID + " read there")
	if err := crossAccountRead(ctx, backend.Endpoint); err != nil {
		return err
	}
	if err := sh(ctx, config, env, "terraform", "output", "-no-color", "partner_replica"); err != nil {
		return err
	}
	step("the upgrade of " + legacyTableName + " as the provider recorded it")
	if err := sh(ctx, config, env, "terraform", "output", "-no-color", "upgrade"); err != nil {
		return err
	}
	step("the application stops writing to " + tableName + "; plan shows what the migration still has to apply")
	fmt.Printf("   the writer made %d changes during the migration\n", stopWriter())
	if err := sh(ctx, config, env, "terraform", append([]string{"plan", "-input=false", "-no-color"}, vars...)...); err != nil {
		return err
	}
	step("terraform apply -var cutover=true: drain the stream, verify every item, complete")
	if err := sh(ctx, config, env, "terraform", append([]string{"apply", "-auto-approve", "-input=false", "-no-color", "-var", "cutover=true"}, vars...)...); err != nil {
		return err
	}
	if err := sh(ctx, config, env, "terraform", "output", "-no-color", "migration"); err != nil {
		return err
	}
	step("terraform destroy")
	if err := sh(ctx, config, env, "terraform", append([]string{"destroy", "-auto-approve", "-input=false", "-no-color"}, vars...)...); err != nil {
		return err
	}
	step("done: the backend stops now")
	return nil
}

func step(msg string) { fmt.Printf("\n==> %s\n", msg) }

// createV2Table makes the migration's target: another Region, and the customer key
// renamed to customerId (the migration's transform does the renaming).
func createV2Table(ctx context.Context, endpoint string) error {
	client := demoClient(endpoint, v2Region)
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(v2TableName),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("customerId"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("order"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("customerId"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("order"), KeyType: types.KeyTypeRange},
		},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("creating %s: %w", v2TableName, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 200 * time.Millisecond })
	return waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(v2TableName)}, time.Minute)
}

// startOrderWriter plays the application: it places, updates and cancels orders in the
// source table about 20 times a second until stopped, and stop returns how many
// changes it made.
func startOrderWriter(ctx context.Context, endpoint string) (stop func() int) {
	client := demoClient(endpoint, region)
	done := make(chan struct{})
	finished := make(chan struct{})
	n := 0
	go func() {
		defer close(finished)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			key := map[string]types.AttributeValue{
				"customer": &types.AttributeValueMemberS{Value: fmt.Sprintf("c-%d", i%17)},
				"order":    &types.AttributeValueMemberS{Value: fmt.Sprintf("o-live-%03d", i%40)},
			}
			var err error
			switch i % 5 {
			case 4:
				_, err = client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(tableName), Key: key})
			default:
				item := map[string]types.AttributeValue{"total": &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.%02d", i, i%100)}}
				for k, v := range key {
					item[k] = v
				}
				_, err = client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tableName), Item: item})
			}
			if err == nil {
				n++
			}
		}
	}()
	var once bool
	return func() int {
		if !once {
			once = true
			close(done)
			<-finished
		}
		return n
	}
}

// crossRegionRoundTrip writes through one replica and waits for the item in another:
// what a global table is for.
func crossRegionRoundTrip(ctx context.Context, endpoint string) error {
	key := map[string]types.AttributeValue{
		"customer": &types.AttributeValueMemberS{Value: "c-7"},
		"order":    &types.AttributeValueMemberS{Value: "o-eu-001"},
	}
	item := map[string]types.AttributeValue{"total": &types.AttributeValueMemberN{Value: "99.50"}, "placedIn": &types.AttributeValueMemberS{Value: "eu-west-1"}}
	for k, v := range key {
		item[k] = v
	}
	if _, err := demoClient(endpoint, "eu-west-1").PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(tableName), Item: item}); err != nil {
		return fmt.Errorf("writing in eu-west-1: %w", err)
	}
	fmt.Println("   PutItem in eu-west-1: customer=c-7 order=o-eu-001 total=99.50")
	tokyo := demoClient(endpoint, "ap-northeast-1")
	start := time.Now()
	for time.Since(start) < 30*time.Second {
		out, err := tokyo.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(tableName), Key: key})
		if err != nil {
			return fmt.Errorf("reading in ap-northeast-1: %w", err)
		}
		if total, ok := out.Item["total"].(*types.AttributeValueMemberN); ok {
			fmt.Printf("   GetItem in ap-northeast-1 after %s: total=%s placedIn=%s\n",
				time.Since(start).Round(time.Millisecond), total.Value, out.Item["placedIn"].(*types.AttributeValueMemberS).Value)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the order written in eu-west-1 did not reach ap-northeast-1 within 30s")
}

func demoClient(endpoint, region string) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("demo", "demo", ""),
	})
}

func createDemoTable(ctx context.Context, endpoint string) error {
	client := demoClient(endpoint, region)
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName: aws.String(tableName),
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("customer"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("order"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("customer"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("order"), KeyType: types.KeyTypeRange},
		},
		BillingMode:         types.BillingModePayPerRequest,
		StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
	})
	if err != nil {
		return fmt.Errorf("creating %s: %w", tableName, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 200 * time.Millisecond })
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(tableName)}, time.Minute); err != nil {
		return err
	}
	for i := 1; i <= 3; i++ {
		_, err := client.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(tableName),
			Item: map[string]types.AttributeValue{
				"customer": &types.AttributeValueMemberS{Value: "c-42"},
				"order":    &types.AttributeValueMemberS{Value: fmt.Sprintf("o-%03d", i)},
				"total":    &types.AttributeValueMemberN{Value: fmt.Sprintf("%d.95", 10*i)},
			},
		})
		if err != nil {
			return err
		}
	}
	fmt.Println("   3 orders written")
	return nil
}

// createLegacyTable makes a legacy global table with the drift legacy tables collect:
// provisioned writes without auto scaling, and TTL enabled in one Region only.
func createLegacyTable(ctx context.Context, endpoint string) error {
	for _, r := range legacyRegions {
		client := demoClient(endpoint, r)
		_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
			TableName:             aws.String(legacyTableName),
			AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: aws.String("song"), AttributeType: types.ScalarAttributeTypeS}},
			KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("song"), KeyType: types.KeyTypeHash}},
			BillingMode:           types.BillingModeProvisioned,
			ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(5)},
			StreamSpecification:   &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewTypeNewAndOldImages},
		})
		if err != nil {
			return fmt.Errorf("creating %s in %s: %w", legacyTableName, r, err)
		}
		waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 200 * time.Millisecond })
		if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(legacyTableName)}, time.Minute); err != nil {
			return err
		}
	}
	// AWS refuses CreateGlobalTable for new legacy tables; the emulator's admin API
	// makes one over the empty tables, standing in for a legacy table that exists.
	if err := adminPost(ctx, endpoint, "legacy-global-table", map[string]any{"globalTableName": legacyTableName, "regions": legacyRegions}); err != nil {
		return fmt.Errorf("creating the legacy global table %s: %w", legacyTableName, err)
	}
	home := demoClient(endpoint, legacyRegions[0])
	if _, err := home.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(legacyTableName),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{Enabled: aws.Bool(true), AttributeName: aws.String("expiresAt")},
	}); err != nil {
		return err
	}
	fmt.Println("   provisioned writes without auto scaling in both Regions; TTL on expiresAt in " + legacyRegions[0] + " only")
	return nil
}

func sh(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w", name, args, err)
	}
	return nil
}

func copyDir(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// The ledger shows a multi-account global table: the demo's account owns the table and
// lets the partner account replicate it (the partner's ddbglobal provider creates the
// replica in examples/demo).
const (
	ledgerTableName = "demo-ledger"
	partnerAccount  = "222222222222" // the emulator's account for a twelve-digit access key
)

func createLedgerTable(ctx context.Context, endpoint string) error {
	client := demoClient(endpoint, region)
	out, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(ledgerTableName),
		BillingMode:          types.BillingModePayPerRequest,
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("entry"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("entry"), AttributeType: types.ScalarAttributeTypeS}},
	})
	if err != nil {
		return err
	}
	arn := aws.ToString(out.TableDescription.TableArn)
	policy := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"Service":["replication.dynamodb.amazonaws.com"]},` +
		`"Action":["dynamodb:ReadDataForReplication","dynamodb:WriteDataForReplication","dynamodb:ReplicateSettings"],"Resource":"` + arn + `",` +
		`"Condition":{"StringEquals":{"aws:SourceAccount":["` + emulator.AccountID + `","` + partnerAccount + `"]}}},` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + partnerAccount + `:root"},"Action":["dynamodb:DescribeTable","dynamodb:GetResourcePolicy"],"Resource":"` + arn + `"}]}`
	if _, err := client.PutResourcePolicy(ctx, &dynamodb.PutResourcePolicyInput{ResourceArn: aws.String(arn), Policy: aws.String(policy)}); err != nil {
		return err
	}
	_, err = client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(ledgerTableName), Item: map[string]types.AttributeValue{
		"entry": &types.AttributeValueMemberS{Value: "e-001"}, "amount": &types.AttributeValueMemberN{Value: "250"},
	}})
	return err
}

func crossAccountRead(ctx context.Context, endpoint string) error {
	partner := dynamodb.New(dynamodb.Options{Region: "us-west-2", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(partnerAccount, "demo", "")})
	start := time.Now()
	for time.Since(start) < 30*time.Second {
		out, err := partner.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(ledgerTableName),
			Key: map[string]types.AttributeValue{"entry": &types.AttributeValueMemberS{Value: "e-001"}}})
		if err != nil {
			return fmt.Errorf("reading in account %s: %w", partnerAccount, err)
		}
		if amount, ok := out.Item["amount"].(*types.AttributeValueMemberN); ok {
			fmt.Printf("   GetItem in account %s, us-west-2: entry=e-001 amount=%s\n", partnerAccount, amount.Value)
			_, err := demoClient(endpoint, "us-west-2").GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(ledgerTableName),
				Key: map[string]types.AttributeValue{"entry": &types.AttributeValueMemberS{Value: "e-001"}}})
			fmt.Printf("   the same read with account %s's credentials in us-west-2: %v\n", emulator.AccountID, err)
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the ledger entry did not reach account %s within 30s", partnerAccount)
}

// adminPost calls the emulator's admin API.
func adminPost(ctx context.Context, endpoint, path string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/_emulator/"+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("emulator admin %s: %s: %s", path, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}
