package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

const adminPrefix = "/_emulator/"

// Reset deletes every table in every Region and forgets all front state: global
// tables, tags, SSE and PITR settings, auto scaling, faults, trims, pending
// upgrades. Delays return to the values given in Options.
func (s *Server) Reset(ctx context.Context) error {
	s.mu.Lock()
	groups := s.groups
	regions := s.regions
	s.resetStateLocked()
	s.delays = s.opts.Delays.withDefaults()
	s.mu.Unlock()
	for _, g := range groups {
		g.stopAndWait()
	}
	var firstErr error
	for region := range regions {
		var start string
		for {
			in := map[string]any{}
			if start != "" {
				in["ExclusiveStartTableName"] = start
			}
			var out struct {
				TableNames             []string `json:"TableNames"`
				LastEvaluatedTableName string   `json:"LastEvaluatedTableName"`
			}
			if e := s.ddb(ctx, region, "ListTables", in, &out); e != nil {
				firstErr = errors.Join(firstErr, e)
				break
			}
			for _, name := range out.TableNames {
				_ = s.ddb(ctx, region, "UpdateTable", map[string]any{"TableName": name, "DeletionProtectionEnabled": false}, nil)
				if e := s.ddb(ctx, region, "DeleteTable", map[string]string{"TableName": name}, nil); e != nil && e.Code != "ResourceNotFoundException" {
					firstErr = errors.Join(firstErr, e)
				}
			}
			if out.LastEvaluatedTableName == "" {
				break
			}
			start = out.LastEvaluatedTableName
		}
	}
	s.mu.Lock()
	for r := range regions {
		s.regions[r] = true
	}
	s.mu.Unlock()
	return firstErr
}

// SetDelays changes the control-plane and replication delays; zero fields keep
// their current value.
func (s *Server) SetDelays(d Delays) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d.ReplicaCreate > 0 {
		s.delays.ReplicaCreate = d.ReplicaCreate
	}
	if d.ReplicaDelete > 0 {
		s.delays.ReplicaDelete = d.ReplicaDelete
	}
	if d.Replication > 0 {
		s.delays.Replication = d.Replication
	}
	if d.Upgrade > 0 {
		s.delays.Upgrade = d.Upgrade
	}
	if d.Settle > 0 {
		s.delays.Settle = d.Settle
	}
	if d.ToggleThrottle > 0 {
		s.delays.ToggleThrottle = d.ToggleThrottle
	}
	if d.PITRUnavailable > 0 {
		s.delays.PITRUnavailable = d.PITRUnavailable
	}
	if d.PITREnabling > 0 {
		s.delays.PITREnabling = d.PITREnabling
	}
	if d.SourceHold > 0 {
		s.delays.SourceHold = d.SourceHold
	}
	if d.Backup > 0 {
		s.delays.Backup = d.Backup
	}
	if d.Restore > 0 {
		s.delays.Restore = d.Restore
	}
	if d.PITRLag > 0 {
		s.delays.PITRLag = d.PITRLag
	}
}

// CurrentDelays returns the delays in force.
func (s *Server) CurrentDelays() Delays {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delays
}

// durationJSON accepts "250ms"-style strings or numbers of milliseconds.
type durationJSON time.Duration

func (d *durationJSON) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		v, err := time.ParseDuration(s)
		*d = durationJSON(v)
		return err
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return err
	}
	*d = durationJSON(time.Duration(ms * float64(time.Millisecond)))
	return nil
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path[len(adminPrefix):]
	ctx := r.Context()
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	fail := func(status int, err error) { reply(status, map[string]string{"error": err.Error()}) }
	decode := func(v any) bool {
		if err := json.NewDecoder(r.Body).Decode(v); err != nil {
			fail(http.StatusBadRequest, err)
			return false
		}
		return true
	}
	switch {
	case path == "reset" && r.Method == http.MethodPost:
		if err := s.Reset(ctx); err != nil {
			fail(http.StatusInternalServerError, err)
			return
		}
		reply(http.StatusOK, map[string]bool{"ok": true})
	case path == "delays" && r.Method == http.MethodGet:
		reply(http.StatusOK, delaysOut(s.CurrentDelays()))
	case path == "delays" && r.Method == http.MethodPost:
		var in struct {
			ReplicaCreate, ReplicaDelete, Replication, Upgrade, Settle, ToggleThrottle durationJSON
			PITRUnavailable, PITREnabling, SourceHold, Backup, Restore, PITRLag        durationJSON
		}
		if !decode(&in) {
			return
		}
		s.SetDelays(Delays{ReplicaCreate: time.Duration(in.ReplicaCreate), ReplicaDelete: time.Duration(in.ReplicaDelete),
			Replication: time.Duration(in.Replication), Upgrade: time.Duration(in.Upgrade), Settle: time.Duration(in.Settle),
			ToggleThrottle: time.Duration(in.ToggleThrottle), PITRUnavailable: time.Duration(in.PITRUnavailable),
			PITREnabling: time.Duration(in.PITREnabling), SourceHold: time.Duration(in.SourceHold),
			Backup: time.Duration(in.Backup), Restore: time.Duration(in.Restore), PITRLag: time.Duration(in.PITRLag)})
		reply(http.StatusOK, delaysOut(s.CurrentDelays()))
	case path == "faults" && r.Method == http.MethodGet:
		reply(http.StatusOK, s.Faults())
	case path == "faults" && r.Method == http.MethodPost:
		var in struct {
			Fault
			Latency durationJSON `json:"latency"`
		}
		if !decode(&in) {
			return
		}
		in.Fault.Latency = time.Duration(in.Latency)
		reply(http.StatusOK, map[string]int{"id": s.AddFault(in.Fault)})
	case path == "faults" && r.Method == http.MethodDelete:
		if id := r.URL.Query().Get("id"); id != "" {
			n, err := strconv.Atoi(id)
			if err != nil {
				fail(http.StatusBadRequest, err)
				return
			}
			s.RemoveFault(n)
		} else {
			s.ClearFaults()
		}
		reply(http.StatusOK, map[string]bool{"ok": true})
	case path == "trim-stream" && r.Method == http.MethodPost:
		var in struct{ Region, Table string }
		if !decode(&in) {
			return
		}
		if err := s.TrimStream(ctx, in.Region, in.Table); err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		reply(http.StatusOK, map[string]bool{"ok": true})
	case path == "split-shard" && r.Method == http.MethodPost:
		var in struct {
			Region, Table string
			Children      int
		}
		if !decode(&in) {
			return
		}
		if in.Children == 0 {
			in.Children = 2
		}
		ids, err := s.SplitShard(ctx, in.Region, in.Table, in.Children)
		if err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		reply(http.StatusOK, map[string][]string{"children": ids})
	case path == "stream-shards" && r.Method == http.MethodPost:
		var in struct{ Shards, PageSize int }
		if !decode(&in) {
			return
		}
		s.SetStreamShards(in.Shards, in.PageSize)
		reply(http.StatusOK, map[string]bool{"ok": true})
	case path == "iterator-lifetime" && r.Method == http.MethodPost:
		var in struct{ Lifetime durationJSON }
		if !decode(&in) {
			return
		}
		s.SetIteratorLifetime(time.Duration(in.Lifetime))
		reply(http.StatusOK, map[string]bool{"ok": true})
	case path == "fail-replica-creation" && r.Method == http.MethodPost:
		var in struct{ Region, Table, Description string }
		if !decode(&in) {
			return
		}
		if in.Description == "" {
			in.Description = "Replica creation failed (injected by the emulator)"
		}
		s.FailReplicaCreation(in.Region, in.Table, in.Description)
		reply(http.StatusOK, map[string]bool{"ok": true})
	case path == "table-quota" && r.Method == http.MethodPost:
		var in struct {
			Region string
			TableQuota
		}
		if !decode(&in) {
			return
		}
		s.SetTableQuota(in.Region, in.TableQuota)
		reply(http.StatusOK, map[string]bool{"ok": true})
	case path == "replica-status" && r.Method == http.MethodPost:
		var in struct{ Region, Table, Status string }
		if !decode(&in) {
			return
		}
		if err := s.SetReplicaStatus(in.Region, in.Table, in.Status); err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		reply(http.StatusOK, map[string]bool{"ok": true})
	case path == "legacy-global-table" && r.Method == http.MethodPost:
		var in struct {
			GlobalTableName string   `json:"globalTableName"`
			Regions         []string `json:"regions"`
		}
		if !decode(&in) {
			return
		}
		if err := s.CreateLegacyGlobalTable(ctx, in.GlobalTableName, in.Regions); err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		reply(http.StatusOK, map[string]bool{"ok": true})
	case path == "upgrade" && r.Method == http.MethodPost:
		var in struct {
			Table string
			After durationJSON
		}
		if !decode(&in) {
			return
		}
		err := s.UpdateVersion(ctx, in.Table, time.Duration(in.After))
		var refused *UpgradeRefusedError
		switch {
		case errors.As(err, &refused):
			reply(http.StatusConflict, map[string]any{"error": err.Error(), "failed": refused.Failed})
		case err != nil:
			fail(http.StatusBadRequest, err)
		default:
			st, _ := s.UpgradeState(in.Table)
			reply(http.StatusOK, st)
		}
	case path == "upgrade" && r.Method == http.MethodGet:
		table := r.URL.Query().Get("table")
		st, ok := s.UpgradeState(table)
		if !ok {
			fail(http.StatusNotFound, errors.New("no upgrade requested for "+table))
			return
		}
		reply(http.StatusOK, st)
	case path == "upgrade-check" && r.Method == http.MethodGet:
		checks, err := s.CheckUpgrade(ctx, r.URL.Query().Get("table"))
		if err != nil {
			fail(http.StatusBadRequest, err)
			return
		}
		reply(http.StatusOK, checks)
	default:
		fail(http.StatusNotFound, errors.New("unknown admin call "+r.Method+" "+r.URL.Path))
	}
}

func delaysOut(d Delays) map[string]string {
	return map[string]string{"replicaCreate": d.ReplicaCreate.String(), "replicaDelete": d.ReplicaDelete.String(),
		"replication": d.Replication.String(), "upgrade": d.Upgrade.String(), "settle": d.Settle.String(),
		"toggleThrottle": d.ToggleThrottle.String(), "pitrUnavailable": d.PITRUnavailable.String(),
		"pitrEnabling": d.PITREnabling.String(), "sourceHold": d.SourceHold.String(),
		"backup": d.Backup.String(), "restore": d.Restore.String(), "pitrLag": d.PITRLag.String()}
}
