package rtpfwd

import (
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/internal/config"
	"confd/testkit"
	"confd/testkit/rtptest"
)

// TestForwarderDestinationCannotSlipPastTheAllowList (red team, issue 13): every way of writing
// a host that is not plainly an allowed IP address is refused before a socket is opened: names,
// the old inet_aton forms (127.1, hex, a decimal integer), zones, brackets, a port inside the
// host, spaces and newlines, and ports outside 1-65535. An IPv4-mapped IPv6 address is the
// IPv4 address it maps (checked and sent to as such). The unspecified address (0.0.0.0, ::),
// which Linux delivers to the host itself, is refused even when a prefix covers it.
func TestForwarderDestinationCannotSlipPastTheAllowList(t *testing.T) {
	b, _ := room(t, 440, 1000)
	allow, err := config.Forwarders{Allow: []string{"127.0.0.1/32:5000-5010", "0.0.0.0/0:6000", "[::/0]:6000"}}.Destinations()
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(b, Config{Allow: allow, PerRoom: 64})
	defer m.Close()
	status := func(err error) int {
		if err == nil {
			return 201
		}
		st, ok := bridge.StatusOf(err)
		if !ok {
			return 500
		}
		return st.HTTP
	}
	sockets := testkit.OpenSockets(t)
	for host, port := range map[string]int{
		"localhost": 5004, "127.1": 5004, "0x7f.0.0.1": 5004, "2130706433": 5004, "0177.0.0.1": 5004,
		"127.0.0.1%lo": 5004, "[127.0.0.1]": 5004, "127.0.0.1:5004": 5004, " 127.0.0.1": 5004, "127.0.0.1\n": 5004,
		"fe80::1%lo": 6000, "": 5004,
	} {
		if _, err := m.Start("r", Request{Host: host, Port: port, Codec: "PCMU"}); status(err) != 400 {
			t.Errorf("host %q: %v (%d), want 400", host, err, status(err))
		}
	}
	for _, port := range []int{0, -1, 65536, 1 << 32} {
		if _, err := m.Start("r", Request{Host: "127.0.0.1", Port: port, Codec: "PCMU"}); status(err) != 400 {
			t.Errorf("port %d: %v (%d), want 400", port, err, status(err))
		}
	}
	for _, host := range []string{"0.0.0.0", "::", "::ffff:0.0.0.0"} {
		if _, err := m.Start("r", Request{Host: host, Port: 6000, Codec: "PCMU"}); status(err) != 403 {
			t.Errorf("host %q (the host itself): %v (%d), want 403", host, err, status(err))
		}
	}
	// A participant of another room cannot be tapped through this one.
	other, err := b.Join("other", bridge.ParticipantInfo{Name: "x", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, rtptest.NopLeg{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start("r", Request{Host: "127.0.0.1", Port: 5004, Codec: "PCMU", Participant: other.ID()}); status(err) != 404 {
		t.Errorf("a participant of another room: %v (%d), want 404", err, status(err))
	}
	if _, err := m.Start("r", Request{Host: "::ffff:127.0.0.2", Port: 5004, Codec: "PCMU"}); status(err) != 403 {
		t.Errorf("a mapped address outside the list: %v, want 403", err)
	}
	info, err := m.Start("r", Request{Host: "::ffff:127.0.0.1", Port: 5004, Codec: "PCMU"})
	if err != nil || info.Host != "127.0.0.1" {
		t.Errorf("a mapped allowed address: %+v %v, want it sent to 127.0.0.1", info, err)
	}
	if err == nil {
		if _, err := m.Stop("r", info.ID); err != nil {
			t.Fatal(err)
		}
	}
	if got := testkit.OpenSockets(t); got != sockets {
		t.Errorf("sockets: %d after the refusals, %d before", got, sockets)
	}
}

// TestForwardersEndWithTheirRoomAndParticipant (red team, issue 13): forwarders started at
// once from many goroutines never exceed per_room; those of a participant who is moved to
// another room stop ("participant left") instead of following it there, and stop sending;
// when everyone leaves the room every forwarder stops and its socket and goroutines are
// freed.
func TestForwardersEndWithTheirRoomAndParticipant(t *testing.T) {
	base := runtime.NumGoroutine()
	sockets := testkit.OpenSockets(t)
	b, parts := room(t, 440, 1000, 1500)
	m := NewManager(b, Config{Allow: loopbackOnly(t), PerRoom: 3})
	sub := b.Bus().Subscribe("r", 256, "")

	rx := newReceiver(t, codec.PCMU, 0)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := Request{Host: "127.0.0.1", Port: rx.Port(), Codec: "PCMU"}
			if i%2 == 0 {
				req.Participant = parts[0].ID()
			}
			if _, err := m.Start("r", req); err == nil {
				ok.Add(1)
			} else if !errors.Is(err, bridge.ErrForwarderLimit) {
				t.Errorf("Start: %v", err)
			}
		}()
	}
	wg.Wait()
	if list, _ := m.List("r"); ok.Load() != 3 || len(list) != 3 {
		t.Fatalf("%d forwarders started at once, %d listed, want per_room's 3", ok.Load(), len(list))
	}
	list, _ := m.List("r")
	own := 0
	for _, f := range list {
		if f.Participant != "" {
			own++
		}
	}

	if _, err := b.Move("r", parts[0].ID(), bridge.MoveRequest{Room: "breakout"}); err != nil {
		t.Fatal(err)
	}
	for range own {
		if e := waitEvent(t, sub, bridge.EventForwarderStopped); e.Data["reason"] != "participant left" {
			t.Errorf("the moved participant's forwarder stopped with %+v", e.Data)
		}
	}
	// The event goes out just before the forwarder is forgotten (stop's order).
	testkit.Eventually(t, 5*time.Second, "the forwarders of those who left were not stopped", func() bool { list, _ := m.List("r"); return len(list) == 3-own })
	if _, err := m.List("breakout"); err == nil {
		if l, _ := m.List("breakout"); len(l) != 0 {
			t.Errorf("forwarders followed the participant: %+v", l)
		}
	}

	for _, p := range parts[1:] {
		p.Leave("bye")
	}
	for range 3 - own {
		if e := waitEvent(t, sub, bridge.EventForwarderStopped); e.Data["reason"] != "room ended" {
			t.Errorf("a forwarder of the emptied room stopped with %+v", e.Data)
		}
	}
	parts[0].Leave("bye")
	sub.Close()
	m.Close()
	b.Close()
	rx.Close()
	testkit.Eventually(t, 5*time.Second, "the forwarders' sockets were not closed", func() bool { return testkit.OpenSockets(t) <= sockets })
	testkit.CheckGoroutines(t, base)
}
