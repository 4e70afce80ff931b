package confd_test

import (
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLayerOrder holds the floors of the house (issue 12; README "How it works" draws them): the
// media packages (codec, dsp, dtmf, jitter, mixer) at the bottom, then bridge, then the
// protocol packages (problem, sdpneg, sipdigest, and sipua, what the SIP legs share), then
// the legs (sipleg, sipws, webrtcleg, rtpfwd), then the daemon (cmd/confd, cluster, and its
// services in internal/: api, config, metrics, recording, webhook, guard). No package imports, directly or
// through another, anything on a floor above its own, so each floor can be read, tested and
// reused without the ones above it. Beside the floors stands the public test kit (testkit): it
// may import anything, and nothing in production imports it. internal/ holds only the daemon's
// services, which no one outside confd has a use for.
func TestLayerOrder(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "confd/...").Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) > 0 {
			deps[f[0]] = f[1:]
		}
	}
	media := []string{"confd/codec", "confd/dsp", "confd/dtmf", "confd/jitter", "confd/mixer"}
	legs := []string{"confd/sipleg", "confd/sipws", "confd/webrtcleg", "confd/rtpfwd"}
	daemon := []string{"confd/cmd/confd", "confd/internal/api", "confd/internal/metrics", "confd/cluster"}
	harness := []string{"confd/testkit"}
	tools := []string{"confd/bench", "confd/cmd/mixdemo", "confd/e2e"}
	mediaFloor := func(dep string) bool {
		for _, m := range media {
			if dep == m {
				return true
			}
		}
		return false
	}
	forbid := func(pkg, why string, bad func(dep string) bool) {
		t.Helper()
		d, ok := deps[pkg]
		if !ok {
			t.Errorf("%s: not found by go list", pkg)
			return
		}
		for _, dep := range d {
			if bad(dep) {
				t.Errorf("%s imports %s: %s", pkg, dep, why)
			}
		}
	}
	in := func(set ...[]string) func(string) bool {
		return func(dep string) bool {
			for _, s := range set {
				for _, p := range s {
					if dep == p || strings.HasPrefix(dep, p+"/") {
						return true
					}
				}
			}
			return false
		}
	}
	for _, pkg := range media {
		forbid(pkg, "the media floor imports no pion, no sipgo and nothing of confd above it", func(dep string) bool {
			return strings.HasPrefix(dep, "github.com/pion/") || strings.HasPrefix(dep, "github.com/emiago/sipgo") ||
				(strings.HasPrefix(dep, "confd/") && !mediaFloor(dep))
		})
	}
	forbid("confd/bridge", "bridge imports no leg and nothing of the daemon", in(legs, daemon))
	// Of internal/, bridge uses only guard, a leaf of the standard library; media it needs (dtmf)
	// lives on the media floor.
	forbid("confd/bridge", "bridge imports of internal/ only guard", func(dep string) bool {
		return strings.HasPrefix(dep, "confd/internal/") && dep != "confd/internal/guard"
	})
	for _, pkg := range legs {
		forbid(pkg, "a leg imports nothing of the daemon", in(daemon))
	}
	// A leg takes its own zero-value-complete configuration, which cmd/confd fills from the
	// file.
	for _, pkg := range []string{"confd/sipleg", "confd/sipws", "confd/webrtcleg", "confd/rtpfwd"} {
		forbid(pkg, "a leg takes its own Config, not the daemon's TOML types", in([]string{"confd/internal/config"}))
	}
	// So do the cluster and the webhooks: cmd/confd fills their Configs from the file.
	for _, pkg := range []string{"confd/cluster", "confd/internal/webhook"} {
		forbid(pkg, "it takes its own Config, not the daemon's TOML types", in([]string{"confd/internal/config"}))
	}
	// The SIP legs' shared rules (validation, digest auth, the admission pipeline) sit between
	// bridge and the legs: both SIP legs import it, and it imports no leg, nothing of the
	// daemon and not the daemon's configuration.
	forbid("confd/sipua", "sipua imports of confd only bridge and the protocol packages below it",
		in(legs, daemon, []string{"confd/internal/config"}))
	for _, pkg := range []string{"confd/sipleg", "confd/sipws"} {
		if !slices.Contains(deps[pkg], "confd/sipua") {
			t.Errorf("%s does not import confd/sipua: the SIP rules live there", pkg)
		}
	}
	forbid("confd/problem", "problem, the HTTP refusal every floor above writes, imports nothing of confd", func(dep string) bool {
		return strings.HasPrefix(dep, "confd/")
	})
	forbid("confd/internal/metrics", "metrics imports no leg (it owns the types it exports)", in(legs))
	// The test harness (testkit) is built into bench/load and cmd/mixdemo too: it takes
	// a testkit.TB, never imports testing.
	pkgs := slices.Sorted(maps.Keys(deps))
	for _, pkg := range pkgs {
		if in(harness)(pkg) {
			forbid(pkg, "the test kit's non-test code imports no testing (it takes a testkit.TB)", func(dep string) bool { return dep == "testing" })
		}
	}
	// Production imports no harness: only the harness itself, the tools built on it (bench,
	// cmd/mixdemo) and the end-to-end tests may use the kit.
	for _, pkg := range pkgs {
		if !in(harness, tools)(pkg) {
			forbid(pkg, "production imports no test harness", in(harness))
		}
	}
}
