package provider_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/acctest"
)

// A provisioned table (with the write auto scaling a replica needs) gets a replica
// with its own read capacity, created with it and then changed in place; DynamoDB's
// view of the replica (from the source Region) follows.
//
// Catches: read_capacity_override not sent on create (in Create,
// ProvisionedThroughputOverride left out) or on update (in the update's replica
// action), or not read back.
func TestAccReplica_readCapacityOverride(t *testing.T) {
	acctest.PreCheck(t)
	table := acctest.RandomName("tf-acc-replica-rcu")
	acctest.CreateTable(t, acctest.TableSpec{Name: table, HashKey: "pk", Provisioned: true})
	scaling := acctest.AWS(t).AutoScaling(acctest.Region)
	ctx := context.Background()
	if _, err := scaling.RegisterScalableTarget(ctx, &aas.RegisterScalableTargetInput{
		ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/" + table),
		ScalableDimension: aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, MinCapacity: aws.Int32(5), MaxCapacity: aws.Int32(50),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := scaling.PutScalingPolicy(ctx, &aas.PutScalingPolicyInput{
		ServiceNamespace: aastypes.ServiceNamespaceDynamodb, ResourceId: aws.String("table/" + table), PolicyName: aws.String("wcu"),
		ScalableDimension: aastypes.ScalableDimensionDynamoDBTableWriteCapacityUnits, PolicyType: aastypes.PolicyTypeTargetTrackingScaling,
		TargetTrackingScalingPolicyConfiguration: &aastypes.TargetTrackingScalingPolicyConfiguration{
			TargetValue:                   aws.Float64(70),
			PredefinedMetricSpecification: &aastypes.PredefinedMetricSpecification{PredefinedMetricType: aastypes.MetricTypeDynamoDBWriteCapacityUtilization},
		},
	}); err != nil {
		t.Fatal(err)
	}
	override := func(want int64) resource.TestCheckFunc {
		return func(*terraform.State) error {
			out, err := acctest.DynamoDB(t, acctest.Region).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
			if err != nil {
				return err
			}
			for _, r := range out.Table.Replicas {
				if aws.ToString(r.RegionName) == "eu-west-1" {
					if r.ProvisionedThroughputOverride == nil || aws.ToInt64(r.ProvisionedThroughputOverride.ReadCapacityUnits) != want {
						return fmt.Errorf("replica read capacity override = %+v, want %d", r.ProvisionedThroughputOverride, want)
					}
					return nil
				}
			}
			return fmt.Errorf("no replica in eu-west-1: %+v", out.Table.Replicas)
		}
	}
	const address = "ddbglobal_replica.test"

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             checkNoReplicas(t, table),
		Steps: []resource.TestStep{
			{
				Config: replicaConfig(table, "eu-west-1", "  read_capacity_override = 7"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("read_capacity_override"), knownvalue.Int64Exact(7)),
				},
				Check: override(7),
			},
			{
				Config: replicaConfig(table, "eu-west-1", "  read_capacity_override = 9"),
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply:             []plancheck.PlanCheck{plancheck.ExpectResourceAction(address, plancheck.ResourceActionUpdate)},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue(address, tfjsonpath.New("read_capacity_override"), knownvalue.Int64Exact(9)),
				},
				Check: override(9),
			},
		},
	})
}
