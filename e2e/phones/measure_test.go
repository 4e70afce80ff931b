package phones

import (
	"fmt"
	"testing"
	"time"
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
	// settle is how long a rule is given to reach the ears: SPEC's "one second later".
	settle = time.Second
	// heardAt is the level above which a tone counts as clearly heard; each is sent at
	// -16.5 dBFS.
	heardAt = -30.0
	// downBy is how far a tone a rule removes must fall.
	downBy = 20.0
	// steadyWithin is how far a tone no rule touches may move between two windows, in dB.
	steadyWithin = 1.0
)

// moment is one API call's time, with the windows judged around it: the second before it and
// the second that starts settle after it.
type moment time.Time

// now marks the instant of an API call about to be made.
func now() moment { return moment(time.Now()) }

// waitAfter sleeps until the after window of m is complete.
func (m moment) waitAfter() { time.Sleep(time.Until(time.Time(m).Add(settle + window))) }

// before returns the level of hz in what p heard in the second before m.
func (m moment) before(p *Phone, hz float64) float64 {
	return p.HeardLevel(time.Time(m).Add(-window), time.Time(m), hz)
}

// after returns the level of hz in what p heard in the second from settle after m.
func (m moment) after(p *Phone, hz float64) float64 {
	start := time.Time(m).Add(settle)
	return p.HeardLevel(start, start.Add(window), hz)
}

// coverage says how much of each window arrived, for the logs.
func (m moment) coverage(p *Phone) string {
	at := time.Time(m)
	return fmt.Sprintf("arrived %.0f%% / %.0f%%", 100*p.Coverage(at.Add(-window), at), 100*p.Coverage(at.Add(settle), at.Add(settle+window)))
}

// expectGone checks that p heard the tone hz clearly before m and at least downBy dB lower
// from settle after m.
func expectGone(t *testing.T, p *Phone, m moment, hz float64, why string) {
	t.Helper()
	b, a := m.before(p, hz), m.after(p, hz)
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
func expectKept(t *testing.T, p *Phone, m moment, hz, tolerance float64, why string) {
	t.Helper()
	b, a := m.before(p, hz), m.after(p, hz)
	t.Logf("%s hears %.0f Hz at %.1f dBFS before, %.1f after (%s; %s)", p, hz, b, a, why, m.coverage(p))
	if b < heardAt || a < heardAt || a-b > tolerance || b-a > tolerance {
		t.Errorf("%s: %.0f Hz at %.1f dBFS before %s and %.1f after, want both ≥ %.0f and within %.1f dB", p, hz, b, why, a, heardAt, tolerance)
	}
}

// expectUnder checks that in what p heard from from to from+window, the tone hz is at least
// downBy dB under the level ref, a tone that p heard clearly in the same or an earlier window.
func expectUnder(t *testing.T, p *Phone, from time.Time, hz, ref float64, why string) {
	t.Helper()
	got := p.HeardLevel(from, from.Add(window), hz)
	t.Logf("%s hears %.0f Hz at %.1f dBFS, against a reference of %.1f (%s; arrived %.0f%%)", p, hz, got, ref, why, 100*p.Coverage(from, from.Add(window)))
	if ref < heardAt || got > ref-downBy {
		t.Errorf("%s: %.0f Hz at %.1f dBFS against a reference of %.1f dBFS, want a clear reference (≥ %.0f) and the tone ≥ %.0f dB under it (%s)",
			p, hz, got, ref, heardAt, downBy, why)
	}
}
