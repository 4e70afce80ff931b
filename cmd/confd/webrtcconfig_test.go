package main

import (
	"net/netip"
	"testing"
	"time"

	"confd/internal/config"
)

func TestWebRTCConfigTakesTheFilesSettings(t *testing.T) {
	c := config.Default()
	c.PublicIP, c.ICELite, c.WebRTCUDPPort = "198.51.100.7", true, 40000
	c.RTP = config.PortRange{Low: 20000, High: 20999}
	c.ICEServers = []config.ICEServer{{URLs: []string{"turn:turn.example.net"}, Username: "u", Credential: "p"}}
	c.Security.WebRTC = config.WebRTCLimits{SessionsPerSource: 3, SessionRate: 2, MaxSessions: 30, ConnectTimeout: config.Duration(5 * time.Second), MaxCandidates: 4}
	got, err := webrtcConfig(c)
	if err != nil || got.PublicIP != netip.MustParseAddr("198.51.100.7") || !got.ICELite || got.UDPPort != 40000 ||
		got.MinPort != 20000 || got.MaxPort != 20999 || len(got.ICEServers) != 1 || got.ICEServers[0].Credential != "p" ||
		got.SessionsPerSource != 3 || got.SessionRate != 2 || got.MaxSessions != 30 ||
		got.ConnectTimeout != 5*time.Second || got.MaxCandidates != 4 {
		t.Errorf("webrtcConfig: %+v, %v", got, err)
	}
	c.PublicIP = "not an IP"
	if _, err := webrtcConfig(c); err == nil {
		t.Errorf("a bad -public-ip was taken")
	}
}
