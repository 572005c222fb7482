package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awstypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

// AWS's rules for replicas that are harsher than DynamoDB's API makes them look
// (shared/FACTS.md): keys per replica, warm throughput against the destination's
// maximum, PITR that is not available right after ACTIVE, settings changes that keep
// a table UPDATING, and the 24 h hold on a Region that sourced a replica create.

// configuredKey is kms_key_arn as configured (null when not set; the plan's value is
// unknown then, as the attribute is computed).
func (r *replicaResource) configuredKey(ctx context.Context, config tfsdk.Config, diags *diag.Diagnostics) types.String {
	var key types.String
	diags.Append(config.GetAttribute(ctx, path.Root("kms_key_arn"), &key)...)
	return key
}

// checkReplicaRules returns a *refusal for a replica AWS would refuse because of its key
// or warm throughput, nil when there is none, or the error of a check that failed.
// (A key ARN in another Region is refused by ValidateConfig.)
func (r *replicaResource) checkReplicaRules(ctx context.Context, table, region, source string, key types.String) error {
	desc, err := r.meta.Tables.FindTable(ctx, r.meta.AWS.DynamoDB(source), table)
	if ddb.IsNotFound(err) {
		return nil // reported by checkCanAddReplica
	}
	if err != nil {
		return err
	}
	if msg := r.checkReplicaKey(ctx, desc, table, region, source, key); msg != "" {
		return refuse(path.Root("kms_key_arn"), "%s", msg)
	}
	if msg := r.checkWarmThroughput(ctx, desc, table, region); msg != "" {
		return refuse(path.Root("region"), "%s", msg)
	}
	return nil
}

// checkReplicaKey applies the encryption rules: on a table with a customer managed key
// every replica names a key in its own Region ("KMSMasterKeyId must be specified for
// each replica."); a table with the AWS owned key takes no replica key.
func (r *replicaResource) checkReplicaKey(ctx context.Context, desc *awstypes.TableDescription, table, region, source string, key types.String) string {
	if key.IsUnknown() {
		return ""
	}
	given := key.ValueString()
	sse := desc.SSEDescription
	ownedKey := sse == nil || sse.SSEType != awstypes.SSETypeKms || aws.ToString(sse.KMSMasterKeyArn) == ""
	if ownedKey {
		if given != "" {
			return fmt.Sprintf("Table %q is encrypted with the AWS owned key; DynamoDB refuses a replica key for it. Remove "+
				"kms_key_arn, or switch the table to a customer managed key first (aws_dynamodb_table server_side_encryption).", table)
		}
		return ""
	}
	if given != "" {
		return ""
	}
	tableKey := aws.ToString(sse.KMSMasterKeyArn)
	out, err := r.meta.AWS.KMS(source).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(tableKey)})
	if err != nil {
		// Without kms:DescribeKey the rule cannot be checked here; DynamoDB still applies it.
		tflog.Warn(ctx, "cannot tell whether the table's key is customer managed", map[string]any{"key": tableKey, "cause": err.Error()})
		return ""
	}
	if out.KeyMetadata != nil && out.KeyMetadata.KeyManager == kmstypes.KeyManagerTypeCustomer {
		return fmt.Sprintf("Table %q is encrypted with the customer managed key %s, so DynamoDB requires a key of the replica's "+
			"own in %s for every replica (\"KMSMasterKeyId must be specified for each replica.\"). Set kms_key_arn to the ARN "+
			"of a key in %s.", table, tableKey, region, region)
	}
	return ""
}

// checkWarmThroughput refuses a replica whose table's warm throughput is above the
// destination Region's table maximum: the create would fail with
// LimitExceededException (AWS provider issue #46228, where apply hangs on it).
func (r *replicaResource) checkWarmThroughput(ctx context.Context, desc *awstypes.TableDescription, table, region string) string {
	w := desc.WarmThroughput
	if w == nil {
		return ""
	}
	limits, err := r.meta.AWS.DynamoDB(region).DescribeLimits(ctx, &dynamodb.DescribeLimitsInput{})
	if err != nil {
		tflog.Warn(ctx, "cannot read the destination Region's table limits", map[string]any{"cause": err.Error()})
		return ""
	}
	read, write := aws.ToInt64(w.ReadUnitsPerSecond), aws.ToInt64(w.WriteUnitsPerSecond)
	maxRead, maxWrite := aws.ToInt64(limits.TableMaxReadCapacityUnits), aws.ToInt64(limits.TableMaxWriteCapacityUnits)
	if read <= maxRead && write <= maxWrite {
		return ""
	}
	return fmt.Sprintf("Table %q has a warm throughput of %d read and %d write units per second, above the table maximum "+
		"of %s (%d read, %d write): DynamoDB would refuse the replica with LimitExceededException. Ask AWS for a higher "+
		"per-table throughput quota in %s first.", table, read, write, region, maxRead, maxWrite, region)
}

// setPITR sets point-in-time recovery and waits until it reports the wanted status.
// Right after a replica turns ACTIVE, DynamoDB can refuse with
// ContinuousBackupsUnavailableException and then report ENABLING for a while; the AWS
// provider retries and waits for both too (internal/service/dynamodb/wait.go waitPITRUpdated).
func setPITR(ctx context.Context, client *dynamodb.Client, table string, enable bool, deadline time.Time) error {
	err := retrySettings(ctx, deadline, func() error {
		_, err := client.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{
			TableName:                        aws.String(table),
			PointInTimeRecoverySpecification: &awstypes.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(enable)},
		})
		return err
	})
	if err != nil {
		return err
	}
	want := awstypes.PointInTimeRecoveryStatusDisabled
	if enable {
		want = awstypes.PointInTimeRecoveryStatusEnabled
	}
	return pollSetting(ctx, deadline, "point-in-time recovery to be "+string(want), func() (string, bool, error) {
		out, err := client.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(table)})
		if err != nil {
			return "", false, err
		}
		st := awstypes.PointInTimeRecoveryStatusDisabled
		if d := out.ContinuousBackupsDescription; d != nil && d.PointInTimeRecoveryDescription != nil {
			st = d.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus
		}
		return string(st), st == want, nil
	})
}

// setDeletionProtection changes deletion protection in the replica's Region and waits
// until the table leaves UPDATING, so that no UPDATING status is stored. A second
// change within ~15 s is throttled: retried until the deadline.
func setDeletionProtection(ctx context.Context, client *dynamodb.Client, table string, enable bool, deadline time.Time) error {
	err := retrySettings(ctx, deadline, func() error {
		_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(table), DeletionProtectionEnabled: aws.Bool(enable)})
		return err
	})
	if err != nil {
		return err
	}
	return waitTableSettled(ctx, client, table, deadline)
}

// waitTableSettled waits until a table's own status is ACTIVE again after a settings change.
func waitTableSettled(ctx context.Context, client *dynamodb.Client, table string, deadline time.Time) error {
	return pollSetting(ctx, deadline, "table "+table+" to finish updating", func() (string, bool, error) {
		desc, err := ddb.FindTableByName(ctx, client, table)
		if err != nil {
			return "", false, err
		}
		return string(desc.TableStatus), desc.TableStatus == awstypes.TableStatusActive, nil
	})
}

// retrySettings calls fn until it succeeds, fails with an error that does not pass with
// time, or the deadline passes. What passes: a busy table, backups not yet available,
// a throttled settings change.
func retrySettings(ctx context.Context, deadline time.Time, fn func() error) error {
	return ddb.RetryWhileBusy(ctx, deadline, func() error {
		err := fn()
		var unavailable *awstypes.ContinuousBackupsUnavailableException
		var limit *awstypes.LimitExceededException
		if errors.As(err, &unavailable) || errors.As(err, &limit) {
			tflog.Info(ctx, "setting not accepted yet; retrying", map[string]any{"cause": err.Error()})
			return &awstypes.ResourceInUseException{Message: aws.String(err.Error())}
		}
		return err
	})
}

// pollSetting polls check until it reports done, with the same backoff as the replica waiters.
func pollSetting(ctx context.Context, deadline time.Time, what string, check func() (string, bool, error)) error {
	delay := ddb.DefaultPoll.First
	last := ""
	for {
		st, done, err := check()
		if err != nil || done {
			return err
		}
		last = st
		remaining := time.Until(deadline)
		if remaining <= 0 {
			return &ddb.WaitTimeoutError{What: what, Last: last}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(delay, remaining)):
		}
		delay = min(2*delay, ddb.DefaultPoll.Max)
	}
}

// settingsUnreadable reports errors a replica Region gives while its replica is CREATING
// or ARCHIVED: it answers DescribeTable only (DescribeContinuousBackups
// TableNotFoundException, ListTagsOfResource ResourceNotFoundException).
func settingsUnreadable(err error, status awstypes.ReplicaStatus) bool {
	if status == awstypes.ReplicaStatusActive {
		return false
	}
	var tnf *awstypes.TableNotFoundException
	var rnf *awstypes.ResourceNotFoundException
	return errors.As(err, &tnf) || errors.As(err, &rnf)
}

// sourceHoldMessage is part of the error DynamoDB gives when deleting a Region that
// sourced a replica create in the last 24 hours.
const sourceHoldMessage = "acted as a source region"

func isSourceHold(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" && strings.Contains(ae.ErrorMessage(), sourceHoldMessage)
}

// explainSourceHold turns DynamoDB's 24 h refusal into what happened and when the delete
// becomes possible: the replicas created in the last 24 hours (one of them was copied
// from this Region) and the time the last of them is 24 hours old.
func (r *replicaResource) explainSourceHold(ctx context.Context, table, region, source string, cause error) string {
	const hold = 24 * time.Hour
	var recent []string
	var until time.Time
	desc, err := ddb.FindTableByName(ctx, r.meta.AWS.DynamoDB(source), table)
	if err == nil {
		// The Region called (usually the base table's) is left out: its table was made
		// with CreateTable, not copied from another Region.
		var regions []string
		for _, rep := range desc.Replicas {
			regions = append(regions, aws.ToString(rep.RegionName))
		}
		sort.Strings(regions)
		for _, other := range regions {
			if other == region {
				continue
			}
			d, err := ddb.FindTableByName(ctx, r.meta.AWS.DynamoDB(other), table)
			if err != nil || d.CreationDateTime == nil || time.Since(*d.CreationDateTime) >= hold {
				continue
			}
			created := d.CreationDateTime.UTC()
			recent = append(recent, fmt.Sprintf("%s (created %s)", other, created.Format(time.RFC3339)))
			if created.Add(hold).After(until) {
				until = created.Add(hold)
			}
		}
	}
	msg := fmt.Sprintf("DynamoDB refuses to delete the replica in %s: in the last 24 hours %s was the source Region of a "+
		"new replica of table %q, and such a Region cannot be deleted for 24 hours (%v).", region, region, table, cause)
	if len(recent) > 0 {
		msg += fmt.Sprintf("\n\nReplicas created in the last 24 hours: %s. The delete becomes possible at about %s; "+
			"apply (or destroy) again after that. Nothing was changed.", strings.Join(recent, ", "), until.Format(time.RFC3339))
	} else {
		msg += "\n\nThe delete becomes possible 24 hours after that replica was created; apply (or destroy) again then. Nothing was changed."
	}
	return msg
}
