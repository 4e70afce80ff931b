package guard

import (
	"errors"
	"net/netip"
	"testing"
)

// TestParsePrefix: the one reading of an address-or-prefix entry (trunks, and the address part
// of a destination): an address is a prefix of its full length, a prefix is masked, an
// IPv4-mapped entry means its IPv4 address or prefix (addresses are compared unmapped, so it
// would otherwise never match), and a zone or a mapped prefix shorter than /96 is refused.
func TestParsePrefix(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":           "192.0.2.7/32",
		"192.0.2.7/24":        "192.0.2.0/24",
		"2001:db8::1":         "2001:db8::1/128",
		"2001:db8::1/32":      "2001:db8::/32",
		"::ffff:198.51.100.7": "198.51.100.7/32",
		"::ffff:10.0.0.0/104": "10.0.0.0/8",
		"::ffff:10.1.2.3/120": "10.1.2.0/24",
		"::ffff:0.0.0.0/96":   "0.0.0.0/0",
	} {
		p, err := ParsePrefix(in)
		if err != nil || p != netip.MustParsePrefix(want) {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s", in, p, err, want)
		}
	}
	for _, in := range []string{"", "host.example", "10.0.0.0/33", "fe80::1%eth0", "::ffff:10.0.0.0/64", "10.0.0.1:5060"} {
		if p, err := ParsePrefix(in); !errors.Is(err, ErrBadPrefix) {
			t.Errorf("ParsePrefix(%q) = %v, %v; want ErrBadPrefix", in, p, err)
		}
	}
	// A mapped trunk now matches the IPv4 source it names.
	p, _ := ParsePrefix("::ffff:10.0.0.0/104")
	if !InPrefixes([]netip.Prefix{p}, netip.MustParseAddr("10.9.8.7")) {
		t.Error("::ffff:10.0.0.0/104 does not match 10.9.8.7")
	}
}
