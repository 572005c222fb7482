package acctest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-version"
)

// IdentityTerraformEnv names the Terraform CLI (1.12 or later) that runs the tests of
// resource identity, while the rest of the suite runs on the Terraform on PATH (or
// TF_ACC_TERRAFORM_PATH). `make terraform-identity` builds one.
const IdentityTerraformEnv = "DDBGLOBAL_TF_IDENTITY_PATH"

// identityMinVersion is the first Terraform with resource identity.
var identityMinVersion = version.Must(version.NewVersion("1.12.0"))

// UseIdentityTerraform runs the rest of the test on a Terraform that knows resource
// identity: the one IdentityTerraformEnv names (the test fails when it is not
// Terraform 1.12 or later), else the suite's own Terraform when it is one. Otherwise
// (an older Terraform, OpenTofu) the test skips and says why.
func UseIdentityTerraform(t *testing.T) {
	t.Helper()
	if path := os.Getenv(IdentityTerraformEnv); path != "" {
		name, v, err := cliVersion(path)
		if err != nil {
			t.Fatalf("%s=%s: %v", IdentityTerraformEnv, path, err)
		}
		if name != "Terraform" || v.LessThan(identityMinVersion) {
			t.Fatalf("%s=%s is %s %s; resource identity needs Terraform %s or later", IdentityTerraformEnv, path, name, v, identityMinVersion)
		}
		t.Setenv("TF_ACC_TERRAFORM_PATH", path)
		return
	}
	path := os.Getenv("TF_ACC_TERRAFORM_PATH")
	if path == "" {
		path, _ = exec.LookPath("terraform")
	}
	if path == "" {
		t.Skipf("resource identity needs Terraform %s or later: set %s to one (make terraform-identity builds it)", identityMinVersion, IdentityTerraformEnv)
	}
	name, v, err := cliVersion(path)
	if err != nil {
		t.Fatal(err)
	}
	if name == "OpenTofu" {
		t.Skip("OpenTofu has no resource identity (a Terraform 1.12 feature): nothing to test")
	}
	if v.LessThan(identityMinVersion) {
		t.Skipf("resource identity needs Terraform %s or later: set %s to one (make terraform-identity builds it)", identityMinVersion, IdentityTerraformEnv)
	}
	t.Setenv("TF_ACC_TERRAFORM_PATH", path)
}

var versionLine = regexp.MustCompile(`^(Terraform|OpenTofu) v(\S+)`)

// cliVersion asks a Terraform or OpenTofu CLI which it is and its version.
func cliVersion(path string) (string, *version.Version, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "version").Output()
	if err != nil {
		return "", nil, fmt.Errorf("%s version: %w", path, err)
	}
	m := versionLine.FindStringSubmatch(string(out))
	if m == nil {
		return "", nil, fmt.Errorf("%s version printed no Terraform or OpenTofu version: %s", path, strings.TrimSpace(string(out)))
	}
	v, err := version.NewVersion(m[2])
	return m[1], v, err
}
