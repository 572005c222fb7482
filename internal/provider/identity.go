package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
)

// Resource identity (Terraform 1.12 and later): the attributes that name a resource's
// remote object, which an `import` block can give instead of an import id. Every
// attribute of an identity is one that forces replacement, so an identity never
// changes: it is recorded once (at create, at import, or at the first refresh of a
// state written before identities existed) and kept. Clients that know nothing of
// identities (Terraform before 1.12, OpenTofu) are sent none of it and need none of it:
// every resource works the same without.

var (
	_ resource.ResourceWithIdentity = (*replicaResource)(nil)
	_ resource.ResourceWithIdentity = (*versionUpgradeResource)(nil)
	_ resource.ResourceWithIdentity = (*liveMigrationResource)(nil)
)

const accountIDDescription = "AWS account of the provider's credentials (from STS `GetCallerIdentity`); " +
	"when given at import, it must be that account. Empty when STS could not be asked."

func accountIDIdentityAttribute() identityschema.StringAttribute {
	return identityschema.StringAttribute{OptionalForImport: true, Description: accountIDDescription}
}

// replicaIdentity identifies a ddbglobal_replica.
type replicaIdentity struct {
	AccountID types.String `tfsdk:"account_id"`
	Region    types.String `tfsdk:"region"`
	TableName types.String `tfsdk:"table_name"`
}

func (r *replicaResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{Attributes: map[string]identityschema.Attribute{
		"table_name": identityschema.StringAttribute{RequiredForImport: true, Description: "Name of the table."},
		"region":     identityschema.StringAttribute{RequiredForImport: true, Description: "Region of the replica."},
		"account_id": accountIDIdentityAttribute(),
	}}
}

func (r *replicaResource) identity(ctx context.Context, state *tfsdk.State) (any, diag.Diagnostics) {
	var id replicaIdentity
	var diags diag.Diagnostics
	diags.Append(state.GetAttribute(ctx, path.Root("table_name"), &id.TableName)...)
	diags.Append(state.GetAttribute(ctx, path.Root("region"), &id.Region)...)
	if diags.HasError() || !known(id.TableName, id.Region) {
		return nil, diags
	}
	id.AccountID = r.meta.accountIdentity(ctx)
	return id, diags
}

// importIDFromIdentity turns an import by identity into the import id TABLE:REGION.
func (r *replicaResource) importIDFromIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity) (string, diag.Diagnostics) {
	var id replicaIdentity
	diags := identity.Get(ctx, &id)
	if diags.HasError() {
		return "", diags
	}
	diags.Append(r.meta.checkImportAccount(ctx, id.AccountID)...)
	return replicaID(id.TableName.ValueString(), id.Region.ValueString()), diags
}

// versionUpgradeIdentity identifies a ddbglobal_version_upgrade.
type versionUpgradeIdentity struct {
	AccountID       types.String `tfsdk:"account_id"`
	GlobalTableName types.String `tfsdk:"global_table_name"`
	Region          types.String `tfsdk:"region"`
}

func (r *versionUpgradeResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{Attributes: map[string]identityschema.Attribute{
		"global_table_name": identityschema.StringAttribute{RequiredForImport: true, Description: "Name of the global table."},
		"region": identityschema.StringAttribute{OptionalForImport: true,
			Description: "Member Region where the table is described; the provider's Region when not given at import."},
		"account_id": accountIDIdentityAttribute(),
	}}
}

func (r *versionUpgradeResource) identity(ctx context.Context, state *tfsdk.State) (any, diag.Diagnostics) {
	var id versionUpgradeIdentity
	var diags diag.Diagnostics
	diags.Append(state.GetAttribute(ctx, path.Root("global_table_name"), &id.GlobalTableName)...)
	diags.Append(state.GetAttribute(ctx, path.Root("region"), &id.Region)...)
	if diags.HasError() || !known(id.GlobalTableName, id.Region) {
		return nil, diags
	}
	id.AccountID = r.meta.accountIdentity(ctx)
	return id, diags
}

// importIDFromIdentity turns an import by identity into the import id
// GLOBAL_TABLE_NAME[:REGION].
func (r *versionUpgradeResource) importIDFromIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity) (string, diag.Diagnostics) {
	var id versionUpgradeIdentity
	diags := identity.Get(ctx, &id)
	if diags.HasError() {
		return "", diags
	}
	diags.Append(r.meta.checkImportAccount(ctx, id.AccountID)...)
	if region := id.Region.ValueString(); region != "" {
		return id.GlobalTableName.ValueString() + ":" + region, diags
	}
	return id.GlobalTableName.ValueString(), diags
}

// liveMigrationIdentity identifies a ddbglobal_live_migration: its two tables and the
// checkpoint table that holds its progress.
type liveMigrationIdentity struct {
	AccountID       types.String `tfsdk:"account_id"`
	SourceTableName types.String `tfsdk:"source_table_name"`
	SourceRegion    types.String `tfsdk:"source_region"`
	TargetTableName types.String `tfsdk:"target_table_name"`
	TargetRegion    types.String `tfsdk:"target_region"`
	CheckpointTable types.String `tfsdk:"checkpoint_table"`
}

func (r *liveMigrationResource) IdentitySchema(_ context.Context, _ resource.IdentitySchemaRequest, resp *resource.IdentitySchemaResponse) {
	resp.IdentitySchema = identityschema.Schema{Attributes: map[string]identityschema.Attribute{
		"source_table_name": identityschema.StringAttribute{RequiredForImport: true, Description: "Name of the source table."},
		"source_region":     identityschema.StringAttribute{RequiredForImport: true, Description: "Region of the source table."},
		"target_table_name": identityschema.StringAttribute{RequiredForImport: true, Description: "Name of the target table."},
		"target_region":     identityschema.StringAttribute{RequiredForImport: true, Description: "Region of the target table."},
		"checkpoint_table": identityschema.StringAttribute{OptionalForImport: true,
			Description: "Checkpoint table of the migration, in the target Region; `" + defaultCheckpointTable + "` when not given at import."},
		"account_id": identityschema.StringAttribute{OptionalForImport: true, Description: "AWS account of the provider's " +
			"credentials, which holds the checkpoint table (from STS `GetCallerIdentity`); when given at import, it must be " +
			"that account. Empty when STS could not be asked."},
	}}
}

func (r *liveMigrationResource) identity(ctx context.Context, state *tfsdk.State) (any, diag.Diagnostics) {
	var id liveMigrationIdentity
	var diags diag.Diagnostics
	for p, v := range map[string]*types.String{
		"source.table_name": &id.SourceTableName, "source.region": &id.SourceRegion,
		"target.table_name": &id.TargetTableName, "target.region": &id.TargetRegion,
	} {
		side, attr, _ := strings.Cut(p, ".")
		diags.Append(state.GetAttribute(ctx, path.Root(side).AtName(attr), v)...)
	}
	diags.Append(state.GetAttribute(ctx, path.Root("checkpoint_table"), &id.CheckpointTable)...)
	if diags.HasError() || !known(id.SourceTableName, id.SourceRegion, id.TargetTableName, id.TargetRegion, id.CheckpointTable) {
		return nil, diags
	}
	id.AccountID = r.meta.accountIdentity(ctx)
	return id, diags
}

// importIDFromIdentity turns an import by identity into the import id
// SOURCE_REGION/SOURCE_TABLE/TARGET_REGION/TARGET_TABLE[,CHECKPOINT_TABLE].
func (r *liveMigrationResource) importIDFromIdentity(ctx context.Context, identity *tfsdk.ResourceIdentity) (string, diag.Diagnostics) {
	var id liveMigrationIdentity
	diags := identity.Get(ctx, &id)
	if diags.HasError() {
		return "", diags
	}
	diags.Append(r.meta.checkImportAccount(ctx, id.AccountID)...)
	s := strings.Join([]string{id.SourceRegion.ValueString(), id.SourceTableName.ValueString(),
		id.TargetRegion.ValueString(), id.TargetTableName.ValueString()}, "/")
	if cp := id.CheckpointTable.ValueString(); cp != "" {
		s += "," + cp
	}
	return s, diags
}

// identified is a resource with an identity, read from its state.
type identified interface {
	// identity is the resource's identity for state, or nil when state does not
	// hold all of it yet.
	identity(ctx context.Context, state *tfsdk.State) (any, diag.Diagnostics)
}

// keepIdentity records the identity of a resource from the first of states that is not
// null, unless an identity is recorded already (it never changes). Create, Read and
// Update defer it, so that it sees the state they leave on every return; Read passes
// its request's state too, for a resource it drops from the state.
func keepIdentity(ctx context.Context, r identified, identity *tfsdk.ResourceIdentity, diags *diag.Diagnostics, states ...*tfsdk.State) {
	if identity == nil || !identity.Raw.IsFullyNull() {
		return
	}
	for _, state := range states {
		if state.Raw.IsNull() {
			continue
		}
		v, d := r.identity(ctx, state)
		diags.Append(d...)
		if v != nil {
			diags.Append(identity.Set(ctx, v)...)
		}
		return
	}
}

// importByIdentity fills an import by identity's import id from the identity, so that
// ImportState goes on as for `terraform import` and `import { id = ... }`. It returns
// false when the identity is refused.
func importByIdentity(ctx context.Context, req *resource.ImportStateRequest, diags *diag.Diagnostics,
	fromIdentity func(context.Context, *tfsdk.ResourceIdentity) (string, diag.Diagnostics)) bool {
	if req.ID != "" || req.Identity == nil {
		return true
	}
	id, d := fromIdentity(ctx, req.Identity)
	diags.Append(d...)
	req.ID = id
	return !d.HasError()
}

// importedIdentity records the identity of an imported resource from its import state,
// replacing the partial one of an import block (optional attributes left null).
func importedIdentity(ctx context.Context, r identified, resp *resource.ImportStateResponse) {
	if resp.Identity == nil || resp.Diagnostics.HasError() {
		return
	}
	v, d := r.identity(ctx, &resp.State)
	resp.Diagnostics.Append(d...)
	if v != nil {
		resp.Diagnostics.Append(resp.Identity.Set(ctx, v)...)
	}
}

// accountIdentity is the account_id of an identity: the account of the provider's
// credentials, or null (logged) when STS cannot tell. An identity's account never
// changes afterwards.
func (m *Meta) accountIdentity(ctx context.Context) types.String {
	if m == nil {
		return types.StringNull()
	}
	account, err := m.AWS.AccountID(ctx)
	if err != nil {
		tflog.Warn(ctx, "the resource identity gets no account_id: the account of the credentials is unknown", map[string]any{"error": err.Error()})
		return types.StringNull()
	}
	return types.StringValue(account)
}

// checkImportAccount refuses an import by identity whose account_id is not the account
// of the provider's credentials: the provider would import another account's object
// of the same name.
func (m *Meta) checkImportAccount(ctx context.Context, account types.String) diag.Diagnostics {
	var diags diag.Diagnostics
	if account.IsNull() || account.IsUnknown() || account.ValueString() == "" {
		return diags
	}
	if m == nil {
		diags.AddError("importing by identity", "the provider is not configured")
		return diags
	}
	mine, err := m.AWS.AccountID(ctx)
	if err != nil {
		diags.AddError("account_id cannot be checked",
			fmt.Sprintf("The identity names account %s, but the account of the provider's credentials is unknown (%s). "+
				"Leave account_id out of the import block's identity, or let the provider reach STS.", account.ValueString(), err))
		return diags
	}
	if mine != account.ValueString() {
		diags.AddError("identity in another account",
			fmt.Sprintf("The identity names account %s, but the provider's credentials are of account %s. Import it with "+
				"a provider configured for account %s (e.g. its assume_role), or correct account_id.", account.ValueString(), mine, account.ValueString()))
	}
	return diags
}

// known reports whether every value is known and not null.
func known(vs ...types.String) bool {
	for _, v := range vs {
		if v.IsNull() || v.IsUnknown() {
			return false
		}
	}
	return true
}
