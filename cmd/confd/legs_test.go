package main

import (
	"io"
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	"confd/internal/api"
	"confd/internal/config"
	"confd/sipleg"
)

// TestExampleListsLegDefaults: confd.example.toml shows [security.sip] at the SIP leg's own
// defaults (sipleg.Limits), and [http_security]'s limits at the HTTP server's (api.ServerLimits),
// which they apply to a zero value.
func TestExampleListsLegDefaults(t *testing.T) {
	c, err := config.Parse([]string{"-config", "../../confd.example.toml"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sipLegConfig(c).Limits, (sipleg.Limits{}).WithDefaults(); got != want {
		t.Errorf("example [security.sip] is %+v, sipleg's defaults are %+v", got, want)
	}
	if got, want := httpLimits(c), (api.ServerLimits{}).WithDefaults(); !reflect.DeepEqual(got, want) {
		t.Errorf("example [http_security] is %+v, the HTTP server's defaults are %+v", got, want)
	}
	ws := sipwsConfig(c)
	if ws.ConnsPerSource != 16 || ws.MaxConns != 1024 || ws.IdleTimeout != 2*time.Minute || ws.MessageTimeout != 10*time.Second {
		t.Errorf("example [security.websocket] became %+v", ws)
	}
}

// TestLegConfigs: the file's [security] reaches both SIP legs as one sipua.AuthConfig, and the
// SIP leg's dial-out, credentials and registrations keep every field.
func TestLegConfigs(t *testing.T) {
	var c config.Config
	c.Security = config.Security{Restrict: true, Trunks: []string{"192.0.2.0/24", "::ffff:198.51.100.7"},
		Users: []config.User{{User: "ada", Password: "pw"}}, Realm: "example", DigestAlgorithms: []string{"MD5"},
		DialOut:   config.DialOut{Allow: []string{"+44"}, Rate: 2, Burst: 3},
		WebSocket: config.WebSocket{AllowedOrigins: []string{"https://app.example.com"}}}
	c.Credentials = []config.Credential{{Realm: "r", Host: "h", User: "u", Password: "p"}}
	c.Register = []config.Register{{Registrar: "sip:reg.example", User: "u", Password: "p", Domain: "d", Expiry: config.Duration(time.Minute)}}
	c.DialIn = []config.DialIn{{Number: "1000"}}
	c.PublicIP = "203.0.113.5"
	leg, ws := sipLegConfig(c), sipwsConfig(c)
	if !slices.Equal(leg.Auth.Trunks, []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.7/32")}) ||
		!leg.Auth.Restrict || leg.Auth.Realm != "example" || len(leg.Auth.Users) != 1 || leg.Auth.Users[0].Name != "ada" ||
		!slices.Equal(leg.Auth.Algorithms, []string{"MD5"}) {
		t.Errorf("sipleg auth %+v", leg.Auth)
	}
	if !slices.Equal(ws.Auth.Trunks, leg.Auth.Trunks) || ws.Auth.Realm != "example" || !slices.Equal(ws.AllowedOrigins, []string{"https://app.example.com"}) {
		t.Errorf("sipws config %+v", ws)
	}
	if leg.DialOut.Rate != 2 || leg.DialOut.Burst != 3 || !slices.Equal(leg.DialOut.Allow, []string{"+44"}) ||
		leg.Credentials[0] != (sipleg.Credential{Realm: "r", Host: "h", User: "u", Password: "p"}) ||
		leg.Register[0] != (sipleg.Registration{Registrar: "sip:reg.example", User: "u", Password: "p", Domain: "d", Expiry: time.Minute}) ||
		!slices.Equal(leg.DialIn, []string{"1000"}) || leg.PublicIP != netip.MustParseAddr("203.0.113.5") {
		t.Errorf("sipleg config %+v", leg)
	}
	c.HTTPSecurity.ProxyProtocolFrom = []string{"10.0.0.10", "2001:db8::/64"}
	c.Cluster = config.Cluster{Self: "a", Nodes: []config.ClusterNode{{Name: "a", SIP: "10.0.0.1:5060", HTTP: "10.0.0.1:8080"},
		{Name: "b", SIP: "10.0.0.2:5060", HTTP: "10.0.1.2:8080"}, {Name: "c", SIP: "10.0.0.3:5060", HTTP: "node-c:8080"}}}
	h := httpLimits(c)
	if !slices.Equal(h.ProxyProtocolFrom, []netip.Prefix{netip.MustParsePrefix("10.0.0.10/32"), netip.MustParsePrefix("2001:db8::/64")}) ||
		!slices.Equal(h.Exempt, []netip.Prefix{netip.MustParsePrefix("10.0.0.2/32"), netip.MustParsePrefix("10.0.1.2/32"), netip.MustParsePrefix("10.0.0.3/32")}) {
		t.Errorf("HTTP limits: proxies %v, exempt %v; want the proxies, and the other nodes' addresses", h.ProxyProtocolFrom, h.Exempt)
	}
}
