package awsclient

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// CallerAccount is the AWS account the client's credentials sign in to, from STS
// GetCallerIdentity.
func (c *Client) CallerAccount(ctx context.Context) (string, error) {
	client := sts.NewFromConfig(c.cfg, func(o *sts.Options) {
		if c.endpoints.STS != "" {
			o.BaseEndpoint = aws.String(c.endpoints.STS)
		}
	})
	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Account), nil
}
