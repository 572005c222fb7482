package upgrade

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddb"
)

// Polling of a running upgrade: it takes minutes to hours, so the delay grows to a cap.
const (
	DefaultPollMinDelay = 2 * time.Second
	DefaultPollMaxDelay = 30 * time.Second
)

// RegionStatus is what one member reports while the upgrade runs.
type RegionStatus struct {
	Region      string
	TableStatus string
	Version     string
	// Replicas maps the other members listed in Replicas[] to their ReplicaStatus.
	Replicas map[string]string
	// Descriptions holds the ReplicaStatusDescription of the replicas that have one.
	Descriptions map[string]string
}

// Done reports whether the member has finished: ACTIVE, version 2019.11.21, and
// every other member listed as an ACTIVE replica.
func (s RegionStatus) Done(members []string) bool {
	if s.TableStatus != string(types.TableStatusActive) || s.Version != ddb.VersionCurrent {
		return false
	}
	for _, m := range members {
		if m != s.Region && s.Replicas[m] != string(types.ReplicaStatusActive) {
			return false
		}
	}
	return true
}

func (s RegionStatus) String() string {
	version := s.Version
	if version == "" {
		version = "no version reported"
	}
	if len(s.Replicas) == 0 {
		return fmt.Sprintf("%s %s (%s)", s.Region, s.TableStatus, version)
	}
	others := make([]string, 0, len(s.Replicas))
	for r := range s.Replicas {
		others = append(others, r)
	}
	sort.Strings(others)
	for i, r := range others {
		others[i] = r + " " + s.Replicas[r]
	}
	return fmt.Sprintf("%s %s (%s; replicas %s)", s.Region, s.TableStatus, version, strings.Join(others, ", "))
}

// Statuses a member or replica does not leave by itself, with what the operator can do
// (ReplicaDescription.ReplicaStatus and TableDescription.TableStatus in the DynamoDB API
// Reference; a Region disabled or a key inaccessible for more than 20 hours makes
// DynamoDB remove the replica from the replication group, and a key inaccessible for
// seven days archives the table).
var stuckStatuses = map[string]string{
	string(types.ReplicaStatusInaccessibleEncryptionCredentials): "the table's KMS key there is disabled, scheduled for " +
		"deletion or no longer usable by DynamoDB: enable the key or restore its key policy and grants within 20 hours, " +
		"or DynamoDB removes the replica from the replication group (after seven days it archives the table)",
	string(types.ReplicaStatusRegionDisabled): "the Region is disabled for the account: enable it again (Account " +
		"settings, AWS Regions) within 20 hours, or DynamoDB removes the replica from the replication group",
	string(types.ReplicaStatusReplicationNotAuthorized): "replication to or from the Region is not authorized: check " +
		"the service control policies of the account and the DynamoDB replication service-linked role",
	string(types.ReplicaStatusCreationFailed): "the replica was never created: see its ReplicaStatusDescription",
	string(types.ReplicaStatusArchiving):      "the table is being archived after its KMS key stayed inaccessible: restore it from its archival backup",
	string(types.ReplicaStatusArchived):       "the table was archived after its KMS key stayed inaccessible: restore it from its archival backup",
}

// StuckError says a member or replica is in a status it does not leave by itself, so
// waiting longer for the upgrade is pointless.
type StuckError struct {
	Problems []string
}

func (e *StuckError) Error() string {
	return "the upgrade will not finish by itself: " + strings.Join(e.Problems, "; ") +
		". Fix this, then run terraform apply again to resume waiting."
}

// Stuck returns a *StuckError when a member reports a TableStatus, or lists a replica
// with a ReplicaStatus, that it does not leave by itself; nil otherwise.
func (p Progress) Stuck() error {
	var problems []string
	for _, s := range p.Regions {
		if advice, ok := stuckStatuses[s.TableStatus]; ok {
			problems = append(problems, fmt.Sprintf("%s reports %s (%s)", s.Region, s.TableStatus, advice))
		}
		others := make([]string, 0, len(s.Replicas))
		for r := range s.Replicas {
			others = append(others, r)
		}
		sort.Strings(others)
		for _, r := range others {
			st := s.Replicas[r]
			advice, ok := stuckStatuses[st]
			if !ok {
				continue
			}
			msg := fmt.Sprintf("%s lists replica %s as %s", s.Region, r, st)
			if d := s.Descriptions[r]; d != "" {
				msg += ": " + d
			}
			problems = append(problems, msg+" ("+advice+")")
		}
	}
	for _, m := range p.Members {
		if advice, ok := stuckStatuses[p.Legacy[m]]; ok {
			problems = append(problems, fmt.Sprintf("the legacy replication group lists %s as %s (%s)", m, p.Legacy[m], advice))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return &StuckError{Problems: problems}
}

// Progress is the state of every member at one poll.
type Progress struct {
	Members []string
	Regions []RegionStatus
	// Legacy holds, while DescribeGlobalTable still knows the table, the ReplicaStatus it
	// reports for each member (DescribeTable lists no replicas for a legacy member).
	Legacy map[string]string
}

// Done reports whether every member has finished.
func (p Progress) Done() bool {
	for _, s := range p.Regions {
		if !s.Done(p.Members) {
			return false
		}
	}
	return len(p.Regions) == len(p.Members)
}

func (p Progress) String() string {
	parts := make([]string, 0, len(p.Regions))
	for _, s := range p.Regions {
		parts = append(parts, s.String())
	}
	out := strings.Join(parts, ", ")
	if len(p.Legacy) > 0 {
		members := make([]string, 0, len(p.Legacy))
		for _, m := range p.Members {
			if st, ok := p.Legacy[m]; ok {
				members = append(members, m+" "+st)
			}
		}
		out += "; legacy replication group: " + strings.Join(members, ", ")
	}
	return out
}

// Poll describes the table in every member Region once.
func Poll(ctx context.Context, c Clients, tableName string, members []string) (Progress, error) {
	p := Progress{Members: append([]string(nil), members...)}
	sort.Strings(p.Members)
	for _, r := range p.Members {
		t, err := ddb.FindTableByName(ctx, c.DynamoDB(r), tableName)
		if err != nil {
			return p, err
		}
		s := RegionStatus{Region: r, TableStatus: string(t.TableStatus), Version: aws.ToString(t.GlobalTableVersion),
			Replicas: map[string]string{}, Descriptions: map[string]string{}}
		for _, rd := range t.Replicas {
			s.Replicas[aws.ToString(rd.RegionName)] = string(rd.ReplicaStatus)
			if d := aws.ToString(rd.ReplicaStatusDescription); d != "" {
				s.Descriptions[aws.ToString(rd.RegionName)] = d
			}
		}
		p.Regions = append(p.Regions, s)
	}
	if len(p.Members) > 0 {
		// Until the upgrade gets there, only DescribeGlobalTable reports member statuses.
		g, err := ddb.FindLegacyGlobalTable(ctx, c.DynamoDB(p.Members[0]), tableName)
		if err != nil && !ddb.IsNotFound(err) {
			return p, err
		}
		if g != nil {
			p.Legacy = map[string]string{}
			for _, r := range g.ReplicationGroup {
				st := string(r.ReplicaStatus)
				if st == "" {
					st = string(types.ReplicaStatusActive)
				}
				p.Legacy[aws.ToString(r.RegionName)] = st
			}
		}
	}
	return p, nil
}

// WaitOptions tune Wait. Zero values take the defaults.
type WaitOptions struct {
	MinDelay, MaxDelay time.Duration
	// OnPoll is called after every poll that is not yet done.
	OnPoll func(Progress)
}

// Wait polls until every member reports version 2019.11.21 and ACTIVE, with a delay
// that doubles up to MaxDelay, until ctx ends. It returns the last progress seen.
func Wait(ctx context.Context, c Clients, tableName string, members []string, opts WaitOptions) (Progress, error) {
	if opts.MinDelay <= 0 {
		opts.MinDelay = DefaultPollMinDelay
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = DefaultPollMaxDelay
	}
	delay := opts.MinDelay
	for {
		p, err := Poll(ctx, c, tableName, members)
		if err != nil {
			if ctx.Err() != nil {
				return p, ctx.Err()
			}
			return p, err
		}
		if p.Done() {
			return p, nil
		}
		if err := p.Stuck(); err != nil {
			return p, err
		}
		if opts.OnPoll != nil {
			opts.OnPoll(p)
		}
		select {
		case <-ctx.Done():
			return p, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, opts.MaxDelay)
	}
}

// Verify checks an upgraded global table: every member reports 2019.11.21 and ACTIVE,
// and lists every other former member as an ACTIVE replica, so no Region was lost.
func Verify(p Progress) error {
	var problems []string
	if len(p.Regions) != len(p.Members) {
		problems = append(problems, fmt.Sprintf("%d of %d members described", len(p.Regions), len(p.Members)))
	}
	for _, s := range p.Regions {
		if s.TableStatus != string(types.TableStatusActive) {
			problems = append(problems, fmt.Sprintf("%s is %s", s.Region, s.TableStatus))
		}
		if s.Version != ddb.VersionCurrent {
			problems = append(problems, fmt.Sprintf("%s reports version %q", s.Region, s.Version))
		}
		for _, m := range p.Members {
			if m != s.Region && s.Replicas[m] != string(types.ReplicaStatusActive) {
				st := s.Replicas[m]
				if st == "" {
					st = "missing"
				}
				problems = append(problems, fmt.Sprintf("%s lists replica %s as %s", s.Region, m, st))
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("the upgraded global table is not as expected: %s", strings.Join(problems, "; "))
	}
	return nil
}
