package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"
)

// A minimal AWS KMS on the emulator's endpoint (JSON 1.1, X-Amz-Target
// TrentService.*): keys per Region with their state, aliases, tags, a default key
// policy, and each Region's AWS managed key alias/aws/dynamodb. Nothing is
// encrypted. Shapes follow the aws-sdk-go-v2 kms model (KeyMetadata, AliasListEntry,
// ScheduleKeyDeletionOutput); the operations are those hashicorp/aws's aws_kms_key
// and aws_kms_alias call (internal/service/kms/key.go, alias.go) and those DynamoDB
// users need.
//
// DynamoDB's rules against it: a replica's key must exist, be enabled and be in the
// replica's Region, and a replica whose key is disabled or pending deletion turns
// INACCESSIBLE_ENCRYPTION_CREDENTIALS after a while ("The KMS key used to encrypt the
// table is inaccessible", API Reference ReplicaDescription; "If you disable your
// customer managed key or schedule it for deletion ... the table becomes
// inaccessible", DynamoDB developer guide, encryption.usagenotes.html).

// DefaultKMSInaccessibleDelay is how long after its key is disabled a table or
// replica reports INACCESSIBLE_ENCRYPTION_CREDENTIALS (AWS gives no figure; it is not
// immediate).
const DefaultKMSInaccessibleDelay = 10 * time.Second

const (
	kmsStateEnabled         = "Enabled"
	kmsStateDisabled        = "Disabled"
	kmsStatePendingDeletion = "PendingDeletion"
)

type kmsKey struct {
	id, arn, region, description, state, manager, policy string
	created, deletion                                    time.Time
	pendingDays                                          int
	tags                                                 map[string]string
	rotation                                             bool
	rotationDays                                         int
}

type kmsAlias struct {
	target           string // key id
	created, updated time.Time
}

type kmsStore struct {
	keys    map[string]*kmsKey              // by ARN
	aliases map[string]map[string]*kmsAlias // Region -> alias name
	delay   time.Duration
}

func (s *Server) kmsLocked() *kmsStore {
	if s.kmsState == nil {
		s.kmsState = &kmsStore{keys: map[string]*kmsKey{}, aliases: map[string]map[string]*kmsAlias{}, delay: DefaultKMSInaccessibleDelay}
	}
	return s.kmsState
}

// SetKMSInaccessibleDelay sets how long after its key is disabled a table or replica
// turns INACCESSIBLE_ENCRYPTION_CREDENTIALS (zero: the default). Reset restores it.
func (s *Server) SetKMSInaccessibleDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		d = DefaultKMSInaccessibleDelay
	}
	s.kmsLocked().delay = d
}

func defaultKeyPolicy() string {
	return `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow",` +
		`"Principal":{"AWS":"arn:aws:iam::` + AccountID + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

func newKeyID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// managedKeyLocked is region's AWS managed key for DynamoDB, made on first use.
func (st *kmsStore) managedKeyLocked(region string) *kmsKey {
	arn := awsManagedKeyARN(region)
	if k := st.keys[arn]; k != nil {
		return k
	}
	k := &kmsKey{id: awsManagedKeyID, arn: arn, region: region, state: kmsStateEnabled, manager: "AWS", policy: defaultKeyPolicy(),
		description: "Default key that protects my DynamoDB data when no other key is defined", created: time.Now(), tags: map[string]string{}}
	st.keys[arn] = k
	return k
}

func kmsNotFound(format string, args ...any) *apiError {
	return errorf("NotFoundException", http.StatusBadRequest, format, args...)
}

// findLocked resolves a key id, key ARN, alias name or alias ARN in region, as KMS
// does for KeyId parameters: an ARN of another Region is not found there.
func (st *kmsStore) findLocked(ref, region string) (*kmsKey, *apiError) {
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 6)
		if len(parts) != 6 || parts[2] != "kms" {
			return nil, kmsNotFound("Invalid arn %s", ref)
		}
		if parts[3] != region {
			return nil, kmsNotFound("Invalid arn %s", parts[3])
		}
		name = parts[5]
		if strings.HasPrefix(name, "key/") {
			name = strings.TrimPrefix(name, "key/")
		}
	}
	if strings.HasPrefix(name, "alias/") {
		if name == "alias/aws/dynamodb" {
			return st.managedKeyLocked(region), nil
		}
		a := st.aliases[region][name]
		if a == nil {
			return nil, kmsNotFound("Alias arn:aws:kms:%s:%s:%s is not found.", region, AccountID, name)
		}
		name = a.target
	}
	arn := "arn:aws:kms:" + region + ":" + AccountID + ":key/" + name
	if name == awsManagedKeyID {
		return st.managedKeyLocked(region), nil
	}
	if k := st.keys[arn]; k != nil {
		return k, nil
	}
	return nil, kmsNotFound("Key '%s' does not exist", arn)
}

func (k *kmsKey) metadata() map[string]any {
	md := map[string]any{
		"AWSAccountId": AccountID, "KeyId": k.id, "Arn": k.arn, "CreationDate": float64(k.created.Unix()),
		"Enabled": k.state == kmsStateEnabled, "Description": k.description, "KeyUsage": "ENCRYPT_DECRYPT",
		"KeyState": k.state, "Origin": "AWS_KMS", "KeyManager": k.manager, "CustomerMasterKeySpec": "SYMMETRIC_DEFAULT",
		"KeySpec": "SYMMETRIC_DEFAULT", "EncryptionAlgorithms": []string{"SYMMETRIC_DEFAULT"}, "MultiRegion": false,
	}
	if k.state == kmsStatePendingDeletion {
		md["DeletionDate"] = float64(k.deletion.Unix())
		md["PendingDeletionWindowInDays"] = k.pendingDays
	}
	return md
}

// kms answers the KMS operations.
func (s *Server) kms(req *request) ([]byte, *apiError) {
	var in struct {
		KeyId, Description, AliasName, TargetKeyId, PolicyName, Policy string
		PendingWindowInDays, RotationPeriodInDays                      *int
		Tags                                                           []struct{ TagKey, TagValue string }
		TagKeys                                                        []string
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.kmsLocked()
	region := req.region
	needKey := func() (*kmsKey, *apiError) {
		if in.KeyId == "" {
			return nil, validation("1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
		}
		return st.findLocked(in.KeyId, region)
	}
	customerKey := func() (*kmsKey, *apiError) {
		k, e := needKey()
		if e == nil && k.manager == "AWS" {
			e = errorf("AccessDeniedException", http.StatusBadRequest, "%s is an AWS managed key; it cannot be changed", k.arn)
		}
		return k, e
	}
	switch req.op {
	case "CreateKey":
		id := newKeyID()
		k := &kmsKey{id: id, arn: "arn:aws:kms:" + region + ":" + AccountID + ":key/" + id, region: region, description: in.Description,
			state: kmsStateEnabled, manager: "CUSTOMER", policy: in.Policy, created: time.Now(), tags: map[string]string{}}
		if k.policy == "" {
			k.policy = defaultKeyPolicy()
		}
		for _, t := range in.Tags {
			k.tags[t.TagKey] = t.TagValue
		}
		st.keys[k.arn] = k
		return marshal(map[string]any{"KeyMetadata": k.metadata()})
	case "DescribeKey":
		k, e := needKey()
		if e != nil {
			return nil, e
		}
		return marshal(map[string]any{"KeyMetadata": k.metadata()})
	case "ListKeys":
		var out []map[string]string
		for _, k := range st.keys {
			if k.region == region {
				out = append(out, map[string]string{"KeyId": k.id, "KeyArn": k.arn})
			}
		}
		sort.Slice(out, func(i, j int) bool { return out[i]["KeyArn"] < out[j]["KeyArn"] })
		return marshal(map[string]any{"Keys": out, "Truncated": false})
	case "CreateAlias":
		// "The alias name cannot begin with alias/aws/. The alias/aws/ prefix is reserved
		// for AWS managed keys" (KMS API Reference, CreateAlias).
		if !strings.HasPrefix(in.AliasName, "alias/") || strings.HasPrefix(in.AliasName, "alias/aws/") || len(in.AliasName) <= len("alias/") {
			return nil, errorf("InvalidAliasNameException", http.StatusBadRequest, "Alias must start with the prefix \"alias/\" and must not begin with \"alias/aws/\": %s", in.AliasName)
		}
		k, e := st.findLocked(in.TargetKeyId, region)
		if e != nil {
			return nil, e
		}
		if k.manager == "AWS" {
			return nil, errorf("NotFoundException", http.StatusBadRequest, "Cannot point an alias at an AWS managed key")
		}
		if st.aliases[region] == nil {
			st.aliases[region] = map[string]*kmsAlias{}
		}
		if st.aliases[region][in.AliasName] != nil {
			return nil, errorf("AlreadyExistsException", http.StatusBadRequest, "An alias with the name arn:aws:kms:%s:%s:%s already exists", region, AccountID, in.AliasName)
		}
		now := time.Now()
		st.aliases[region][in.AliasName] = &kmsAlias{target: k.id, created: now, updated: now}
		return []byte(`{}`), nil
	case "DeleteAlias":
		if st.aliases[region][in.AliasName] == nil {
			return nil, kmsNotFound("Alias arn:aws:kms:%s:%s:%s is not found.", region, AccountID, in.AliasName)
		}
		delete(st.aliases[region], in.AliasName)
		return []byte(`{}`), nil
	case "ListAliases":
		var filter string
		if in.KeyId != "" {
			k, e := needKey()
			if e != nil {
				return nil, e
			}
			filter = k.id
		}
		st.managedKeyLocked(region)
		entries := []map[string]any{{"AliasName": "alias/aws/dynamodb", "AliasArn": "arn:aws:kms:" + region + ":" + AccountID + ":alias/aws/dynamodb",
			"TargetKeyId": awsManagedKeyID}}
		names := make([]string, 0, len(st.aliases[region]))
		for n := range st.aliases[region] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			a := st.aliases[region][n]
			entries = append(entries, map[string]any{"AliasName": n, "AliasArn": "arn:aws:kms:" + region + ":" + AccountID + ":" + n,
				"TargetKeyId": a.target, "CreationDate": float64(a.created.Unix()), "LastUpdatedDate": float64(a.updated.Unix())})
		}
		out := entries[:0]
		for _, e := range entries {
			if filter == "" || e["TargetKeyId"] == filter {
				out = append(out, e)
			}
		}
		return marshal(map[string]any{"Aliases": out, "Truncated": false})
	case "EnableKey", "DisableKey":
		k, e := customerKey()
		if e != nil {
			return nil, e
		}
		if k.state == kmsStatePendingDeletion {
			return nil, errorf("KMSInvalidStateException", http.StatusBadRequest, "%s is pending deletion.", k.arn)
		}
		k.state = kmsStateEnabled
		if req.op == "DisableKey" {
			k.state = kmsStateDisabled
		}
		s.scheduleKeyEffectLocked(k)
		return []byte(`{}`), nil
	case "ScheduleKeyDeletion":
		k, e := customerKey()
		if e != nil {
			return nil, e
		}
		if k.state == kmsStatePendingDeletion {
			return nil, errorf("KMSInvalidStateException", http.StatusBadRequest, "%s is pending deletion.", k.arn)
		}
		days := 30
		if in.PendingWindowInDays != nil {
			days = *in.PendingWindowInDays
		}
		// "This value is optional. If you include a value, it must be between 7 and 30,
		// inclusive" (KMS API Reference, ScheduleKeyDeletion PendingWindowInDays).
		if days < 7 || days > 30 {
			return nil, validation("1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30", days)
		}
		k.state, k.pendingDays, k.deletion = kmsStatePendingDeletion, days, time.Now().Add(time.Duration(days)*24*time.Hour)
		s.scheduleKeyEffectLocked(k)
		return marshal(map[string]any{"KeyId": k.arn, "DeletionDate": float64(k.deletion.Unix()), "KeyState": k.state, "PendingWindowInDays": days})
	case "CancelKeyDeletion":
		k, e := customerKey()
		if e != nil {
			return nil, e
		}
		if k.state != kmsStatePendingDeletion {
			return nil, errorf("KMSInvalidStateException", http.StatusBadRequest, "%s is not pending deletion.", k.arn)
		}
		// A key whose deletion is cancelled is Disabled (KMS API Reference, CancelKeyDeletion).
		k.state = kmsStateDisabled
		return marshal(map[string]any{"KeyId": k.arn})
	case "GetKeyPolicy":
		k, e := needKey()
		if e != nil {
			return nil, e
		}
		return marshal(map[string]any{"Policy": k.policy, "PolicyName": "default"})
	case "PutKeyPolicy":
		k, e := customerKey()
		if e != nil {
			return nil, e
		}
		if !json.Valid([]byte(in.Policy)) {
			return nil, errorf("MalformedPolicyDocumentException", http.StatusBadRequest, "The new key policy will not allow you to update the key policy in the future.")
		}
		k.policy = in.Policy
		return []byte(`{}`), nil
	case "GetKeyRotationStatus":
		k, e := needKey()
		if e != nil {
			return nil, e
		}
		out := map[string]any{"KeyId": k.arn, "KeyRotationEnabled": k.rotation || k.manager == "AWS"}
		if k.rotation {
			out["RotationPeriodInDays"] = k.rotationDays
			out["NextRotationDate"] = float64(k.created.Add(time.Duration(k.rotationDays) * 24 * time.Hour).Unix())
		}
		return marshal(out)
	case "EnableKeyRotation", "DisableKeyRotation":
		k, e := customerKey()
		if e != nil {
			return nil, e
		}
		if req.op == "DisableKeyRotation" {
			k.rotation, k.rotationDays = false, 0
			return []byte(`{}`), nil
		}
		// "RotationPeriodInDays ... between 90 and 2560 ... default value is 365" (KMS API
		// Reference, EnableKeyRotation).
		days := 365
		if in.RotationPeriodInDays != nil {
			days = *in.RotationPeriodInDays
		}
		if days < 90 || days > 2560 {
			return nil, validation("1 validation error detected: Value '%d' at 'rotationPeriodInDays' failed to satisfy constraint: Member must have value between 90 and 2560", days)
		}
		k.rotation, k.rotationDays = true, days
		return []byte(`{}`), nil
	case "UpdateKeyDescription":
		k, e := customerKey()
		if e != nil {
			return nil, e
		}
		k.description = in.Description
		return []byte(`{}`), nil
	case "ListResourceTags":
		k, e := needKey()
		if e != nil {
			return nil, e
		}
		tags := []map[string]string{}
		for _, key := range sortedKeys(k.tags) {
			tags = append(tags, map[string]string{"TagKey": key, "TagValue": k.tags[key]})
		}
		return marshal(map[string]any{"Tags": tags, "Truncated": false})
	case "TagResource", "UntagResource":
		k, e := customerKey()
		if e != nil {
			return nil, e
		}
		for _, t := range in.Tags {
			k.tags[t.TagKey] = t.TagValue
		}
		for _, t := range in.TagKeys {
			delete(k.tags, t)
		}
		return []byte(`{}`), nil
	}
	return nil, errorf("UnknownOperationException", http.StatusBadRequest, "The emulator does not implement KMS %s", req.op)
}

// kmsKeyUsableLocked applies DynamoDB's rules to the key of a new replica in region:
// it must be a key of that Region that exists and is enabled. The messages are the
// emulator's; AWS answers ValidationException.
func (s *Server) kmsKeyUsableLocked(ref, region string) (string, *apiError) {
	return s.usableKeyLocked(ref, region, "of the replica in "+region, func(e *apiError) *apiError {
		return validation("One or more parameter values were invalid: KMS key %s of the replica in %s does not exist: %s", ref, region, e.Message)
	})
}

// tableKeyUsableLocked applies the same rules to a table's own key, named in
// CreateTable, UpdateTable or a restore's SSESpecification (key id, key ARN, alias
// name or alias ARN, API Reference SSESpecification KMSMasterKeyId). A key that
// does not exist is refused with the message DynamoDB relays from KMS ("KMS
// validation error: com.amazonaws.services.kms.model.NotFoundException: Key
// 'arn:aws:kms:us-east-1:…:key/…' does not exist", a CreateTable refused on AWS,
// aws-solutions/generative-ai-application-builder-on-aws issue #29); a disabled
// key and another Region's key keep the replica check's wording.
func (s *Server) tableKeyUsableLocked(spec *sseSpec, region, table string) *apiError {
	sse := normalizeSSE(spec)
	if sse == nil || sse.SSEType != "KMS" {
		return nil
	}
	_, e := s.usableKeyLocked(sse.KMSMasterKeyID, region, "of table "+table+" in "+region, func(e *apiError) *apiError {
		return validation("KMS validation error: com.amazonaws.services.kms.model.NotFoundException: %s "+
			"(Service: AWSKMS; Status Code: 400; Error Code: NotFoundException)", e.Message)
	})
	return e
}

// usableKeyLocked resolves ref as KMS does in region and refuses a key of another
// Region, a key that does not exist (notFound words the answer) and a key that is
// not enabled; owner says whose key it is in the messages.
func (s *Server) usableKeyLocked(ref, region, owner string, notFound func(*apiError) *apiError) (string, *apiError) {
	if ref == "" {
		return "", nil
	}
	if arn := keyARN(ref, region); keyRegion(arn) != region {
		return "", validation("One or more parameter values were invalid: the KMS key %s %s must be in that Region", ref, owner)
	}
	k, e := s.kmsLocked().findLocked(ref, region)
	if e != nil {
		return "", notFound(e)
	}
	if k.state != kmsStateEnabled {
		return "", validation("One or more parameter values were invalid: KMS key %s %s is %s; DynamoDB needs an enabled key", k.arn, owner, k.state)
	}
	return k.arn, nil
}

// scheduleKeyEffectLocked makes DynamoDB notice a key's new state after the delay:
// the tables and replicas it encrypts turn INACCESSIBLE_ENCRYPTION_CREDENTIALS when it
// is no longer enabled, and ACTIVE again when it is enabled again.
func (s *Server) scheduleKeyEffectLocked(k *kmsKey) {
	delay, gen := s.kmsLocked().delay, s.generation
	s.backgroundWG.Add(1)
	go func() {
		defer s.backgroundWG.Done()
		if !s.sleep(delay) {
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.generation != gen {
			return
		}
		for _, g := range s.groups {
			for _, m := range g.members {
				key := m.kmsKey
				if key == "" {
					if meta := s.meta[tableKey{m.region, g.name}]; meta != nil && meta.SSE != nil {
						key = meta.SSE.KMSMasterKeyID
					}
				}
				if key != k.arn {
					continue
				}
				switch {
				case k.state != kmsStateEnabled && m.status == statusActive:
					m.status = "INACCESSIBLE_ENCRYPTION_CREDENTIALS"
					m.statusDesc = "The KMS key " + k.arn + " is " + k.state
				case k.state == kmsStateEnabled && m.status == "INACCESSIBLE_ENCRYPTION_CREDENTIALS":
					m.status, m.statusDesc = statusActive, ""
				}
			}
		}
	}()
}

// kmsKeyARNLocked is the key ARN DynamoDB reports for a key reference: the KMS key it
// names, else keyARN's reading of the reference ("keys are read back as full key
// ARNs, whatever form was sent", AWS provider PR #29102).
func (s *Server) kmsKeyARNLocked(ref, region string) string {
	if ref == "" {
		return ""
	}
	if k, e := s.kmsLocked().findLocked(ref, region); e == nil {
		return k.arn
	}
	return keyARN(ref, region)
}
