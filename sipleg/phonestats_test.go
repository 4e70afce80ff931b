package sipleg

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
)

// roomParticipants returns the SIP calls of ts in room with their participants.
func roomParticipants(ts *testServer, r *bridge.Room) map[*call]*bridge.Participant {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	out := make(map[*call]*bridge.Participant)
	for _, c := range ts.calls {
		if p := c.part.Load(); p != nil && p.Room() == r {
			out[c] = p
		}
	}
	return out
}

// awaitSent waits until the phones calls of ts are in room and confd has sent each of them d of
// audio more (one packet per codec.FrameDuration, the phones' ptime): the audio a test then
// judges was sent, however long a starved machine took to send it, rather than whatever a fixed
// sleep let through. It fails the test, with confd's media counters, when that takes more than
// twice d and 5 s.
func awaitSent(t *testing.T, ts *testServer, room string, phones int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(2*d + 5*time.Second)
	var in map[*call]*bridge.Participant
	for {
		if r, ok := ts.bridge.Room(room); ok {
			if in = roomParticipants(ts, r); len(in) == phones {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d phones in room %s, want %d", len(in), room, phones)
		}
		time.Sleep(codec.FrameDuration)
	}
	want := uint64(d / codec.FrameDuration)
	from := make(map[*bridge.Participant]uint64)
	for _, p := range in {
		from[p] = p.SenderStats().Packets
	}
	for {
		short := 0
		for p, n := range from {
			if p.SenderStats().Packets-n < want {
				short++
			}
		}
		if short == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("confd sent %d of the %d phones of %s less than %v of audio in %v:\n%s", short, len(from), room, d, 2*d+5*time.Second, mediaStats(ts, room))
		}
		time.Sleep(codec.FrameDuration)
	}
}

// mediaStats describes what confd saw of every call in room: the room clock's late and skipped
// ticks, and for each participant its socket's counters, its jitter buffer's (late, dropped and
// concealed frames: each a splice in what the others hear) and what confd sent it.
func mediaStats(ts *testServer, room string) string {
	r, ok := ts.bridge.Room(room)
	if !ok {
		return "room " + room + " is gone"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "room %s: clock %+v mixer %+v", room, r.ClockStats(), r.MixerStats())
	for c, p := range roomParticipants(ts, r) {
		fmt.Fprintf(&b, "\n%s: media %+v jitter %+v sent %+v", c.from, c.media.Stats(), p.JitterStats(), p.SenderStats())
	}
	return b.String()
}

// explainFailure takes confd's media counters of room now (before the phones hang up and leave
// it) and, if the test fails, logs them and, when SIPLEG_KEEP names a directory, copies the
// phones' recordings and logs there to be listened to.
func explainFailure(t *testing.T, ts *testServer, room string, phones ...phone) {
	stats := mediaStats(ts, room)
	t.Cleanup(func() { // before the phones' own cleanup removes their recordings
		if !t.Failed() {
			return
		}
		t.Logf("confd's counters before the hangup:\n%s", stats)
		dir := os.Getenv("SIPLEG_KEEP")
		if dir == "" {
			return
		}
		dst, err := os.MkdirTemp(dir, strings.ReplaceAll(t.Name(), "/", "-")+"-")
		if err != nil {
			t.Log(err)
			return
		}
		_ = os.WriteFile(filepath.Join(dst, "confd-stats"), []byte(stats+"\n"), 0o644)
		for _, p := range phones {
			files, _ := filepath.Glob(filepath.Join(p.Dir(), "*", "dump-*.wav"))
			for _, f := range files {
				if b, err := os.ReadFile(f); err == nil {
					_ = os.WriteFile(filepath.Join(dst, p.Config().User+"-"+filepath.Base(f)), b, 0o644)
				}
			}
			_ = os.WriteFile(filepath.Join(dst, p.Config().User+".log"), []byte(p.Log()), 0o644)
		}
		t.Logf("recordings kept in %s", dst)
	})
}
