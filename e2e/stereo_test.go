package e2e

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"confd/testkit"
	"confd/testkit/audiotest"
	"confd/testkit/baresip"
	"confd/testkit/chromium"
)

// stereoEvent is one line stereo.mjs prints.
type stereoEvent struct {
	Event        string  `json:"event"`
	Message      string  `json:"message"`
	OfferFmtp    string  `json:"offerFmtp"`
	AnswerFmtp   string  `json:"answerFmtp"`
	ChannelCount int     `json:"channelCount"`
	Left         float64 `json:"left"`
	Right        float64 `json:"right"`
}

// TestBrowserHearsAPannedSpeakerLeftThenRight is issue 13's stereo row with a real browser:
// Chromium publishes a tone by WHIP and listens by WHEP with stereo=1 in its offer's Opus fmtp;
// the speaker is panned hard left through the control API and the page's Web Audio (a
// ChannelSplitter and one AnalyserNode per channel) hears the tone on the left, far above the
// right; panned hard right, the other way round.
func TestBrowserHearsAPannedSpeakerLeftThenRight(t *testing.T) {
	chromium.Require(t)
	d := startDaemon(t)
	requireServed(t, d, "POST", "/whep/probe", "WHEP")
	room := "e2e-stereo"
	wav := filepath.Join(t.TempDir(), "mic.wav")
	if err := audiotest.WriteWAV(wav, 48000, 1, audiotest.Generate(toneAda, 0.25, 48000, 10*48000)); err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]any{"url": d.URL("/"), "chromium": chromium.Path(), "wav": wav,
		"profile": t.TempDir(), "room": room, "timeoutMs": 30000})
	cfgPath := filepath.Join(t.TempDir(), "stereo.json")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("browser", "stereo.mjs"), cfgPath)
	stderr := &testkit.LockedBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	events := make(chan stereoEvent, 8)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var ev stereoEvent
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				events <- ev
			}
		}
		_ = cmd.Wait()
		close(events)
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-events:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
		}
		for range events {
		}
	})
	await := func(want string) stereoEvent {
		t.Helper()
		deadline := time.After(120 * time.Second)
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("stereo.mjs exited waiting for %q:\n%s", want, stderr.String())
				}
				if ev.Event == "error" {
					t.Fatalf("stereo.mjs: %s\n%s", ev.Message, stderr.String())
				}
				if ev.Event == want {
					return ev
				}
			case <-deadline:
				t.Fatalf("stereo.mjs: no %q:\n%s", want, stderr.String())
			}
		}
	}
	joined := await("joined")
	t.Logf("WHEP offer %q, answer %q, Web Audio sees %d channels", joined.OfferFmtp, joined.AnswerFmtp, joined.ChannelCount)
	speaker := awaitParticipant(t, d, d.Token, room, "speaker")
	for _, side := range []struct {
		pan  float32
		name string
	}{{-1, "left"}, {1, "right"}} {
		patchPan(t, d, room, speaker, side.pan)
		if _, err := stdin.Write([]byte("measure\n")); err != nil {
			t.Fatal(err)
		}
		m := await("measured")
		t.Logf("speaker panned %s: left %.1f dBFS, right %.1f dBFS", side.name, m.Left, m.Right)
		near, far := m.Left, m.Right
		if side.pan > 0 {
			near, far = far, near
		}
		if near < -40 || near-far < 20 {
			t.Errorf("panned %s: left %.1f dBFS, right %.1f dBFS; want the %s side loud (> -40 dBFS) and 20 dB above the other",
				side.name, m.Left, m.Right, side.name)
		}
	}
}

// patchPan is PATCH /api/rooms/ROOM/participants/ID {"pan": pan} with the bearer token.
func patchPan(t *testing.T, d *daemon, room, id string, pan float32) {
	t.Helper()
	status, _, err := d.API("PATCH", "/api/rooms/"+room+"/participants/"+id, d.Token, map[string]float32{"pan": pan})
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 {
		t.Fatalf("PATCH pan %v: %d", pan, status)
	}
}

// TestSIPOpusPhoneHearsAPannedSpeakerOnTheLeft: baresip offers Opus with stereo=1 and decodes
// stereo, so a SIP phone hears a speaker panned hard left on its left channel only; the speaker
// is a PCMU phone, which itself hears mono.
func TestSIPOpusPhoneHearsAPannedSpeakerOnTheLeft(t *testing.T) {
	baresip.Require(t)
	d := startDaemon(t)
	room := "e2e-stereo-sip"
	speaker := startPhone(t, d, room)
	patchPan(t, d, room, awaitParticipant(t, d, d.Token, room, "Phone"), -1)
	listener := baresip.Call(t, baresip.Config{User: "listener", DisplayName: "Listener", Codec: baresip.Opus, ToneHz: toneBob}, d.SIPURI(room))
	// Audio to judge, by what the phones recorded, not by time: baresip begins its recording a
	// moment after the call, later on a loaded machine (the speaker once had 0.7 s of its call
	// recorded after a fixed 1.5 s).
	heardBefore := speaker.RecordedSoFar()
	if err := listener.WaitRecorded(settle+300*time.Millisecond, callTimeout); err != nil {
		t.Fatal(err)
	}
	if err := speaker.WaitRecorded(heardBefore+settle, callTimeout); err != nil {
		t.Fatal(err)
	}
	if err := listener.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := listener.WaitClosed(callTimeout); err != nil {
		t.Fatalf("%s: %v", listener, err)
	}
	left, right, rate, err := listener.RecordedStereo()
	if err != nil {
		t.Fatal(err)
	}
	if skip := rate * 3 / 10; len(left) > skip+rate/2 {
		left, right = left[skip:], right[skip:]
	}
	l, r := audiotest.MedianToneLevel(left, rate, tonePhone), audiotest.MedianToneLevel(right, rate, tonePhone)
	t.Logf("the Opus phone hears the speaker panned left at %.1f dBFS left, %.1f dBFS right (%d samples at %d Hz)", l, r, len(left), rate)
	if l < -40 || l-r < 20 {
		t.Errorf("left %.1f dBFS, right %.1f dBFS: want the left loud (> -40 dBFS) and 20 dB above the right", l, r)
	}
	spk, spkRate := hangUp(t, speaker)
	assertHears(t, "PCMU speaker", spk, spkRate, []float64{toneBob}, tonePhone)
}
