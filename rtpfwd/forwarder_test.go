package rtpfwd

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/bridge"
	"confd/codec"
	"confd/internal/config"
	"confd/internal/guard"
	"confd/testkit"
	"confd/testkit/audiotest"
	"confd/testkit/rtptest"
)

// toneSource is a participant that sends a sine, after a few ticks of silence (so that the
// mixer's noise floor starts below it, as a microphone's does).
type toneSource struct {
	tone  *audiotest.Tone
	frame codec.Frame
	ticks int
}

func (s *toneSource) Advance(time.Time) codec.Activity {
	if s.ticks++; s.ticks <= 3 {
		s.frame.Clear()
	} else {
		s.tone.Fill(s.frame[:])
	}
	return codec.Activity{Present: true}
}

func (s *toneSource) Read(f *codec.Frame) bool { *f = s.frame; return true }

// receiver is a recorder on loopback: it decodes the RTP it receives into 48 kHz PCM.
type receiver struct {
	*rtptest.Receiver
	c    codec.Codec
	mu   sync.Mutex
	pcm  []int16
	pkts int
	ssrc map[uint32]bool
}

func newReceiver(t *testing.T, c codec.Codec, pt uint8) *receiver {
	t.Helper()
	r := &receiver{c: c, ssrc: map[uint32]bool{}}
	r.Receiver = rtptest.Listen(t, c, pt, func(pkt *rtp.Packet, _ time.Time, pcm []int16) {
		r.mu.Lock()
		r.pkts++
		r.ssrc[pkt.SSRC] = true
		r.pcm = append(r.pcm, pcm...)
		r.mu.Unlock()
	})
	return r
}

// packets returns how many packets of the payload type arrived.
func (r *receiver) packets() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pkts
}

// waitAudio waits until d of audio has arrived and returns the last d of it.
func (r *receiver) waitAudio(t *testing.T, d time.Duration) []int16 {
	t.Helper()
	want := int(d.Seconds() * codec.SampleRate)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		r.mu.Lock()
		n := len(r.pcm)
		if n >= want+codec.SampleRate/2 { // the first half second (fade-in, the talker's start) left out
			out := append([]int16(nil), r.pcm[n-want:]...)
			r.mu.Unlock()
			return out
		}
		r.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("received %d samples of %v, want %d", n, r.c, want)
		}
	}
}

func loopbackOnly(t *testing.T) []guard.Destination {
	t.Helper()
	d, err := config.Forwarders{Allow: []string{"127.0.0.1/32"}}.Destinations()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// room starts a bridge with one person in room "r" for each of tones, sending a sine of that
// frequency; the bridge is closed when the test ends.
func room(t *testing.T, tones ...float64) (*bridge.Bridge, []*bridge.Participant) {
	t.Helper()
	b := bridge.New(bridge.Config{})
	t.Cleanup(b.Close)
	var parts []*bridge.Participant
	for _, hz := range tones {
		p, err := b.JoinSource("r", bridge.ParticipantInfo{Name: "tone", Kind: "sip",
			Output: codec.Format{Codec: codec.PCMU}}, &toneSource{tone: audiotest.NewTone(hz, 0.15, codec.SampleRate)}, rtptest.NopLeg{})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, p)
	}
	return b, parts
}

// waitEvent returns the next event of type typ on sub.
func waitEvent(t *testing.T, sub *bridge.Subscription, typ bridge.EventType) bridge.Event {
	t.Helper()
	return testkit.Receive(t, sub.C, 5*time.Second, string(typ)+" event", func(e bridge.Event) bool { return e.Type == typ })
}

// TestForwarderCarriesTheMixOrOneParticipant: a UDP receiver on loopback decodes the forwarded
// RTP and hears the room (both tones) from a mix forwarder, one tone alone from a forwarder of
// that participant; the forwarders are announced by their own events, never as a join, and
// are not listed as people; removing one stops its packets and frees its socket.
func TestForwarderCarriesTheMixOrOneParticipant(t *testing.T) {
	b, parts := room(t, 440, 1000)
	sub := b.Bus().Subscribe("r", 256, "")
	defer sub.Close()
	m := NewManager(b, Config{Allow: loopbackOnly(t)})
	defer m.Close()

	mixRx := newReceiver(t, codec.PCMU, 0)
	mix, err := m.Start("r", Request{Host: "127.0.0.1", Port: mixRx.Port(), Codec: "pcmu"})
	if err != nil {
		t.Fatal(err)
	}
	soloRx := newReceiver(t, codec.Opus, 111)
	solo, err := m.Start("r", Request{Host: "127.0.0.1", Port: soloRx.Port(), Codec: "opus", Participant: parts[0].ID()})
	if err != nil {
		t.Fatal(err)
	}
	if e := waitEvent(t, sub, bridge.EventForwarderStarted); e.Data["forwarder"] != mix.ID {
		t.Errorf("first forwarder_started %+v, want forwarder %s", e, mix.ID)
	}

	heard := mixRx.waitAudio(t, time.Second)
	for _, hz := range []float64{440, 1000} {
		if l := audiotest.ToneLevel(heard, codec.SampleRate, hz); l < -25 {
			t.Errorf("the mix forwarder carries %v Hz at %.1f dBFS, want it heard (≈ -16.5)", hz, l)
		}
	}
	heard = soloRx.waitAudio(t, time.Second)
	a, c := audiotest.ToneLevel(heard, codec.SampleRate, 440), audiotest.ToneLevel(heard, codec.SampleRate, 1000)
	t.Logf("solo forwarder: 440 Hz at %.1f dBFS, 1000 Hz at %.1f dBFS", a, c)
	if a < -25 || c > a-30 {
		t.Errorf("the forwarder of the 440 Hz participant carries 440 Hz at %.1f dBFS and 1000 Hz at %.1f, want 440 alone", a, c)
	}

	st, _ := b.RoomState("r")
	if len(st.Participants) != 2 {
		t.Errorf("the room lists %d participants, want the 2 people (forwarders are not people)", len(st.Participants))
	}
	if list, _ := m.List("r"); len(list) != 2 || list[0].ID != mix.ID || list[1].ID != solo.ID || list[0].Packets == 0 {
		t.Errorf("List: %+v, want the two forwarders, oldest first, sending", list)
	}

	stopped, err := m.Stop("r", mix.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Every packet sent before Stop returned is already in the receiver's buffer (loopback
	// delivers within the write); nothing is sent afterwards, since the socket is closed.
	time.Sleep(200 * time.Millisecond)
	n := mixRx.packets()
	time.Sleep(300 * time.Millisecond)
	if got := mixRx.packets(); got != n {
		t.Errorf("%d packets arrived after the forwarder was removed", got-n)
	}
	if stopped.Packets == 0 {
		t.Errorf("stopped forwarder: %+v, want its packets counted", stopped)
	}
	if _, err := m.Stop("r", mix.ID); !errors.Is(err, bridge.ErrNoForwarder) {
		t.Errorf("second Stop: %v, want ErrNoForwarder", err)
	}
	if e := waitEvent(t, sub, bridge.EventForwarderStopped); e.Data["forwarder"] != mix.ID || e.Data["reason"] != "stopped" {
		t.Errorf("forwarder_stopped %+v", e)
	}

	// The participant forwarded leaves: its forwarder stops. The last person leaves: the room
	// ends, with no forwarder left in it.
	parts[0].Leave("bye")
	if e := waitEvent(t, sub, bridge.EventForwarderStopped); e.Data["forwarder"] != solo.ID || e.Data["reason"] != "participant left" {
		t.Errorf("forwarder_stopped %+v, want the solo forwarder's, participant left", e)
	}
	if _, err := m.Start("r", Request{Host: "127.0.0.1", Port: mixRx.Port(), Codec: "PCMA"}); err != nil {
		t.Fatal(err)
	}
	parts[1].Leave("bye")
	if e := waitEvent(t, sub, bridge.EventForwarderStopped); e.Data["reason"] != "room ended" {
		t.Errorf("forwarder_stopped %+v, want room ended", e)
	}
	waitEvent(t, sub, bridge.EventRoomFinished)

	// No join or leave was ever published for a forwarder.
	_, hist := b.Bus(), []bridge.Event{}
	replay := b.Bus().Subscribe("r", 1024, "00000000000000000000000000")
	defer replay.Close()
	for len(replay.C) > 0 {
		hist = append(hist, <-replay.C)
	}
	joins := 0
	for _, e := range hist {
		if e.Type == bridge.EventJoin {
			joins++
			if e.Data["kind"] == bridge.KindForwarder {
				t.Errorf("a forwarder was announced as a join: %+v", e)
			}
		}
	}
	if joins != 2 {
		t.Errorf("%d joins in the room's history, want the 2 people's", joins)
	}
}

// TestForwarderRefusals: every refusal has the status the API answers with, and changes nothing.
func TestForwarderRefusals(t *testing.T) {
	b, parts := room(t, 440, 1000)
	off := NewManager(b, Config{})
	defer off.Close()
	status := func(err error) int {
		st, ok := bridge.StatusOf(err)
		if !ok {
			return 500
		}
		return st.HTTP
	}
	if _, err := off.Start("r", Request{Host: "127.0.0.1", Port: 5004, Codec: "PCMU"}); !errors.Is(err, ErrDisabled) || status(err) != 403 {
		t.Errorf("with no allow list: %v (%d), want ErrDisabled, 403", err, status(err))
	}
	allow, err := config.Forwarders{Allow: []string{"127.0.0.1/32:5000-5010"}}.Destinations()
	if err != nil {
		t.Fatal(err)
	}
	m := NewManager(b, Config{Allow: allow, PerRoom: 1})
	defer m.Close()
	pt := 75
	for _, c := range []struct {
		req  Request
		room string
		want int
	}{
		{Request{Host: "127.0.0.2", Port: 5004, Codec: "PCMU"}, "r", 403},
		{Request{Host: "127.0.0.1", Port: 5011, Codec: "PCMU"}, "r", 403},
		{Request{Host: "localhost", Port: 5004, Codec: "PCMU"}, "r", 400},
		{Request{Host: "127.0.0.1", Port: 0, Codec: "PCMU"}, "r", 400},
		{Request{Host: "127.0.0.1", Port: 5004, Codec: "GSM"}, "r", 400},
		{Request{Host: "127.0.0.1", Port: 5004, Codec: "opus", PayloadType: &pt}, "r", 400},
		{Request{Host: "127.0.0.1", Port: 5004, Codec: "PCMU", Participant: "nobody"}, "r", 404},
		{Request{Host: "127.0.0.1", Port: 5004, Codec: "PCMU"}, "empty", 404},
	} {
		if _, err := m.Start(c.room, c.req); status(err) != c.want {
			t.Errorf("Start(%s, %+v): %v (%d), want %d", c.room, c.req, err, status(err), c.want)
		}
	}
	if _, err := m.Start("r", Request{Host: "127.0.0.1", Port: 5004, Codec: "PCMU"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Start("r", Request{Host: "127.0.0.1", Port: 5006, Codec: "PCMU"}); status(err) != 409 {
		t.Errorf("a second forwarder with per_room 1: %v (%d), want 409", err, status(err))
	}
	if list, _ := m.List("r"); len(list) != 1 {
		t.Errorf("after the refusals the room has %d forwarders, want 1", len(list))
	}
	_ = parts
}

// TestForwarderSendAllocatesNothing: the leg's send path, run by the room's tick for every
// packet, allocates nothing.
func TestForwarderSendAllocatesNothing(t *testing.T) {
	rx := newReceiver(t, codec.PCMU, 0)
	f := &forwarder{dest: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(rx.Port()))}
	if err := f.dial(); err != nil {
		t.Fatal(err)
	}
	defer f.conn.Close()
	pkt := make([]byte, 172)
	pkt[0] = 0x80
	if a := testing.AllocsPerRun(100, func() { f.SendRTP(pkt) }); a != 0 {
		t.Errorf("SendRTP allocates %v times per packet", a)
	}
	if f.packets.Load() == 0 || f.dropped.Load() != 0 {
		t.Errorf("sent %d, dropped %d", f.packets.Load(), f.dropped.Load())
	}
}

// BenchmarkForwarderSend measures what a forwarder costs the room's tick per packet: one
// non-blocking write(2) of a 172-byte G.711 packet on loopback.
func BenchmarkForwarderSend(b *testing.B) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	go func() {
		buf := make([]byte, 1500)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	f := &forwarder{dest: conn.LocalAddr().(*net.UDPAddr).AddrPort()}
	if err := f.dial(); err != nil {
		b.Fatal(err)
	}
	defer f.conn.Close()
	pkt := make([]byte, 172)
	pkt[0] = 0x80
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f.SendRTP(pkt)
	}
	b.StopTimer()
	b.ReportMetric(float64(f.dropped.Load())/float64(b.N), "dropped/op")
}
