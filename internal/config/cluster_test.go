package config

import (
	"testing"

	"confd/codec"
)

// TestCascadeBitrateIsOpusRange: [cluster] cascade_bitrate is checked against the Opus range the
// codec enforces (codec.MinOpusBitrate to codec.MaxOpusBitrate), written once.
func TestCascadeBitrateIsOpusRange(t *testing.T) {
	for rate, ok := range map[int]bool{0: true, codec.MinOpusBitrate: true, codec.MaxOpusBitrate: true,
		codec.MinOpusBitrate - 1: false, codec.MaxOpusBitrate + 1: false, -1: false} {
		c := Default()
		c.Cluster = Cluster{Self: "a", Nodes: []ClusterNode{{Name: "a", SIP: "10.0.0.1:5060", HTTP: "10.0.0.1:8080"}}, CascadeBitrate: rate}
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("cascade_bitrate %d: %v, want ok %v", rate, err, ok)
		}
		f := codec.Format{Codec: codec.Opus, Bitrate: rate}
		if rate > 0 && (f.Validate() == nil) != ok {
			t.Errorf("codec and config disagree on %d", rate)
		}
	}
}
