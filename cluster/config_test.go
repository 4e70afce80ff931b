package cluster

import (
	"net/netip"
	"testing"
	"time"
)

// TestConfigZeroValuesAreTheDefaults: the cluster's defaults live here, once (cmd/confd and
// the config file's comments refer to them): a zero health interval is DefaultHealthInterval,
// a zero cascade bitrate DefaultCascadeBitrate; set values are kept.
func TestConfigZeroValuesAreTheDefaults(t *testing.T) {
	nodes := []Node{{Name: "a", SIP: netip.MustParseAddrPort("127.0.0.11:5060"), HTTP: "127.0.0.11:8080"}}
	n := NewNodes(Config{Self: "a", Nodes: nodes})
	if n.HealthInterval() != time.Second || DefaultHealthInterval != time.Second {
		t.Errorf("health interval %v, want 1s", n.HealthInterval())
	}
	if n.CascadeBitrate() != 128000 || DefaultCascadeBitrate != 128000 {
		t.Errorf("cascade bitrate %d, want 128000", n.CascadeBitrate())
	}
	n = NewNodes(Config{Self: "a", Nodes: nodes, HealthInterval: 300 * time.Millisecond, CascadeBitrate: 64000})
	if n.HealthInterval() != 300*time.Millisecond || n.CascadeBitrate() != 64000 {
		t.Errorf("set values lost: %v %d", n.HealthInterval(), n.CascadeBitrate())
	}
	if n.Self() != "a" || len(n.All()) != 1 || n.All()[0] != nodes[0] {
		t.Errorf("nodes %q %+v", n.Self(), n.All())
	}
}
