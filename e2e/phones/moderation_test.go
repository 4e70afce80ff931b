package phones

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"testing"

	"confd/bridge"
	"confd/codec"
	"confd/testkit/audiotest"
	"confd/testkit/baresip"
	"confd/testkit/gophone"
)

// callTimeout bounds a baresip call's set-up or tear-down on loopback.
const callTimeout = 10 * time.Second

// patch sends PATCH /api/rooms/ROOM/participants/ID with change and returns the new state.
func (d *confd) patch(room, id string, change map[string]any) bridge.ParticipantState {
	d.t.Helper()
	var st bridge.ParticipantState
	if err := json.Unmarshal(d.must(http.StatusOK, "PATCH", "/api/rooms/"+room+"/participants/"+id, change), &st); err != nil {
		d.t.Fatal(err)
	}
	return st
}

// TestMuteIsHeardByNoOne: one second after PATCH {"muted":true}, Ada's tone is 20 dB down in
// what Bob (a Phone on Opus) and Cy (baresip on PCMU) hear, while Cy's tone still reaches Bob
// as before (docs/SPEC.md "What each participant hears": muted is heard by no one); unmuted, she is
// heard again.
func TestMuteIsHeardByNoOne(t *testing.T) {
	t.Parallel()
	baresip.Require(t)
	d := startConfd(t, "")
	// baresip's recording must reach back before the mute (talkersWithBaresip waits for it):
	// its windows are cut back from the hang-up, which comes as late as settle+maxSlide+window
	// after the mute when the after window has to slide (a full run that slept a fixed 2.5 s
	// here saw a 5.64 s recording of a 6.61 s call, 0.26 s short of the window before the mute).
	phones, cy, ids := d.talkersWithBaresip("mute", "Cy", toneCy, partyAda, partyBob)
	ada, bob := phones[0], phones[1]

	m := now()
	if st := d.patch("mute", ids[0], map[string]any{"muted": true}); !st.Muted {
		t.Errorf("PATCH muted: the answer shows %+v", st)
	}
	m.waitAfter(t, ada, bob)
	cut, rate := recordingCutter(t, cy)

	expectGone(t, bob, m, toneAda, "Ada muted")
	expectKept(t, bob, m, toneCy, steadyWithin, "Ada muted")
	expectKept(t, ada, m, toneBob, steadyWithin, "Ada muted: she still hears")

	// The window before the mute ends 200 ms early, room for a recording a little shorter
	// than the call.
	before := audiotest.ToneLevel(cut(m.at.Add(-900*time.Millisecond), m.at.Add(-200*time.Millisecond)), rate, toneAda)
	heard := cut(m.after, m.after.Add(window))
	after, bobLevel := audiotest.ToneLevel(heard, rate, toneAda), audiotest.ToneLevel(heard, rate, toneBob)
	t.Logf("%s hears Ada at %.1f dBFS before, %.1f after; Bob at %.1f after", cy, before, after, bobLevel)
	if before < heardAt || after > before-downBy || bobLevel < heardAt {
		t.Errorf("%s: Ada at %.1f dBFS before the mute and %.1f after, Bob at %.1f: want Ada ≥ %.0f dB down and Bob still heard",
			cy, before, after, bobLevel, downBy)
	}

	// Unmuted, she is heard again.
	m = now()
	if st := d.patch("mute", ids[0], map[string]any{"muted": false}); st.Muted {
		t.Errorf("PATCH muted false: the answer shows %+v", st)
	}
	m.waitAfter(t, ada, bob)
	b, okb := m.beforeLevel(t, bob, toneAda, "Ada muted", false)
	a, oka := m.afterLevel(t, bob, toneAda, "Ada unmuted", true)
	if okb && oka && (a < heardAt || a < b+downBy) {
		t.Errorf("%s hears Ada at %.1f dBFS while she is muted and %.1f after the unmute, want her back (≥ %.0f)", bob, b, a, heardAt)
	}
}

// TestDeafHearsNothing: one second after PATCH {"deaf":true}, Ada hears neither Bob nor Cy
// (20 dB down), while Bob and Cy hear Ada and each other as before.
func TestDeafHearsNothing(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "")
	phones, ids := d.talkers("deaf", partyAda, partyBob, partyCy)
	ada, bob, cy := phones[0], phones[1], phones[2]

	m := now()
	if st := d.patch("deaf", ids[0], map[string]any{"deaf": true}); !st.Deaf || st.Muted {
		t.Errorf("PATCH deaf: the answer shows %+v", st)
	}
	m.waitAfter(t, phones...)

	expectGone(t, ada, m, toneBob, "Ada deaf")
	expectGone(t, ada, m, toneCy, "Ada deaf")
	expectKept(t, bob, m, toneAda, steadyWithin, "Ada deaf: still heard")
	expectKept(t, bob, m, toneCy, steadyWithin, "Ada deaf")
	expectKept(t, cy, m, toneAda, steadyWithin, "Ada deaf: still heard")
	expectKept(t, cy, m, toneBob, steadyWithin, "Ada deaf")
}

// TestGainHalvesOnePair: after PUT /matrix with Bob hearing Ada at 0.5, Bob hears Ada
// 6.02 dB lower (within 0.5 dB) and everything else as before.
func TestGainHalvesOnePair(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "")
	phones, ids := d.talkers("gain", partyAda, partyBob.over(codec.PCMU), partyCy.over(codec.Opus))
	ada, bob, cy := phones[0], phones[1], phones[2]

	// Refused matrices change nothing.
	matrix := "/api/rooms/gain/matrix"
	d.refused(http.StatusBadRequest, "PUT", matrix, []bridge.Gain{{Listener: ids[1], Speaker: ids[0], Gain: 4.5}})
	d.refused(http.StatusNotFound, "PUT", matrix, []bridge.Gain{{Listener: "nobody", Speaker: ids[0], Gain: 0.5}})
	d.refused(http.StatusBadRequest, "PUT", matrix, map[string]any{"listener": ids[1], "speaker": ids[0], "gain": 0.5})
	if out := d.must(http.StatusOK, "GET", matrix, nil); string(bytes.TrimSpace(out)) != "[]" {
		t.Errorf("after refused PUTs the matrix is %s, want []", out)
	}
	time.Sleep(window) // the window before the gain: after the refusals

	m := now()
	pair := []bridge.Gain{{Listener: ids[1], Speaker: ids[0], Gain: 0.5}}
	var got []bridge.Gain
	if err := json.Unmarshal(d.must(http.StatusOK, "PUT", "/api/rooms/gain/matrix", pair), &got); err != nil || len(got) != 1 || got[0] != pair[0] {
		t.Errorf("PUT /matrix answered %+v (%v), want %+v", got, err, pair)
	}
	m.waitAfter(t, phones...)

	want := 20 * math.Log10(0.5)
	b, okb := m.beforeLevel(t, bob, toneAda, "the gain of 0.5", true)
	a, oka := m.afterLevel(t, bob, toneAda, "the gain of 0.5", true)
	t.Logf("%s hears Ada at %.2f dBFS before, %.2f after: %.2f dB (want %.2f ± 0.5)", bob, b, a, a-b, want)
	if okb && oka && (b < heardAt || math.Abs(a-b-want) > 0.5) {
		t.Errorf("%s: Ada at %.2f dBFS before the gain of 0.5 and %.2f after: %.2f dB, want %.2f ± 0.5", bob, b, a, a-b, want)
	}
	expectKept(t, bob, m, toneCy, steadyWithin, "only the pair Bob←Ada changed")
	expectKept(t, cy, m, toneAda, steadyWithin, "only the pair Bob←Ada changed")
	expectKept(t, ada, m, toneBob, steadyWithin, "only the pair Bob←Ada changed")
}

// TestKickHangsUp: DELETE /api/rooms/ROOM/participants/ID sends the participant a BYE and it
// leaves the room's list, for a baresip phone and for a Phone; an unknown id is a 404 that
// hangs up no one.
func TestKickHangsUp(t *testing.T) {
	t.Parallel()
	baresip.Require(t)
	d := startConfd(t, "")
	ada := d.call("kick", "Ada", toneAda, codec.PCMU)
	cy := d.baresipCall("kick", "Cy", toneCy)
	ids := d.waitTalking("kick", "Ada", "Cy")

	d.must(http.StatusNotFound, "DELETE", "/api/rooms/kick/participants/no-such-id", nil)
	if st, _ := d.room("kick"); len(st.Participants) != 2 {
		t.Fatalf("after a DELETE of an unknown id the room holds %+v, want Ada and Cy", st.Participants)
	}

	d.must(http.StatusNoContent, "DELETE", "/api/rooms/kick/participants/"+ids[1], nil)
	ev, err := cy.WaitClosed(5 * time.Second)
	if err != nil {
		t.Fatalf("%s got no BYE after the kick: %v", cy, err)
	}
	t.Logf("%s: call closed (%s)", cy, ev.Param)
	d.waitGone("kick", ids[1])
	if st, _ := d.room("kick"); len(st.Participants) != 1 || st.Participants[0].ID != ids[0] {
		t.Errorf("after kicking Cy the room holds %+v, want Ada alone", st.Participants)
	}

	d.must(http.StatusNoContent, "DELETE", "/api/rooms/kick/participants/"+ids[0], nil)
	select {
	case <-ada.Ended():
		if r := ada.EndReason(); r != "bye from confd" {
			t.Errorf("%s ended by %q, want a BYE from confd", ada, r)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s got no BYE after the kick", ada)
	}
	d.waitGone("kick", ids[0])
}

// waitGone polls the room until participant id is no longer in it (or the room is gone).
func (d *confd) waitGone(room, id string) {
	d.t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st, ok := d.room(room)
		if _, there := participant(st, id); !ok || !there {
			return
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("participant %s is still in room %s: %+v", id, room, st.Participants)
		}
	}
}

// TestCoachIsHeardByItsTargetOnly: one second after PATCH {"role":"coach","target":Bob}, Bob
// hears Ada as before and Cy no longer does; Dee, who joins later, never hears her, while Bob
// still does (roles are rules applied every tick).
func TestCoachIsHeardByItsTargetOnly(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "")
	phones, ids := d.talkers("coach", partyAda, partyBob, partyCy)
	ada, bob, cy := phones[0], phones[1], phones[2]

	// Refused changes change nothing.
	ada0 := "/api/rooms/coach/participants/" + ids[0]
	d.refused(http.StatusBadRequest, "PATCH", ada0, map[string]any{"role": "coach"})
	d.refused(http.StatusBadRequest, "PATCH", ada0, map[string]any{"role": "coach", "target": ids[0]})
	d.refused(http.StatusBadRequest, "PATCH", ada0, map[string]any{"role": "boss"})
	d.refused(http.StatusNotFound, "PATCH", ada0, map[string]any{"role": "coach", "target": "nobody"})
	d.refused(http.StatusBadRequest, "PATCH", ada0, map[string]any{"muted": "yes"})
	d.refused(http.StatusNotFound, "PATCH", "/api/rooms/coach/participants/nobody", map[string]any{"muted": true})
	if p, _ := participant(d.state("coach"), ids[0]); p.Role != "normal" || p.Muted || p.Deaf {
		t.Errorf("after refused PATCHes Ada is %+v", p)
	}
	time.Sleep(window) // the window before the role: after the refusals

	m := now()
	if st := d.patch("coach", ids[0], map[string]any{"role": "coach", "target": ids[1]}); st.Role != "coach" || st.Target != ids[1] {
		t.Errorf("PATCH role coach: the answer shows %+v", st)
	}
	m.waitAfter(t, phones...)
	expectKept(t, bob, m, toneAda, steadyWithin, "Ada coaches Bob: he hears her")
	expectGone(t, cy, m, toneAda, "Ada coaches Bob: Cy does not hear her")
	expectKept(t, ada, m, toneCy, steadyWithin, "a coach hears the room")

	dee := d.call("coach", partyDee.name, partyDee.hz, partyDee.c)
	d.waitTalking("coach", "Bob", "Cy", "Dee")
	time.Sleep(window)
	waitSteady(t, append(phones, dee), hearing{dee: {toneBob, toneCy}, bob: {toneAda, toneDee}, cy: {toneBob, toneDee}}.in)
	from := time.Now().Add(-window)
	ref := dee.HeardLevel(from, from.Add(window), toneBob)
	expectUnder(t, dee, from, toneAda, ref, "Dee joined after Ada became Bob's coach")
	expectUnder(t, cy, from, toneAda, cy.HeardLevel(from, from.Add(window), toneDee), "Cy, after Dee joined")
	if got := bob.HeardLevel(from, from.Add(window), toneAda); got < heardAt {
		t.Errorf("%s hears his coach at %.1f dBFS after Dee joined, want ≥ %.0f", bob, got, heardAt)
	}
}

// TestMuteAllSparesCoachesAndMonitors: POST /mute-all mutes Ada, Bob and Cy but not Dee,
// Ada's coach, nor Eve, a monitor: one second later no one hears Ada, Bob or Cy, Ada still hears
// Dee's whisper, and no one ever hears Eve.
func TestMuteAllSparesCoachesAndMonitors(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "")
	// Five talkers until the roles are set: all of them mixed (top K), so that everyone is
	// heard before mute-all.
	d.must(http.StatusOK, "PUT", "/api/rooms/all", map[string]any{"top_k": 5})
	phones, ids := d.talkers("all", partyAda, partyBob, partyCy, partyDee, partyEve)
	ada, bob, cy, eve := phones[0], phones[1], phones[2], phones[4]
	d.patch("all", ids[3], map[string]any{"role": "coach", "target": ids[0]})
	d.patch("all", ids[4], map[string]any{"role": "monitor"})
	time.Sleep(settle + window)
	waitSteady(t, phones, hearing{ada: {toneBob, toneCy, toneDee}, bob: {toneAda, toneCy}, cy: {toneAda, toneBob}, eve: {toneAda, toneBob, toneCy}}.in)

	m := now()
	var answer struct{ Muted int }
	if err := json.Unmarshal(d.must(http.StatusOK, "POST", "/api/rooms/all/mute-all", nil), &answer); err != nil || answer.Muted != 3 {
		t.Errorf("mute-all answered %+v (%v), want 3 muted", answer, err)
	}
	m.waitAfter(t, phones...)

	st, _ := d.room("all")
	for i, id := range ids {
		if p, _ := participant(st, id); p.Muted != (i < 3) {
			t.Errorf("after mute-all %s (%s) has muted=%v", p.Name, p.Role, p.Muted)
		}
	}
	expectKept(t, ada, m, toneDee, steadyWithin, "mute-all spares Ada's coach")
	for _, c := range []struct {
		p      *gophone.Phone
		others []float64
	}{{ada, []float64{toneBob, toneCy}}, {bob, []float64{toneAda, toneCy}}, {cy, []float64{toneAda, toneBob}}, {eve, []float64{toneAda, toneBob, toneCy}}} {
		for _, hz := range c.others {
			expectGone(t, c.p, m, hz, "mute-all")
		}
	}
	for _, from := range []time.Time{m.at.Add(-window), m.after} {
		expectUnder(t, bob, from, toneDee, m.before(bob, toneCy), "a coach is heard by its target only")
		for _, c := range []struct {
			p   *gophone.Phone
			ref float64
		}{{ada, toneBob}, {bob, toneCy}, {cy, toneBob}} {
			expectUnder(t, c.p, from, toneEve, m.before(c.p, c.ref), "a monitor is heard by no one")
		}
	}
}

// TestStarSixTogglesSelfMute: a baresip phone keying *6 (RFC 4733) mutes itself: a mute event
// "by":"self" on the SSE stream, muted in the room's state, and its tone 20 dB down in the
// others' ears a second later; *6 again brings it back (docs/SPEC.md: DTMF *6 toggles a phone's own
// mute).
func TestStarSixTogglesSelfMute(t *testing.T) {
	t.Parallel()
	baresip.Require(t)
	d := startConfd(t, "")
	events := d.subscribe("star6")
	phones, cy, ids := d.talkersWithBaresip("star6", "Cy", toneCy, partyAda, partyBob)
	bob := phones[1]

	for i, muted := range []bool{true, false} {
		keyed := time.Now()
		if err := cy.SendDTMF("*6"); err != nil {
			t.Fatal(err)
		}
		events.waitFor(t, fmt.Sprintf("Cy's mute event %d", i+1), 5*time.Second, func(e bridge.Event) bool {
			return e.Type == bridge.EventMute && e.Participant == ids[2] && e.Data["muted"] == muted && e.Data["by"] == "self" && !e.Time.Before(keyed)
		})
		if p, _ := participant(d.state("star6"), ids[2]); p.Muted != muted {
			t.Errorf("after *6 number %d Cy has muted=%v in the room's state", i+1, p.Muted)
		}
		// The rule took effect when the event was published; the window before is the
		// second before the keys (DTMF may take the place of Cy's audio while a key is down).
		m := now()
		m.beforeEnd = keyed // Ada's level before is judged before the keys too, not across the change
		m.waitAfter(t, phones...)
		b := bob.HeardLevel(keyed.Add(-window), keyed, toneCy)
		a, ok := m.afterLevel(t, bob, toneCy, "Cy keyed *6", !muted)
		t.Logf("%s hears Cy at %.1f dBFS before *6 number %d, %.1f after", bob, b, i+1, a)
		if ok && muted && (b < heardAt || a > b-downBy) {
			t.Errorf("%s: Cy at %.1f dBFS before *6 and %.1f after, want ≥ %.0f dB down", bob, b, a, downBy)
		}
		if ok && !muted && (a < heardAt || a < b+downBy) {
			t.Errorf("%s: Cy at %.1f dBFS while self-muted and %.1f after *6 again, want her back (≥ %.0f)", bob, b, a, heardAt)
		}
		expectKept(t, bob, m, toneAda, steadyWithin, "Cy keyed *6")
	}
}
