package baresip

import (
	"errors"
	"testing"
	"time"

	"confd/testkit/audiotest"
)

// callTimeout bounds a call set-up or tear-down on loopback; it normally takes milliseconds.
const callTimeout = 5 * time.Second

// talk lets a call carry audio long enough for a tone detector: the recordings hold only the
// packets that arrived, and 1 s of them is plenty for a Goertzel filter.
const talk = 1500 * time.Millisecond

// heard returns what p recorded, minus the first 100 ms where the decoder and jitter buffer
// settle.
func heard(t *testing.T, p *Phone) ([]int16, int) {
	t.Helper()
	pcm, rate, err := p.Recorded()
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	if skip := rate / 10; len(pcm) > skip {
		pcm = pcm[skip:]
	}
	if len(pcm) < rate/2 {
		t.Fatalf("%s recorded only %d samples at %d Hz", p, len(pcm), rate)
	}
	return pcm, rate
}

// assertHearsOther checks that listener's recording holds want and not own, 20 dB apart.
func assertHearsOther(t *testing.T, listener *Phone, want, own float64) {
	t.Helper()
	pcm, rate := heard(t, listener)
	other, self := audiotest.ToneLevel(pcm, rate, want), audiotest.ToneLevel(pcm, rate, own)
	t.Logf("%s heard %.0f Hz at %.1f dBFS, its own %.0f Hz at %.1f dBFS", listener, want, other, own, self)
	if other < -30 {
		t.Errorf("%s: the other peer's %.0f Hz tone is at %.1f dBFS, want it clearly present", listener, want, other)
	}
	if other-self < 20 {
		t.Errorf("%s: other tone %.1f dB vs own %.1f dB, want at least 20 dB apart", listener, other, self)
	}
}

func TestTwoPeersHearEachOther(t *testing.T) {
	for _, codec := range []Codec{PCMU, Opus, PCMA, G722} {
		t.Run(codec.String(), func(t *testing.T) {
			alice := Start(t, Config{User: "alice", Codec: codec, ToneHz: 440})
			bob := Start(t, Config{User: "bob", Codec: codec, ToneHz: 1000, AutoAnswer: true})
			if err := alice.Dial(bob.URI()); err != nil {
				t.Fatal(err)
			}
			for _, p := range []*Phone{alice, bob} {
				if _, err := p.WaitEstablished(callTimeout); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(talk)
			if err := alice.Hangup(); err != nil {
				t.Fatal(err)
			}
			for _, p := range []*Phone{alice, bob} {
				if _, err := p.WaitClosed(callTimeout); err != nil {
					t.Fatal(err)
				}
			}
			_, rate, _ := alice.Recorded()
			if rate != codec.SampleRate() {
				t.Errorf("recording at %d Hz, want %d for %s", rate, codec.SampleRate(), codec)
			}
			assertHearsOther(t, alice, 1000, 440)
			assertHearsOther(t, bob, 440, 1000)
		})
	}
}

func TestManualAnswerDTMFAndClose(t *testing.T) {
	alice := Start(t, Config{User: "alice"})
	bob := Start(t, Config{User: "bob", ToneHz: 700})
	if err := alice.Dial(bob.URI()); err != nil {
		t.Fatal(err)
	}
	in, err := bob.WaitIncoming(callTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("incoming: %+v", in)
	if err := bob.Accept(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Phone{alice, bob} {
		if _, err := p.WaitEstablished(callTimeout); err != nil {
			t.Fatal(err)
		}
	}
	const digits = "12#*0"
	if err := alice.SendDTMF(digits); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(callTimeout)
	for bob.ReceivedDTMF() != digits && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := bob.ReceivedDTMF(); got != digits {
		t.Errorf("bob received DTMF %q, want %q", got, digits)
	}

	// Closing a peer in a call hangs the call up with BYE: the other side sees it closed.
	if err := alice.Close(); err != nil {
		t.Fatal(err)
	}
	if ev, err := bob.WaitClosed(callTimeout); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("bob's call closed: %q", ev.Param)
	}
	if err := alice.Dial(bob.URI()); !errors.Is(err, ErrExited) {
		t.Errorf("Dial on a closed peer = %v, want ErrExited", err)
	}
}

func TestBadConfigIsRefused(t *testing.T) {
	for name, cfg := range map[string]Config{
		"codec":     {Codec: "speex/8000/1"},
		"user":      {User: "bob;evil=1"},
		"password":  {AuthPass: "a;b"},
		"tone rate": {Codec: PCMU, ToneHz: 5000},
	} {
		if _, err := start(t.TempDir(), cfg); !errors.Is(err, ErrBadConfig) {
			t.Errorf("%s: start = %v, want ErrBadConfig", name, err)
		}
	}
	if _, err := start(t.TempDir(), Config{Program: "/nonexistent/baresip"}); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("missing program: %v, want ErrNotInstalled", err)
	}
}
