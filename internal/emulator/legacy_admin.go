package emulator

import (
	"context"
	"encoding/json"
	"errors"
)

// AWS no longer creates global tables version 2017.11.29: CreateGlobalTable is
// refused with this ValidationException (reported verbatim in
// crossplane-contrib/provider-aws issue #2308, May 2026; AWS developer guide,
// "Global tables version 2017.11.29 (Legacy)": new global tables must use
// 2019.11.21). Legacy tables that still exist must be upgraded, so the emulator
// makes them through the admin API (CreateLegacyGlobalTable) instead.
const legacyCreateRefusal = "One or more parameter values were invalid: DynamoDB global tables version 2017.11.29 is not supported. " +
	"We recommend using DynamoDB global tables version 2019.11.21, instead of version 2017.11.29 (Legacy)."

// createGlobalTable answers the public CreateGlobalTable: refused, whatever the input.
func (s *Server) createGlobalTable(req *request) ([]byte, *apiError) {
	var in replicationGroupIn
	if err := json.Unmarshal(req.body, &in); err != nil {
		return nil, serializationError(err)
	}
	return nil, validation("%s", legacyCreateRefusal)
}

// CreateLegacyGlobalTable makes a global table version 2017.11.29 named name over
// existing tables of that name in regions, as such tables still exist on AWS. Each
// table must exist, be empty, stream NEW_AND_OLD_IMAGES and have the same keys and
// indexes (the rules CreateGlobalTable had).
func (s *Server) CreateLegacyGlobalTable(ctx context.Context, name string, regions []string) error {
	if _, e := s.createLegacyGroup(&request{ctx: ctx, op: "CreateGlobalTable", region: defaultRegion}, name, regions); e != nil {
		return errors.New(e.Code + ": " + e.Message)
	}
	return nil
}
