package webrtcleg

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"confd/bridge"
	"confd/codec"
	"confd/testkit"
	"confd/testkit/cputime"
	"confd/testkit/pionbrowser"
)

// benchPayload is a typical 32 kbit/s Opus payload: 80 bytes per 20 ms.
var benchPayload = make([]byte, 80)

// connectListeners answers n WHEP listeners in room, puts their participants on hold so that
// the room's own tick sends them nothing (the benchmark drives their send path itself, on one
// locked thread), and waits until every one is connected.
func connectListeners(tb testing.TB, ts *testServer, room string, n int) []*Call {
	tb.Helper()
	calls := make([]*Call, 0, n)
	for i := 0; i < n; i++ {
		cl := pionbrowser.Start(tb, pionbrowser.Options{Direction: webrtc.RTPTransceiverDirectionRecvonly, Discard: true})
		// On hold from the start: the room never sends them anything (its own sequence
		// numbers would put the benchmark's behind the receiver's SRTP replay window).
		answer, c, err := ts.s.Answer(context.Background(), room, cl.Offer(), JoinInfo{Listen: true, Kind: "whep", held: true})
		if err != nil {
			tb.Fatal(err)
		}
		cl.Answer(answer)
		calls = append(calls, c)
	}
	for _, c := range calls {
		if !testkit.WaitFor(30*time.Second, func() bool { return c.Stats().Connected && c.track.binding.Load() != nil }) {
			tb.Fatalf("a listener did not connect: %+v", c.Stats())
		}
	}
	time.Sleep(100 * time.Millisecond) // pion's SRTP writer is ready a moment after "connected"
	return calls
}

// sendTick is one tick's send work for a set of WebRTC listeners as the room does it: the
// bridge writes each leg's RTP header around the shared payload, the leg sends it through pion
// (RTCP sender-report interceptor, SRTP, UDP).
func sendTick(senders []*bridge.RTPSender, calls []*Call, buf []byte, now time.Time) {
	for i, c := range calls {
		n, err := senders[i].Packet(buf, benchPayload, false, codec.FrameSamples, now)
		if err == nil && n > 0 {
			leg{c}.SendRTP(buf[:n])
		}
	}
}

func cpuRusage() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// timeSendTicks connects n WHEP listeners and times b.N ticks of sends to all of them on one
// locked thread, returning the thread's and the process's CPU time.
func timeSendTicks(b *testing.B, n int) (thread, process time.Duration, calls []*Call) {
	ts := newTestServer(b, bridge.Config{}, Config{})
	calls = connectListeners(b, ts, "bench", n)
	senders := make([]*bridge.RTPSender, n)
	for i := range senders {
		senders[i] = bridge.NewRTPSender(111)
	}
	buf := make([]byte, 1500)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, proc0 := cputime.Thread(), cpuRusage()
	for b.Loop() {
		sendTick(senders, calls, buf, now)
	}
	return cputime.Thread() - cpu0, cpuRusage() - proc0, calls
}

// BenchmarkSendRTP times confd's per-packet send path into pion for one WebRTC leg: the RTP
// header the bridge writes, the leg's track, SRTP (AES-CM or AES-GCM as negotiated) and the
// UDP send on loopback.
//
// Metrics: us/packet (wall), cpu-us/packet (CPU time of the benchmark's thread), allocs/op
// (the whole process, so the in-process client's receive path is counted too; confd's send
// path alone allocates nothing, see TestSendPathAllocations).
func BenchmarkSendRTP(b *testing.B) {
	cpu, _, calls := timeSendTicks(b, 1)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/float64(b.N), "us/packet")
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "cpu-us/packet")
	if st := calls[0].Stats(); st.RTPDropped > 0 {
		b.Errorf("%d packets dropped", st.RTPDropped)
	}
}

// BenchmarkRoomWebRTCListeners times one tick's sends to N WebRTC listeners connected over
// loopback (pion clients in this process): one op is one tick, every listener one packet.
//
// Metrics:
//   - cpu-us/participant/tick: CPU time of the benchmark's thread per listener per tick, the
//     per-participant cost a WebRTC leg adds to a room's tick (the shared Opus encode, ≈145 µs
//     per tick for the whole group, is the mixer's and is not included).
//   - us/tick: wall time of the tick's sends.
//   - process-cpu-us/participant/tick: CPU of the whole process (getrusage), which includes the
//     N pion clients receiving and decrypting: an upper bound.
func BenchmarkRoomWebRTCListeners(b *testing.B) {
	for _, n := range []int{10, 50} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			cpu, proc, _ := timeSendTicks(b, n)
			ticks := float64(b.N)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e3/ticks, "us/tick")
			b.ReportMetric(float64(cpu.Nanoseconds())/1e3/ticks/float64(n), "cpu-us/participant/tick")
			b.ReportMetric(float64(proc.Nanoseconds())/1e3/ticks/float64(n), "process-cpu-us/participant/tick")
		})
	}
}

// fakeWriter is a TrackLocalWriter that only counts, for the allocation test of confd's part.
type fakeWriter struct{ n int }

func (w *fakeWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.n++
	return len(payload), nil
}
func (w *fakeWriter) Write(b []byte) (int, error) { return len(b), nil }

// confd's own send path (header write, track) allocates nothing; the whole path into pion is
// measured and reported.
func TestSendPathAllocations(t *testing.T) {
	tr := newAudioTrack("x")
	w := &fakeWriter{}
	tr.binding.Store(&trackBinding{w: w, pt: 111})
	s := bridge.NewRTPSender(111)
	buf := make([]byte, 1500)
	now := time.Now()
	allocs := testing.AllocsPerRun(200, func() {
		n, _ := s.Packet(buf, benchPayload, false, codec.FrameSamples, now)
		tr.write(buf[:n])
	})
	if allocs != 0 || w.n == 0 {
		t.Errorf("confd's send path: %.1f allocations per packet, want 0 (%d written)", allocs, w.n)
	}

	ts := newTestServer(t, bridge.Config{}, Config{})
	calls := connectListeners(t, ts, "alloc", 1)
	senders := []*bridge.RTPSender{bridge.NewRTPSender(111)}
	// AllocsPerRun counts every goroutine's allocations: the goroutines of earlier tests' calls
	// still ending (pion's ICE and DTLS shutting down) add theirs. A per-packet allocation of
	// the send path shows in every measurement, so the least of three is the send path's.
	pion := math.Inf(1)
	for range 3 {
		pion = min(pion, testing.AllocsPerRun(200, func() { sendTick(senders, calls, buf, now) }))
	}
	// Under -race sync.Pool drops items at random, so pion's pooled buffers are reallocated.
	if pion != 0 && !raceEnabled {
		t.Errorf("the whole send path into pion (interceptors, SRTP, UDP): %.1f allocations per packet, want 0", pion)
	}
	if st := calls[0].Stats(); st.RTPSent < 200 || st.RTPDropped > 0 {
		t.Errorf("stats %+v", st)
	}
}
