package acctest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// DynamoDBAs is a fixture client of another emulated account: the emulator maps
// an access key of twelve digits onto that account. It skips on real AWS, where
// a second account needs credentials the tests do not have.
func DynamoDBAs(t testing.TB, account, region string) *dynamodb.Client {
	t.Helper()
	if RealAWS() {
		t.Skip("needs a second account: emulator only")
	}
	return dynamodb.NewFromConfig(aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(account, "secret", ""),
		BaseEndpoint: aws.String(backend.Endpoint),
	})
}

// ProviderConfigAs is a provider block for another emulated account, with alias
// (empty: the default configuration) and region.
func ProviderConfigAs(alias, account, region string) string {
	a := ""
	if alias != "" {
		a = "  alias = \"" + alias + "\"\n"
	}
	return "provider \"ddbglobal\" {\n" + a +
		"  region                      = \"" + region + "\"\n" +
		"  access_key                  = \"" + account + "\"\n" +
		"  secret_key                  = \"secret\"\n" +
		"  skip_credentials_validation = true\n" +
		"  max_retries                 = 2\n" +
		"  endpoints {\n" +
		"    dynamodb               = \"" + backend.Endpoint + "\"\n" +
		"    dynamodbstreams        = \"" + backend.Endpoint + "\"\n" +
		"    applicationautoscaling = \"" + backend.Endpoint + "\"\n" +
		"    kms                    = \"" + backend.Endpoint + "\"\n" +
		"    sts                    = \"" + backend.Endpoint + "\"\n" +
		"  }\n}\n"
}
