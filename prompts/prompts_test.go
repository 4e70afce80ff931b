package prompts

import (
	"errors"
	"testing"
	"time"

	"confd/testkit/audiotest"
)

var allNames = []string{Welcome, EnterPIN, InvalidMeeting, InvalidPIN, Goodbye, Joining, Muted, Unmuted, Locked, Full, ConferenceEnded, OnlyParticipant,
	SayName, HasJoined, HasLeft, OneOther, ThereAre, OtherParticipants}

func init() {
	for n := 1; n <= MaxNumber+1; n++ {
		allNames = append(allNames, Number(n))
	}
}

func TestEveryPromptIsShortAudibleSpeech(t *testing.T) {
	if got := len(Names()); got != len(allNames)+1 { // and the Beep

		t.Errorf("embedded %d prompts %v, want %d", got, Names(), len(allNames))
	}
	for _, name := range allNames {
		pcm, err := Get(name)
		if err != nil {
			t.Fatalf("Get(%q): %v", name, err)
		}
		d := time.Duration(len(pcm)) * time.Second / Rate
		if d < 500*time.Millisecond || d > 7*time.Second {
			t.Errorf("%s lasts %v, want a few seconds", name, d)
		}
		if rms := audiotest.RMS(pcm); rms < -35 || rms > -6 {
			t.Errorf("%s RMS %.1f dBFS, want speech between -35 and -6", name, rms)
		}
		// Voice energy sits between ~100 Hz and 4 kHz; a wrong rate in the header would move it.
		if f := audiotest.PeakFrequency(pcm, Rate); f < 80 || f > 4000 {
			t.Errorf("%s strongest frequency %.0f Hz, not speech", name, f)
		}
	}
}

// TestBeep: the tone after "say your name" is a short 1 kHz tone.
func TestBeep(t *testing.T) {
	pcm, err := Get(Beep)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(len(pcm)) * time.Second / Rate; d < 200*time.Millisecond || d > 500*time.Millisecond {
		t.Errorf("the beep lasts %v", d)
	}
	if f := audiotest.PeakFrequency(pcm, Rate); f < 950 || f > 1050 {
		t.Errorf("the beep peaks at %.0f Hz", f)
	}
	if Number(0) != "" || Number(3) != "number-3" || Number(21) != MoreThanTwenty {
		t.Error("Number names the wrong prompts")
	}
}

func TestGetUnknownPrompt(t *testing.T) {
	if _, err := Get("no-such-prompt"); !errors.Is(err, ErrUnknownPrompt) {
		t.Fatalf("Get(unknown) = %v, want ErrUnknownPrompt", err)
	}
}

func TestGetIsParsedOnceAndAllocatesNothing(t *testing.T) {
	a, _ := Get(Welcome)
	b, _ := Get(Welcome)
	if &a[0] != &b[0] {
		t.Fatal("Get returned a new copy; prompts must be parsed once and shared")
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = Get(Goodbye) }); n != 0 {
		t.Fatalf("Get allocates %v times per call, want 0", n)
	}
}

func TestDecodeRejectsOtherFormats(t *testing.T) {
	good, err := files.ReadFile(Muted + ".wav")
	if err != nil {
		t.Fatal(err)
	}
	stereo := append([]byte(nil), good...)
	stereo[22] = 2
	rate8k := append([]byte(nil), good...)
	rate8k[24], rate8k[25] = 0x40, 0x1f
	for name, b := range map[string][]byte{"empty": nil, "not riff": []byte("RIFX0000WAVEfmt "), "stereo": stereo, "8 kHz": rate8k, "truncated": good[:30]} {
		if _, err := decode(b); !errors.Is(err, ErrBadPromptFile) {
			t.Errorf("%s: decode = %v, want ErrBadPromptFile", name, err)
		}
	}
}
