package bridge

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/jitter"
	"confd/testkit/audiotest"
	"confd/testkit/rtptest"
)

// fakeLeg is a Leg that keeps what the room sends it, and when.
type fakeLeg struct {
	mu      sync.Mutex
	packets [][]byte
	at      []time.Time
	hungUp  string
}

func (l *fakeLeg) SendRTP(pkt []byte) {
	l.mu.Lock()
	l.packets = append(l.packets, append([]byte(nil), pkt...))
	l.at = append(l.at, time.Now())
	l.mu.Unlock()
}

func (l *fakeLeg) Hangup(reason string) {
	l.mu.Lock()
	l.hungUp = reason
	l.mu.Unlock()
}

// heard decodes everything the leg was sent, as its phone would.
func (l *fakeLeg) heard(t *testing.T, c codec.Codec) []int16 {
	return l.heardBetween(t, c, time.Time{}, time.Unix(1<<40, 0))
}

// heardBetween decodes everything the leg was sent, in order as its phone would, and returns
// what was sent from from to to.
func (l *fakeLeg) heardBetween(t *testing.T, c codec.Codec, from, to time.Time) []int16 {
	t.Helper()
	dec, err := codec.NewDecoder(c)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int16
	pcm := make([]int16, codec.MaxPacketSamples)
	var p rtp.Packet
	for i, raw := range l.packets {
		if err := p.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		n, err := dec.Decode(p.Payload, pcm)
		if err != nil {
			t.Fatal(err)
		}
		if !l.at[i].Before(from) && l.at[i].Before(to) {
			out = append(out, pcm[:n]...)
		}
	}
	return out
}

// phone sends a tone to p as RTP in codec c every 20 ms until stop is closed.
func phone(t *testing.T, p *Participant, c codec.Codec, pt uint8, freq float64, stop chan struct{}) {
	if err := rtptest.SendTone(p, c, pt, freq, stop); err != nil {
		t.Error(err)
	}
}

// newWatchedBridge is a new bridge and a subscription to room's events that holds size of them;
// both are closed when the test ends.
func newWatchedBridge(t testing.TB, room string, size int) (*Bridge, *Subscription) {
	b := New(Config{})
	t.Cleanup(b.Close)
	sub := b.Bus().Subscribe(room, size, "")
	t.Cleanup(sub.Close)
	return b, sub
}

func TestTwoCodecsHearEachOtherMinusOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{})
		events := b.Bus().Subscribe("", 100, "")
		legA, legB := &fakeLeg{}, &fakeLeg{}
		a := mustJoin(t, b, "r1", ParticipantInfo{Name: "A", Kind: "sip", Output: codec.Format{Codec: codec.PCMU}, OutputPT: 0,
			Input: []jitter.PayloadType{{Type: 0, Codec: codec.PCMU}, {Type: 101, Kind: jitter.TelephoneEvent}}}, legA)
		bb := mustJoin(t, b, "r1", ParticipantInfo{Name: "B", Kind: "webrtc", Output: codec.Format{Codec: codec.Opus}, OutputPT: 111,
			Input: []jitter.PayloadType{{Type: 111, Codec: codec.Opus}}}, legB)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); phone(t, a, codec.PCMU, 0, 440, stop) }()
		go func() { defer wg.Done(); phone(t, bb, codec.Opus, 111, 1000, stop) }()
		time.Sleep(2 * time.Second)
		close(stop)
		wg.Wait()
		st, err := b.RoomState("r1")
		if err != nil || len(st.Participants) != 2 {
			t.Fatalf("room state %+v, %v", st, err)
		}
		a.Leave("bye")
		bb.Leave("bye")
		synctest.Wait()
		if _, ok := b.Room("r1"); ok {
			t.Error("ad-hoc room still exists after everyone left")
		}

		// Skip the first half second (jitter buffer start, codec warm-up).
		hearsA := legA.heard(t, codec.PCMU)
		hearsB := legB.heard(t, codec.Opus)
		// Decoders give 48 kHz whatever the codec.
		if len(hearsA) < 48000 || len(hearsB) < 48000 {
			t.Fatalf("A heard %d samples, B %d: the room did not send", len(hearsA), len(hearsB))
		}
		hearsA, hearsB = hearsA[24000:], hearsB[24000:]
		own, other := audiotest.ToneLevel(hearsA, 48000, 440), audiotest.ToneLevel(hearsA, 48000, 1000)
		if other < -20 || other-own < 30 {
			t.Errorf("PCMU leg hears the other at %.1f dBFS and itself at %.1f", other, own)
		}
		own, other = audiotest.ToneLevel(hearsB, 48000, 1000), audiotest.ToneLevel(hearsB, 48000, 440)
		if other < -20 || other-own < 30 {
			t.Errorf("Opus leg hears the other at %.1f dBFS and itself at %.1f", other, own)
		}
		events.Close()
		var types []EventType
		for e := range events.C {
			types = append(types, e.Type)
		}
		if n := len(types); n < 6 || types[0] != EventRoomStarted || types[1] != EventJoin || types[2] != EventJoin ||
			types[n-2] != EventLeave || types[n-1] != EventRoomFinished {
			t.Errorf("events %v", types)
		}
	})
}
