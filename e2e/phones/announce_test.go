package phones

import (
	"testing"
	"time"

	"confd/codec"
	"confd/prompts"
	"confd/testkit/audiotest"
	"confd/testkit/baresip"
	"confd/testkit/gophone"
)

// TestRecordedNameAnnouncedWhenAPhoneComesAndGoes (announce_join_leave): Dee, a baresip phone,
// dials in (meeting number by DTMF) to a room that announces who comes and goes; the IVR asks
// for its name after the tone and keeps what it sends then, its tone, as its name. Dee, once in,
// never hears its own name (no tone of its own in its recording). When Dee hangs up, Ada (a Go
// phone that called the room directly, so without a name) hears Dee's tone again, for as long
// as the name plays, and not after it.
func TestRecordedNameAnnouncedWhenAPhoneComesAndGoes(t *testing.T) {
	baresip.Require(t)
	skipPromptsIfShort(t)
	t.Parallel()
	d := startConfd(t, "[[dialin]]\nnumber = \"1000\"\n\n[[room]]\nname = \"4242\"\nannounce_join_leave = true\n")
	ada := d.call("4242", "Ada", toneAda, codec.PCMU)
	d.waitTalking("4242", "Ada")
	dee := d.baresipCall("1000", "Dee", toneDee)
	if err := dee.SendDTMF("4242#"); err != nil {
		t.Fatal(err)
	}
	// The welcome, the name prompt, the tone, the name itself and "joining" are spoken first.
	in := func() bool {
		st, _ := d.room("4242")
		for _, p := range st.Participants {
			if p.Name == "Dee" {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(40 * time.Second); !in(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Dee did not get through the IVR into the room")
		}
	}
	joined := time.Now()
	joinedWords, _ := prompts.Get(prompts.HasJoined)
	leftWords, _ := prompts.Get(prompts.HasLeft)
	announced := func(words []int16) time.Duration {
		return 2500*time.Millisecond + time.Duration(len(words))*time.Second/prompts.Rate
	}
	// Ada hears Dee's arrival (his name over his voice) out, and then Dee, who never hears his
	// own name: a second of Ada's audio after the announcement, whole.
	quiet := joined.Add(announced(joinedWords) + 300*time.Millisecond)
	waitSteadyFrom(t, []*gophone.Phone{ada}, quiet, hearing{ada: {toneDee}}.in)

	hungUp := time.Now()
	cut, rate := recordingCutter(t, dee)
	for deadline := time.Now().Add(5 * time.Second); in(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Dee hung up but is still in the room")
		}
	}
	own := audiotest.ToneLevel(cut(joined.Add(200*time.Millisecond), joined.Add(2200*time.Millisecond)), rate, toneDee)
	heardAda := audiotest.ToneLevel(cut(joined.Add(200*time.Millisecond), joined.Add(2200*time.Millisecond)), rate, toneAda)
	t.Logf("Dee, announced, hears his own tone at %.1f dBFS and Ada at %.1f", own, heardAda)
	if own > heardAt-downBy || heardAda < heardAt {
		t.Errorf("Dee hears his own name (%.1f dBFS) or not Ada (%.1f)", own, heardAda)
	}

	// The name plays from the tick after the hang-up; the window starts 300 ms in, past the
	// last of Dee's live audio in confd's jitter buffer, and ends before the name does.
	time.Sleep(time.Until(hungUp.Add(300*time.Millisecond + window)))
	name := read(ada, hungUp.Add(300*time.Millisecond), toneDee)
	after := hungUp.Add(announced(leftWords) + 500*time.Millisecond)
	time.Sleep(time.Until(after.Add(window)))
	gone := read(ada, after, toneDee)
	t.Logf("after Dee hung up, Ada hears his tone at %s during the name and %s after", name, gone)
	if !judgeable(t, ada, toneDee, "Dee's name", []reading{name, gone}, []bool{true, false}) {
		return
	}
	if name.level < heardAt || gone.level > heardAt-downBy {
		t.Errorf("%s: Dee's tone at %.1f dBFS while his name plays and %.1f after: want heard, then gone", ada, name.level, gone.level)
	}
}

// TestUserCountToAWebRTCNewcomer (announce_user_count): wen, a WHIP client (pion standing in
// for a browser, on Opus), joins Ada in a room that announces its count: it first hears "There
// is one other participant" and not Ada, then Ada. (That no one else hears the prompt is held
// by the bridge's TestAnnounceUserCountToTheNewcomerOnly.)
func TestUserCountToAWebRTCNewcomer(t *testing.T) {
	t.Parallel()
	d := startConfd(t, "[[room]]\nname = \"count\"\nannounce_user_count = true\n")
	ada := d.call("count", "Ada", toneAda, codec.PCMU)
	d.waitTalking("count", "Ada")
	joining := time.Now()
	wen := joinWHIP(t, d.base, "count", "wen", toneEve)
	words, _ := prompts.Get(prompts.OneOther)
	prompt := time.Duration(len(words)) * time.Second / prompts.Rate
	// Settled once wen hears Ada in a whole second after the prompt (the join took a moment
	// more than joining: the prompt ends no earlier than that).
	waitSteady(t, []*gophone.Phone{ada}, func(from time.Time) bool {
		return !from.Before(joining.Add(prompt)) && wen.heard.Coverage(from, from.Add(window)) > 0.9 &&
			wen.heard.Level(from, from.Add(window), toneAda) >= heardAt
	})
	// The prompt's first part: what of it arrived (the peer connection takes a moment to
	// carry media) has the words and no Ada.
	from, to := joining, joining.Add(prompt-300*time.Millisecond)
	got := wen.heard.Coverage(from, to)
	during := wen.heard.Window(from, to)
	adaLevel, rms := audiotest.ToneLevel(during, codec.SampleRate, toneAda), audiotest.RMS(during)
	t.Logf("during the count prompt (%.0f%% of it arrived) wen hears Ada at %.1f dBFS, %.1f dBFS in all", 100*got, adaLevel, rms)
	if got < 0.3 {
		t.Skipf("only %.0f%% of the prompt's first %v arrived: not judged", 100*got, to.Sub(from))
	}
	if adaLevel > heardAt-downBy || rms < -45 {
		t.Errorf("wen: Ada at %.1f dBFS and %.1f dBFS in all during the prompt: want the words and no Ada", adaLevel, rms)
	}
}
