// Command awstrim trims a copy of terraform-provider-aws's source so that its DynamoDB
// acceptance tests compile in a fraction of the time: the provider registers only the
// services in -keep (internal/provider/sdkv2/service_packages_gen.go), and its client
// registry (internal/conns/awsclient_gen.go) keeps only the aws-sdk-go-v2 services
// that the remaining code imports or asks a client of. The tests and the code of the
// resources they use are unchanged. Used by scripts/conformance-aws/build.sh (TRIM=1).
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var (
	servicePkgImport = regexp.MustCompile(`^\s*(?:import\s+)?(\w+ )?"github.com/hashicorp/terraform-provider-aws/internal/service/([a-z0-9]+)"$`)
	servicePkgCall   = regexp.MustCompile(`^\s*([a-z0-9]+)\.ServicePackage\(ctx\),$`)
	sdkImport        = regexp.MustCompile(`"github.com/aws/aws-sdk-go-v2/service/([a-z0-9]+)`)
	sdkImportLine    = regexp.MustCompile(`^\s*(\w+ )?"github.com/aws/aws-sdk-go-v2/service/([a-z0-9]+)"$`)
	clientMethod     = regexp.MustCompile(`^func \(c \*AWSClient\) (\w+)\(ctx context.Context\) \*([a-z0-9]+)\.Client \{$`)
	clientCall       = regexp.MustCompile(`\.([A-Z]\w*Client)\(ctx\)`)
)

func main() {
	src := flag.String("src", "", "the copy of terraform-provider-aws to trim")
	keepList := flag.String("keep", "dynamodb kms sts meta", "internal/service packages to register (space separated)")
	flag.Parse()
	if err := trim(*src, strings.Fields(*keepList)); err != nil {
		fmt.Fprintln(os.Stderr, "awstrim:", err)
		os.Exit(1)
	}
}

func trim(src string, keepList []string) error {
	keep := map[string]bool{}
	for _, k := range keepList {
		keep[k] = true
	}
	// Packages the provider itself and the test helpers import must stay registered
	// too (they are compiled anyway).
	regPath := filepath.Join(src, "internal/provider/sdkv2/service_packages_gen.go")
	reg, err := os.ReadFile(regPath)
	if err != nil {
		return err
	}
	for _, dir := range []string{"internal/acctest"} {
		imports, err := importsIn(filepath.Join(src, dir), servicePkgImport, 2)
		if err != nil {
			return err
		}
		for p := range imports {
			keep[p] = true
		}
	}
	var out []string
	for _, line := range strings.Split(string(reg), "\n") {
		if m := servicePkgImport.FindStringSubmatch(line); m != nil && !keep[m[2]] {
			continue
		}
		if m := servicePkgCall.FindStringSubmatch(line); m != nil && !keep[m[1]] {
			continue
		}
		out = append(out, line)
	}
	if err := os.WriteFile(regPath, []byte(strings.Join(out, "\n")), 0o644); err != nil {
		return err
	}

	// The SDK services the remaining code needs.
	genPath := filepath.Join(src, "internal/conns/awsclient_gen.go")
	gen, err := os.ReadFile(genPath)
	if err != nil {
		return err
	}
	methodPkg := map[string]string{}
	for _, line := range strings.Split(string(gen), "\n") {
		if m := clientMethod.FindStringSubmatch(line); m != nil {
			methodPkg[m[1]] = m[2]
		}
	}
	sdk := map[string]bool{}
	err = filepath.WalkDir(filepath.Join(src, "internal"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(rel, "internal/generate") {
				return filepath.SkipDir
			}
			if parts := strings.Split(rel, "/"); len(parts) >= 3 && parts[1] == "service" && !keep[parts[2]] {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || rel == "internal/conns/awsclient_gen.go" {
			return nil
		}
		if strings.HasSuffix(path, "_test.go") && !strings.HasPrefix(rel, "internal/service/dynamodb/") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range sdkImport.FindAllStringSubmatch(string(b), -1) {
			sdk[m[1]] = true
		}
		for _, m := range clientCall.FindAllStringSubmatch(string(b), -1) {
			if p, ok := methodPkg[m[1]]; ok {
				sdk[p] = true
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	lines := strings.Split(string(gen), "\n")
	out = out[:0]
	for i := 0; i < len(lines); i++ {
		if m := sdkImportLine.FindStringSubmatch(lines[i]); m != nil && !sdk[m[2]] {
			continue
		}
		if m := clientMethod.FindStringSubmatch(lines[i]); m != nil && !sdk[m[2]] {
			for i < len(lines) && lines[i] != "}" {
				i++
			}
			if i+1 < len(lines) && lines[i+1] == "" {
				i++
			}
			continue
		}
		out = append(out, lines[i])
	}
	fmt.Printf("awstrim: %d provider services registered, %d SDK clients kept\n", len(keep), len(sdk))
	return os.WriteFile(genPath, []byte(strings.Join(out, "\n")), 0o644)
}

// importsIn returns the group'th submatch of re over the .go files of dir.
func importsIn(dir string, re *regexp.Regexp, group int) (map[string]bool, error) {
	out := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".go") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if m := re.FindStringSubmatch(line); m != nil {
				out[m[group]] = true
			}
		}
	}
	return out, nil
}
