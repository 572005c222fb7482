// Command ddbglobal-sync keeps the target of a ddbglobal live migration in
// sync with its source until the migration is cut over.
//
// It reads the migration's settings from the checkpoint table, so it needs only
// the table, its Region and the migration id:
//
//	ddbglobal-sync -checkpoint-table ddbglobal-migrations -region eu-west-1 -id orders-v2
//
// Any number of runners (and `terraform apply`) may work on one migration at
// once: they share backfill segments and stream shards through leases in the
// checkpoint table. A runner exits 0 when the migration reaches cutting_over or
// completed, on SIGTERM/SIGINT (after releasing its leases), and 1 on a failure
// — including "re-backfill required" when stream data was lost.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		table       = flag.String("checkpoint-table", "", "checkpoint table name (required)")
		region      = flag.String("region", os.Getenv("AWS_REGION"), "Region of the checkpoint table (default $AWS_REGION)")
		id          = flag.String("id", "", "migration id (required)")
		endpoint    = flag.String("endpoint", "", "endpoint URL for DynamoDB and DynamoDB Streams in every Region (local emulators)")
		profile     = flag.String("profile", "", "shared config profile")
		lease       = flag.Duration("lease", 30*time.Second, "lease duration; a killed runner's work is resumed this long after")
		parallelism = flag.Int("parallelism", 0, "backfill segments scanned at once by this runner (default min(segments, 8))")
		verbose     = flag.Bool("v", false, "debug logging")
	)
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if *table == "" || *id == "" || *region == "" {
		fmt.Fprintln(os.Stderr, "ddbglobal-sync: -checkpoint-table, -id and -region (or AWS_REGION) are required")
		flag.Usage()
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	opts := []func(*config.LoadOptions) error{config.WithRegion(*region)}
	if *profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(*profile))
	}
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		log.Error("loading AWS configuration", "error", err.Error())
		return 1
	}
	ck := ddbFor(base, *region, "", *endpoint)
	cfg, err := migration.LoadConfig(ctx, ck, *table, *id)
	if err != nil {
		log.Error("loading the migration", "error", err.Error())
		return 1
	}
	cfg.CheckpointClient = ck
	cfg.Source.DynamoDB = ddbFor(base, cfg.Source.Region, cfg.Source.RoleARN, *endpoint)
	cfg.Source.Streams = streamsFor(base, cfg.Source.Region, cfg.Source.RoleARN, *endpoint)
	cfg.Target.DynamoDB = ddbFor(base, cfg.Target.Region, cfg.Target.RoleARN, *endpoint)
	cfg.LeaseDuration = *lease
	cfg.Parallelism = *parallelism
	cfg.Logger = log
	m, err := migration.New(cfg)
	if err != nil {
		log.Error("invalid migration", "error", err.Error())
		return 1
	}
	log.Info("keeping the target in sync", "id", *id, "source", cfg.Source.Table, "source_region", cfg.Source.Region,
		"target", cfg.Target.Table, "target_region", cfg.Target.Region)
	err = m.Run(ctx)
	switch {
	case err == nil:
		log.Info("migration is cutting over or completed; runner done", "id", *id)
		return 0
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		log.Info("stopped by signal; leases released", "id", *id)
		return 0
	case errors.Is(err, migration.ErrMigrationReplaced):
		log.Error("the migration was forgotten or started again with other settings while this runner ran; it stopped "+
			"without writing for the old one. Start the runner again to work on the new one", "id", *id, "error", err.Error())
		return 1
	case errors.Is(err, migration.ErrRebackfillRequired):
		log.Error("stream data was lost; the migration must be forgotten and started again", "id", *id, "error", err.Error())
		return 1
	default:
		log.Error("sync failed; run again to resume from the last checkpoint", "id", *id, "error", err.Error())
		return 1
	}
}

// awsFor returns base for region, with credentials from assuming roleARN if set.
func awsFor(base aws.Config, region, roleARN string) aws.Config {
	c := base.Copy()
	c.Region = region
	if roleARN != "" {
		c.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base), roleARN))
	}
	return c
}

func ddbFor(base aws.Config, region, roleARN, endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsFor(base, region, roleARN), func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

func streamsFor(base aws.Config, region, roleARN, endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(awsFor(base, region, roleARN), func(o *dynamodbstreams.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}
