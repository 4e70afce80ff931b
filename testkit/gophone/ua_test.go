package gophone

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"confd/codec"
)

// fakeServer answers INVITEs on loopback as confd would, a batch of them at once: each 2xx with
// an SDP answer whose audio port is its own, and a 486 for the room "busy".
type fakeServer struct {
	conn *net.UDPConn
	addr netip.AddrPort
}

func newFakeServer(t *testing.T) *fakeServer {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &fakeServer{conn: c, addr: c.LocalAddr().(*net.UDPAddr).AddrPort()}
}

// newFakeCall is a fake server, a UA that calls it, and a context for the calls, all ended with
// the test.
func newFakeCall(t *testing.T) (*fakeServer, *UA, context.Context) {
	t.Helper()
	s := newFakeServer(t)
	ua, err := NewUA(s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return s, ua, ctx
}

// answer reads n INVITEs, then answers them back to back: the UA reads the second answer while
// the first dialog may not have taken its own yet.
func (s *fakeServer) answer(t *testing.T, n int) map[string]int {
	t.Helper()
	type invite struct {
		m   sipMessage
		src netip.AddrPort
	}
	var invites []invite
	seen := map[string]bool{} // an INVITE sent again is one call
	buf := make([]byte, 65535)
	_ = s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(invites) < n {
		k, src, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("fake server: %v", err)
		}
		if m, ok := parseSIP(buf[:k]); ok && m.method == "INVITE" && !seen[m.get("call-id")] {
			seen[m.get("call-id")] = true
			invites = append(invites, invite{m, src})
		}
	}
	ports := map[string]int{}
	for i, in := range invites {
		port := 30000 + 2*i
		ports[in.m.get("call-id")] = port
		var resp []byte
		if strings.HasPrefix(in.m.uri, "sip:busy@") {
			resp = response(in.m, 486, "Busy Here", "srv")
		} else {
			body := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n", port)
			ok := strings.Replace(string(response(in.m, 200, "OK", "srv")), "Content-Length: 0\r\n\r\n",
				fmt.Sprintf("Contact: <sip:room@%s>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s", s.addr, len(body), body), 1)
			resp = []byte(ok)
		}
		if _, err := s.conn.WriteToUDPAddrPort(resp, in.src); err != nil {
			t.Fatal(err)
		}
	}
	return ports
}

// TestDialogsKeepTheirOwnAnswers: two dialogs answered back to back on one UA each keep the
// SDP answer of their own 2xx (the read buffer is reused: a kept body must be a copy).
func TestDialogsKeepTheirOwnAnswers(t *testing.T) {
	s, ua, ctx := newFakeCall(t)
	const calls = 4
	dialogs := make([]*Dialog, calls)
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			dialogs[i], errs[i] = ua.Invite(ctx, fmt.Sprintf("u%d", i), "", "room", Offer(1, 40000, codec.PCMU))
		})
	}
	ports := s.answer(t, calls)
	wg.Wait()
	for i, d := range dialogs {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		addr, _, err := AnswerMedia(d.Answer())
		if err != nil || int(addr.Port()) != ports[d.callID] {
			t.Errorf("call %d got the answer for port %v (%v), its own is %d", i, addr, err, ports[d.callID])
		}
	}
}

// TestRefusalIsAStatusError: a final status of 300 or more is a *StatusError that is
// ErrRefused.
func TestRefusalIsAStatusError(t *testing.T) {
	s, ua, ctx := newFakeCall(t)
	done := make(chan error, 1)
	go func() {
		_, err := ua.Invite(ctx, "u", "", "busy", Offer(1, 40000, codec.PCMU))
		done <- err
	}()
	s.answer(t, 1)
	err := <-done
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 486 || !errors.Is(err, ErrRefused) {
		t.Errorf("INVITE answered 486: %v, want a StatusError 486 that is ErrRefused", err)
	}
}
