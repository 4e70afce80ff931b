package sipleg

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

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

// TestSIPSDialGoesOverTLS: a sips: target is called over TLS (RFC 3261 section 26.2.2), never
// over UDP or plain TCP: what reaches the callee's port is a TLS ClientHello.
func TestSIPSDialGoesOverTLS(t *testing.T) {
	t.Parallel()
	ts := startServer(t, Config{}, nil)
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	first := make(chan byte, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		b := make([]byte, 1)
		if _, err := io.ReadFull(c, b); err == nil {
			first <- b[0]
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go ts.DialOut(ctx, "tls", "sips:bob@"+l.Addr().String()) // blocks until the TLS handshake fails
	select {
	case b := <-first:
		if b != 0x16 { // a TLS handshake record (RFC 8446 section 5.1)
			t.Fatalf("the callee's port got %#x, not a TLS handshake", b)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a sips: dial-out did not connect over TCP/TLS")
	}
}
