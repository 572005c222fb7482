package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"html"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ddbglobal/terraform-provider-ddbglobal/internal/ddblocal"
)

// AccountID is the default account: callers whose access key names no other (accounts.go).
const AccountID = "123456789012"

const (
	localAccessKey = "ddbglobal"
	localARNPrefix = "arn:aws:dynamodb:ddblocal:000000000000:"
	defaultRegion  = "us-east-1"
	maxBodyBytes   = 32 << 20
)

// Options configure Start. Zero values pick sensible defaults.
type Options struct {
	// Addr is host:port for the front; empty means 127.0.0.1 and a free port.
	Addr string
	// LocalDir overrides where DynamoDBLocal.jar lives (see ddblocal.FindDir).
	LocalDir string
	// Delays of the asynchronous control plane and of replication.
	Delays Delays
	// PollInterval is how often member streams are read for replication (default 10ms).
	PollInterval time.Duration
	// MaxConcurrentReplicaOps bounds replica creates/deletes in progress across the
	// account; more give LimitExceededException (default 10).
	MaxConcurrentReplicaOps int
	// StreamShards is how many shards each stream has (default DefaultStreamShards;
	// 1 leaves DynamoDB Local's single shard).
	StreamShards int
	// StreamPageSize is the most shards one DescribeStream page lists (default and
	// maximum 100, AWS's); tests lower it so that paging runs with a few shards.
	StreamPageSize int
	// Logf receives diagnostic lines; nil discards them.
	Logf func(format string, args ...any)
}

// Delays of the emulated control plane.
type Delays struct {
	// ReplicaCreate is how long a new replica stays CREATING (default 2s).
	ReplicaCreate time.Duration `json:"replicaCreate"`
	// ReplicaDelete is how long a removed replica stays DELETING (default 1s).
	ReplicaDelete time.Duration `json:"replicaDelete"`
	// Replication is the lag between a write and its copies in other members (default 200ms).
	Replication time.Duration `json:"replication"`
	// Upgrade is how long the console's "Update version" keeps tables UPDATING (default 1s).
	Upgrade time.Duration `json:"upgrade"`
	// Settle is how long a table stays UPDATING after a deletion protection change, and
	// a replica after a ReplicaUpdates Update (default 20s: "tens of seconds" on AWS).
	Settle time.Duration `json:"settle"`
	// ToggleThrottle is how soon after a deletion protection change another one is
	// throttled (default 15s).
	ToggleThrottle time.Duration `json:"toggleThrottle"`
	// PITRUnavailable is how long after a table or replica turns ACTIVE enabling
	// point-in-time recovery fails with ContinuousBackupsUnavailableException (default 10s).
	PITRUnavailable time.Duration `json:"pitrUnavailable"`
	// PITREnabling is how long point-in-time recovery reports ENABLING after it is
	// enabled (default 10s).
	PITREnabling time.Duration `json:"pitrEnabling"`
	// SourceHold is how long a Region that sourced a replica create refuses its own
	// deletion (default 24h).
	SourceHold time.Duration `json:"sourceHold"`
	// Backup is how long a new on-demand backup stays CREATING (default 5s).
	Backup time.Duration `json:"backup"`
	// Restore is how long a restored table stays CREATING with its restore in
	// progress (default 1m; at least as long as loading its items takes).
	Restore time.Duration `json:"restore"`
	// PITRLag is how far LatestRestorableDateTime trails the current time (default
	// 5m: "typically 5 minutes before the current time", RestoreTableToPointInTime).
	PITRLag time.Duration `json:"pitrLag"`
}

func (d Delays) withDefaults() Delays {
	if d.ReplicaCreate == 0 {
		d.ReplicaCreate = 2 * time.Second
	}
	if d.ReplicaDelete == 0 {
		d.ReplicaDelete = time.Second
	}
	if d.Replication == 0 {
		d.Replication = 200 * time.Millisecond
	}
	if d.Upgrade == 0 {
		d.Upgrade = time.Second
	}
	if d.Settle == 0 {
		d.Settle = 20 * time.Second
	}
	if d.ToggleThrottle == 0 {
		d.ToggleThrottle = 15 * time.Second
	}
	if d.PITRUnavailable == 0 {
		d.PITRUnavailable = 10 * time.Second
	}
	if d.PITREnabling == 0 {
		d.PITREnabling = 10 * time.Second
	}
	if d.SourceHold == 0 {
		d.SourceHold = 24 * time.Hour
	}
	if d.Backup == 0 {
		d.Backup = 5 * time.Second
	}
	if d.Restore == 0 {
		d.Restore = time.Minute
	}
	if d.PITRLag == 0 {
		d.PITRLag = 5 * time.Minute
	}
	return d
}

// Server is a running emulator: the Go front plus its DynamoDB Local process.
type Server struct {
	// Endpoint is the base URL for every service (DynamoDB, Streams, Application Auto Scaling).
	Endpoint string
	// Addr is host:port of the front.
	Addr string

	local    *ddblocal.Server
	httpSrv  *http.Server
	listener net.Listener
	client   *http.Client
	opts     Options

	mu                               sync.Mutex
	delays                           Delays
	regions                          map[string]bool
	meta                             map[tableKey]*tableMeta
	groups                           map[string]*group // by table name
	targets                          map[targetKey]*scalableTarget
	policies                         map[policyKey]*scalingPolicy
	faults                           []*faultRule
	faultByID                        map[int]*faultRule // every rule added since the last clear, removed or not
	nextFaultID                      int
	assumedRoles                     []string                     // STS AssumeRole calls, for tests
	crossCalls                       []CrossAccountCall           // calls that reached another account's table (accounts.go)
	resPolicies                      map[tableKey]*resourcePolicy // resource-based policies by scope and table (policy.go)
	issuedKeys                       map[string]string            // access key id handed out by AssumeRole -> role ARN
	roleCalls                        map[roleCallKey]int          // calls signed with an assumed role's key, for tests
	trims                            map[string]string            // local stream ARN|shard -> first sequence number not trimmed
	splits                           map[string]*shardSplit       // local stream ARN|shard
	vshards                          map[string]*virtualShard     // local stream ARN|virtual shard id
	partitions                       map[string]int               // local stream ARN -> shards it was first listed with
	streamShardCount, streamPageSize int
	nextShard                        int
	quotas                           map[string]TableQuota // per Region; absent: the default quota
	iteratorTTL                      time.Duration
	createFails                      map[tableKey]string
	upgrades                         map[string]*UpgradeStatus
	replicaOps                       int
	kmsState                         *kmsStore // kms.go
	generation                       int
	stopped                          bool
	backgroundWG                     sync.WaitGroup
	quit                             chan struct{} // closed by Stop: ends background sleeps
	// seenRegions spares the hot path the lock once a Region is known.
	seenRegions sync.Map
	// faultCount spares the hot path the lock while no fault rule is set.
	faultCount atomic.Int32
	// groupCount spares the hot path the lock while no global table exists.
	groupCount atomic.Int32

	bk *backupState // backups, restores and PITR logs (backups.go)

	clockMu     sync.Mutex
	clock       map[string]time.Time // last client write per Region, table and key
	clockPruned time.Time
}

type tableKey struct{ Region, Table string }

// tableMeta holds what DynamoDB Local does not keep for a table.
type tableMeta struct {
	Tags map[string]string
	SSE  *sseSpec
	PITR bool
	// Warm is the warm throughput asked for with CreateTable/UpdateTable (nil: the default).
	Warm *warmThroughput
	// Class is the table class asked for with CreateTable/UpdateTable ("": STANDARD);
	// DynamoDB Local ignores TableClass.
	Class string
	// activeAt is when the table (or replica) turned ACTIVE: enabling PITR fails for a while after.
	activeAt time.Time
	// pitrSince is when PITR was enabled: it reports ENABLING for a while.
	pitrSince time.Time
	// updatingUntil keeps the table UPDATING after a deletion protection change.
	updatingUntil time.Time
	// protectionChanged is when deletion protection last changed (throttles another change).
	protectionChanged time.Time
	// failStatus is a failure status the admin API put the replica into.
	failStatus string
}

type sseSpec struct {
	Enabled        bool   `json:"Enabled"`
	SSEType        string `json:"SSEType,omitempty"`
	KMSMasterKeyID string `json:"KMSMasterKeyId,omitempty"`
}

// Start launches DynamoDB Local and the front. Stop ends both.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.PollInterval == 0 {
		opts.PollInterval = 10 * time.Millisecond
	}
	if opts.StreamShards <= 0 {
		opts.StreamShards = DefaultStreamShards
	}
	if opts.StreamPageSize <= 0 || opts.StreamPageSize > maxShardPage {
		opts.StreamPageSize = maxShardPage
	}
	if opts.MaxConcurrentReplicaOps == 0 {
		opts.MaxConcurrentReplicaOps = 10
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("emulator: listen on %s: %w", addr, err)
	}
	local, err := ddblocal.Start(ctx, ddblocal.Options{Dir: opts.LocalDir})
	if err != nil {
		ln.Close()
		return nil, err
	}
	s := &Server{
		Endpoint: "http://" + ln.Addr().String(),
		Addr:     ln.Addr().String(),
		local:    local,
		listener: ln,
		opts:     opts,
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second,
			DisableCompression: true,
		}},
		delays: opts.Delays.withDefaults(),
		quit:   make(chan struct{}),
	}
	s.resetStateLocked()
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second}
	go func() { _ = s.httpSrv.Serve(ln) }()
	return s, nil
}

func (s *Server) resetStateLocked() {
	s.regions = map[string]bool{}
	s.meta = map[tableKey]*tableMeta{}
	s.groups = map[string]*group{}
	s.groupCount.Store(0)
	s.targets = map[targetKey]*scalableTarget{}
	s.policies = map[policyKey]*scalingPolicy{}
	s.faults = nil
	s.faultByID = nil
	s.faultCount.Store(0)
	s.trims = map[string]string{}
	s.splits = map[string]*shardSplit{}
	s.vshards = map[string]*virtualShard{}
	s.partitions = map[string]int{}
	s.streamShardCount, s.streamPageSize = s.opts.StreamShards, s.opts.StreamPageSize
	s.iteratorTTL = 0
	s.quotas = map[string]TableQuota{}
	s.createFails = map[tableKey]string{}
	s.assumedRoles = nil
	s.crossCalls = nil
	s.resPolicies = map[tableKey]*resourcePolicy{}
	s.roleCalls = nil
	s.upgrades = map[string]*UpgradeStatus{}
	s.replicaOps = 0
	s.kmsState = nil
	s.bk = newBackupState()
	s.generation++
	s.clockMu.Lock()
	s.clock = map[string]time.Time{}
	s.clockMu.Unlock()
}

// LocalEndpoint is DynamoDB Local's own URL (for comparisons and benchmarks).
func (s *Server) LocalEndpoint() string { return s.local.Endpoint }

// LocalPID is the process id of DynamoDB Local.
func (s *Server) LocalPID() int { return s.local.PID() }

// Stop ends replication, the front and DynamoDB Local.
func (s *Server) Stop() {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	close(s.quit)
	groups := s.groups
	s.groups = map[string]*group{}
	s.groupCount.Store(0)
	s.generation++
	s.mu.Unlock()
	for _, g := range groups {
		g.stopAndWait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = s.httpSrv.Shutdown(ctx)
	s.backgroundWG.Wait()
	s.local.Stop()
}

// Wait blocks until DynamoDB Local exits (it should not before Stop).
func (s *Server) Wait() error { return s.local.Wait() }

// sleep waits d, or less when the server stops; it reports whether it slept fully.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.quit:
		return false
	}
}

// serveSTS answers the STS query API's GetCallerIdentity, so that SDKs and
// Terraform providers that validate credentials work against the emulator, and
// AssumeRole, so that configurations with roles (another account, say) run here
// too. Every role lands in the one emulated account; AssumedRoles lists the roles
// asked for, so tests can see that a role was used.
func (s *Server) serveSTS(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/xml")
	if err := r.ParseForm(); err != nil {
		stsError(w, "InvalidAction", err.Error())
		return
	}
	switch r.Form.Get("Action") {
	case "GetCallerIdentity":
		_, _ = io.WriteString(w, stsCallerIdentity(s.callerOf(r.Header.Get("Authorization"))))
	case "AssumeRole":
		role, session := r.Form.Get("RoleArn"), r.Form.Get("RoleSessionName")
		if !strings.HasPrefix(role, "arn:aws:iam::") || session == "" {
			stsError(w, "ValidationError", "RoleArn must be an IAM role ARN and RoleSessionName is required")
			return
		}
		var b [8]byte
		_, _ = rand.Read(b[:])
		id := strings.ToUpper(hex.EncodeToString(b[:]))
		s.mu.Lock()
		s.assumedRoles = append(s.assumedRoles, role)
		if s.issuedKeys == nil {
			s.issuedKeys = map[string]string{}
		}
		s.issuedKeys["ASIA"+id] = role
		s.mu.Unlock()
		expires := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		_, _ = io.WriteString(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>`+
			`<Credentials><AccessKeyId>ASIA`+id+`</AccessKeyId><SecretAccessKey>emulator`+id+`</SecretAccessKey>`+
			`<SessionToken>emulator-session-`+id+`</SessionToken><Expiration>`+expires+`</Expiration></Credentials>`+
			`<AssumedRoleUser><AssumedRoleId>AROA`+id+`:`+html.EscapeString(session)+`</AssumedRoleId>`+
			`<Arn>`+html.EscapeString(strings.Replace(role, ":role/", ":assumed-role/", 1)+"/"+session)+`</Arn></AssumedRoleUser>`+
			`</AssumeRoleResult><ResponseMetadata><RequestId>emulator</RequestId></ResponseMetadata></AssumeRoleResponse>`)
	default:
		stsError(w, "InvalidAction", "The emulator implements GetCallerIdentity and AssumeRole only")
	}
}

func stsError(w http.ResponseWriter, code, msg string) {
	w.WriteHeader(http.StatusBadRequest)
	_, _ = io.WriteString(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>`+code+
		`</Code><Message>`+html.EscapeString(msg)+`</Message></Error><RequestId>emulator</RequestId></ErrorResponse>`)
}

// AssumedRoles lists the role ARNs that STS AssumeRole was called with, oldest first.
func (s *Server) AssumedRoles() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.assumedRoles...)
}

type roleCallKey struct{ role, region, table string }

// RoleCalls counts the DynamoDB, Streams and Application Auto Scaling calls about
// table in region that were signed with credentials from the emulator's AssumeRole,
// by role ARN: the caller identity the emulator saw, so tests can tell that data calls
// used the assumed role and not the provider's own credentials.
func (s *Server) RoleCalls(region, table string) map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for k, n := range s.roleCalls {
		if k.region == region && k.table == table {
			out[k.role] += n
		}
	}
	return out
}

// noteCaller records a call signed with an assumed role's access key. Calls signed
// otherwise cost nothing here (their bodies are not parsed).
func (s *Server) noteCaller(auth string, req *request) {
	m := credentialRe.FindStringSubmatch(auth)
	if m == nil || !strings.HasPrefix(m[1], "ASIA") {
		return
	}
	s.mu.Lock()
	role := s.issuedKeys[m[1]]
	s.mu.Unlock()
	if role == "" {
		return
	}
	table := requestTable(req.body)
	s.mu.Lock()
	if s.roleCalls == nil {
		s.roleCalls = map[roleCallKey]int{}
	}
	s.roleCalls[roleCallKey{role, req.region, table}]++
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// ServeHTTP routes admin calls, the three AWS protocols and nothing else.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, adminPrefix) {
		s.serveAdmin(w, r)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	if r.Method == http.MethodPost && target == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		s.serveSTS(w, r)
		return
	}
	if r.Method != http.MethodPost || target == "" {
		if r.Method == http.MethodGet && r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "ddbglobal emulator: DynamoDB, DynamoDB Streams and Application Auto Scaling on one endpoint\n")
			return
		}
		writeError(w, protoDynamoDB, errorf("UnknownOperationException", http.StatusBadRequest, "An unknown operation was requested."))
		return
	}
	body, err := readBody(r.Body, r.ContentLength, maxBodyBytes)
	if err != nil {
		writeError(w, protoDynamoDB, serializationError(err))
		return
	}
	service, op, _ := strings.Cut(target, ".")
	var proto protocol
	switch service {
	case "DynamoDB_20120810":
		proto = protoDynamoDB
	case "DynamoDBStreams_20120810":
		proto = protoStreams
	case "AnyScaleFrontendService", "TrentService":
		proto = protoAutoScaling // both JSON 1.1 with bare error types
	default:
		writeError(w, protoDynamoDB, errorf("UnknownOperationException", http.StatusBadRequest, "An unknown operation was requested."))
		return
	}
	if !json.Valid(body) || (len(bytes.TrimSpace(body)) > 0 && bytes.TrimSpace(body)[0] != '{') {
		writeError(w, proto, serializationError(errors.New("request body is not a JSON object")))
		return
	}
	region := regionOf(r.Header.Get("Authorization"))
	who := s.callerOf(r.Header.Get("Authorization"))
	req := &request{ctx: r.Context(), proto: proto, op: op, region: scopeOf(region, who.account), body: body}
	if e := s.routeAccount(req, who); e != nil { // accounts.go: another account's table by ARN
		writeError(w, proto, e)
		return
	}
	region = req.region
	s.noteRegion(region)
	s.noteCaller(r.Header.Get("Authorization"), req)

	if e := s.applyFaults(req); e != nil {
		writeError(w, proto, e)
		return
	}
	var resp []byte
	var aerr *apiError
	switch {
	case service == "TrentService":
		resp, aerr = s.kms(req)
	case proto == protoAutoScaling:
		resp, aerr = s.autoScaling(req)
	case proto == protoStreams:
		resp, aerr = s.streams(req)
	default:
		resp, aerr = s.dynamodb(req)
	}
	if aerr != nil {
		// An error of an item operation can carry items (CancellationReasons, Item):
		// the caller's data, left as written.
		if !itemDataOps[op] {
			aerr.Message = string(fromLocal([]byte(aerr.Message), region))
			if aerr.raw != nil {
				aerr.raw = cleanScopes(fromLocal(aerr.raw, region))
			}
			aerr.Message = string(cleanScopes([]byte(aerr.Message)))
		}
		writeError(w, proto, aerr)
		return
	}
	if !itemDataOps[op] {
		resp = cleanScopes(resp) // accounts.go: no scope leaves the emulator
	}
	h := w.Header()
	h.Set("Content-Type", proto.contentType())
	h.Set("Content-Length", strconv.Itoa(len(resp)))
	if proto != protoAutoScaling {
		h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(resp)), 10))
	}
	_, _ = w.Write(resp)
}

// request is one client call as the front sees it.
type request struct {
	ctx    context.Context
	proto  protocol
	op     string
	region string
	body   []byte
	// unprocessed holds BatchWriteItem entries a fault held back.
	unprocessed map[string][]json.RawMessage
}

func (s *Server) noteRegion(region string) {
	if _, ok := s.seenRegions.Load(region); ok {
		return
	}
	s.seenRegions.Store(region, true)
	s.mu.Lock()
	s.regions[region] = true
	s.mu.Unlock()
}

var credentialRe = regexp.MustCompile(`Credential=([^/,\s]*)/([^/]*)/([^/]*)/`)

// regionOf reads the Region from a SigV4 Authorization header's credential scope.
func regionOf(auth string) string {
	if m := credentialRe.FindStringSubmatch(auth); m != nil && m[3] != "" {
		return m[3]
	}
	return defaultRegion
}

// toLocal rewrites the caller's ARNs (of any account) into DynamoDB Local's.
func toLocal(body []byte) []byte {
	if !bytes.Contains(body, []byte("arn:aws:dynamodb:")) {
		return body
	}
	return anyAccountARNRe.ReplaceAll(body, []byte(localARNPrefix))
}

// fromLocal rewrites DynamoDB Local's ARNs and Region names into the caller's;
// scope is the Region, or "region@account" (accounts.go).
func fromLocal(body []byte, scope string) []byte {
	region, account := splitScope(scope)
	if bytes.Contains(body, []byte(localARNPrefix)) {
		body = bytes.ReplaceAll(body, []byte(localARNPrefix), []byte("arn:aws:dynamodb:"+region+":"+account+":"))
	}
	if bytes.Contains(body, []byte(`"awsRegion":"ddblocal"`)) {
		body = bytes.ReplaceAll(body, []byte(`"awsRegion":"ddblocal"`), []byte(`"awsRegion":"`+region+`"`))
	}
	return body
}

// readBody reads at most limit bytes of a body. A body of known length (a
// request's or a response's ContentLength, -1 when unknown) is read into one
// buffer of that size: a Scan page is up to 1 MB, and reading it in growing
// steps would copy it many times over.
func readBody(body io.Reader, length, limit int64) ([]byte, error) {
	if length <= 0 || length > limit {
		return io.ReadAll(io.LimitReader(body, limit))
	}
	buf := make([]byte, length)
	if _, err := io.ReadFull(body, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// callLocal sends one call to DynamoDB Local as the shared account in region.
// target is "DynamoDB_20120810.X" or "DynamoDBStreams_20120810.X". The body and the
// answer stay in DynamoDB Local's ARN space.
func (s *Server) callLocal(ctx context.Context, region, target string, body []byte) ([]byte, *apiError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.local.Endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, errorf("InternalServerError", http.StatusInternalServerError, "%v", err)
	}
	service := "dynamodb"
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	localRegion, key := localKeyOf(region) // one database per account and Region (accounts.go)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20200101/"+localRegion+"/"+service+"/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, errorf("InternalServerError", http.StatusInternalServerError, "DynamoDB Local: %v", err)
	}
	defer resp.Body.Close()
	out, err := readBody(resp.Body, resp.ContentLength, maxBodyBytes)
	if err != nil {
		return nil, errorf("InternalServerError", http.StatusInternalServerError, "DynamoDB Local: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		e := parseLocalError(resp.StatusCode, out)
		if e.Code == "InternalFailure" && !json.Valid(body) {
			e = serializationError(errors.New("malformed JSON"))
		}
		return nil, e
	}
	return out, nil
}

// ddb calls a DynamoDB operation on DynamoDB Local with a Go value as input and
// decodes the answer into out (when not nil).
func (s *Server) ddb(ctx context.Context, region, op string, in, out any) *apiError {
	body, err := json.Marshal(in)
	if err != nil {
		return errorf("InternalServerError", http.StatusInternalServerError, "%v", err)
	}
	target := "DynamoDB_20120810." + op
	if strings.HasPrefix(op, "Streams.") {
		target = "DynamoDBStreams_20120810." + strings.TrimPrefix(op, "Streams.")
	}
	resp, aerr := s.callLocal(ctx, region, target, body)
	if aerr != nil {
		return aerr
	}
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			return errorf("InternalServerError", http.StatusInternalServerError, "decoding %s: %v", op, err)
		}
	}
	return nil
}

// forward passes the caller's request to DynamoDB Local and rewrites the answer.
func (s *Server) forward(req *request) ([]byte, *apiError) {
	prefix := "DynamoDB_20120810."
	if req.proto == protoStreams {
		prefix = "DynamoDBStreams_20120810."
	}
	body := req.body
	if !itemDataOps[req.op] || req.op == "GetRecords" { // a GetRecords request is just an iterator
		body = toLocal(body)
	}
	resp, aerr := s.callLocal(req.ctx, req.region, prefix+req.op, body)
	if aerr != nil {
		return nil, aerr // ServeHTTP rewrites what needs rewriting
	}
	if itemDataOps[req.op] {
		// Items are the caller's data: an ARN stored in an attribute stays as written.
		if req.op == "GetRecords" {
			plain, _ := splitScope(req.region)
			return bytes.ReplaceAll(resp, []byte(`"awsRegion":"ddblocal"`), []byte(`"awsRegion":"`+plain+`"`)), nil
		}
		return resp, nil
	}
	return fromLocal(resp, req.region), nil
}

// itemDataOps carry item data in requests and answers; ARNs are not rewritten there.
var itemDataOps = map[string]bool{
	"PutItem": true, "GetItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true, "Scan": true,
	"BatchGetItem": true, "BatchWriteItem": true, "TransactGetItems": true, "TransactWriteItems": true,
	"ExecuteStatement": true, "BatchExecuteStatement": true, "ExecuteTransaction": true, "GetRecords": true,
}

func localTableARN(name string) string { return localARNPrefix + "table/" + name }

func tableARN(scope, name string) string {
	region, account := splitScope(scope)
	return "arn:aws:dynamodb:" + region + ":" + account + ":table/" + name
}

// tableFromARN returns the Region and table name of a caller's table ARN.
func tableFromARN(arn string) (region, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[2] != "dynamodb" || !strings.HasPrefix(parts[5], "table/") {
		return "", "", false
	}
	name = strings.TrimPrefix(parts[5], "table/")
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[:i]
	}
	return parts[3], name, name != ""
}
