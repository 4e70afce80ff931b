package phones

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/gophone"
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

// A send stall of this process's phones echoes in what confd sends for long after it ended:
// the burst of late packets raises the delay of confd's jitter buffer, which holds the higher
// delay for jitterPeakHold and then shrinks it by dropping a voiced frame at most every
// jitterVoicedDropInterval (jitter/doc.go), up to jitterMaxDelay of excess. Each dropped frame
// splices a tone: 20 ms turn 440 Hz by 72°, and a LevelChunk piece that holds one or two such
// splices reads 1-2 dB low in a coherent Goertzel sum although no frame was played softer
// (TestStarSixTogglesSelfMute read Ada at -18.2 for -16.5 in three pieces running, two drops
// each, and nothing in the window itself had stalled). These mirror jitter's defaults.
const (
	jitterPeakHold           = time.Second
	jitterVoicedDropInterval = 100 * time.Millisecond
	jitterMaxDelay           = 200 * time.Millisecond
)

// stallReach is how long after a send stall its holes and concealment can still show in what
// confd sends (a late onset too): its jitter buffer's largest delay and a tick. The drops that
// shrink the delay afterwards last far longer (stallEcho), which level verdicts must respect.
const stallReach = jitterMaxDelay + 20*time.Millisecond

// stallEcho returns until when a send stall s can still show in what confd sends: its holes and
// concealment at once, then the drops that shrink the delay it added.
func stallEcho(s gophone.Span) time.Time {
	excess := min(s.To.Sub(s.From)+sendLateness, jitterMaxDelay)
	drops := time.Duration(excess/codec.FrameDuration) + 1
	return s.To.Add(max(stallReach, jitterPeakHold+drops*jitterVoicedDropInterval))
}

// sendLateness is how late a sender is when a stall is first recorded (gophone's threshold):
// the excess delay a stall adds is its recorded span and that much.
const sendLateness = 60 * time.Millisecond

// minCoverage is how much of a window must have arrived for it to count as healthy.
const minCoverage = 0.95

// minFair is how many of a window's LevelChunk pieces (five) must be fair witnesses for a
// verdict on it: a majority, so that their median is a level the window held most of the time.
const minFair = 3

// sendStalled reports whether a send stall of a phone of this process echoes in what confd sent
// from from to to (see stallEcho): what confd mixed then has holes, concealment or dropped frames
// that no rule made, so the span witnesses the test machine, not confd. The phones share one
// process, so one phone's stall is every phone's.
func sendStalled(from, to time.Time) bool {
	for _, s := range gophone.SendStalls() {
		if s.From.Before(to) && stallEcho(s).After(from) {
			return true
		}
	}
	return false
}

// healthy reports whether every phone's audio from from to from+window arrived whole and no
// phone of this process stalled in sending it (see sendStalled). Phones on Opus are left out of
// the arrival check when silent is set: confd sends a silent mix to them as DTX, a packet every
// 400 ms, so holes there are no sign of a starved process.
func healthy(phones []*gophone.Phone, from time.Time, silent bool) bool {
	if sendStalled(from, from.Add(window)) {
		return false
	}
	for _, p := range phones {
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
	waitSteadyFrom(t, phones, time.Time{}, hears)
}

// waitSteadyFrom is waitSteady for windows that start at after or later (a room that settles
// once a prompt is over): the 10 s it waits count from after, so that a test whose room is busy
// for a while first has the same number of windows to find a whole one as any other. On the
// shared test machine a stall of this process (a send stall, which echoes for about two seconds
// in what confd sends) or of confd spoils every window it touches; the failure lists them.
func waitSteadyFrom(t *testing.T, phones []*gophone.Phone, after time.Time, hears func(from time.Time) bool) {
	t.Helper()
	start := time.Now()
	if after.After(start.Add(-window)) {
		time.Sleep(time.Until(after.Add(window)))
	}
	deadline := time.Now().Add(10 * time.Second)
	whole, heard := 0, 0 // the windows that arrived whole, and those that held the tones
	for {
		from := time.Now().Add(-window)
		ok, tones := healthy(phones, from, false), hears == nil || hears(from)
		if ok && tones {
			return
		}
		if ok {
			whole++
		}
		if tones {
			heard++
		}
		if time.Now().After(deadline) {
			for _, p := range phones {
				t.Logf("%s: %.0f%% of the last second arrived", p, 100*p.Coverage(from, from.Add(window)))
			}
			for _, s := range gophone.SendStalls() {
				if s.To.After(start) {
					t.Logf("this process stalled in sending from +%v to +%v (echoes until +%v)",
						s.From.Sub(start).Round(time.Millisecond), s.To.Sub(start).Round(time.Millisecond), stallEcho(s).Sub(start).Round(time.Millisecond))
				}
			}
			t.Fatalf("the room never settled: of the windows looked at in 10 s, %d arrived whole and %d held the tones expected, none both", whole, heard)
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

// reading is the level of a tone in one window, judged on its fair pieces only: the LevelChunk
// pieces that no send stall of this process touched (onTime) and that arrived whole (heard).
type reading struct {
	// level is the median level over the heard pieces; gophone.Silent when none was.
	level float64
	// onTime counts the pieces that no send stall touched, heard those of them that arrived
	// whole (gophone.MinChunkCoverage).
	onTime, heard int
}

// read returns the reading of hz in what p heard from from to from+window.
func read(p *gophone.Phone, from time.Time, hz float64) reading {
	r := reading{level: gophone.Silent}
	var levels []float64
	for at := from; !at.Add(gophone.LevelChunk).After(from.Add(window)); at = at.Add(gophone.LevelChunk) {
		end := at.Add(gophone.LevelChunk)
		if sendStalled(at, end) {
			continue
		}
		r.onTime++
		if p.Coverage(at, end) >= gophone.MinChunkCoverage {
			levels = append(levels, p.HeardLevel(at, end, hz))
		}
	}
	if r.heard = len(levels); r.heard > 0 {
		slices.Sort(levels)
		r.level = levels[len(levels)/2]
	}
	return r
}

// pieces describes every LevelChunk piece of what p heard from from to from+window, for the log
// of a failed verdict: how much of it arrived, its level of hz, and "stalled" where a send stall
// of this process touched it.
func pieces(p *gophone.Phone, from time.Time, hz float64) string {
	var b strings.Builder
	for at := from; !at.Add(gophone.LevelChunk).After(from.Add(window)); at = at.Add(gophone.LevelChunk) {
		end := at.Add(gophone.LevelChunk)
		fmt.Fprintf(&b, " [%.0f%% %.1f", 100*p.Coverage(at, end), p.HeardLevel(at, end, hz))
		if sendStalled(at, end) {
			b.WriteString(" stalled")
		}
		b.WriteString("]")
	}
	return b.String()
}

// String describes the reading for the logs.
func (r reading) String() string {
	return fmt.Sprintf("%.1f dBFS over %d pieces heard of %d sent on time", r.level, r.heard, r.onTime)
}

// unjudged is why a reading is no witness for a verdict, or "" when it is one. A tone that must
// be heard (audible) needs minFair pieces heard whole; a tone that must be gone needs minFair
// pieces sent on time, heard or not (confd sends silence to Opus phones as DTX). When too few
// pieces were sent on time the test's own sender stalled, and the verdict is left out rather
// than failed: within maxSlide the harness found no window it had fed fairly, which says nothing
// of confd. When enough were sent on time but too few arrived, confd left the holes, and that
// is judged as a fault (notHeard).
func (r reading) unjudged() string {
	if r.onTime < minFair {
		return fmt.Sprintf("not judged: the test's own phones stalled in sending (only %d of %d pieces sent on time, want %d)",
			r.onTime, int(window/gophone.LevelChunk), minFair)
	}
	return ""
}

// notHeard reports whether a reading that was sent on time still lacks minFair pieces heard
// whole: the holes are confd's.
func (r reading) notHeard() bool { return r.heard < minFair }

// before returns the reading of hz in what p heard in the second before m.
func (m *moment) beforeReading(p *gophone.Phone, hz float64) reading {
	return read(p, m.beforeEnd.Add(-window), hz)
}

// afterReading returns the reading of hz in what p heard in the after window.
func (m *moment) afterReading(p *gophone.Phone, hz float64) reading {
	return read(p, m.after, hz)
}

// before returns the level of hz in what p heard in the second before m, over its fair pieces.
func (m *moment) before(p *gophone.Phone, hz float64) float64 {
	return m.beforeReading(p, hz).level
}

// beforeLevel and afterLevel return the level of hz in what p heard in the window before m or
// after it, over its fair pieces, and whether the reading is a witness: one that the test's own
// send stalls spoiled is logged and not judged (ok false), and one with holes that confd left
// fails the test when audible (the tone must be heard in that window). Readings used without
// these checks read a window nothing was judged in as silence.
func (m *moment) beforeLevel(t *testing.T, p *gophone.Phone, hz float64, why string, audible bool) (float64, bool) {
	t.Helper()
	r := m.beforeReading(p, hz)
	return r.level, judgeable(t, p, hz, why+", before", []reading{r}, []bool{audible})
}

func (m *moment) afterLevel(t *testing.T, p *gophone.Phone, hz float64, why string, audible bool) (float64, bool) {
	t.Helper()
	r := m.afterReading(p, hz)
	return r.level, judgeable(t, p, hz, why+", after", []reading{r}, []bool{audible})
}

// coverage says how much of each window arrived, for the logs.
func (m *moment) coverage(p *gophone.Phone) string {
	return fmt.Sprintf("arrived %.0f%% / %.0f%%, sender stalled %v / %v", 100*p.Coverage(m.beforeEnd.Add(-window), m.beforeEnd), 100*p.Coverage(m.after, m.after.Add(window)),
		sendStalled(m.beforeEnd.Add(-window), m.beforeEnd), sendStalled(m.after, m.after.Add(window)))
}

// judgeable reports whether the readings are witnesses for a verdict, logging why not when
// they are not. audible tells, for each, whether the tone must be heard in it.
func judgeable(t *testing.T, p *gophone.Phone, hz float64, why string, readings []reading, audible []bool) bool {
	t.Helper()
	for i, r := range readings {
		if reason := r.unjudged(); reason != "" {
			t.Logf("%s: %.0f Hz (%s): %s", p, hz, why, reason)
			return false
		}
		if audible[i] && r.notHeard() {
			t.Errorf("%s: %.0f Hz (%s): only %d of %d pieces sent on time arrived whole, want %d: confd left holes", p, hz, why, r.heard, r.onTime, minFair)
			return false
		}
	}
	return true
}

// judged reads the tone hz in what p heard before m and after it, logs both, and returns their
// levels if they are witnesses for a verdict (judgeable): the tone must be heard before, and
// after too when audibleAfter.
func (m *moment) judged(t *testing.T, p *gophone.Phone, hz float64, why string, audibleAfter bool) (before, after float64, ok bool) {
	t.Helper()
	rb, ra := m.beforeReading(p, hz), m.afterReading(p, hz)
	t.Logf("%s hears %.0f Hz at %v before, %v after (%s; %s)", p, hz, rb, ra, why, m.coverage(p))
	if !judgeable(t, p, hz, why, []reading{rb, ra}, []bool{true, audibleAfter}) {
		return 0, 0, false
	}
	return rb.level, ra.level, true
}

// expectGone checks that p heard the tone hz clearly before m and at least downBy dB lower
// from settle after m, judging fair pieces only (see reading).
func expectGone(t *testing.T, p *gophone.Phone, m *moment, hz float64, why string) {
	t.Helper()
	b, a, ok := m.judged(t, p, hz, why, false)
	if !ok {
		return
	}
	if b < heardAt {
		t.Errorf("%s: %.0f Hz at %.1f dBFS before %s, want it clearly heard (≥ %.0f)", p, hz, b, why, heardAt)
	}
	if a > b-downBy {
		t.Errorf("%s: %.0f Hz at %.1f dBFS after %s, only %.1f dB down, want ≥ %.0f; pieces after:%s", p, hz, a, why, b-a, downBy, pieces(p, m.after, hz))
	}
}

// expectHeard checks that p hears the tone hz clearly (≥ heardAt) from settle after m, judging
// fair pieces only (see reading), whatever it heard before.
func expectHeard(t *testing.T, p *gophone.Phone, m *moment, hz float64, why string) {
	t.Helper()
	if l, ok := m.afterLevel(t, p, hz, why, true); ok && l < heardAt {
		t.Errorf("%s hears %.0f Hz at %.1f dBFS after %s, want ≥ %.0f; pieces after:%s", p, hz, l, why, heardAt, pieces(p, m.after, hz))
	}
}

// expectKept checks that p heard the tone hz clearly before m and within tolerance dB of that
// level from settle after m, judging fair pieces only (see reading).
func expectKept(t *testing.T, p *gophone.Phone, m *moment, hz, tolerance float64, why string) {
	t.Helper()
	b, a, ok := m.judged(t, p, hz, why, true)
	if !ok {
		return
	}
	if b < heardAt || a < heardAt || a-b > tolerance || b-a > tolerance {
		t.Errorf("%s: %.0f Hz at %.1f dBFS before %s and %.1f after, want both ≥ %.0f and within %.1f dB; pieces before:%s, after:%s",
			p, hz, b, why, a, heardAt, tolerance, pieces(p, m.beforeEnd.Add(-window), hz), pieces(p, m.after, hz))
	}
}

// expectUnder checks that in what p heard from from to from+window, the tone hz is at least
// downBy dB under the level ref, a tone that p heard clearly in the same or an earlier window;
// it judges fair pieces only (see reading).
func expectUnder(t *testing.T, p *gophone.Phone, from time.Time, hz, ref float64, why string) {
	t.Helper()
	r := read(p, from, hz)
	t.Logf("%s hears %.0f Hz at %v, against a reference of %.1f (%s; arrived %.0f%%)", p, hz, r, ref, why, 100*p.Coverage(from, from.Add(window)))
	if !judgeable(t, p, hz, why, []reading{r}, []bool{false}) {
		return
	}
	if got := r.level; ref < heardAt || got > ref-downBy {
		t.Errorf("%s: %.0f Hz at %.1f dBFS against a reference of %.1f dBFS, want a clear reference (≥ %.0f) and the tone ≥ %.0f dB under it (%s)",
			p, hz, got, ref, heardAt, downBy, why)
	}
}
