package testkit

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

// TestPortBlocksTakeTurns: blocks come in turn from the share and wrap to its start, never
// leaving it (the scheme that keeps daemons running at once apart).
func TestPortBlocksTakeTurns(t *testing.T) {
	b := PortBlocks{Low: 36000, Size: 100, Count: 40}
	seen := map[int]bool{}
	for range 40 {
		low, high := b.Next()
		if low < 36000 || high > 39999 || high != low+99 || (low-36000)%100 != 0 {
			t.Fatalf("block %d-%d outside 36000-39999 or misaligned", low, high)
		}
		if seen[low] {
			t.Fatalf("block %d handed out twice in one turn", low)
		}
		seen[low] = true
	}
	if got := b.Range(); got != "36100-36199" {
		t.Errorf("the 41st block is %s, want the turn to start again at 36100-36199", got)
	}
}

// TestFreePortTakesUDPAndTCP: the port is free for both, as confd's -sip needs.
func TestFreePortTakesUDPAndTCP(t *testing.T) {
	port := MustFreePort(t)
	u, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	l, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// recorder is a TB that records a failure instead of ending the test.
type recorder struct {
	testing.TB
	fatal string
}

func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestWaitForAndEventually(t *testing.T) {
	start := time.Now()
	n := 0
	if !WaitFor(time.Second, func() bool { n++; return n == 3 }) {
		t.Fatal("WaitFor gave up on a condition that came true")
	}
	if WaitFor(30*time.Millisecond, func() bool { return false }) {
		t.Fatal("WaitFor held a condition that never came true")
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("WaitFor took %v", time.Since(start))
	}
	r := &recorder{TB: t}
	Eventually(r, 20*time.Millisecond, "the thing never happened", func() bool { return false })
	if !strings.Contains(r.fatal, "the thing never happened") {
		t.Errorf("Eventually on a false condition: %q, want a failure naming what it awaited", r.fatal)
	}
}

// TestReceiveSkipsToTheMatch: Receive drops what does not match and returns the first that
// does; on a quiet or closed channel it fails the test, naming what it awaited.
func TestReceiveSkipsToTheMatch(t *testing.T) {
	c := make(chan int, 3)
	c <- 1
	c <- 2
	c <- 4
	if v := Receive(t, c, time.Second, "even", func(v int) bool { return v%2 == 0 }); v != 2 {
		t.Errorf("Receive gave %d, want 2", v)
	}
	r := &recorder{TB: t}
	Receive(r, c, 20*time.Millisecond, "odd number", func(v int) bool { return v%2 == 1 })
	if !strings.Contains(r.fatal, "no odd number within") {
		t.Errorf("Receive on a quiet channel: %q, want a failure", r.fatal)
	}
	close(c)
	r = &recorder{TB: t}
	Receive(r, c, time.Second, "odd number", func(v int) bool { return v%2 == 1 })
	if !strings.Contains(r.fatal, "closed") {
		t.Errorf("Receive on a closed channel: %q, want a failure", r.fatal)
	}
}

// TestArrivalTimeIsStamped: a datagram read with its control messages carries the kernel's
// receive time, no later than the read.
func TestArrivalTimeIsStamped(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := StampArrivals(c); err != nil {
		t.Skipf("no SO_TIMESTAMPNS here: %v", err)
	}
	sent := time.Now()
	if _, err := c.WriteToUDP([]byte("x"), c.LocalAddr().(*net.UDPAddr)); err != nil {
		t.Fatal(err)
	}
	buf, oob := make([]byte, 16), make([]byte, 128)
	_, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	read := time.Now()
	at, ok := ArrivalTime(oob[:oobn])
	if !ok || at.Before(sent.Add(-time.Millisecond)) || at.After(read) {
		t.Errorf("arrival %v (stamped %v), sent %v, read %v", at, ok, sent, read)
	}
}

func TestLockedBufferCollects(t *testing.T) {
	var b LockedBuffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100 {
			fmt.Fprint(&b, "x")
		}
	}()
	_ = b.String() // read while written: the race detector holds the lock
	<-done
	if got := len(b.String()); got != 100 {
		t.Errorf("%d bytes, want 100", got)
	}
}
