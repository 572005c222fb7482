package provider

import (
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
)

// tableMissingError says that a table a resource needs does not exist (yet). At plan
// time this is normal: the table is often created in the same apply (an
// aws_dynamodb_table whose name is known at plan time), so plans only warn and the
// check runs again when the resource is created, after the table's creator.
type tableMissingError struct {
	Table, Region string
	// Hint says what to do when the table still does not exist at apply time.
	Hint string
}

func (e *tableMissingError) Error() string {
	msg := fmt.Sprintf("Table %q does not exist in %s.", e.Table, e.Region)
	if e.Hint != "" {
		msg += " " + e.Hint
	}
	return msg
}

func asTableMissing(err error) (*tableMissingError, bool) {
	var m *tableMissingError
	ok := errors.As(err, &m)
	return m, ok
}

// addPlanCheckError reports what a plan-time check found: a table that does not exist
// yet is a warning (checked again at apply), anything else an error on the attribute.
func addPlanCheckError(diags *diag.Diagnostics, at path.Path, summary string, err error) {
	if m, ok := asTableMissing(err); ok {
		diags.AddAttributeWarning(at, summary+": table not found yet",
			fmt.Sprintf("Table %q does not exist in %s yet, so its checks run when this resource is created. "+
				"That is expected when the table is created in the same apply (for example by aws_dynamodb_table); "+
				"otherwise the apply fails then.", m.Table, m.Region))
		return
	}
	diags.AddAttributeError(at, summary, err.Error())
}

// refusal is a check's finding about the configuration: the request would fail or never
// work. At is the attribute to fix.
type refusal struct {
	At  path.Path
	Msg string
}

func (e *refusal) Error() string { return e.Msg }

func refuse(at path.Path, format string, args ...any) error {
	return &refusal{At: at, Msg: fmt.Sprintf(format, args...)}
}

// addCheckResult adds what a check returned at plan time: a refusal on its attribute,
// a missing table as a warning on at, any other failure (of the check itself) as an
// error.
func addCheckResult(diags *diag.Diagnostics, at path.Path, summary string, err error) {
	var ref *refusal
	switch {
	case err == nil:
	case errors.As(err, &ref):
		diags.AddAttributeError(ref.At, summary, ref.Msg)
	default:
		addPlanCheckError(diags, at, summary, err)
	}
}
