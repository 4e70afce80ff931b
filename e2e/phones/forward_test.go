package phones

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/bridge"
	"confd/codec"
	"confd/rtpfwd"
	"confd/testkit/gophone"
	"confd/testkit/rtptest"
)

// rtpRecorder is what an RTP forwarder feeds: a recorder or transcriber on loopback that
// decodes the plain RTP it receives onto a Timeline, as a Phone does with what it hears.
type rtpRecorder struct {
	*rtptest.Receiver
	heard   *gophone.Timeline
	packets atomic.Uint64
}

// listenRTP starts a recorder of codec c at payload type pt on a free loopback port.
func listenRTP(t *testing.T, c codec.Codec, pt uint8) *rtpRecorder {
	t.Helper()
	r := &rtpRecorder{heard: gophone.NewTimeline(time.Now())}
	r.Receiver = rtptest.Listen(t, c, pt, func(pkt *rtp.Packet, arrival time.Time, pcm []int16) {
		r.packets.Add(1)
		if len(pcm) > 0 {
			r.heard.Add(arrival, pkt.SSRC, pkt.Timestamp, c.ClockRate(), pcm)
		}
	})
	return r
}

// level waits for the first second from from that arrived whole (up to maxSlide later) and
// returns the tone's level in it.
func (r *rtpRecorder) level(t *testing.T, from time.Time, hz float64) float64 {
	t.Helper()
	for at := from; ; at = at.Add(gophone.LevelChunk) {
		for time.Now().Before(at.Add(window + 100*time.Millisecond)) {
			time.Sleep(50 * time.Millisecond)
		}
		if r.heard.Coverage(at, at.Add(window)) >= minCoverage || at.After(from.Add(maxSlide)) {
			return r.heard.Level(at, at.Add(window), hz)
		}
	}
}

// TestForwarderCarriesWhatThePhonesSend is issue 13's "raw RTP out of a room": a recorder on
// loopback decodes a forwarder of the room's mix (G.711) and hears both phones' tones; a
// forwarder of Ada alone (Opus) carries her tone and not Bob's; a destination off the allow list
// is 403; the room lists its two people only, and the event stream has forwarder_started and no
// join for a forwarder; DELETE stops the packets.
func TestForwarderCarriesWhatThePhonesSend(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "[forwarders]\nallow = [\"127.0.0.1/32\"]\nper_room = 2\n")
	events := d.subscribe("fwd")
	_, ids := d.talkers("fwd", partyAda, partyBob)

	mixRx := listenRTP(t, codec.PCMU, 0)
	var mix rtpfwd.Info
	json.Unmarshal(d.must(http.StatusCreated, "POST", "/api/rooms/fwd/forwarders",
		map[string]any{"host": "127.0.0.1", "port": mixRx.Port(), "codec": "PCMU"}), &mix)
	d.refused(http.StatusForbidden, "POST", "/api/rooms/fwd/forwarders", map[string]any{"host": "127.0.0.2", "port": 5004, "codec": "PCMU"})
	d.refused(http.StatusNotFound, "POST", "/api/rooms/fwd/forwarders", map[string]any{"host": "127.0.0.1", "port": 5004, "codec": "PCMU", "participant": "nobody"})
	adaRx := listenRTP(t, codec.Opus, 111)
	var solo rtpfwd.Info
	json.Unmarshal(d.must(http.StatusCreated, "POST", "/api/rooms/fwd/forwarders",
		map[string]any{"host": "127.0.0.1", "port": adaRx.Port(), "codec": "opus", "participant": ids[0]}), &solo)
	if mix.ID == "" || solo.Participant != ids[0] || solo.PayloadType != 111 {
		t.Fatalf("forwarders %+v and %+v", mix, solo)
	}

	d.refused(http.StatusConflict, "POST", "/api/rooms/fwd/forwarders", map[string]any{"host": "127.0.0.1", "port": 5004, "codec": "PCMU"})

	from := time.Now().Add(time.Second) // the forwarders' first packets, and the Opus decoder's start
	for _, hz := range []float64{toneAda, toneBob} {
		if l := mixRx.level(t, from, hz); l < heardAt {
			t.Errorf("the mix forwarder carries %.0f Hz at %.1f dBFS, want ≥ %.0f", hz, l, heardAt)
		} else {
			t.Logf("the mix forwarder carries %.0f Hz at %.1f dBFS", hz, l)
		}
	}
	ada, bob := adaRx.level(t, from, toneAda), adaRx.level(t, from, toneBob)
	t.Logf("Ada's forwarder carries her %.0f Hz at %.1f dBFS and Bob's %.0f Hz at %.1f dBFS", toneAda, ada, toneBob, bob)
	if ada < heardAt || bob > ada-downBy {
		t.Errorf("Ada's forwarder: her tone at %.1f dBFS, Bob's at %.1f, want hers ≥ %.0f and his ≥ %.0f dB under it", ada, bob, heardAt, downBy)
	}

	if st := d.state("fwd"); len(st.Participants) != 2 {
		t.Errorf("the room lists %d participants, want Ada and Bob only: %+v", len(st.Participants), st.Participants)
	}
	var list []rtpfwd.Info
	json.Unmarshal(d.must(http.StatusOK, "GET", "/api/rooms/fwd/forwarders", nil), &list)
	if len(list) != 2 || list[0].Packets == 0 {
		t.Errorf("GET forwarders: %+v, want the two, sending", list)
	}

	d.must(http.StatusOK, "DELETE", "/api/rooms/fwd/forwarders/"+mix.ID, nil)
	// What was sent before the DELETE was answered has arrived by now on loopback; the
	// forwarder's socket is closed, so nothing can follow.
	time.Sleep(200 * time.Millisecond)
	n := mixRx.packets.Load()
	time.Sleep(time.Second)
	if got := mixRx.packets.Load(); got != n {
		t.Errorf("%d packets arrived in the second after the forwarder was removed", got-n)
	}
	if adaRx.packets.Load() == 0 {
		t.Error("Ada's forwarder sent nothing")
	}
	d.refused(http.StatusNotFound, "DELETE", "/api/rooms/fwd/forwarders/"+mix.ID, nil)

	events.waitFor(t, "forwarder_stopped of the mix forwarder", 5*time.Second, func(e bridge.Event) bool {
		return e.Type == bridge.EventForwarderStopped && e.Data["forwarder"] == mix.ID
	})
	got, _ := events.snapshot()
	started := 0
	for _, e := range got {
		switch e.Type {
		case bridge.EventForwarderStarted:
			started++
		case bridge.EventJoin, bridge.EventLeave:
			if e.Participant != ids[0] && e.Participant != ids[1] {
				t.Errorf("a %s of someone who is not a phone: %+v", e.Type, e)
			}
		}
	}
	if started != 2 {
		t.Errorf("%d forwarder_started events, want 2: %s", started, fmt.Sprint(got))
	}
}
