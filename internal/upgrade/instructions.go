package upgrade

import (
	"encoding/json"
	"fmt"
	"strings"
)

// RequiredPermission is the IAM action the console's "Update version" needs in every
// replica Region.
const RequiredPermission = "dynamodb:UpdateGlobalTableVersion"

// Instructions tells the operator how to perform the upgrade in the console: the
// permission, the Regions, the console steps and what to expect.
func Instructions(f *Facts) string {
	regions := f.RegionNames()
	home := "us-east-1"
	if len(regions) > 0 {
		home = regions[0]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "AWS upgrades a legacy global table only through the DynamoDB console; no API does it. "+
		"To upgrade %s (replicas in %s) to version 2019.11.21:\n\n", f.TableName, joinAnd(regions))
	fmt.Fprintf(&b, "1. Give the person or role who clicks the permission %s in every replica Region (%s), for example:\n%s\n",
		RequiredPermission, strings.Join(regions, ", "), policy(f))
	fmt.Fprintf(&b, "2. Open the DynamoDB console in one of those Regions: %s\n", ConsoleURL(partition(f), home))
	fmt.Fprintf(&b, "3. Choose Tables, select %s, and open the Global tables tab.\n", f.TableName)
	b.WriteString("4. Choose Update version, read and agree to the new requirements, then choose Update version.\n\n")
	b.WriteString("The replicas keep serving reads and writes. Every member reports TableStatus UPDATING, then ACTIVE " +
		"with version 2019.11.21; this takes minutes to hours depending on size and Regions. Auto scaling does not " +
		"adjust provisioned capacity meanwhile (on-demand is recommended; otherwise raise the auto scaling minimums). " +
		"From then on each write produces one stream record and no aws:rep:* attributes.")
	return b.String()
}

// ConsoleURL is the DynamoDB console's table list in a Region of a partition: each
// partition has its own console (console.aws.amazon.com, console.amazonaws.cn,
// console.amazonaws-us-gov.com).
func ConsoleURL(partition, region string) string {
	switch partition {
	case "aws-cn":
		return fmt.Sprintf("https://console.amazonaws.cn/dynamodbv2/home?region=%s#tables", region)
	case "aws-us-gov":
		return fmt.Sprintf("https://console.amazonaws-us-gov.com/dynamodbv2/home?region=%s#tables", region)
	}
	return fmt.Sprintf("https://%s.console.aws.amazon.com/dynamodbv2/home?region=%s#tables", region, region)
}

// partition is the partition of the table's ARNs ("aws" when none is known).
func partition(f *Facts) string {
	for _, r := range f.Regions {
		if parts := strings.SplitN(r.ARN, ":", 6); len(parts) == 6 && parts[1] != "" {
			return parts[1]
		}
	}
	return "aws"
}

// policy is the IAM policy that allows the upgrade of this table only.
func policy(f *Facts) string {
	partition, account := "aws", "123456789012"
	for _, r := range f.Regions {
		// arn:aws:dynamodb:us-east-1:123456789012:table/Music
		if parts := strings.SplitN(r.ARN, ":", 6); len(parts) == 6 && parts[4] != "" {
			partition, account = parts[1], parts[4]
			break
		}
	}
	resources := []string{fmt.Sprintf("arn:%s:dynamodb::%s:global-table/%s", partition, account, f.TableName)}
	for _, r := range f.RegionNames() {
		resources = append(resources, fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", partition, r, account, f.TableName))
	}
	type statement struct {
		Effect   string
		Action   string
		Resource []string
	}
	doc := struct {
		Version   string
		Statement []statement
	}{"2012-10-17", []statement{{"Allow", RequiredPermission, resources}}}
	out, _ := json.MarshalIndent(doc, "   ", "  ")
	return "   " + string(out)
}
