package acctest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// CreateKMSKey creates a customer managed KMS key in region and returns its ARN; the
// key is scheduled for deletion (7 days, the minimum) when the test ends.
func CreateKMSKey(t testing.TB, region string) string {
	t.Helper()
	c := AWS(t).KMS(region)
	out, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("ddbglobal acceptance test " + t.Name())})
	if err != nil {
		t.Fatalf("creating a KMS key in %s: %v", region, err)
	}
	t.Cleanup(func() {
		_, _ = c.ScheduleKeyDeletion(context.Background(), &kms.ScheduleKeyDeletionInput{KeyId: out.KeyMetadata.KeyId, PendingWindowInDays: aws.Int32(7)})
	})
	return aws.ToString(out.KeyMetadata.Arn)
}
