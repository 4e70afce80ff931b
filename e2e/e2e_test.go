package e2e

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"confd/testkit/audiotest"
	"confd/testkit/baresip"
	"confd/testkit/chromium"
)

// The participants' tones: each one's own frequency, far from the others' harmonics.
const (
	toneAda   = 440.0
	toneBob   = 700.0
	tonePhone = 1000.0
)

var allTones = []float64{toneAda, toneBob, tonePhone}

// settle lets jitter buffers fill and talking detection pick everyone up before measuring.
const settle = 1500 * time.Millisecond

// callTimeout bounds a SIP call's set-up or tear-down on loopback.
const callTimeout = 10 * time.Second

// minApart is how far above its own tone (echoed back) each other tone must be heard, in dB.
const minApart = 20

// assertHears checks that pcm holds every tone of want clearly and own at least minApart dB
// below each of them: minus-one. Levels are medians over short pieces
// (audiotest.MedianToneLevel): one coherent sum over seconds collapses where a jitter buffer
// dropped a frame, and pcm holds every tone of want from its start (the callers record after
// everyone joined).
func assertHears(t *testing.T, who string, pcm []int16, rate int, want []float64, own float64) {
	t.Helper()
	self := audiotest.MedianToneLevel(pcm, rate, own)
	for _, f := range want {
		other := audiotest.MedianToneLevel(pcm, rate, f)
		t.Logf("%s hears %.0f Hz at %.1f dBFS; its own %.0f Hz at %.1f dBFS", who, f, other, own, self)
		if other < -35 {
			t.Errorf("%s: the %.0f Hz tone is at %.1f dBFS, want it clearly heard", who, f, other)
		}
		if other-self < minApart {
			t.Errorf("%s: %.0f Hz at %.1f dB vs its own %.0f Hz at %.1f dB, want %d dB apart", who, f, other, own, self, minApart)
		}
	}
}

// startPhone runs a baresip PCMU phone with the 1000 Hz tone and dials it into room.
func startPhone(t *testing.T, d *daemon, room string) *baresip.Phone {
	t.Helper()
	return baresip.Call(t, baresip.Config{User: "phone", DisplayName: "Phone", Codec: baresip.PCMU, ToneHz: tonePhone}, d.SIPURI(room))
}

// settleWith lets the room settle (settle) and waits until the phone has recorded as much
// audio: baresip begins its recording a moment after the call, later on a loaded machine, and
// hangUp wants a second of it after the first 300 ms.
func settleWith(t *testing.T, phone *baresip.Phone) {
	t.Helper()
	time.Sleep(settle)
	if err := phone.WaitRecorded(settle+300*time.Millisecond, callTimeout); err != nil {
		t.Fatal(err)
	}
}

// hangUp ends the phone's call and returns what it heard, without its first 300 ms (decoder and
// jitter buffer settling).
func hangUp(t *testing.T, phone *baresip.Phone) ([]int16, int) {
	t.Helper()
	if err := phone.Hangup(); err != nil {
		t.Fatal(err)
	}
	if _, err := phone.WaitClosed(callTimeout); err != nil {
		t.Fatalf("%s: %v", phone, err)
	}
	pcm, rate, err := phone.Recorded()
	if err != nil {
		t.Fatalf("%s: %v", phone, err)
	}
	if skip := rate * 3 / 10; len(pcm) > skip {
		pcm = pcm[skip:]
	}
	if len(pcm) < rate {
		t.Fatalf("%s recorded only %d samples at %d Hz", phone, len(pcm), rate)
	}
	return pcm, rate
}

// assertListed checks that a page's participant list names everyone in names.
func assertListed(t *testing.T, who string, people []string, names ...string) {
	t.Helper()
	for _, n := range names {
		found := false
		for _, p := range people {
			found = found || strings.HasPrefix(p, n)
		}
		if !found {
			t.Errorf("%s's participant list %q lacks %s", who, people, n)
		}
	}
}

// requirePeers skips (or, with CI set, fails) before anything starts when a peer is missing.
func requirePeers(t *testing.T) {
	t.Helper()
	chromium.Require(t)
	baresip.Require(t)
}

// browserWithPhone is tests 1 and 2: one browser on confd's page (by WHIP or by sip.js over
// WebSocket) and one PCMU phone hear each other and not themselves.
func browserWithPhone(t *testing.T, mode string) {
	requirePeers(t)
	d := startDaemon(t)
	requireServed(t, d, "GET", "/", "the web page")
	if mode == "sip" {
		requireServed(t, d, "GET", "/sip", "SIP over WebSocket")
	} else {
		requireServed(t, d, "POST", "/whip/probe", "WHIP")
	}
	room := "e2e-" + mode
	br := chromium.Join(t, d.URL("/"), allTones, chromium.Spec{Name: "Ada", Room: room, Mode: mode, Hz: toneAda})
	phone := startPhone(t, d, room)
	settleWith(t, phone)
	heard := br.Measure()["Ada"]
	shots := br.Screenshot()
	phonePCM, phoneRate := hangUp(t, phone)
	br.Leave()

	assertHears(t, "browser Ada", heard.PCM, heard.Rate, []float64{tonePhone}, toneAda)
	assertHears(t, "phone", phonePCM, phoneRate, []float64{toneAda}, tonePhone)
	assertListed(t, "Ada", heard.People, "Ada (you)", "Phone")
	for _, p := range shots {
		if st, err := os.Stat(p); err != nil || st.Size() < 1000 {
			t.Errorf("screenshot %s: %v", p, err)
		} else {
			t.Logf("screenshot %s", p)
		}
	}
}

// TestBrowserWHIPAndPhone is test 1: the page joins by WHIP; it and a baresip PCMU phone each
// hear the other's tone and not their own.
func TestBrowserWHIPAndPhone(t *testing.T) { browserWithPhone(t, "whip") }

// TestBrowserSIPWebSocketAndPhone is test 2: the same with the page's sip.js mode, SIP over
// WebSocket (RFC 7118) at /sip.
func TestBrowserSIPWebSocketAndPhone(t *testing.T) { browserWithPhone(t, "sip") }

// TestTwoBrowsersAndPhone is test 3: two browsers by WHIP and one phone; each hears the other two
// and not itself. Then one page's Mute button silences it for the other.
func TestTwoBrowsersAndPhone(t *testing.T) {
	requirePeers(t)
	d := startDaemon(t)
	requireServed(t, d, "GET", "/", "the web page")
	requireServed(t, d, "POST", "/whip/probe", "WHIP")
	const room = "e2e-three"
	br := chromium.Join(t, d.URL("/"), allTones,
		chromium.Spec{Name: "Ada", Room: room, Mode: "whip", Hz: toneAda},
		chromium.Spec{Name: "Bob", Room: room, Mode: "whip", Hz: toneBob})
	phone := startPhone(t, d, room)
	settleWith(t, phone)
	heard := br.Measure()
	br.Mute("Ada")
	time.Sleep(settle) // every jitter buffer on the way (confd's, the browser's) plays out her last packets
	afterMute := br.Measure()
	phonePCM, phoneRate := hangUp(t, phone)
	br.Leave()
	// The phone is judged on the time before Ada's Mute: its first two seconds (after the
	// settling that hangUp cuts), well before the first measurement ended.
	phonePCM = phonePCM[:min(len(phonePCM), 2*phoneRate)]

	ada, bob := heard["Ada"], heard["Bob"]
	assertHears(t, "browser Ada", ada.PCM, ada.Rate, []float64{toneBob, tonePhone}, toneAda)
	assertHears(t, "browser Bob", bob.PCM, bob.Rate, []float64{toneAda, tonePhone}, toneBob)
	assertHears(t, "phone", phonePCM, phoneRate, []float64{toneAda, toneBob}, tonePhone)
	assertListed(t, "Ada", ada.People, "Ada (you)", "Bob", "Phone")
	assertListed(t, "Bob", bob.People, "Ada", "Bob (you)", "Phone")

	// The page's Mute silences Ada for the others; Bob still hears the phone.
	bob = afterMute["Bob"]
	muted, still := audiotest.MedianToneLevel(bob.PCM, bob.Rate, toneAda), audiotest.MedianToneLevel(bob.PCM, bob.Rate, tonePhone)
	t.Logf("after Ada's Mute, Bob hears her %.0f Hz at %.1f dBFS and the phone at %.1f dBFS", toneAda, muted, still)
	if still < -35 || still-muted < minApart {
		t.Errorf("after Ada's Mute, Bob hears her at %.1f dBFS and the phone at %.1f dBFS, want her %d dB under", muted, still, minApart)
	}
}

// TestPageExplainsRefusals checks the page's messages where joining fails: a refused
// microphone, a locked room, a wrong PIN; and that the same page, with the right PIN typed next,
// gets in (by WHIP, and by sip.js when confd serves /sip).
func TestPageExplainsRefusals(t *testing.T) {
	chromium.Require(t)
	d := startDaemon(t)
	requireServed(t, d, "GET", "/", "the web page")
	requireServed(t, d, "POST", "/whip/probe", "WHIP")
	declareRoom(t, d, "locked-room", `{"locked":true}`)
	declareRoom(t, d, "pin-room", `{"pin":"1234"}`)
	// Di meets a locked room, then a wrong PIN, then gets in with the right one.
	specs := []chromium.Spec{
		{Name: "Cy", Room: "open-room", Mode: "whip", Hz: toneAda, DenyMic: true},
		{Name: "Di", Mode: "whip", Hz: toneBob, Attempts: []chromium.Attempt{{Room: "locked-room", PIN: ""}, {Room: "pin-room", PIN: "9999"}, {Room: "pin-room", PIN: "1234"}}},
	}
	want := map[string][]string{"Di": {"locked", "PIN is missing or wrong"}}
	if served(t, d, "GET", "/sip") {
		// SIP over WebSocket takes the PIN with the INVITE (sipws: X-Confd-PIN).
		specs = append(specs, chromium.Spec{Name: "Gus", Mode: "sip", Hz: tonePhone, Attempts: []chromium.Attempt{{Room: "pin-room", PIN: "9999"}, {Room: "pin-room", PIN: "1234"}}})
		want["Gus"] = []string{"PIN is missing or wrong"}
	} else {
		t.Log("confd does not serve /sip yet: the sip.js PIN case did not run")
	}
	br := chromium.Join(t, d.URL("/"), allTones, specs...)
	br.Screenshot()
	br.Leave()
	if got := br.Refused["Cy"]; !strings.Contains(got, "microphone was refused") {
		t.Errorf("Cy: page alert %q, want it to say the microphone was refused", got)
	}
	for name, alerts := range want {
		got := br.Alerts[name]
		for i, w := range alerts {
			if i >= len(got) || !strings.Contains(got[i], w) {
				t.Errorf("%s: alerts %q, want alert %d to say %q", name, got, i+1, w)
			}
		}
		if len(got) > len(alerts) {
			t.Errorf("%s: alerts %q, want only %d", name, got, len(alerts))
		}
		if alert, ok := br.Refused[name]; ok {
			t.Errorf("%s was refused in the end: %q", name, alert)
		}
	}
}

// declareRoom declares a room with settings through the control API.
func declareRoom(t *testing.T, d *daemon, room, settings string) {
	t.Helper()
	status, _, err := d.API("PUT", "/api/rooms/"+room, d.Token, json.RawMessage(settings))
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 {
		t.Fatalf("PUT /api/rooms/%s %s = %d", room, settings, status)
	}
}
