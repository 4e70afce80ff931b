package guard

import (
	"net/http/httptest"
	"testing"
)

func TestOriginNormalises(t *testing.T) {
	for in, want := range map[string]string{
		"https://App.Example.com:443":  "https://app.example.com",
		"HTTPS://Console.Example:443/": "https://console.example",
		"http://example.com:80/":       "http://example.com",
		"http://[::1]:8080":            "http://[::1]:8080",
	} {
		if got, ok := Origin(in); !ok || got != want {
			t.Errorf("Origin(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, bad := range []string{"null", "ftp://x", "https://x.example/path", "https://u@x.example", "https://x.example?q", ""} {
		if got, ok := Origin(bad); ok {
			t.Errorf("Origin(%q) = %q, want refused", bad, got)
		}
	}
}

// TestOriginsAllowsOneRule holds the one rule the API and /sip share: the page confd serves
// itself (Host and port, any scheme, since TLS may end at a proxy), allowed origins, and
// requests that are not a browser's cross-site ones; nothing else.
func TestOriginsAllowsOneRule(t *testing.T) {
	allowed := NewOrigins([]string{"https://App.example.com", "not an origin"})
	for _, tc := range []struct {
		host    string
		origins []string
		site    string
		want    bool
	}{
		{"confd.example", nil, "", true},            // not a browser
		{"confd.example", nil, "same-origin", true}, // a browser's own page, Origin left out
		{"confd.example", nil, "cross-site", false}, // another site's form or fetch
		{"confd.example", []string{"https://confd.example"}, "", true},
		{"Confd.Example:443", []string{"https://confd.example"}, "", true},
		{"confd.example", []string{"http://confd.example"}, "", true},
		{"confd.example:8080", []string{"http://confd.example:8080"}, "", true},
		{"confd.example:8080", []string{"https://confd.example:8080"}, "", true}, // TLS at a proxy
		{"confd.example:8080", []string{"http://confd.example:8081"}, "", false}, // another port, another site
		{"confd.example", []string{"https://confd.example.attacker.example"}, "", false},
		{"confd.example", []string{"https://attacker.example"}, "", false},
		{"confd.example", []string{"null"}, "", false},
		{"confd.example", []string{"https://app.example.com:443"}, "", true},
		{"confd.example", []string{"https://app.example.com:8443"}, "", false},
		{"confd.example", []string{"https://confd.example", "https://attacker.example"}, "", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = tc.host
		for _, o := range tc.origins {
			r.Header.Add("Origin", o)
		}
		if tc.site != "" {
			r.Header.Set("Sec-Fetch-Site", tc.site)
		}
		if got := allowed.Allows(r); got != tc.want {
			t.Errorf("Host %s, Origin %q, Sec-Fetch-Site %q: allowed %v, want %v", tc.host, tc.origins, tc.site, got, tc.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Origin", "null")
	if !NewOrigins([]string{"*"}).Allows(r) {
		t.Errorf(`"*" did not allow an opaque origin`)
	}
}
