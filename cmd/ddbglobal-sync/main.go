// Command ddbglobal-sync keeps the target of a ddbglobal live migration in
// sync with its source (and, with sync = "external", does its backfill) until
// the migration is cut over.
//
// It reads the migration's settings from the checkpoint table, but trusts
// them only where its own configuration agrees: the source and target tables
// and Regions (taken from a migration id of the form the Terraform resource
// uses, source Region/table/target Region/table, or set with flags), and the
// roles it may assume:
//
//	ddbglobal-sync -checkpoint-table ddbglobal-migrations -region eu-west-1 \
//	    -id us-east-1/orders/eu-west-1/orders-v2 -listen :9090
//
// Every flag can also be set through the environment: -checkpoint-table is
// DDBGLOBAL_SYNC_CHECKPOINT_TABLE, and so on (a flag wins over the environment).
//
// Any number of runners (and `terraform apply`) may work on one migration at
// once: they share backfill segments and stream shards through leases in the
// checkpoint table. On SIGTERM or SIGINT a runner finishes the pages in hand,
// releases its leases (another runner takes them over at once) and exits 0; a
// second signal stops it at once.
//
// Exit codes:
//
//	0  the migration reached cutting_over or completed, or the runner was stopped by a signal
//	1  a failure; run again to resume from the last checkpoint (also: the migration
//	   was forgotten or started again with other settings while the runner ran)
//	2  bad usage (flags or environment)
//	3  refused: the checkpoint table's settings do not match this runner's configuration
//	4  stream data was lost: the migration must be forgotten and started again
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/awsclient"
	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// Set at build time (-ldflags -X main.version=...).
var (
	version = "dev"
	commit  = "none"
)

// Exit codes (see the package documentation).
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitRefused = 3
	exitLoss    = 4
)

// envPrefix names the environment variable of each flag: DDBGLOBAL_SYNC_ and
// the flag's name in capitals with - as _.
const envPrefix = "DDBGLOBAL_SYNC_"

func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := make(chan struct{})
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		close(stop) // finish the pages in hand, release the leases
		<-sig
		cancel() // a second signal: stop at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr, stop))
}

// run is the runner; stop asks for a graceful stop.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, stop <-chan struct{}) int {
	fs := flag.NewFlagSet("ddbglobal-sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		table       = fs.String("checkpoint-table", "", "checkpoint table name (required)")
		region      = fs.String("region", getenv("AWS_REGION"), "Region of the checkpoint table (default $AWS_REGION)")
		id          = fs.String("id", "", "migration id (required)")
		endpoint    = fs.String("endpoint", "", "endpoint URL for DynamoDB, DynamoDB Streams and STS in every Region (local emulators)")
		profile     = fs.String("profile", "", "shared config profile")
		lease       = fs.Duration("lease", 30*time.Second, "lease duration; a killed runner's work is resumed this long after")
		parallelism = fs.Int("parallelism", 0, "backfill segments scanned at once by this runner (default min(segments, 8))")
		verbose     = fs.Bool("v", false, "debug logging")
		logFormat   = fs.String("log-format", "text", "log format: text or json")
		listen      = fs.String("listen", "", "address for /metrics (Prometheus), /healthz and /readyz, e.g. :9090 (default: none)")
		showVersion = fs.Bool("version", false, "print the version and exit")
		p           pins
		accounts    string
	)
	fs.StringVar(&p.SourceTable, "source-table", "", "the source table this runner may read (default: from the migration id)")
	fs.StringVar(&p.SourceRegion, "source-region", "", "the source table's Region (default: from the migration id)")
	fs.StringVar(&p.TargetTable, "target-table", "", "the target table this runner may write (default: from the migration id)")
	fs.StringVar(&p.TargetRegion, "target-region", "", "the target table's Region (default: from the migration id)")
	fs.StringVar(&p.SourceRole, "source-role-arn", "", "the only role the runner may assume for the source (default: none, its own credentials)")
	fs.StringVar(&p.TargetRole, "target-role-arn", "", "the only role the runner may assume for the target (default: none, its own credentials)")
	fs.StringVar(&accounts, "allowed-accounts", "", "comma-separated AWS account ids whose roles the checkpoint table may name instead of a pinned role")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if *showVersion {
		fmt.Fprintf(stderr, "ddbglobal-sync %s (%s)\n", version, commit)
		return exitOK
	}
	// The environment fills in every flag not given on the command line.
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		if v := getenv(envName(f.Name)); v != "" && !set[f.Name] && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s=%q: %v", envName(f.Name), v, err)
			}
		}
	})
	if envErr != nil {
		fmt.Fprintln(stderr, "ddbglobal-sync:", envErr)
		return exitUsage
	}
	for _, a := range strings.Split(accounts, ",") {
		if a = strings.TrimSpace(a); a != "" {
			p.Accounts = append(p.Accounts, a)
		}
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	var h slog.Handler
	switch *logFormat {
	case "text":
		h = slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})
	case "json":
		h = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})
	default:
		fmt.Fprintf(stderr, "ddbglobal-sync: -log-format must be text or json, not %q\n", *logFormat)
		return exitUsage
	}
	log := slog.New(h)
	if *table == "" || *id == "" || *region == "" {
		fmt.Fprintln(stderr, "ddbglobal-sync: -checkpoint-table, -id and -region (or AWS_REGION) are required")
		fs.Usage()
		return exitUsage
	}
	p, err := resolvePins(*id, p)
	if err != nil {
		fmt.Fprintln(stderr, "ddbglobal-sync:", err)
		return exitUsage
	}

	pr := &probe{stale: max(3**lease, 30*time.Second)}
	if *listen != "" {
		addr, shutdown, err := serve(*listen, *id, pr)
		if err != nil {
			log.Error("listening for metrics and health checks", "address", *listen, "error", err.Error())
			return exitUsage
		}
		defer shutdown()
		log.Info("serving metrics and health checks", "address", addr)
	}
	go func() {
		select {
		case <-stop:
			pr.stopping.Store(true)
		case <-ctx.Done():
		}
	}()

	opts := []func(*config.LoadOptions) error{config.WithRegion(*region)}
	if *profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(*profile))
	}
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		log.Error("loading AWS configuration", "error", err.Error())
		return exitFailed
	}
	base.HTTPClient = awsclient.KeepConnections(base.HTTPClient)
	ck := ddbFor(base, *region, "", *endpoint)
	cfg, err := migration.LoadConfig(ctx, ck, *table, *id)
	if err != nil {
		log.Error("loading the migration", "error", err.Error())
		return exitFailed
	}
	// Nothing read from the checkpoint table is used before it matches the pins.
	if err := p.check(cfg); err != nil {
		log.Error("the checkpoint table's settings do not match this runner's configuration; it does nothing. "+
			"Someone may have changed the checkpoint table; check who can write it", "id", *id, "error", err.Error())
		return exitRefused
	}
	cfg.CheckpointClient = ck
	// The roles are the pinned ones, or roles of an allowed account (checked above).
	cfg.Source.DynamoDB = ddbFor(base, p.SourceRegion, cfg.Source.RoleARN, *endpoint)
	cfg.Source.Streams = streamsFor(base, p.SourceRegion, cfg.Source.RoleARN, *endpoint)
	cfg.Target.DynamoDB = ddbFor(base, p.TargetRegion, cfg.Target.RoleARN, *endpoint)
	cfg.LeaseDuration = *lease
	cfg.Parallelism = *parallelism
	cfg.Logger = log
	m, err := migration.New(cfg)
	if err != nil {
		log.Error("invalid migration", "error", err.Error())
		return exitFailed
	}
	pr.m.Store(m)
	log.Info("working on the migration", "id", *id, "version", version, "source", cfg.Source.Table, "source_region", cfg.Source.Region,
		"target", cfg.Target.Table, "target_region", cfg.Target.Region)
	err = m.RunUntil(ctx, stop)
	stopped := false
	select {
	case <-stop:
		stopped = true
	default:
	}
	switch {
	case err == nil && stopped:
		log.Info("stopped by signal; pages in hand written, leases released", "id", *id)
		return exitOK
	case err == nil:
		log.Info("migration is cutting over or completed; runner done", "id", *id)
		return exitOK
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		log.Info("stopped at once by a second signal; leases released", "id", *id)
		return exitOK
	case errors.Is(err, migration.ErrMigrationReplaced):
		log.Error("the migration was forgotten or started again with other settings while this runner ran; it stopped "+
			"without writing for the old one. Start the runner again to work on the new one", "id", *id, "error", err.Error())
		return exitFailed
	case errors.Is(err, migration.ErrRebackfillRequired):
		log.Error("stream data was lost; the migration must be forgotten and started again", "id", *id, "error", err.Error())
		return exitLoss
	default:
		log.Error("sync failed; run again to resume from the last checkpoint", "id", *id, "error", err.Error())
		return exitFailed
	}
}

// awsFor returns base for region, with credentials from assuming roleARN if set
// (through STS at endpoint, if set).
func awsFor(base aws.Config, region, roleARN, endpoint string) aws.Config {
	c := base.Copy()
	c.Region = region
	if roleARN != "" {
		c.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(base, func(o *sts.Options) {
			if endpoint != "" {
				o.BaseEndpoint = aws.String(endpoint)
			}
		}), roleARN))
	}
	return c
}

func ddbFor(base aws.Config, region, roleARN, endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsFor(base, region, roleARN, endpoint), func(o *dynamodb.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}

func streamsFor(base aws.Config, region, roleARN, endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(awsFor(base, region, roleARN, endpoint), func(o *dynamodbstreams.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}
