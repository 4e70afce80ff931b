package bridge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"confd/codec"
	"confd/testkit"
	"confd/testkit/audiotest"
)

// musicHz is the hold music's tone in these tests, apart from every phone's: a whole number
// of cycles in the half-second files, so that the loop keeps its phase.
const musicHz = 520.0

// writeWAV writes seconds of a tone at hz as 16-bit PCM WAV at rate with channels.
func writeWAV(t *testing.T, rate, channels int, hz, seconds float64) string {
	t.Helper()
	return audiotest.ToneWAV(t, rate, channels, hz, 0.2, seconds)
}

// writeOggOpus writes seconds of a tone at hz as Ogg/Opus (pion's oggwriter, as confd's own
// recordings are written).
func writeOggOpus(t *testing.T, hz, seconds float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "music.ogg")
	w, err := oggwriter.New(path, 48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := codec.NewEncoder(codec.Format{Codec: codec.Opus, NoDTX: true})
	if err != nil {
		t.Fatal(err)
	}
	tone := audiotest.NewTone(hz, 0.2, codec.SampleRate)
	var frame codec.Frame
	payload := make([]byte, codec.MaxPayloadSize)
	for i := range int(seconds * 50) {
		tone.Fill(frame[:])
		n, err := enc.Encode(frame[:], payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(i * 960)}, Payload: payload[:n]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// newMusicWorld is newWorld for a config that names hold music: the bridge loads it, and a
// file it cannot decode fails the test.
func newMusicWorld(t *testing.T, cfg Config) *world {
	t.Helper()
	w := newWorld(t, cfg)
	if err := w.b.LoadHoldMusic(); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestDecodeHoldMusic: WAV at 8, 16 and 48 kHz, mono and stereo, and Ogg/Opus all come out as
// the tone at 48 kHz, in whole frames; anything else is refused with ErrBadHoldMusic.
func TestDecodeHoldMusic(t *testing.T) {
	for _, c := range []struct {
		name string
		path string
	}{
		{"wav 8k mono", writeWAV(t, 8000, 1, musicHz, 1)},
		{"wav 16k stereo", writeWAV(t, 16000, 2, musicHz, 1)},
		{"wav 48k mono", writeWAV(t, 48000, 1, musicHz, 1)},
		{"ogg/opus", writeOggOpus(t, musicHz, 1)},
	} {
		m, err := DecodeHoldMusic(c.path)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if len(m.pcm)%codec.FrameSamples != 0 || m.Duration() < 900*time.Millisecond || m.Duration() > 1100*time.Millisecond {
			t.Errorf("%s: %d samples, %v", c.name, len(m.pcm), m.Duration())
		}
		if l := audiotest.ToneLevel(m.pcm[codec.SampleRate/10:], codec.SampleRate, musicHz); l < -20 {
			t.Errorf("%s: the tone at %.1f dBFS", c.name, l)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.wav")
	_ = os.WriteFile(bad, []byte("RIFF\x00\x00\x00\x00WAVEnothing"), 0o644)
	for _, p := range []string{bad, "/no/such/file.ogg", writeWAV(t, 44100, 1, musicHz, 1)} {
		if _, err := DecodeHoldMusic(p); err == nil || !strings.Contains(err.Error(), ErrBadHoldMusic.Error()) {
			t.Errorf("%s: %v, want ErrBadHoldMusic", p, err)
		}
	}
}

// TestHoldMusicLoopsToALoneParticipant: Ada alone in a room with hold music hears it (looped:
// the file is half a second); the tick after Bob joins she hears Bob and no music; when he
// leaves, the music is back. Two rooms with the same file share one decoding, and a room's tick
// with music allocates nothing.
func TestHoldMusicLoopsToALoneParticipant(t *testing.T) {
	path := writeWAV(t, 48000, 1, musicHz, 0.5)
	w := newMusicWorld(t, Config{Rooms: map[string]RoomSettings{"lobby": {HoldMusic: path}, "other": {HoldMusic: path}}})
	if len(w.b.music) != 1 {
		t.Errorf("%d decodings of one file", len(w.b.music))
	}
	ada := w.join("lobby", "Ada", 440)
	w.run(100)
	if l := level(t, ada, w.now.Add(-time.Second), w.now, musicHz); l < -30 {
		t.Errorf("alone, Ada hears the music at %.1f dBFS", l)
	}
	// A lone participant whose leg keeps nothing: the tick with music allocates nothing.
	mustJoin(t, w.b, "other", pcmuInfo("Zed"), &countingLeg{})
	other, _ := w.b.Room("other")
	step := ownerSteps(other, w.now)
	for range 50 {
		step()
	}
	if !other.program.on {
		t.Error("no music for Zed alone")
	}
	if allocs := testing.AllocsPerRun(100, step); allocs != 0 {
		t.Errorf("%.1f allocations per tick with hold music", allocs)
	}
	joined := w.now
	bob := w.join("lobby", "Bob", 700)
	w.run(1)
	// The first packet after the join, less the few milliseconds by which the decoder's
	// resampler (8 to 48 kHz) carries the packet before into it.
	first := ada.heardFrom(t, joined, w.now.Add(time.Millisecond))
	if l := audiotest.ToneLevel(first[codec.SampleRate/200:], codec.SampleRate, musicHz); len(first) != codec.FrameSamples || l > -50 {
		t.Errorf("the tick after Bob joined, Ada hears the music at %.1f dBFS", l)
	}
	w.run(60)
	if l := level(t, ada, joined.Add(200*time.Millisecond), w.now, 700); l < -30 {
		t.Errorf("Ada hears Bob at %.1f dBFS", l)
	}
	if l := level(t, bob, joined, w.now, musicHz); l > -50 {
		t.Errorf("Bob hears the music at %.1f dBFS", l)
	}
	bob.p.Leave("bye")
	left := w.now
	w.run(50)
	if l := level(t, ada, left.Add(100*time.Millisecond), w.now, musicHz); l < -30 {
		t.Errorf("alone again, Ada hears the music at %.1f dBFS", l)
	}
}

// TestWaitForModerator: in a room that waits for its moderator, Ada and Bob hear the hold
// music and not each other, and show as waiting; the tick after Ada is made a moderator they
// hear each other and no music; when she is no longer one they wait again.
func TestWaitForModerator(t *testing.T) {
	path := writeWAV(t, 16000, 1, musicHz, 1)
	w := newMusicWorld(t, Config{Rooms: map[string]RoomSettings{"webinar": {WaitForModerator: true, HoldMusic: path}}})
	ada := w.join("webinar", "Ada", 440)
	bob := w.join("webinar", "Bob", 700)
	w.run(60)
	from := w.now.Add(-time.Second)
	for _, c := range []struct {
		who   *simPhone
		hz    float64
		heard bool
	}{{ada, musicHz, true}, {bob, musicHz, true}, {ada, 700, false}, {bob, 440, false}} {
		if l := level(t, c.who, from, w.now, c.hz); c.heard && l < -30 || !c.heard && l > -50 {
			t.Errorf("waiting, %s hears %.0f Hz at %.1f dBFS", c.who.p.info.Name, c.hz, l)
		}
	}
	if st := w.b.mustState(t, "webinar"); !st.Participants[0].Waiting || !st.Participants[1].Waiting {
		t.Errorf("waiting participants show %+v", st.Participants)
	}
	r, _ := w.b.Room("webinar")
	yes, no := true, false
	if st, err := r.Update(ada.p.ID(), Change{Moderator: &yes}); err != nil || !st.Moderator || st.Waiting {
		t.Fatalf("PATCH moderator: %+v, %v", st, err)
	}
	in := w.now
	w.run(60)
	if l := level(t, ada, in, w.now, musicHz); l > -50 {
		t.Errorf("with a moderator in, Ada hears the music at %.1f dBFS", l)
	}
	if l := level(t, bob, in.Add(200*time.Millisecond), w.now, 440); l < -30 {
		t.Errorf("with a moderator in, Bob hears Ada at %.1f dBFS", l)
	}
	if l := level(t, ada, in.Add(200*time.Millisecond), w.now, 700); l < -30 {
		t.Errorf("with a moderator in, Ada hears Bob at %.1f dBFS", l)
	}
	if _, err := r.Update(ada.p.ID(), Change{Moderator: &no}); err != nil {
		t.Fatal(err)
	}
	out := w.now
	w.run(60)
	if l := level(t, bob, out.Add(100*time.Millisecond), w.now, 440); l > -50 {
		t.Errorf("waiting again, Bob hears Ada at %.1f dBFS", l)
	}
	if l := level(t, bob, out.Add(100*time.Millisecond), w.now, musicHz); l < -30 {
		t.Errorf("waiting again, Bob hears the music at %.1f dBFS", l)
	}
}

// TestEndWithModerator: when the moderator of a room that ends with its moderator hangs up,
// the others hear the "conference ended" prompt and are hung up once it has played; a
// moderator moved away ends nothing.
func TestEndWithModerator(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b, m := boardEndingWithModerator(t)
		bobLeg, cyLeg := &fakeLeg{}, &fakeLeg{}
		mustJoin(t, b, "board", pcmuInfo("Bob"), bobLeg)
		mustJoin(t, b, "board", pcmuInfo("Cy"), cyLeg)
		time.Sleep(time.Second)
		if _, err := b.Move("board", m.ID(), MoveRequest{Room: "breakout"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		if bobLeg.hangup() != "" {
			t.Fatalf("the moderator moved away, and Bob was hung up: %q", bobLeg.hangup())
		}
		if _, err := b.Move("breakout", m.ID(), MoveRequest{Room: "board"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		left := time.Now()
		m.Leave("bye")
		time.Sleep(endPrompt().Duration() - 100*time.Millisecond)
		if bobLeg.hangup() != "" {
			t.Errorf("Bob was hung up before the prompt had played")
		}
		if l := audiotest.RMS(bobLeg.heardBetween(t, codec.PCMU, left, left.Add(2*time.Second))); l < -40 {
			t.Errorf("Bob heard the prompt at %.1f dBFS RMS", l)
		}
		time.Sleep(time.Second)
		for name, l := range map[string]*fakeLeg{"Bob": bobLeg, "Cy": cyLeg} {
			if !strings.Contains(l.hangup(), "ended") {
				t.Errorf("%s: hung up %q after the prompt, want the conference ended", name, l.hangup())
			}
		}
	})
}

// boardEndingWithModerator is a bridge whose room "board" ends with its moderator, and Mod, that
// moderator, in the room. The bridge is closed when the test ends.
func boardEndingWithModerator(t *testing.T) (*Bridge, *Participant) {
	t.Helper()
	b := New(Config{Rooms: map[string]RoomSettings{"board": {EndWithModerator: true}}})
	t.Cleanup(b.Close)
	mod := pcmuInfo("Mod")
	mod.Moderator = true
	return b, mustJoin(t, b, "board", mod, &fakeLeg{})
}

// hangup returns the reason the leg was hung up with, "" while it was not.
func (l *fakeLeg) hangup() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hungUp
}

// TestAnnounceOnlyParticipant: a participant who joins a room alone first hears "You are
// currently the only participant", then the hold music; a second participant hears neither.
func TestAnnounceOnlyParticipant(t *testing.T) {
	path := writeWAV(t, 48000, 1, musicHz, 0.5)
	w := newMusicWorld(t, Config{Rooms: map[string]RoomSettings{"lobby": {HoldMusic: path, AnnounceOnlyParticipant: true}}})
	ada := w.join("lobby", "Ada", 440)
	start := w.now
	prompt := onlyPrompt().Duration()
	w.run(int((prompt + 1500*time.Millisecond) / codec.FrameDuration))
	spoken := ada.heardFrom(t, start.Add(100*time.Millisecond), start.Add(prompt-100*time.Millisecond))
	if rms, music := audiotest.RMS(spoken), audiotest.ToneLevel(spoken, codec.SampleRate, musicHz); rms < -40 || music > -40 {
		t.Errorf("during the prompt Ada hears %.1f dBFS RMS, the music at %.1f", rms, music)
	}
	if l := level(t, ada, start.Add(prompt+300*time.Millisecond), w.now, musicHz); l < -30 {
		t.Errorf("after the prompt Ada hears the music at %.1f dBFS", l)
	}
	// confd's own joining (a recorder, a chime) is no reason to say it again.
	if _, err := w.b.JoinSource("lobby", ParticipantInfo{Name: "chime", Kind: "player"}, &loop{}, &countingLeg{}); err != nil {
		t.Fatal(err)
	}
	chimed := w.now
	w.run(50)
	if rms, music := audiotest.RMS(ada.heardFrom(t, chimed.Add(100*time.Millisecond), w.now)), level(t, ada, chimed.Add(100*time.Millisecond), w.now, musicHz); music < -30 || rms > music+1 {
		t.Errorf("after a player joined Ada hears %.1f dBFS RMS, the music at %.1f: the prompt again?", rms, music)
	}
	bob := w.join("lobby", "Bob", 700)
	joined := w.now
	w.run(50)
	r, _ := w.b.Room("lobby")
	if r.program.on {
		t.Error("a program plays with two in the room")
	}
	if l := level(t, bob, joined, w.now, musicHz); l > -50 {
		t.Errorf("Bob hears the music at %.1f dBFS", l)
	}
}

// TestHoldMusicFileIsBounded (red team, issue 13): a hold-music path that is not a sane audio
// file is refused quickly and without taking memory: a device that never ends (/dev/zero), a
// FIFO nobody writes to (the open would block for ever), a directory, a WAV whose header
// promises hours, and an Ogg/Opus bomb (a small file that decodes to far more than
// MaxHoldMusic, or one of empty packets).
func TestHoldMusicFileIsBounded(t *testing.T) {
	dir := t.TempDir()
	// A WAV at 8 kHz whose data decodes to 11 minutes at 48 kHz.
	long := filepath.Join(dir, "long.wav")
	n := (int(MaxHoldMusic/time.Second) + 60) * 8000
	var wav bytes.Buffer
	wav.WriteString("RIFF\x00\x00\x00\x00WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		_ = binary.Write(&wav, binary.LittleEndian, v)
	}
	wav.WriteString("data")
	_ = binary.Write(&wav, binary.LittleEndian, uint32(2*n))
	wav.Write(make([]byte, 2*n))
	if err := os.WriteFile(long, wav.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Ogg pages: OpusHead, OpusTags, then 120 ms packets of 3 bytes (code 3, 6 × 20 ms of
	// CELT silence): each decodes to 5760 samples, 3800 times its size.
	page := func(pkts ...[]byte) []byte {
		var lacing, body []byte
		for _, p := range pkts {
			lacing = append(lacing, byte(len(p)))
			body = append(body, p...)
		}
		h := append([]byte("OggS"), make([]byte, 22)...)
		h = append(h, byte(len(lacing)))
		return append(append(h, lacing...), body...)
	}
	head := append([]byte("OpusHead\x01\x01"), make([]byte, 9)...)
	var bomb bytes.Buffer
	bomb.Write(page(head))
	bomb.Write(page([]byte("OpusTags")))
	tiny := []byte{0xf8 | 3, 6} // TOC: CELT FB 20 ms, code 3; 6 frames, CBR, each empty (silence)
	var pkts [][]byte
	for range 255 {
		pkts = append(pkts, tiny)
	}
	for range (int(MaxHoldMusic/time.Second)+60)*1000/120/255 + 1 {
		bomb.Write(page(pkts...))
	}
	bombPath := filepath.Join(dir, "bomb.opus")
	if err := os.WriteFile(bombPath, bomb.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Pages of zero lacing values: 255 empty packets per 282 bytes.
	var empties bytes.Buffer
	empties.Write(page(head))
	empties.Write(page([]byte("OpusTags")))
	zeros := page(make([][]byte, 255)...)
	for range 2000 {
		empties.Write(zeros)
	}
	emptiesPath := filepath.Join(dir, "empties.opus")
	if err := os.WriteFile(emptiesPath, empties.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, path := range append(testkit.HostilePaths(t), long, bombPath) {
		var err error
		testkit.ReturnsWithin(t, 10*time.Second, "DecodeHoldMusic("+path+")", func() { _, err = DecodeHoldMusic(path) })
		if !errors.Is(err, ErrBadHoldMusic) {
			t.Errorf("%s: %v, want ErrBadHoldMusic", path, err)
		}
	}
	// The file of empty packets decodes (to nothing but what PLC makes, bounded) or is
	// refused; either way without a list of 510000 packets.
	if m, err := DecodeHoldMusic(emptiesPath); err == nil && m.Duration() > MaxHoldMusic {
		t.Errorf("empty packets: %v of music", m.Duration())
	}
}
