package main

import (
	"net/netip"
	"time"

	"confd/internal/api"
	"confd/internal/config"
	"confd/internal/guard"
	"confd/sipdigest"
	"confd/sipleg"
	"confd/sipua"
	"confd/sipws"
)

// The legs take their own configurations, whose zero values are their documented defaults;
// these functions translate the file's ([security], [security.sip], [security.websocket],
// [[credential]], [[register]], [http_security]) into them, one function per leg (and one for
// the HTTP server).

// httpLimits is [http_security]'s limits as the HTTP server takes them (api.ServerLimits, whose
// zero values are the defaults), with the cluster's other nodes exempt from the per-source
// ones: a node forwards many clients' API requests (an event stream each) to a room's owner.
func httpLimits(cfg config.Config) api.ServerLimits {
	h := cfg.HTTPSecurity
	l := api.ServerLimits{ReadHeaderTimeout: time.Duration(h.ReadHeaderTimeout), BodyTimeout: time.Duration(h.BodyTimeout),
		IdleTimeout: time.Duration(h.IdleTimeout), MaxHeaderBytes: h.MaxHeaderBytes, MaxBodyBytes: h.MaxBodyBytes,
		MaxConnsPerSource: h.MaxConnsPerSource, ConnRate: h.ConnRate}
	for _, s := range h.ProxyProtocolFrom {
		if p, err := guard.ParsePrefix(s); err == nil { // config refused any other
			l.ProxyProtocolFrom = append(l.ProxyProtocolFrom, p)
		}
	}
	l.Exempt = otherNodes(cfg.Cluster)
	return l
}

// otherNodes are the addresses of the cluster's other nodes, each a prefix of its full length:
// every node's SIP address, and its HTTP address when that is an IP address. They are trusted
// peers, exempt from the per-source limits on both sides (a node calls, and forwards API
// requests, on behalf of many people).
func otherNodes(c config.Cluster) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range c.Nodes {
		if n.Name == c.Self {
			continue
		}
		for _, addr := range []string{n.SIP, n.HTTP} {
			if ap, err := netip.ParseAddrPort(addr); err == nil {
				a := ap.Addr().Unmap()
				out = append(out, netip.PrefixFrom(a, a.BitLen()))
			}
		}
	}
	return out
}

// sipAuth is [security] as both SIP legs read it: who may call in and register.
func sipAuth(sec config.Security) sipua.AuthConfig {
	users := make([]sipdigest.User, 0, len(sec.Users))
	for _, u := range sec.Users {
		users = append(users, sipdigest.User{Name: u.User, Password: u.Password})
	}
	return sipua.AuthConfig{Restrict: sec.Restrict, Trunks: sec.TrunkPrefixes(), Users: users,
		Realm: sec.Realm, Algorithms: sec.DigestAlgorithms}
}

// sipLegConfig is the SIP leg's configuration from the file's; the daemon adds the media
// ports, the PIN attempts it shares and its metrics.
func sipLegConfig(cfg config.Config) sipleg.Config {
	out := sipleg.Config{Auth: sipAuth(cfg.Security)}
	if cfg.PublicIP != "" {
		out.PublicIP = netip.MustParseAddr(cfg.PublicIP) // validated by config
	}
	for _, n := range cfg.DialIn {
		out.DialIn = append(out.DialIn, n.Number)
	}
	l := cfg.Security.SIP
	out.Limits = sipleg.Limits{InviteRate: l.InviteRate, InviteBurst: l.InviteBurst, RequestRate: l.RequestRate,
		CallsPerSource: l.CallsPerSource, PendingPerSource: l.PendingPerSource, TrunkPendingPerSource: l.TrunkPendingPerSource,
		TrunkRequestRate: l.TrunkRequestRate, MaxCalls: l.MaxCalls,
		HoldTimeout: time.Duration(l.HoldTimeout), MinSessionExpires: time.Duration(l.MinSessionExpires),
		TCPIdleTimeout: time.Duration(l.TCPIdleTimeout), TCPMessageTimeout: time.Duration(l.TCPMessageTimeout),
		TCPConnsPerSource: l.TCPConnsPerSource}
	d := cfg.Security.DialOut
	out.DialOut = sipleg.DialOut{Allow: d.Allow, Rate: d.Rate, Burst: d.Burst}
	for _, c := range cfg.Credentials {
		out.Credentials = append(out.Credentials, sipleg.Credential{Realm: c.Realm, Host: c.Host, User: c.User, Password: c.Password})
	}
	for _, r := range cfg.Register {
		out.Register = append(out.Register, sipleg.Registration{Registrar: r.Registrar, User: r.User,
			Password: r.Password, Domain: r.Domain, Expiry: time.Duration(r.Expiry)})
	}
	return out
}

// sipwsConfig is SIP over WebSocket's configuration from the file's; the daemon adds the room
// tokens and the PIN attempts it shares.
func sipwsConfig(cfg config.Config) sipws.Config {
	ws := cfg.Security.WebSocket
	return sipws.Config{Auth: sipAuth(cfg.Security), AllowedOrigins: ws.AllowedOrigins,
		ConnsPerSource: ws.ConnsPerSource, MaxConns: ws.MaxConns,
		IdleTimeout: time.Duration(ws.IdleTimeout), MessageTimeout: time.Duration(ws.MessageTimeout)}
}
