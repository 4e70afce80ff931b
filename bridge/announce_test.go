package bridge

import (
	"testing"
	"time"

	"confd/codec"
	"confd/testkit/audiotest"
)

// nameHz is the "recorded name" of these tests: a tone no phone sends.
const nameHz = 1200.0

// recordedName is a second of nameHz, as a caller's recorded name.
func recordedName() *HoldMusic {
	return NewRecordedName(audiotest.Generate(nameHz, 0.3, codec.SampleRate, codec.SampleRate))
}

// TestAnnounceUserCountToTheNewcomerOnly: in a room that announces its count, Bob, joining
// Ada, hears "There is one other participant" alone (not Ada) and then the room, from the tick
// after the prompt; Ada never hears the prompt (what she hears is Bob's tone and nothing
// more). Cy, joining both, hears the longer "There are two other participants" before them.
func TestAnnounceUserCountToTheNewcomerOnly(t *testing.T) {
	w := newWorld(t, Config{Rooms: map[string]RoomSettings{"count": {AnnounceUserCount: true}}})
	ada := w.join("count", "Ada", 440)
	w.run(25)
	joined := w.now
	bob := w.join("count", "Bob", 700)
	prompt := oneOther().Duration()
	w.run(int((prompt + time.Second) / codec.FrameDuration))
	during := bob.heardFrom(t, joined, joined.Add(prompt-40*time.Millisecond))
	if l := audiotest.ToneLevel(during, codec.SampleRate, 440); l > -40 { // Ada sends at -20; the words have some 440 Hz
		t.Errorf("during the count prompt, Bob hears Ada at %.1f dBFS", l)
	}
	if rms := audiotest.RMS(during); rms < -40 {
		t.Errorf("Bob hears no prompt (%.1f dBFS)", rms)
	}
	if l := level(t, bob, joined.Add(prompt+60*time.Millisecond), w.now, 440); l < -30 {
		t.Errorf("after the prompt, Bob hears Ada at %.1f dBFS", l)
	}
	heard := ada.heardFrom(t, joined.Add(200*time.Millisecond), joined.Add(prompt))
	if snr := audiotest.SNR(heard, codec.SampleRate, 700); snr < 25 {
		t.Errorf("Ada hears more than Bob's tone (%.1f dB above the rest): the prompt", snr)
	}
	joined = w.now
	cy := w.join("count", "Cy", 900)
	prompt = 0
	for _, m := range countPrompt(2) {
		prompt += m.Duration()
	}
	if prompt < oneOther().Duration()+500*time.Millisecond {
		t.Fatalf("the prompt for two lasts %v", prompt)
	}
	w.run(int((prompt + time.Second) / codec.FrameDuration))
	if l := level(t, cy, joined, joined.Add(prompt-40*time.Millisecond), 440); l > -40 {
		t.Errorf("during \"there are two\", Cy hears Ada at %.1f dBFS", l)
	}
	if l := level(t, cy, joined.Add(prompt+60*time.Millisecond), w.now, 700); l < -30 {
		t.Errorf("after the prompt, Cy hears Bob at %.1f dBFS", l)
	}
	r, _ := w.b.Room("count")
	if r.announcer.active != 0 || r.mix.Len() != 3 {
		t.Errorf("%d announcements and %d mixer participants left after the prompts", r.announcer.active, r.mix.Len())
	}
}

// TestAnnounceJoinLeave: Bob, whose recorded name is a tone, joins Ada: she hears the name,
// he does not; when his call ends, Ada hears the name again. Cy, without a recorded name, is
// announced by nothing. A tick while a name plays allocates nothing.
func TestAnnounceJoinLeave(t *testing.T) {
	w := newWorld(t, Config{Rooms: map[string]RoomSettings{"names": {AnnounceJoinLeave: true}, "quiet": {AnnounceJoinLeave: true}}})
	ada := w.join("names", "Ada", 440)
	w.run(25)
	info := pcmuInfo("Bob")
	info.RecordedName = recordedName()
	joined := w.now
	bob := joinSimInfo(t, w.b, "names", info, 700)
	w.phones = append(w.phones, bob)
	w.run(20)
	// A matrix set meanwhile (PUT …/matrix replaces every pair) does not let Bob hear his name.
	names, _ := w.b.Room("names")
	if err := names.SetMatrix(nil); err != nil {
		t.Fatal(err)
	}
	w.run(80)
	if l := level(t, ada, joined, joined.Add(time.Second), nameHz); l < -30 {
		t.Errorf("Ada hears Bob's name at %.1f dBFS when he joins", l)
	}
	if l := level(t, bob, joined, w.now, nameHz); l > -50 {
		t.Errorf("Bob hears his own name at %.1f dBFS", l)
	}
	if l := level(t, ada, joined.Add(time.Second+joinedPrompt().Duration()+100*time.Millisecond), w.now, nameHz); l > -50 {
		t.Errorf("after the announcement, Ada hears the name at %.1f dBFS", l)
	}
	from := w.now
	cy := w.join("names", "Cy", 900)
	w.run(50)
	if l := level(t, ada, from, w.now, nameHz); l > -50 {
		t.Errorf("Cy, without a name, is announced with Bob's (%.1f dBFS)", l)
	}
	left := w.now
	bob.p.Leave("bye")
	w.run(50)
	for _, s := range []*simPhone{ada, cy} {
		if l := level(t, s, left, w.now, nameHz); l < -30 {
			t.Errorf("%s hears Bob's name at %.1f dBFS when he leaves", s.p.info.Name, l)
		}
	}

	// A tick while a name plays allocates nothing.
	mustJoin(t, w.b, "quiet", pcmuInfo("Zed"), &countingLeg{})
	long := pcmuInfo("Yan")
	long.RecordedName = NewRecordedName(audiotest.Generate(nameHz, 0.3, codec.SampleRate, 10*codec.SampleRate))
	mustJoin(t, w.b, "quiet", long, &countingLeg{})
	quiet, _ := w.b.Room("quiet")
	step := ownerSteps(quiet, w.now)
	for range 5 {
		step()
	}
	if quiet.announcer.active != 1 {
		t.Fatalf("%d announcements playing", quiet.announcer.active)
	}
	if allocs := testing.AllocsPerRun(50, step); allocs != 0 {
		t.Errorf("%.1f allocations per tick with an announcement", allocs)
	}
	if got := NewRecordedName(make([]int16, 10*codec.SampleRate)).Duration(); got > MaxRecordedName {
		t.Errorf("a recorded name of %v is kept", got)
	}
}
