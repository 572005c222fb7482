// Package ddb holds find, status and wait helpers over DynamoDB's control plane, shared
// by the resources and data sources.
package ddb

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// NotFoundError says that a table (or a part of it) does not exist.
type NotFoundError struct {
	What   string // e.g. "table orders"
	Region string
	Cause  error
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s not found in %s", e.What, e.Region)
}

func (e *NotFoundError) Unwrap() error { return e.Cause }

// IsNotFound reports whether err is (or wraps) a NotFoundError.
func IsNotFound(err error) bool {
	var nf *NotFoundError
	return errors.As(err, &nf)
}

// FindTableByName describes a table in the client's Region.
func FindTableByName(ctx context.Context, client *dynamodb.Client, name string) (*types.TableDescription, error) {
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var rnf *types.ResourceNotFoundException
	if errors.As(err, &rnf) {
		return nil, &NotFoundError{What: "table " + name, Region: client.Options().Region, Cause: err}
	}
	if err != nil {
		return nil, err
	}
	if out.Table == nil {
		return nil, &NotFoundError{What: "table " + name, Region: client.Options().Region}
	}
	return out.Table, nil
}

// FindLegacyGlobalTable describes a 2017.11.29 global table. DescribeGlobalTable only
// succeeds for legacy global tables, so a NotFoundError means "not legacy".
func FindLegacyGlobalTable(ctx context.Context, client *dynamodb.Client, name string) (*types.GlobalTableDescription, error) {
	out, err := client.DescribeGlobalTable(ctx, &dynamodb.DescribeGlobalTableInput{GlobalTableName: aws.String(name)})
	var gnf *types.GlobalTableNotFoundException
	if errors.As(err, &gnf) || isUnknownOperation(err) {
		// DynamoDB-compatible endpoints without the legacy API (DynamoDB Local among
		// them) cannot hold legacy global tables either.
		return nil, &NotFoundError{What: "legacy global table " + name, Region: client.Options().Region, Cause: err}
	}
	if err != nil {
		return nil, err
	}
	return out.GlobalTableDescription, nil
}

func isUnknownOperation(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "UnknownOperationException"
}

// Global table versions as DynamoDB reports them.
const (
	VersionLegacy  = "2017.11.29"
	VersionCurrent = "2019.11.21"
)

// OrderedKeySchema returns the key schema with the partition key first.
func OrderedKeySchema(ks []types.KeySchemaElement) []types.KeySchemaElement {
	out := make([]types.KeySchemaElement, 0, len(ks))
	for _, want := range []types.KeyType{types.KeyTypeHash, types.KeyTypeRange} {
		for _, k := range ks {
			if k.KeyType == want {
				out = append(out, k)
			}
		}
	}
	return out
}
