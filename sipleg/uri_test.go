package sipleg

import (
	"context"
	"errors"
	"testing"

	"confd/bridge"
)

// TestOneSIPURIRule: a dial-out and a transfer take the same targets (parseURI): a sip: or
// sips: URI with a host and nothing that could end a header, and refuse anything else with
// ErrBadURI, which the control API answers 400 through bridge.StatusOf.
func TestOneSIPURIRule(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{DialOut: DialOut{Allow: []string{"allowed.example"}}}, nil)
	ctx := context.Background()
	// Parsed, then refused by security.dialout.allow before anything is sent.
	for _, uri := range []string{"sip:bob@other.example", "sips:bob@other.example", "sips:+15550100@other.example;user=phone"} {
		if _, err := ts.DialOut(ctx, "room", uri); !errors.Is(err, ErrDialNotAllowed) {
			t.Errorf("dial %q: %v, want ErrDialNotAllowed (the URI accepted, the host not allowed)", uri, err)
		}
	}
	for _, uri := range []string{"tel:+15550100", "http://pbx/", "sip:", "sip:bob@other.example\r\nX-Evil: 1",
		"sip:bob@other.example>;x=1", "sip:bob@other.example\x00"} {
		_, err := ts.DialOut(ctx, "room", uri)
		if !errors.Is(err, ErrBadURI) {
			t.Errorf("dial %q: %v, want ErrBadURI", uri, err)
			continue
		}
		if st, ok := bridge.StatusOf(err); !ok || st.HTTP != 400 {
			t.Errorf("dial %q: %v answered %+v %v, want HTTP 400", uri, err, st, ok)
		}
		if _, terr := parseURI(uri); !errors.Is(terr, ErrBadURI) {
			t.Errorf("transfer to %q: %v, want ErrBadURI as for a dial", uri, terr)
		}
	}
}
