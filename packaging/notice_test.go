package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestThirdPartyListsEveryModule keeps THIRD-PARTY.md (installed as part of the package's
// copyright file) true: every module compiled into the confd binary is listed there with its
// version. A dependency added or upgraded without its line fails here.
func TestThirdPartyListsEveryModule(t *testing.T) {
	notice, err := os.ReadFile(filepath.Join("..", "THIRD-PARTY.md"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}", "confd/cmd/confd").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" || seen[line] {
			continue
		}
		seen[line] = true
		path, version, _ := strings.Cut(line, " ")
		if !strings.Contains(string(notice), "| "+path+" | "+version+" |") {
			t.Errorf("THIRD-PARTY.md lacks %s %s with its licence", path, version)
		}
	}
	if len(seen) < 10 {
		t.Fatalf("go list found only %d modules: %s", len(seen), out)
	}
}
