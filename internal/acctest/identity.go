package acctest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
)

// IdentityTerraformEnv names the Terraform CLI (1.12 or later) that runs the tests of
// resource identity, while the rest of the suite runs on the Terraform on PATH (or
// TF_ACC_TERRAFORM_PATH). scripts/build-terraform.sh builds one.
const IdentityTerraformEnv = "DDBGLOBAL_TF_IDENTITY_PATH"

// identityMinVersion is the first Terraform with resource identity.
var identityMinVersion = version.Must(version.NewVersion("1.12.0"))

// UseIdentityTerraform runs the rest of the test on a Terraform that knows resource
// identity: the one IdentityTerraformEnv names (the test fails when it is older than
// 1.12), else the suite's own Terraform when it is recent enough. With neither, the
// test skips and says why.
func UseIdentityTerraform(t *testing.T) {
	t.Helper()
	if path := os.Getenv(IdentityTerraformEnv); path != "" {
		v, err := terraformVersion(path)
		if err != nil {
			t.Fatalf("%s=%s: %v", IdentityTerraformEnv, path, err)
		}
		if v.LessThan(identityMinVersion) {
			t.Fatalf("%s=%s is Terraform %s; resource identity needs %s or later", IdentityTerraformEnv, path, v, identityMinVersion)
		}
		t.Setenv("TF_ACC_TERRAFORM_PATH", path)
		return
	}
	path := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if path == "" {
		path, _ = exec.LookPath("terraform")
	}
	if path != "" {
		if v, err := terraformVersion(path); err == nil && !v.LessThan(identityMinVersion) {
			t.Setenv("TF_ACC_TERRAFORM_PATH", path)
			return
		}
	}
	t.Skipf("resource identity needs Terraform %s or later: set %s to one (scripts/build-terraform.sh builds it)", identityMinVersion, IdentityTerraformEnv)
}

// terraformVersion asks a Terraform CLI for its version.
func terraformVersion(path string) (*version.Version, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version", "-json").Output()
	if err != nil {
		return nil, fmt.Errorf("%s version -json: %w", path, err)
	}
	var v struct {
		Version string `json:"terraform_version"`
	}
	if err := json.Unmarshal(out, &v); err != nil || v.Version == "" {
		return nil, fmt.Errorf("%s version -json printed no version: %s", path, strings.TrimSpace(string(out)))
	}
	return version.NewVersion(v.Version)
}
