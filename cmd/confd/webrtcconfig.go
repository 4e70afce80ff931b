package main

import (
	"fmt"
	"net/netip"
	"time"

	"confd/internal/config"
	"confd/webrtcleg"
)

// webrtcConfig translates the WebRTC settings of confd's configuration into webrtcleg's own:
// -public-ip, -rtp, the ICE servers, ICE-lite, the shared UDP port and the limits of
// [security.webrtc]. The leg knows nothing of the file; the room tokens and the shared PIN
// attempts are the daemon's to add.
func webrtcConfig(c config.Config) (webrtcleg.Config, error) {
	w := c.Security.WebRTC
	cfg := webrtcleg.Config{ICELite: c.ICELite, UDPPort: c.WebRTCUDPPort,
		ConnectTimeout: time.Duration(w.ConnectTimeout), SessionsPerSource: w.SessionsPerSource,
		SessionRate: w.SessionRate, MaxSessions: w.MaxSessions, MaxCandidates: w.MaxCandidates}
	if c.RTP.Low > 0 && c.RTP.High >= c.RTP.Low && c.RTP.High <= 65535 {
		cfg.MinPort, cfg.MaxPort = uint16(c.RTP.Low), uint16(c.RTP.High)
	}
	for _, is := range c.ICEServers {
		cfg.ICEServers = append(cfg.ICEServers, webrtcleg.ICEServer{URLs: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	if c.PublicIP != "" {
		ip, err := netip.ParseAddr(c.PublicIP)
		if err != nil {
			return webrtcleg.Config{}, fmt.Errorf("-public-ip %q: %w", c.PublicIP, err)
		}
		cfg.PublicIP = ip
	}
	return cfg, nil
}
