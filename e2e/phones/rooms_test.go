package phones

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"confd/bridge"
	"confd/codec"
	"confd/testkit/audiotest"
	"confd/testkit/baresip"
	"confd/testkit/gophone"
)

// baresipCall dials a baresip phone named name (its user name in lower case), sending a tone
// at hz over PCMU at the Go phones' level, into room and waits until the call is established.
func (d *confd) baresipCall(room, name string, hz float64) *baresip.Phone {
	d.t.Helper()
	return baresip.Call(d.t, baresip.Config{User: strings.ToLower(name), DisplayName: name, Codec: baresip.PCMU, ToneHz: hz, ToneAmplitude: 0.15}, d.sipURI(room))
}

// talkersWithBaresip is talkers with one more talker, a baresip phone named name sending hz
// (baresipCall), called after the Go phones: every Go phone must hear it too, and instead of a
// window of time it waits until baresip has recorded enough of the call for a window cut from
// before now (waitRecordedBefore). It returns the Go phones, the baresip phone and the ids in
// the order of parties, the baresip phone's last.
func (d *confd) talkersWithBaresip(room, name string, hz float64, parties ...party) ([]*gophone.Phone, *baresip.Phone, []string) {
	d.t.Helper()
	phones, names := d.callParties(room, parties)
	bp := d.baresipCall(room, name, hz)
	ids := d.waitTalking(room, append(names, name)...)
	waitRecordedBefore(d.t, bp)
	everyone := eachHearsTheOthers(phones, parties)
	for _, p := range phones {
		everyone[p] = append(everyone[p], hz)
	}
	waitSteady(d.t, phones, everyone.in)
	return phones, bp, ids
}

// waitRecordedBefore waits until baresip phone p has recorded 2 s of the call, so that the
// window that recordingCutter cuts from the second before now (up to 1.2 s back, and 250 ms
// clear of the recording's start) lies in its recording. The recording starts up to a second
// after the call is established, later on a loaded machine; from then on it grows with the
// wall clock, as the cutter takes it to.
func waitRecordedBefore(t *testing.T, p *baresip.Phone) {
	t.Helper()
	if err := p.WaitRecorded(2*window, callTimeout); err != nil {
		t.Fatal(err)
	}
}

// recordingCutter hangs a baresip phone up and returns a function that cuts its recording by
// wall-clock time. baresip's recording has no clock, but confd sends a G.711 leg a packet every
// 20 ms and loopback loses none, so its end is the hang-up: windows are cut back from there.
func recordingCutter(t *testing.T, p *baresip.Phone) (cut func(from, to time.Time) []int16, rate int) {
	t.Helper()
	hungUp := time.Now()
	if err := p.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.WaitClosed(callTimeout); err != nil {
		t.Fatal(err)
	}
	pcm, rate, err := p.Recorded()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s recorded %.2f s", p, float64(len(pcm))/float64(rate))
	return func(from, to time.Time) []int16 {
		at := func(x time.Time) int { return len(pcm) - int(hungUp.Sub(x)*time.Duration(rate)/time.Second) }
		lo, hi := at(from), at(to)
		if lo < rate/4 || hi > len(pcm) || hi-lo < rate/2 {
			t.Fatalf("%s recorded %.2f s, too short for a window from %v to %v before the hang-up",
				p, float64(len(pcm))/float64(rate), hungUp.Sub(from), hungUp.Sub(to))
		}
		return pcm[lo:hi]
	}, rate
}

// TestMoveBaresipBetweenRooms: Cy, a baresip phone in "main" with Ada, is moved by the API to
// "breakout", where Bob is, without its call being touched. Before the move Ada hears Cy and
// Bob does not; a second after it Bob hears Cy and Ada no longer does; and Cy, who heard Ada,
// now hears Bob and not Ada. The answer and the rooms' states show Cy with the same id in
// breakout.
func TestMoveBaresipBetweenRooms(t *testing.T) {
	t.Parallel()
	baresip.Require(t)
	d := startConfd(t, "")
	ada := d.call("main", "Ada", toneAda, codec.PCMU)
	bob := d.call("breakout", "Bob", toneBob, codec.PCMU)
	cy := d.baresipCall("main", "cy", toneCy)
	ids := d.waitTalking("main", "Ada", "cy")
	d.waitTalking("breakout", "Bob")
	waitRecordedBefore(t, cy)
	waitSteady(t, []*gophone.Phone{ada, bob}, hearing{ada: {toneCy}}.in)

	m := now()
	var st bridge.ParticipantState
	if err := json.Unmarshal(d.must(http.StatusOK, "POST", "/api/rooms/main/participants/"+ids[1]+"/move", map[string]any{"room": "breakout"}), &st); err != nil {
		t.Fatal(err)
	}
	if st.ID != ids[1] || st.Name != "cy" || st.Codec != "PCMU" {
		t.Errorf("the move answers %+v, want cy with id %s on PCMU", st, ids[1])
	}
	m.waitAfter(t, ada, bob)
	if _, ok := participant(d.state("breakout"), ids[1]); !ok {
		t.Errorf("breakout does not list cy's id after the move: %+v", d.state("breakout").Participants)
	}
	if _, ok := participant(d.state("main"), ids[1]); ok {
		t.Errorf("main still lists cy after the move")
	}
	cut, rate := recordingCutter(t, cy)

	expectGone(t, ada, m, toneCy, "Cy moved away")
	before, okb := m.beforeLevel(t, bob, toneCy, "Cy moved in", false)
	after, oka := m.afterLevel(t, bob, toneCy, "Cy moved in", true)
	t.Logf("%s hears Cy at %.1f dBFS before the move, %.1f after (%s)", bob, before, after, m.coverage(bob))
	if okb && oka && (before > heardAt-downBy || after < heardAt) {
		t.Errorf("%s: Cy at %.1f dBFS before the move and %.1f after, want unheard, then heard (≥ %.0f)", bob, before, after, heardAt)
	}

	heardBefore := cut(m.at.Add(-900*time.Millisecond), m.at.Add(-200*time.Millisecond))
	heardAfter := cut(m.after, m.after.Add(window))
	adaBefore, bobBefore := audiotest.ToneLevel(heardBefore, rate, toneAda), audiotest.ToneLevel(heardBefore, rate, toneBob)
	adaAfter, bobAfter := audiotest.ToneLevel(heardAfter, rate, toneAda), audiotest.ToneLevel(heardAfter, rate, toneBob)
	t.Logf("cy hears Ada at %.1f dBFS and Bob at %.1f before the move; Ada at %.1f and Bob at %.1f after", adaBefore, bobBefore, adaAfter, bobAfter)
	if adaBefore < heardAt || bobBefore > adaBefore-downBy || bobAfter < heardAt || adaAfter > bobAfter-downBy {
		t.Errorf("cy: want Ada and not Bob before the move, Bob and not Ada after (%.0f dB apart)", downBy)
	}
}

// TestHoldMusicForALonePhone: a baresip phone alone in a room with hold music hears the
// music's tone; once Ada joins, it hears Ada and the music no more, and Ada never hears it.
func TestHoldMusicForALonePhone(t *testing.T) {
	t.Parallel()
	baresip.Require(t)
	music := toneDee // 1300 cycles in the one-second file: the loop keeps its phase
	d := startConfd(t, fmt.Sprintf("[[room]]\nname = \"lobby\"\nhold_music = %q\n", audiotest.ToneWAV(t, 48000, 1, music, 0.15, 1)))
	cy := d.baresipCall("lobby", "cy", toneCy)
	d.waitTalking("lobby", "cy")
	waitRecordedBefore(t, cy) // a second of music inside baresip's recording
	dialled := time.Now()
	ada := d.call("lobby", "Ada", toneAda, codec.PCMU)
	m := &moment{at: dialled, beforeEnd: dialled}
	m.waitAfter(t, ada)
	cut, rate := recordingCutter(t, cy)

	alone := cut(dialled.Add(-1200*time.Millisecond), dialled.Add(-200*time.Millisecond))
	together := cut(m.after, m.after.Add(window))
	musicAlone, musicTogether := audiotest.ToneLevel(alone, rate, music), audiotest.ToneLevel(together, rate, music)
	adaTogether := audiotest.ToneLevel(together, rate, toneAda)
	t.Logf("cy hears the music at %.1f dBFS alone and %.1f with Ada, who is at %.1f", musicAlone, musicTogether, adaTogether)
	if musicAlone < heardAt || musicTogether > musicAlone-downBy || adaTogether < heardAt {
		t.Errorf("cy: want the music alone (≥ %.0f), then Ada and the music ≥ %.0f dB down", heardAt, downBy)
	}
	if l, ok := m.afterLevel(t, ada, music, "cy arrived", false); ok && l > heardAt-downBy {
		t.Errorf("%s hears the hold music at %.1f dBFS with cy in the room (%s)", ada, l, m.coverage(ada))
	}
}

// TestMoveWHIPBetweenRooms: the move of a WebRTC participant (a WHIP client, pion standing in
// for a browser, on Opus) between two rooms, judged as TestMoveBaresipBetweenRooms judges a SIP
// phone's: Ada stops hearing it and Bob starts, and it hears Bob instead of Ada, over the same
// peer connection.
func TestMoveWHIPBetweenRooms(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "")
	ada := d.call("wmain", "Ada", toneAda, codec.PCMU)
	bob := d.call("wbreak", "Bob", toneBob, codec.PCMU)
	wen := joinWHIP(t, d.base, "wmain", "wen", toneEve)
	ids := d.waitTalking("wmain", "Ada", "wen")
	d.waitTalking("wbreak", "Bob")
	waitSteady(t, []*gophone.Phone{ada, bob}, func(from time.Time) bool {
		return hearing{ada: {toneEve}}.in(from) && wen.heard.Level(from, from.Add(window), toneAda) >= heardAt
	})

	m := now()
	d.must(http.StatusOK, "POST", "/api/rooms/wmain/participants/"+ids[1]+"/move", map[string]any{"room": "wbreak"})
	m.waitAfter(t, ada, bob)
	expectGone(t, ada, m, toneEve, "wen moved away")
	b, okb := m.beforeLevel(t, bob, toneEve, "wen moved in", false)
	a, oka := m.afterLevel(t, bob, toneEve, "wen moved in", true)
	if okb && oka && (b > heardAt-downBy || a < heardAt) {
		t.Errorf("%s: wen at %.1f dBFS before the move and %.1f after, want unheard, then heard", bob, b, a)
	}
	adaBefore, adaAfter := wen.heard.Level(m.at.Add(-window), m.at, toneAda), wen.heard.Level(m.after, m.after.Add(window), toneAda)
	bobAfter := wen.heard.Level(m.after, m.after.Add(window), toneBob)
	t.Logf("wen hears Ada at %.1f dBFS before the move; Ada at %.1f and Bob at %.1f after", adaBefore, adaAfter, bobAfter)
	if adaBefore < heardAt || bobAfter < heardAt || adaAfter > bobAfter-downBy {
		t.Errorf("wen: want Ada before the move, Bob and not Ada after")
	}
}

// TestWaitForModeratorThenTalk: in a room that waits for its moderator, Ada and Bob hear the
// hold music and not each other; a second after Ada is made a moderator (PATCH) they hear each
// other and the music is gone.
func TestWaitForModeratorThenTalk(t *testing.T) {
	t.Parallel()
	music := toneDee
	d := startConfd(t, fmt.Sprintf("[[room]]\nname = \"webinar\"\nwait_for_moderator = true\nhold_music = %q\n", audiotest.ToneWAV(t, 48000, 1, music, 0.15, 1)))
	ada := d.call("webinar", "Ada", toneAda, codec.PCMU)
	bob := d.call("webinar", "Bob", toneBob, codec.PCMU)
	waitSteady(t, []*gophone.Phone{ada, bob}, hearing{ada: {music}, bob: {music}}.in)
	st := d.state("webinar")
	var adaID string
	for _, p := range st.Participants {
		if !p.Waiting || p.Moderator {
			t.Errorf("before a moderator: %+v, want waiting", p)
		}
		if p.Name == "Ada" {
			adaID = p.ID
		}
	}
	for _, c := range []struct {
		p  *gophone.Phone
		hz float64
	}{{ada, toneBob}, {bob, toneAda}} {
		if l := c.p.HeardLevel(time.Now().Add(-window), time.Now(), c.hz); l > heardAt-downBy {
			t.Errorf("%s hears %.0f Hz at %.1f dBFS while waiting", c.p, c.hz, l)
		}
	}

	m := now()
	if st := d.patch("webinar", adaID, map[string]any{"moderator": true}); !st.Moderator || st.Waiting {
		t.Errorf("PATCH moderator: %+v", st)
	}
	m.waitAfter(t, ada, bob)
	expectGone(t, ada, m, music, "Ada became the moderator")
	expectGone(t, bob, m, music, "Ada became the moderator")
	expectHeard(t, ada, m, toneBob, "Ada became the moderator")
	expectHeard(t, bob, m, toneAda, "Ada became the moderator")
}

// TestRoomEndsWithItsModerator: in a room that ends with its moderator, Bob hears "The
// conference has ended" when Ada, the moderator, hangs up, and confd then hangs him up (BYE),
// not before the prompt has played.
func TestRoomEndsWithItsModerator(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "[[room]]\nname = \"board\"\nend_with_moderator = true\n")
	ada := d.call("board", "Ada", toneAda, codec.PCMU)
	bob := d.call("board", "Bob", toneBob, codec.PCMU)
	ids := d.waitTalking("board", "Ada", "Bob")
	d.patch("board", ids[0], map[string]any{"moderator": true})
	bob.SetTone(false) // what Bob hears from now on is the prompt alone
	if err := ada.Close(); err != nil {
		t.Fatal(err)
	}
	left := time.Now()
	select {
	case <-bob.Ended():
	case <-time.After(10 * time.Second):
		t.Fatal("Bob was not hung up after the moderator left")
	}
	took := time.Since(left)
	prompt := 2 * time.Second // "The conference has ended. Goodbye." lasts 2.6 s
	rms := audiotest.RMS(bob.Heard(left.Add(300*time.Millisecond), left.Add(prompt)))
	t.Logf("Bob hung up %v after the moderator left (%s); he heard %.1f dBFS RMS meanwhile", took.Round(time.Millisecond), bob.EndReason(), rms)
	if bob.EndReason() != "bye from confd" || took < prompt || rms < -40 {
		t.Errorf("want the prompt heard (> -40 dBFS RMS), then a BYE from confd after it")
	}
}
