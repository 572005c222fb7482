package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Application Auto Scaling for DynamoDB tables and indexes: targets and policies
// are kept in the front (DynamoDB Local has no auto scaling); nothing scales.

type targetKey struct {
	Region, ResourceID, Dimension string
}

type policyKey struct {
	target targetKey
	name   string
}

type scalableTarget struct {
	ServiceNamespace  string  `json:"ServiceNamespace"`
	ResourceID        string  `json:"ResourceId"`
	ScalableDimension string  `json:"ScalableDimension"`
	MinCapacity       int64   `json:"MinCapacity"`
	MaxCapacity       int64   `json:"MaxCapacity"`
	RoleARN           string  `json:"RoleARN"`
	CreationTime      float64 `json:"CreationTime"`
	ScalableTargetARN string  `json:"ScalableTargetARN"`
	SuspendedState    any     `json:"SuspendedState,omitempty"`
}

type scalingPolicy struct {
	PolicyARN                                string          `json:"PolicyARN"`
	PolicyName                               string          `json:"PolicyName"`
	ServiceNamespace                         string          `json:"ServiceNamespace"`
	ResourceID                               string          `json:"ResourceId"`
	ScalableDimension                        string          `json:"ScalableDimension"`
	PolicyType                               string          `json:"PolicyType"`
	TargetTrackingScalingPolicyConfiguration json.RawMessage `json:"TargetTrackingScalingPolicyConfiguration,omitempty"`
	StepScalingPolicyConfiguration           json.RawMessage `json:"StepScalingPolicyConfiguration,omitempty"`
	Alarms                                   []any           `json:"Alarms"`
	CreationTime                             float64         `json:"CreationTime"`
}

var dimensions = []string{
	"dynamodb:table:ReadCapacityUnits", "dynamodb:table:WriteCapacityUnits",
	"dynamodb:index:ReadCapacityUnits", "dynamodb:index:WriteCapacityUnits",
}

func (s *Server) hasPolicyLocked(k targetKey) bool {
	for pk := range s.policies {
		if pk.target == k {
			return true
		}
	}
	return false
}

func (s *Server) autoScaling(req *request) ([]byte, *apiError) {
	var in struct {
		ServiceNamespace  string          `json:"ServiceNamespace"`
		ResourceID        string          `json:"ResourceId"`
		ResourceIDs       []string        `json:"ResourceIds"`
		ScalableDimension string          `json:"ScalableDimension"`
		MinCapacity       *int64          `json:"MinCapacity"`
		MaxCapacity       *int64          `json:"MaxCapacity"`
		RoleARN           string          `json:"RoleARN"`
		SuspendedState    any             `json:"SuspendedState"`
		PolicyName        string          `json:"PolicyName"`
		PolicyNames       []string        `json:"PolicyNames"`
		PolicyType        string          `json:"PolicyType"`
		TargetTracking    json.RawMessage `json:"TargetTrackingScalingPolicyConfiguration"`
		StepScaling       json.RawMessage `json:"StepScalingPolicyConfiguration"`
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	switch req.op {
	case "RegisterScalableTarget", "DeregisterScalableTarget", "PutScalingPolicy", "DeleteScalingPolicy", "DescribeScalableTargets", "DescribeScalingPolicies":
	default:
		return nil, errorf("UnknownOperationException", http.StatusBadRequest, "An unknown operation was requested.")
	}
	if in.ServiceNamespace == "" {
		return nil, validation("1 validation error detected: Value null at 'serviceNamespace' failed to satisfy constraint: Member must not be null")
	}
	if in.ServiceNamespace != "dynamodb" {
		return nil, validation("Unsupported service namespace %s: this emulator implements the dynamodb namespace only", in.ServiceNamespace)
	}
	needTarget := req.op != "DescribeScalableTargets" && req.op != "DescribeScalingPolicies"
	if needTarget || in.ScalableDimension != "" {
		if !contains(dimensions, in.ScalableDimension) {
			return nil, validation("1 validation error detected: Value '%s' at 'scalableDimension' failed to satisfy constraint: Member must satisfy enum value set: [%s]", in.ScalableDimension, strings.Join(dimensions, ", "))
		}
	}
	key := targetKey{req.region, in.ResourceID, in.ScalableDimension}
	now := float64(time.Now().UnixMilli()) / 1000
	s.mu.Lock()
	defer s.mu.Unlock()
	switch req.op {
	case "RegisterScalableTarget":
		table, index, ok := parseResourceID(in.ResourceID)
		if !ok || (index == "") != strings.HasPrefix(in.ScalableDimension, "dynamodb:table:") {
			return nil, validation("Unsupported resource ID %q for scalable dimension %s", in.ResourceID, in.ScalableDimension)
		}
		s.mu.Unlock()
		desc, e := s.describeLocal(req, req.region, table)
		s.mu.Lock()
		if e != nil {
			return nil, validation("Unable to find table %s in %s (resource ID %s)", table, req.region, in.ResourceID)
		}
		if index != "" && !hasIndex(desc, index) {
			return nil, validation("Unable to find index %s of table %s (resource ID %s)", index, table, in.ResourceID)
		}
		t := s.targets[key]
		if t == nil {
			if in.MinCapacity == nil || in.MaxCapacity == nil {
				return nil, validation("MinCapacity and MaxCapacity are required to register a new scalable target")
			}
			t = &scalableTarget{ServiceNamespace: "dynamodb", ResourceID: in.ResourceID, ScalableDimension: in.ScalableDimension, CreationTime: now,
				ScalableTargetARN: fmt.Sprintf("arn:aws:application-autoscaling:%s:%s:scalable-target/%x", req.region, AccountID, time.Now().UnixNano()),
				RoleARN:           "arn:aws:iam::" + AccountID + ":role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable"}
			s.targets[key] = t
		}
		if in.MinCapacity != nil {
			t.MinCapacity = *in.MinCapacity
		}
		if in.MaxCapacity != nil {
			t.MaxCapacity = *in.MaxCapacity
		}
		if t.MinCapacity > t.MaxCapacity {
			return nil, validation("Minimum capacity cannot be greater than maximum capacity")
		}
		if in.RoleARN != "" {
			t.RoleARN = in.RoleARN
		}
		if in.SuspendedState != nil {
			t.SuspendedState = in.SuspendedState
		}
		return marshal(map[string]string{"ScalableTargetARN": t.ScalableTargetARN})
	case "DeregisterScalableTarget":
		if s.targets[key] == nil {
			return nil, noTarget(key)
		}
		delete(s.targets, key)
		for pk := range s.policies {
			if pk.target == key {
				delete(s.policies, pk)
			}
		}
		return []byte(`{}`), nil
	case "PutScalingPolicy":
		if in.PolicyName == "" {
			return nil, validation("1 validation error detected: Value null at 'policyName' failed to satisfy constraint: Member must not be null")
		}
		if s.targets[key] == nil {
			return nil, noTarget(key)
		}
		if in.PolicyType == "" {
			in.PolicyType = "StepScaling"
		}
		if in.PolicyType == "TargetTrackingScaling" && len(in.TargetTracking) == 0 {
			return nil, validation("TargetTrackingScalingPolicyConfiguration is required for a policy of type TargetTrackingScaling")
		}
		pk := policyKey{key, in.PolicyName}
		p := s.policies[pk]
		if p == nil {
			p = &scalingPolicy{PolicyName: in.PolicyName, ServiceNamespace: "dynamodb", ResourceID: in.ResourceID, ScalableDimension: in.ScalableDimension, CreationTime: now,
				PolicyARN: fmt.Sprintf("arn:aws:autoscaling:%s:%s:scalingPolicy:%x:resource/dynamodb/%s:policyName/%s", req.region, AccountID, time.Now().UnixNano(), in.ResourceID, in.PolicyName)}
			s.policies[pk] = p
		}
		p.PolicyType, p.TargetTrackingScalingPolicyConfiguration, p.StepScalingPolicyConfiguration = in.PolicyType, in.TargetTracking, in.StepScaling
		p.Alarms = []any{}
		return marshal(map[string]any{"PolicyARN": p.PolicyARN, "Alarms": []any{}})
	case "DeleteScalingPolicy":
		pk := policyKey{key, in.PolicyName}
		if s.policies[pk] == nil {
			return nil, errorf("ObjectNotFoundException", http.StatusBadRequest, "No scaling policy found for service namespace: dynamodb, resource ID: %s, scalable dimension: %s, policy name: %s", in.ResourceID, in.ScalableDimension, in.PolicyName)
		}
		delete(s.policies, pk)
		return []byte(`{}`), nil
	case "DescribeScalableTargets":
		out := []*scalableTarget{}
		for k, t := range s.targets {
			if k.Region == req.region && (len(in.ResourceIDs) == 0 || contains(in.ResourceIDs, k.ResourceID)) && (in.ScalableDimension == "" || in.ScalableDimension == k.Dimension) {
				out = append(out, t)
			}
		}
		sort.Slice(out, func(i, j int) bool {
			return out[i].ResourceID+out[i].ScalableDimension < out[j].ResourceID+out[j].ScalableDimension
		})
		return marshal(map[string]any{"ScalableTargets": out})
	default: // DescribeScalingPolicies
		out := []*scalingPolicy{}
		for k, p := range s.policies {
			if k.target.Region == req.region && (in.ResourceID == "" || in.ResourceID == k.target.ResourceID) &&
				(in.ScalableDimension == "" || in.ScalableDimension == k.target.Dimension) && (len(in.PolicyNames) == 0 || contains(in.PolicyNames, k.name)) {
				out = append(out, p)
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i].PolicyARN < out[j].PolicyARN })
		return marshal(map[string]any{"ScalingPolicies": out})
	}
}

func noTarget(k targetKey) *apiError {
	return errorf("ObjectNotFoundException", http.StatusBadRequest, "No scalable target registered for service namespace: dynamodb, resource ID: %s, scalable dimension: %s", k.ResourceID, k.Dimension)
}

// parseResourceID splits "table/T" or "table/T/index/I".
func parseResourceID(id string) (table, index string, ok bool) {
	parts := strings.Split(id, "/")
	switch {
	case len(parts) == 2 && parts[0] == "table" && parts[1] != "":
		return parts[1], "", true
	case len(parts) == 4 && parts[0] == "table" && parts[2] == "index" && parts[1] != "" && parts[3] != "":
		return parts[1], parts[3], true
	}
	return "", "", false
}

func hasIndex(t *tableDesc, name string) bool {
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexName == name {
			return true
		}
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
