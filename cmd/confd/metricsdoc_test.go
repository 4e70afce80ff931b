package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"confd/internal/config"
	"confd/sipws"
)

// TestEveryMetricDocumented: every confd_ metric, those named anywhere in the source and those
// a running daemon exports, has a row with its unit in docs/metrics.md and a HELP text; and no
// kind="all" total stands beside its parts.
func TestEveryMetricDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{} // metric → unit column
	for line := range strings.Lines(string(doc)) {
		cells := strings.Split(line, "|")
		if len(cells) > 4 && strings.HasPrefix(strings.TrimSpace(cells[1]), "`confd_") {
			rows[strings.Trim(strings.TrimSpace(cells[1]), "`")] = strings.TrimSpace(cells[3])
		}
	}
	named := regexp.MustCompile(`"(confd_[a-z_]+)"`)
	var names []string
	for _, dir := range []string{"../../internal/metrics", "."} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			b, _ := os.ReadFile(f)
			for _, m := range named.FindAllStringSubmatch(string(b), -1) {
				names = append(names, m[1])
			}
		}
	}
	d, _ := inProcess(t, "tok", config.HTTPSecurity{})
	d.metrics.SIPResponse(200, true)
	d.metrics.SIPResponse(180, false)
	families, err := d.metrics.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if !strings.HasPrefix(f.GetName(), "confd_") {
			continue
		}
		names = append(names, f.GetName())
		if f.GetHelp() == "" {
			t.Errorf("%s has no HELP", f.GetName())
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == "all" {
					t.Errorf("%s has a %s=\"all\" series beside its parts", f.GetName(), l.GetName())
				}
			}
		}
	}
	if len(names) < 30 {
		t.Fatalf("found only %d metric names: the scan is broken", len(names))
	}
	for _, n := range names {
		if unit, ok := rows[n]; !ok || unit == "" {
			t.Errorf("%s is not in docs/metrics.md with its unit", n)
		}
	}
}

// TestWSRequestKindsAddUp: the SIP-over-WebSocket request kinds add up to every request
// received (well-formed and malformed), each counted once, with no total among them.
func TestWSRequestKindsAddUp(t *testing.T) {
	ws := sipws.Stats{Requests: 20, Bad: 2, Registered: 3, Challenged: 3, Invites: 4, ByeIn: 2, DTMF: 5}
	kinds := wsRequestKinds(ws)
	var sum uint64
	for _, v := range kinds {
		sum += v
	}
	if sum != ws.Requests+ws.Bad || kinds["other"] != 3 || kinds["all"] != 0 {
		t.Errorf("kinds %v add up to %d, want %d", kinds, sum, ws.Requests+ws.Bad)
	}
}
