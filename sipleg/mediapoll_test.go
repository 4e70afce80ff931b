//go:build linux

package sipleg

import (
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// arrivals is what Start's callbacks were given by Poll, in order.
type arrivals struct {
	mu   sync.Mutex
	seqs []uint16
	at   []time.Time
}

func (a *arrivals) onRTP(h *rtp.Header, _ []byte, now time.Time) {
	a.mu.Lock()
	if len(a.seqs) < 10 { // the first ten; the rest only count (and allocate nothing)
		a.seqs = append(a.seqs, h.SequenceNumber)
		a.at = append(a.at, now)
	}
	a.mu.Unlock()
}

// pollUntilHandedOver polls m until its reader goroutine has handed the RTP socket over.
func pollUntilHandedOver(t *testing.T, m *MediaSocket) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m.Poll()
		m.poll.mu.RLock()
		open := m.poll.open
		m.poll.mu.RUnlock()
		if open {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the reader never handed the socket over")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPolledMediaSocket is issue 9 item 1's polled reading: once a room's tick reads a call's
// RTP socket itself (Poll), no goroutine reads it, the issue 8 source rules still hold packet by
// packet (a stranger is dropped and counted, the caller's packets are handed on in order), each
// packet carries the time the kernel received it rather than the time of the Poll, media still
// goes to the caller, a Poll allocates nothing, and Close frees everything.
func TestPolledMediaSocket(t *testing.T) {
	m, _, caller, stranger := openCallerMedia(t)
	var got arrivals
	m.Start(got.onRTP, nil)
	goroutines := runtime.NumGoroutine()
	pollUntilHandedOver(t, m)
	if n := runtime.NumGoroutine(); n > goroutines-1 {
		t.Errorf("%d goroutines after the hand-over, want %d: the RTP reader gone", n, goroutines-1)
	}
	dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: m.Port()}
	sent := time.Now()
	for i := range 10 {
		caller.WriteToUDP(rtpFrom(0, uint16(100+i), 7), dst)
		stranger.WriteToUDP(rtpFrom(0, uint16(200+i), 7), dst)
	}
	time.Sleep(30 * time.Millisecond) // the packets wait in the socket for the next tick
	polled := time.Now()
	m.Poll()
	st := m.Stats()
	if st.RTPIn != 10 || st.Strangers != 10 {
		t.Fatalf("stats %+v: want the caller's 10 packets in and the stranger's 10 dropped", st)
	}
	got.mu.Lock()
	for i, seq := range got.seqs {
		if seq != uint16(100+i) {
			t.Errorf("packet %d is number %d, want %d", i, seq, 100+i)
		}
		if at := got.at[i]; at.Before(sent) || !at.Before(polled.Add(-20*time.Millisecond)) {
			t.Errorf("packet %d arrived at %v after sending and %v before the Poll: want the kernel's time, ~30 ms before",
				i, got.at[i].Sub(sent), polled.Sub(got.at[i]))
		}
	}
	got.mu.Unlock()
	mediaGoesTo(t, m, caller, stranger)

	pkt := rtpFrom(0, 1, 7)
	if n := testing.AllocsPerRun(100, func() {
		pkt[3]++
		caller.WriteToUDP(pkt, dst)
		m.Poll()
	}); n != 0 {
		// WriteToUDP itself allocates nothing with a *UDPAddr on Linux.
		t.Errorf("a polled packet costs %v allocations", n)
	}
	m.Close()
	m.Poll() // after Close: nothing, no panic
	m.SendRTP(pkt)
}
