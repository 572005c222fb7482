package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/migration"
)

// pins is what the runner's own configuration (flags, environment) says the
// migration is. The settings read from the checkpoint table are only trusted
// when they match: anyone who can write one item of that table could
// otherwise point the fleet at another table, or have it assume a role in an
// account they control and copy data out.
type pins struct {
	SourceTable, SourceRegion string
	TargetTable, TargetRegion string
	// SourceRole and TargetRole are the roles the runner may assume for each
	// side; "" means the runner's own credentials.
	SourceRole, TargetRole string
	// Accounts, if set, also accepts a stored role of one of these accounts.
	Accounts []string
}

// pinsFromID splits a migration id of the form the ddbglobal_live_migration
// resource uses (source Region/table/target Region/table).
func pinsFromID(id string) (pins, bool) {
	parts := strings.Split(id, "/")
	if len(parts) != 4 || slices.Contains(parts, "") {
		return pins{}, false
	}
	return pins{SourceRegion: parts[0], SourceTable: parts[1], TargetRegion: parts[2], TargetTable: parts[3]}, true
}

// resolve combines the id's pins with explicit ones: explicit values must agree
// with the id, and every table and Region must be known.
func resolvePins(id string, flags pins) (pins, error) {
	p := flags
	if fromID, ok := pinsFromID(id); ok {
		for _, f := range []struct {
			name      string
			flag, got *string
			want      string
		}{
			{"source-table", &flags.SourceTable, &p.SourceTable, fromID.SourceTable},
			{"source-region", &flags.SourceRegion, &p.SourceRegion, fromID.SourceRegion},
			{"target-table", &flags.TargetTable, &p.TargetTable, fromID.TargetTable},
			{"target-region", &flags.TargetRegion, &p.TargetRegion, fromID.TargetRegion},
		} {
			if *f.flag != "" && *f.flag != f.want {
				return p, fmt.Errorf("-%s %q contradicts the migration id %q (%s)", f.name, *f.flag, id, f.want)
			}
			*f.got = f.want
		}
	}
	var missing []string
	for name, v := range map[string]string{"-source-table": p.SourceTable, "-source-region": p.SourceRegion, "-target-table": p.TargetTable, "-target-region": p.TargetRegion} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return p, fmt.Errorf("the runner trusts only the tables and Regions its own configuration names: set %s "+
			"(or use a migration id of the form <source Region>/<source table>/<target Region>/<target table>)", strings.Join(missing, ", "))
	}
	for _, r := range []string{p.SourceRole, p.TargetRole} {
		if r != "" {
			if _, err := arn.Parse(r); err != nil {
				return p, fmt.Errorf("role %q is not an ARN: %v", r, err)
			}
		}
	}
	for _, a := range p.Accounts {
		if len(a) != 12 || strings.Trim(a, "0123456789") != "" {
			return p, fmt.Errorf("-allowed-accounts: %q is not a 12-digit AWS account id", a)
		}
	}
	return p, nil
}

// check compares the settings loaded from the checkpoint table with the pins
// and lists every difference.
func (p pins) check(cfg migration.Config) error {
	var bad []string
	cmp := func(what, stored, pinned string) {
		if stored != pinned {
			bad = append(bad, fmt.Sprintf("%s is %q in the checkpoint table but %q in this runner's configuration", what, stored, pinned))
		}
	}
	cmp("the source table", cfg.Source.Table, p.SourceTable)
	cmp("the source Region", cfg.Source.Region, p.SourceRegion)
	cmp("the target table", cfg.Target.Table, p.TargetTable)
	cmp("the target Region", cfg.Target.Region, p.TargetRegion)
	role := func(side, stored, pinned string) {
		switch {
		case stored == pinned:
		case pinned == "" && stored != "" && p.accountAllowed(stored):
		case pinned == "" && stored != "":
			bad = append(bad, fmt.Sprintf("the checkpoint table asks to assume %s for the %s, a role this runner's configuration "+
				"does not allow (pin it with -%s-role-arn, or allow its account with -allowed-accounts)", stored, side, side))
		default:
			bad = append(bad, fmt.Sprintf("the %s role is %q in the checkpoint table but %q in this runner's configuration", side, stored, pinned))
		}
	}
	role("source", cfg.Source.RoleARN, p.SourceRole)
	role("target", cfg.Target.RoleARN, p.TargetRole)
	if len(bad) > 0 {
		return fmt.Errorf("refusing to run migration %q: %s", cfg.ID, strings.Join(bad, "; "))
	}
	return nil
}

func (p pins) accountAllowed(roleARN string) bool {
	a, err := arn.Parse(roleARN)
	return err == nil && a.Service == "iam" && strings.HasPrefix(a.Resource, "role/") && slices.Contains(p.Accounts, a.AccountID)
}
