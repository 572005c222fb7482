package emulator

import (
	"fmt"
	"net/http"
)

// Statuses a member of a global table can be put in for tests, with what AWS says they
// mean (ReplicaDescription.ReplicaStatus and TableDescription.TableStatus, DynamoDB API
// Reference: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_ReplicaDescription.html,
// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableDescription.html).
// The value tells whether the status is also a TableStatus, reported by the member's
// own DescribeTable; REGION_DISABLED is only a replica status, seen by the other members.
var memberTableStatuses = map[string]bool{
	// "The KMS key used to encrypt the table is inaccessible."
	"INACCESSIBLE_ENCRYPTION_CREDENTIALS": true,
	// "The replica is inaccessible because the AWS Region has been disabled."
	"REGION_DISABLED": false,
	// Replication to or from the Region is not authorized (for example an SCP).
	"REPLICATION_NOT_AUTHORIZED": true,
	// "The table is being archived" after its KMS key stayed inaccessible for seven days.
	"ARCHIVING": true,
	"ARCHIVED":  true,
}

// SetMemberStatus puts the member of a global table in region into one of the
// inaccessible statuses above (or back to ACTIVE), as AWS does when a KMS key is
// revoked or a Region disabled. It is a test hook: no API of AWS does it.
func (s *Server) SetMemberStatus(table, region, status, description string) error {
	if _, ok := memberTableStatuses[status]; !ok && status != statusActive {
		return fmt.Errorf("status %q is not one the emulator can set", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups[table]
	if g == nil || g.members[region] == nil {
		return errorf("ResourceNotFoundException", http.StatusBadRequest, "Global table %s has no member in %s", table, region)
	}
	m := g.members[region]
	m.status, m.statusDesc = status, description
	return nil
}

// memberOwnTableStatus is the TableStatus a member in an inaccessible status reports
// itself, or "".
func memberOwnTableStatus(m *member) string {
	if memberTableStatuses[m.status] {
		return m.status
	}
	return ""
}
