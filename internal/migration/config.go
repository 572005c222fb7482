package migration

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
)

// DynamoDBAPI is the part of *dynamodb.Client the engine uses.
type DynamoDBAPI interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTable(context.Context, *dynamodb.UpdateTableInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// StreamsAPI is the part of *dynamodbstreams.Client the engine uses.
type StreamsAPI interface {
	DescribeStream(context.Context, *dynamodbstreams.DescribeStreamInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(context.Context, *dynamodbstreams.GetShardIteratorInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(context.Context, *dynamodbstreams.GetRecordsInput, ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// Logger receives progress and warnings. *slog.Logger satisfies it; the
// Terraform resource adapts tflog to it.
type Logger interface {
	Debug(msg string, args ...any)
	Info(msg string, args ...any)
	Warn(msg string, args ...any)
	Error(msg string, args ...any)
}

// HandOff selects how the backfill and the stream meet without an older value
// overwriting a newer one or a delete being undone.
type HandOff string

const (
	// HandOffInsertIfAbsent (DESIGN §6 (b), the default) applies the stream
	// during the backfill. Backfill writes are conditional puts that only insert
	// absent keys, so they never overwrite what the stream already wrote; stream
	// deletes leave tombstone items until the backfill ends, so a backfill write
	// of an item read before its deletion cannot bring it back. The stream is read
	// all along, so a backfill may last longer than the 24 h stream retention.
	// Cost: one conditional PutItem per item instead of BatchWriteItem.
	HandOffInsertIfAbsent HandOff = "insert_if_absent"
	// HandOffReplay (DESIGN §6 (a)) backfills with unconditional BatchWriteItem
	// (the fastest path) and starts applying the stream from the capture point
	// only once every segment is copied: replaying every change since capture in
	// order ends each key at its current state. The whole backfill must finish
	// well inside the stream's 24 h retention; if a shard is found to be older
	// than that before it is read, the run fails with "re-backfill required".
	HandOffReplay HandOff = "replay"
	// HandOffAuto chooses when the migration starts and records the choice:
	// HandOffReplay when the backfill estimate (the source's item count and
	// size at the write limit, or at a new on-demand table's 4,000 units/s) fits
	// within Config.ReplayWithin, HandOffInsertIfAbsent otherwise. Should a
	// replay backfill outlast the stream's retention after all, the migration
	// fails loudly ("re-backfill required"); it never skips.
	HandOffAuto HandOff = "auto"
)

// DefaultReplayWithin is how long a backfill may be estimated to take for
// HandOffAuto to choose replay: half the stream's 24 h retention.
const DefaultReplayWithin = 12 * time.Hour

// nominalWriteRate is the write rate assumed for estimates when no write limit
// is set: what a new on-demand table sustains at first (units per second).
const nominalWriteRate = 4000.0

// VerifyMode selects what Verify compares.
type VerifyMode string

const (
	VerifyFull  VerifyMode = "full"  // every item, canonically, both directions
	VerifyCount VerifyMode = "count" // item counts only
	VerifyNone  VerifyMode = "none"
)

// Endpoint is one side of a migration. Clients are built by the caller, so a
// side may live in another Region or account (assumed role) than the other.
type Endpoint struct {
	Table   string
	Region  string // recorded for the runner, which builds its own clients
	RoleARN string // recorded for the runner; empty = the runner's own credentials
	// DynamoDB is required on both sides; Streams only on the source.
	DynamoDB DynamoDBAPI
	Streams  StreamsAPI
}

// Config describes one migration. The fields from ID to StreamViewType are
// stored in the checkpoint table so that the runner can resume from the id
// alone; those marked "fingerprinted" may not change for the life of a migration.
type Config struct {
	ID     string   // migration id, the checkpoint table's partition key
	Source Endpoint // fingerprinted: Table, Region
	Target Endpoint // fingerprinted: Table, Region

	// CheckpointTable is created on demand (on-demand billing) through
	// CheckpointClient, which defaults to Target.DynamoDB.
	CheckpointTable  string
	CheckpointRegion string // recorded for the runner
	CheckpointClient DynamoDBAPI

	Segments int     // fingerprinted: backfill segments (leased and checkpointed), each read as Scan segments of about 1 MB; default 16
	HandOff  HandOff // fingerprinted; default HandOffInsertIfAbsent
	// ReplayWithin bounds the backfill estimate for which HandOffAuto chooses
	// replay; default DefaultReplayWithin.
	ReplayWithin     time.Duration
	VersionAttribute string    // fingerprinted: replicated writes only win when newer (see apply.go)
	Transform        Transform // fingerprinted
	// StreamViewType is used when the source has no stream and the engine enables
	// one; default NEW_AND_OLD_IMAGES.
	StreamViewType string

	// Backfill is how existing items are copied (fingerprinted): BackfillScan
	// (default) or BackfillRestore (see restore.go).
	Backfill BackfillMethod
	// RestoreMargin is how far past the capture a restore's data must be
	// (tuning, not stored); default DefaultRestoreMargin.
	RestoreMargin time.Duration

	// OverwriteTarget lets a migration start into a target table that already
	// holds items (a re-run after a loss, say): Start deletes every target item
	// after the capture and before the backfill, so the target ends equal to
	// the source. Without it Start refuses a target that holds items
	// (ErrTargetNotEmpty), since the backfill never replaces what it finds.
	OverwriteTarget bool

	// Throughput limits in capacity units per second, 0 = unlimited. Charged
	// with the ConsumedCapacity DynamoDB reports.
	MaxReadUnits  float64
	MaxWriteUnits float64

	// Tuning for this process, not stored.
	Parallelism      int           // segments scanned at once by this process; default min(Segments, 8)
	WriteConcurrency int           // BatchWriteItem calls in flight (4× as many single-item writes); default 16
	LeaseDuration    time.Duration // default 30 s
	// RequestTimeout bounds each request made under a lease, and is the longest
	// the engine assumes DynamoDB may still apply a write after the client gave
	// up on it: a new lease owner waits this long past the previous lease (or
	// past an abandoned write) before its first write. Default: a third of
	// LeaseDuration (10 s by default); at most a
	// third of LeaseDuration is useful, since requests also end at the lease's
	// safety margin.
	RequestTimeout   time.Duration
	PollInterval     time.Duration // idle wait between GetRecords on an open shard; default 250 ms
	ProgressInterval time.Duration // progress log period; default 5 s
	Owner            string        // lease owner name; default host-pid-random
	Logger           Logger        // default: discard

	// OnApplied, if set, is called after each streamed put is written, with the
	// target item; used for lag measurements.
	OnApplied func(Item)
}

func (c *Config) setDefaults() {
	if c.Segments == 0 {
		c.Segments = 16
	}
	if c.Backfill == "" {
		c.Backfill = BackfillScan
	}
	if c.Backfill == BackfillRestore && (c.HandOff == "" || c.HandOff == HandOffAuto) {
		c.HandOff = HandOffReplay
	}
	if c.RestoreMargin == 0 {
		c.RestoreMargin = DefaultRestoreMargin
	}
	if c.HandOff == "" {
		c.HandOff = HandOffInsertIfAbsent
	}
	if c.StreamViewType == "" {
		c.StreamViewType = "NEW_AND_OLD_IMAGES"
	}
	if c.Parallelism == 0 {
		c.Parallelism = min(c.Segments, 8)
	}
	if c.WriteConcurrency == 0 {
		c.WriteConcurrency = 16
	}
	if c.LeaseDuration == 0 {
		c.LeaseDuration = 30 * time.Second
	}
	if c.ReplayWithin == 0 {
		c.ReplayWithin = DefaultReplayWithin
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = c.LeaseDuration / 3
	}
	if c.PollInterval == 0 {
		c.PollInterval = 250 * time.Millisecond
	}
	if c.ProgressInterval == 0 {
		c.ProgressInterval = 5 * time.Second
	}
	if c.CheckpointClient == nil {
		c.CheckpointClient = c.Target.DynamoDB
	}
	if c.CheckpointRegion == "" {
		c.CheckpointRegion = c.Target.Region
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

func (c *Config) validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New("ID is required"))
	}
	if c.Source.Table == "" || c.Target.Table == "" {
		errs = append(errs, errors.New("source and target table names are required"))
	}
	if c.Source.DynamoDB == nil || c.Source.Streams == nil || c.Target.DynamoDB == nil {
		errs = append(errs, errors.New("source DynamoDB and Streams clients and a target DynamoDB client are required"))
	}
	if c.CheckpointTable == "" {
		errs = append(errs, errors.New("CheckpointTable is required"))
	}
	if c.Source.Table == c.Target.Table && c.Source.Region == c.Target.Region && c.Source.RoleARN == c.Target.RoleARN {
		errs = append(errs, errors.New("source and target are the same table"))
	}
	if c.Segments < 1 || c.Segments > 1_000_000 {
		errs = append(errs, fmt.Errorf("Segments must be 1..1000000, got %d", c.Segments))
	}
	if c.HandOff != HandOffInsertIfAbsent && c.HandOff != HandOffReplay && c.HandOff != HandOffAuto {
		errs = append(errs, fmt.Errorf("HandOff must be %q, %q or %q, got %q", HandOffAuto, HandOffInsertIfAbsent, HandOffReplay, c.HandOff))
	}
	switch c.StreamViewType {
	case "NEW_AND_OLD_IMAGES", "NEW_IMAGE", "KEYS_ONLY", "OLD_IMAGE":
	default:
		errs = append(errs, fmt.Errorf("StreamViewType %q is not a DynamoDB stream view type", c.StreamViewType))
	}
	if c.VersionAttribute != "" && c.StreamViewType != "NEW_AND_OLD_IMAGES" {
		errs = append(errs, fmt.Errorf("VersionAttribute needs a NEW_AND_OLD_IMAGES stream (a delete carries its version only in the old image), not %s", c.StreamViewType))
	}
	if c.MaxReadUnits < 0 || c.MaxWriteUnits < 0 {
		errs = append(errs, errors.New("throughput limits must not be negative"))
	}
	if c.LeaseDuration < time.Second {
		errs = append(errs, errors.New("LeaseDuration must be at least 1s"))
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, errors.New("RequestTimeout must not be negative"))
	}
	if err := c.Transform.Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, c.validateRestore()...)
	return errors.Join(errs...)
}

// EstimateBackfill is how long a backfill of items totalling sizeBytes takes at
// the write limit (or nominalWriteRate) and read limit: one write unit per KB
// of each item, one strongly consistent read unit per 4 KB scanned.
func (c *Config) EstimateBackfill(items, sizeBytes int64) time.Duration {
	if items <= 0 {
		return 0
	}
	kbPerItem := max(1, (float64(sizeBytes)/float64(items)+1023)/1024)
	kbPerItem = float64(int64(kbPerItem))
	write := c.MaxWriteUnits
	if write <= 0 {
		write = nominalWriteRate
	}
	secs := float64(items) * kbPerItem / write
	if c.MaxReadUnits > 0 {
		secs = max(secs, float64(sizeBytes)/4096/c.MaxReadUnits)
	}
	return time.Duration(secs * float64(time.Second))
}

// ResolveHandOff is the hand-off HandOffAuto chooses for a backfill estimated
// to take estimate, and why; other hand-offs are returned as they are.
func (c *Config) ResolveHandOff(estimate time.Duration) (HandOff, string) {
	if c.HandOff != HandOffAuto {
		return c.HandOff, "configured"
	}
	if estimate <= c.ReplayWithin {
		return HandOffReplay, fmt.Sprintf("the backfill is estimated at %s, within %s of the stream's 24 h retention: "+
			"a fast BatchWriteItem backfill, then the stream replayed from the capture", estimate.Round(time.Second), c.ReplayWithin)
	}
	return HandOffInsertIfAbsent, fmt.Sprintf("the backfill is estimated at %s, more than %s: the stream is applied during "+
		"the backfill, whose writes only insert absent keys, so it may outlast the stream's retention", estimate.Round(time.Second), c.ReplayWithin)
}

// fingerprint hashes the settings that a running migration's checkpoints depend on.
func (c *Config) fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %q %q %q %d %q %q\n", c.Source.Table, c.Source.Region, c.Target.Table, c.Target.Region, c.Segments, c.HandOff, c.VersionAttribute)
	if c.Backfill == BackfillRestore { // scan migrations keep the fingerprint they had before restores existed
		fmt.Fprintf(h, "backfill %q\n", c.Backfill)
	}
	for _, k := range sortedKeys(c.Transform.Rename) {
		fmt.Fprintf(h, "rename %q %q\n", k, c.Transform.Rename[k])
	}
	for _, d := range c.Transform.dropSorted() {
		fmt.Fprintf(h, "drop %q\n", d)
	}
	for _, k := range sortedKeys(c.Transform.Set) {
		fmt.Fprintf(h, "set %q %s\n", k, canonicalText(c.Transform.Set[k]))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// canonicalText renders an AttributeValue deterministically for fingerprints.
func canonicalText(av types.AttributeValue) string {
	switch v := av.(type) {
	case *types.AttributeValueMemberM:
		s := "M{"
		for _, k := range sortedKeys(v.Value) {
			s += strconv.Quote(k) + ":" + canonicalText(v.Value[k]) + ","
		}
		return s + "}"
	case *types.AttributeValueMemberL:
		s := "L["
		for _, e := range v.Value {
			s += canonicalText(e) + ","
		}
		return s + "]"
	case *types.AttributeValueMemberN:
		return "N:" + canonicalOrRaw(v.Value)
	default:
		return fmt.Sprintf("%T:%v", av, av)
	}
}

// configItem is the stored form of the config (without clients and tuning).
func (c *Config) configItem() Item {
	side := func(e Endpoint) types.AttributeValue {
		return &types.AttributeValueMemberM{Value: Item{
			"table": sAV(e.Table), "region": sAV(e.Region), "roleArn": sAV(e.RoleARN),
		}}
	}
	rename := Item{}
	for k, v := range c.Transform.Rename {
		rename[k] = sAV(v)
	}
	drop := make([]types.AttributeValue, len(c.Transform.Drop))
	for i, d := range c.Transform.Drop {
		drop[i] = sAV(d)
	}
	set := Item{}
	for k, v := range c.Transform.Set {
		set[k] = v
	}
	return Item{
		"source":           side(c.Source),
		"target":           side(c.Target),
		"checkpointRegion": sAV(c.CheckpointRegion),
		"segments":         nAV(int64(c.Segments)),
		"handOff":          sAV(string(c.HandOff)),
		"backfill":         sAV(string(c.Backfill)),
		"versionAttribute": sAV(c.VersionAttribute),
		"streamViewType":   sAV(c.StreamViewType),
		"maxReadUnits":     &types.AttributeValueMemberN{Value: strconv.FormatFloat(c.MaxReadUnits, 'f', -1, 64)},
		"maxWriteUnits":    &types.AttributeValueMemberN{Value: strconv.FormatFloat(c.MaxWriteUnits, 'f', -1, 64)},
		"transform": &types.AttributeValueMemberM{Value: Item{
			"rename": &types.AttributeValueMemberM{Value: rename},
			"drop":   &types.AttributeValueMemberL{Value: drop},
			"set":    &types.AttributeValueMemberM{Value: set},
		}},
		"fingerprint": sAV(c.fingerprint()),
	}
}

func configFromItem(id, table string, it Item) Config {
	side := func(av types.AttributeValue) Endpoint {
		m := mAV(av)
		return Endpoint{Table: sOf(m["table"]), Region: sOf(m["region"]), RoleARN: sOf(m["roleArn"])}
	}
	tr := mAV(it["transform"])
	var t Transform
	if r := mAV(tr["rename"]); len(r) > 0 {
		t.Rename = map[string]string{}
		for k, v := range r {
			t.Rename[k] = sOf(v)
		}
	}
	if l, ok := tr["drop"].(*types.AttributeValueMemberL); ok {
		for _, d := range l.Value {
			t.Drop = append(t.Drop, sOf(d))
		}
	}
	if s := mAV(tr["set"]); len(s) > 0 {
		t.Set = s
	}
	rd, _ := strconv.ParseFloat(nOf(it["maxReadUnits"]), 64)
	wr, _ := strconv.ParseFloat(nOf(it["maxWriteUnits"]), 64)
	return Config{
		ID:               id,
		Source:           side(it["source"]),
		Target:           side(it["target"]),
		CheckpointTable:  table,
		CheckpointRegion: sOf(it["checkpointRegion"]),
		Segments:         int(intOf(it["segments"])),
		HandOff:          HandOff(sOf(it["handOff"])),
		Backfill:         BackfillMethod(sOf(it["backfill"])),
		VersionAttribute: sOf(it["versionAttribute"]),
		StreamViewType:   sOf(it["streamViewType"]),
		MaxReadUnits:     rd,
		MaxWriteUnits:    wr,
		Transform:        t,
	}
}

// LoadConfig reads a migration's stored config from the checkpoint table, for
// a runner that knows only the id. The caller fills in clients and tuning.
func LoadConfig(ctx context.Context, client DynamoDBAPI, checkpointTable, id string) (Config, error) {
	out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      &checkpointTable,
		Key:            entryKey(id, entryConfig),
		ConsistentRead: ptr(true),
	})
	if err != nil {
		return Config{}, fmt.Errorf("reading migration %q from %s: %w", id, checkpointTable, err)
	}
	if out.Item == nil {
		return Config{}, fmt.Errorf("migration %q not found in checkpoint table %s", id, checkpointTable)
	}
	return configFromItem(id, checkpointTable, out.Item), nil
}

func ptr[T any](v T) *T { return &v }

func sAV(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
func nAV(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func sOf(av types.AttributeValue) string {
	if v, ok := av.(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func nOf(av types.AttributeValue) string {
	if v, ok := av.(*types.AttributeValueMemberN); ok {
		return v.Value
	}
	return "0"
}

func intOf(av types.AttributeValue) int64 {
	n, _ := strconv.ParseInt(nOf(av), 10, 64)
	return n
}

func boolOf(av types.AttributeValue) bool {
	v, ok := av.(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

func mAV(av types.AttributeValue) Item {
	if v, ok := av.(*types.AttributeValueMemberM); ok {
		return v.Value
	}
	return nil
}
