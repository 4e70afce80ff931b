package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"confd/bench"
	"confd/bridge"
	"confd/codec"
	"confd/jitter"
	"confd/testkit/audiotest"
	"confd/webrtcleg"
)

// Frames that mark an allocation as confd's send path to a WebRTC leg (the room's tick handing
// the leg its packet, and everything below: pion's interceptors, SRTP, the socket) and as the
// room's tick as a whole.
const (
	sendPathFrame = "confd/webrtcleg.(*audioTrack).writeHeader" // the typed path (bridge.TypedLeg)
	tickFrame     = "confd/bridge.(*Room).tick"
)

// BenchmarkWebRTCSendAllocs runs the bridge and webrtcleg in this process with WHEP listeners
// (pion clients over loopback) and one talker, records every allocation (MemProfileRate 1),
// and counts those whose stack passes through confd's send path, per packet sent (bar: 0),
// and those of the room's tick, per tick.
func BenchmarkWebRTCSendAllocs(b *testing.B) {
	const listeners = 20
	for range b.N {
		perPacket, perTick, top := webrtcSendAllocs(b, listeners, 5*time.Second)
		b.ReportMetric(perPacket, "send-allocs/packet")
		b.ReportMetric(perTick, "tick-allocs/tick")
		b.ReportMetric(0, "ns/op")
		if top != "" {
			// Printed rather than logged: a benchmark's log is cut after a few lines.
			fmt.Fprintf(os.Stderr, "allocating stacks:\n%s\n", top)
		}
	}
}

// discardLeg is the talker's leg: what the talker hears goes nowhere.
type discardLeg struct{}

func (discardLeg) SendRTP([]byte) {}
func (discardLeg) Hangup(string)  {}

func webrtcSendAllocs(b *testing.B, n int, window time.Duration) (perPacket, perTick float64, top string) {
	loopback := netip.MustParseAddr("127.0.0.1")
	quiet := slog.New(slog.DiscardHandler)
	br := bridge.New(bridge.Config{}, bridge.WithLogger(quiet))
	defer br.Close()
	// Every listener comes from loopback: one source, let through as many times as it asks.
	s, err := webrtcleg.New(br, webrtcleg.Config{ListenIPs: []netip.Addr{loopback}, SessionsPerSource: n, SessionRate: float64(n)},
		webrtcleg.WithLogger(quiet))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()

	// The talker: a steady 440 Hz Opus stream pushed into its participant every 20 ms.
	rec, err := bench.Record(codec.Format{Codec: codec.Opus}, 50, 50, audiotest.NewTone(440, bench.ToneAmplitude, codec.SampleRate).Fill)
	if err != nil {
		b.Fatal(err)
	}
	talker, err := br.Join("allocs", bridge.ParticipantInfo{Name: "talker", Kind: "test",
		Output: codec.Format{Codec: codec.Opus}, OutputPT: 111,
		Input: []jitter.PayloadType{{Type: 111, Kind: jitter.Audio, Codec: codec.Opus}}}, discardLeg{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		client := bench.NewClient(rec, 0x1234, 0)
		buf := make([]byte, 1500)
		t := time.NewTicker(codec.FrameDuration)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if p, ok := client.Next(); ok {
					_ = talker.PushRTP(buf[:writeRTP(buf, p)], now)
				}
			}
		}
	}()

	legs := make([]*leg, n)
	for i := range legs {
		legs[i] = &leg{index: i}
	}
	defer func() {
		for _, l := range legs {
			if l.rtc != nil {
				l.rtc.Close()
			}
		}
	}()
	if err := forEach(legs, 8, func(l *leg) error { return joinWebRTC(ctx, srv.URL, "allocs", l) }); err != nil {
		b.Fatal(err)
	}

	old := runtime.MemProfileRate
	runtime.MemProfileRate = 1
	defer func() { runtime.MemProfileRate = old }()
	time.Sleep(2 * time.Second) // every leg connected and sending
	before, err := allocProfile()
	if err != nil {
		b.Fatal(err)
	}
	received0 := receivedPackets(legs)
	start := time.Now()
	time.Sleep(window)
	after, err := allocProfile()
	if err != nil {
		b.Fatal(err)
	}
	packets := receivedPackets(legs) - received0
	ticks := time.Since(start).Seconds() / codec.FrameDuration.Seconds()
	if packets == 0 {
		b.Fatal("the listeners received nothing")
	}
	var send, tick int64
	var stacks []string
	for key, a := range after {
		d := a.objects - before[key].objects
		if d <= 0 {
			continue
		}
		inSend, inTick := a.passes(sendPathFrame), a.passes(tickFrame)
		if inSend {
			send += d
		}
		if inTick {
			tick += d
		}
		if inSend || inTick {
			stacks = append(stacks, fmt.Sprintf("%d allocations:\n\t%s", d, strings.Join(a.funcs, "\n\t")))
		}
	}
	sort.Strings(stacks)
	b.Logf("%d listeners, %d packets received in %.0f ticks; %d allocations on the send path, %d in the tick",
		n, packets, ticks, send, tick)
	return float64(send) / float64(packets), float64(tick) / ticks, strings.Join(stacks, "\n")
}

func receivedPackets(legs []*leg) uint64 {
	var n uint64
	for _, l := range legs {
		got, _ := l.recv.counts()
		n += got
	}
	return n
}

// allocRecord is one stack of the allocs profile: how many objects it allocated so far, and
// its functions, innermost first.
type allocRecord struct {
	objects int64
	funcs   []string
}

func (a allocRecord) passes(fn string) bool {
	for _, f := range a.funcs {
		if f == fn {
			return true
		}
	}
	return false
}

// allocProfile reads the allocs profile in its text form (pprof debug=1: a line
// "inuse: bytes [allocs: bytes] @ pcs" per stack, then a "#" line per frame), after a GC so
// that it is current, keyed by the stack's program counters.
func allocProfile() (map[string]allocRecord, error) {
	runtime.GC()
	var buf bytes.Buffer
	if err := pprof.Lookup("allocs").WriteTo(&buf, 1); err != nil {
		return nil, err
	}
	out := map[string]allocRecord{}
	var key string
	sc := bufio.NewScanner(&buf)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if head, pcs, ok := strings.Cut(line, " @ "); ok && strings.Contains(head, "[") {
			counts := strings.Fields(strings.NewReplacer("[", " ", "]", " ", ":", " ").Replace(head))
			if len(counts) != 4 {
				continue
			}
			objects, err := strconv.ParseInt(counts[2], 10, 64)
			if err != nil {
				continue
			}
			key = pcs
			out[key] = allocRecord{objects: objects}
			continue
		}
		if strings.HasPrefix(line, "#\t") && key != "" {
			f := strings.Split(line, "\t")
			if len(f) >= 3 {
				fn, _, _ := strings.Cut(f[2], "+0x")
				r := out[key]
				r.funcs = append(r.funcs, fn)
				out[key] = r
			}
		}
	}
	return out, sc.Err()
}
