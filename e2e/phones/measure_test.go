package phones

import (
	"fmt"
	"testing"
	"time"

	"confd/codec"
	"confd/internal/testkit/gophone"
)

// The participants' tones: far apart and off each other's harmonics, so a 1 s Goertzel window
// tells them apart by far more than the 20 dB the tests ask.
const (
	toneAda = 440.0
	toneBob = 700.0
	toneCy  = 1000.0
	toneDee = 1300.0
	toneEve = 1600.0
)

const (
	// window is how much audio each level is measured on.
	window = time.Second
	// settle is how long a rule is given to reach the ears: docs/SPEC.md's "one second later".
	settle = time.Second
	// heardAt is the level above which a tone counts as clearly heard; each is sent at
	// -16.5 dBFS.
	heardAt = -30.0
	// downBy is how far a tone a rule removes must fall.
	downBy = 20.0
	// steadyWithin is how far a tone no rule touches may move between two windows, in dB.
	steadyWithin = 1.0
)

// moment is one API call's time, with the windows judged around it: the second before it, and
// the first healthy second from settle after it.
type moment struct {
	at    time.Time
	after time.Time // the after window's start, chosen by waitAfter
	// beforeEnd ends the before window: at, unless the change began earlier than the call
	// that confirmed it (a DTMF key pressed before its event came).
	beforeEnd time.Time
}

// now marks the instant of an API call about to be made.
func now() *moment {
	at := time.Now()
	return &moment{at: at, after: at.Add(settle), beforeEnd: at}
}

// maxSlide is how much later than settle after the call waitAfter may start the after window
// when the machine starved a process and the audio came with holes.
const maxSlide = 3 * time.Second

// stallReach is how long a send stall of a phone can still show in what confd sends: its
// jitter buffer's largest delay and a tick.
const stallReach = 220 * time.Millisecond

// minCoverage is how much of a window must have arrived for it to count as healthy.
const minCoverage = 0.95

// healthy reports whether every phone's audio from from to from+window arrived whole. Phones on
// Opus are left out when silent is set: confd sends a silent mix to them as DTX, a packet every
// 400 ms, so holes there are no sign of a starved process.
//
// A window is not healthy either when a phone's own sender (in this test process) fell behind
// its schedule in it, or up to stallReach before it: confd then mixed holes that no rule made
// (the jitter buffer conceals them or re-anchors the stream), so the window witnesses the test
// machine, not confd. The phones share one process, so one phone's stall is every phone's.
func healthy(phones []*gophone.Phone, from time.Time, silent bool) bool {
	for _, p := range phones {
		if p.SendStalled(from.Add(-stallReach), from.Add(window)) {
			return false
		}
		if silent && p.Config().Codec == codec.Opus {
			continue
		}
		if p.Coverage(from, from.Add(window)) < minCoverage {
			return false
		}
	}
	return true
}

// waitAfter waits for the after window: the first second, from settle after the call on, in
// which the audio of every phone not on Opus arrived whole, sliding by gophone.LevelChunk for up to
// maxSlide. On the shared test machine a process is sometimes starved for a moment; a rule must
// hold in every window, so the first whole one is as good a witness as any.
func (m *moment) waitAfter(t *testing.T, phones ...*gophone.Phone) {
	t.Helper()
	for start := m.at.Add(settle); ; start = start.Add(gophone.LevelChunk) {
		time.Sleep(time.Until(start.Add(window)))
		if ok := healthy(phones, start, true); ok || start.Sub(m.at) >= settle+maxSlide {
			if !ok || start.Sub(m.at) > settle {
				t.Logf("after window starts %v after the call (whole: %v)", start.Sub(m.at).Round(time.Millisecond), ok)
			}
			m.after = start
			return
		}
	}
}

// waitSteady waits (up to 10 s) until the last window of every phone arrived whole and
// hears(from) holds for it, so that the window before an API call is a fair witness; it fails
// the test when that never happens.
func waitSteady(t *testing.T, phones []*gophone.Phone, hears func(from time.Time) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		from := time.Now().Add(-window)
		if healthy(phones, from, false) && (hears == nil || hears(from)) {
			return
		}
		if time.Now().After(deadline) {
			for _, p := range phones {
				t.Logf("%s: %.0f%% of the last second arrived", p, 100*p.Coverage(from, from.Add(window)))
			}
			t.Fatal("the room never settled: the phones' audio came with holes or without the tones expected")
		}
		time.Sleep(gophone.LevelChunk)
	}
}

// hearing is what each phone must hear clearly (≥ heardAt) for a room to be settled.
type hearing map[*gophone.Phone][]float64

// in reports whether every phone heard each of its tones clearly from from to from+window.
func (h hearing) in(from time.Time) bool {
	for p, tones := range h {
		for _, hz := range tones {
			if p.HeardLevel(from, from.Add(window), hz) < heardAt {
				return false
			}
		}
	}
	return true
}

// before returns the level of hz in what p heard in the second before m.
func (m *moment) before(p *gophone.Phone, hz float64) float64 {
	return p.HeardLevel(m.beforeEnd.Add(-window), m.beforeEnd, hz)
}

// afterLevel returns the level of hz in what p heard in the after window.
func (m *moment) afterLevel(p *gophone.Phone, hz float64) float64 {
	return p.HeardLevel(m.after, m.after.Add(window), hz)
}

// coverage says how much of each window arrived, for the logs.
func (m *moment) coverage(p *gophone.Phone) string {
	return fmt.Sprintf("arrived %.0f%% / %.0f%%, sender stalled %v / %v", 100*p.Coverage(m.beforeEnd.Add(-window), m.beforeEnd), 100*p.Coverage(m.after, m.after.Add(window)),
		p.SendStalled(m.beforeEnd.Add(-window), m.beforeEnd), p.SendStalled(m.after, m.after.Add(window)))
}

// expectGone checks that p heard the tone hz clearly before m and at least downBy dB lower
// from settle after m.
func expectGone(t *testing.T, p *gophone.Phone, m *moment, hz float64, why string) {
	t.Helper()
	b, a := m.before(p, hz), m.afterLevel(p, hz)
	t.Logf("%s hears %.0f Hz at %.1f dBFS before, %.1f after (%s; %s)", p, hz, b, a, why, m.coverage(p))
	if b < heardAt {
		t.Errorf("%s: %.0f Hz at %.1f dBFS before %s, want it clearly heard (≥ %.0f)", p, hz, b, why, heardAt)
	}
	if a > b-downBy {
		t.Errorf("%s: %.0f Hz at %.1f dBFS after %s, only %.1f dB down, want ≥ %.0f", p, hz, a, why, b-a, downBy)
	}
}

// expectKept checks that p heard the tone hz clearly before m and within tolerance dB of that
// level from settle after m.
func expectKept(t *testing.T, p *gophone.Phone, m *moment, hz, tolerance float64, why string) {
	t.Helper()
	b, a := m.before(p, hz), m.afterLevel(p, hz)
	t.Logf("%s hears %.0f Hz at %.1f dBFS before, %.1f after (%s; %s)", p, hz, b, a, why, m.coverage(p))
	if b < heardAt || a < heardAt || a-b > tolerance || b-a > tolerance {
		t.Errorf("%s: %.0f Hz at %.1f dBFS before %s and %.1f after, want both ≥ %.0f and within %.1f dB", p, hz, b, why, a, heardAt, tolerance)
	}
}

// expectUnder checks that in what p heard from from to from+window, the tone hz is at least
// downBy dB under the level ref, a tone that p heard clearly in the same or an earlier window.
func expectUnder(t *testing.T, p *gophone.Phone, from time.Time, hz, ref float64, why string) {
	t.Helper()
	got := p.HeardLevel(from, from.Add(window), hz)
	t.Logf("%s hears %.0f Hz at %.1f dBFS, against a reference of %.1f (%s; arrived %.0f%%)", p, hz, got, ref, why, 100*p.Coverage(from, from.Add(window)))
	if ref < heardAt || got > ref-downBy {
		t.Errorf("%s: %.0f Hz at %.1f dBFS against a reference of %.1f dBFS, want a clear reference (≥ %.0f) and the tone ≥ %.0f dB under it (%s)",
			p, hz, got, ref, heardAt, downBy, why)
	}
}
