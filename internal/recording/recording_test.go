package recording

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"confd/bridge"
	"confd/codec"
	"confd/jitter"
	"confd/testkit/audiotest"
	"confd/testkit/rtptest"
)

// phone joins room and sends a tone as RTP in codec c every 20 ms until stop is closed.
func phone(t *testing.T, b *bridge.Bridge, room string, c codec.Codec, pt uint8, freq float64, stop chan struct{}, wg *sync.WaitGroup) *bridge.Participant {
	t.Helper()
	p, err := b.Join(room, bridge.ParticipantInfo{Name: "phone", Kind: "sip", Output: codec.Format{Codec: c}, OutputPT: pt,
		Input: []jitter.PayloadType{{Type: pt, Codec: c}}}, rtptest.NopLeg{})
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() {
		if err := rtptest.SendTone(p, c, pt, freq, stop); err != nil {
			t.Error(err)
		}
	})
	return p
}

// joinSilent joins a PCMU participant that sends nothing to room.
func joinSilent(t testing.TB, b *bridge.Bridge, room string) *bridge.Participant {
	t.Helper()
	p, err := b.Join(room, bridge.ParticipantInfo{Kind: "sip", Output: codec.Format{Codec: codec.PCMU}}, rtptest.NopLeg{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeOgg decodes an Ogg Opus file as a player would: every packet, then the pre-skip dropped.
// It also reports whether the last page ends the stream.
func decodeOgg(t *testing.T, path string) (pcm []int16, eos bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, head, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	if head.SampleRate != codec.SampleRate || head.Channels != 1 {
		t.Errorf("OpusHead %+v", head)
	}
	dec, err := codec.NewDecoder(codec.Opus)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]int16, codec.MaxPacketSamples)
	var granule uint64
	for {
		payload, page, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		granule = page.GranulePosition
		if len(payload) == 0 || string(payload[:min(8, len(payload))]) == "OpusTags" {
			continue
		}
		n, err := dec.Decode(payload, out)
		if err != nil {
			t.Fatalf("packet at granule %d: %v", page.GranulePosition, err)
		}
		pcm = append(pcm, out[:n]...)
	}
	if int(granule) != len(pcm) {
		t.Errorf("last granule position %d, decoded %d samples", granule, len(pcm))
	}
	// RFC 7845 section 3 (RFC 3533 page header): byte 5 of the last page carries the
	// end-of-stream flag, 0x04.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.LastIndex(raw, []byte("OggS")); i >= 0 && i+5 < len(raw) {
		eos = raw[i+5]&0x04 != 0
	}
	return pcm[min(int(head.PreSkip), len(pcm)):], eos
}

func TestRecordingHoldsTheMixOnTheRoomsTimeLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		b := bridge.New(bridge.Config{})
		events := b.Bus().Subscribe("rec", 100, "")
		stop := make(chan struct{})
		var wg sync.WaitGroup
		a := phone(t, b, "rec", codec.PCMU, 0, 440, stop, &wg)
		c := phone(t, b, "rec", codec.Opus, 111, 1000, stop, &wg)
		time.Sleep(100 * time.Millisecond)

		rec, err := Start(b, "rec", dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := Start(b, "rec", dir, Options{Name: "again"}); !errors.Is(err, ErrRecording) {
			t.Errorf("a second recorder in the room: %v", err)
		}
		time.Sleep(1500 * time.Millisecond)
		close(stop) // both phones fall silent: the room's encoder goes quiet or into DTX
		wg.Wait()
		time.Sleep(time.Second + 7*time.Millisecond)
		if err := rec.Stop(); err != nil {
			t.Fatal(err)
		}
		stopped := time.Now()
		if err := rec.Stop(); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		ticks := int(stopped.Sub(start) / codec.FrameDuration)

		pcm, eos := decodeOgg(t, rec.File())
		if !eos {
			t.Error("the file has no end-of-stream page")
		}
		st := rec.Stats()
		if d := len(pcm) - ticks*codec.FrameSamples; d < -codec.FrameSamples || d > codec.FrameSamples {
			t.Errorf("file holds %d samples, the recording %d ticks (%d samples): off by %d", len(pcm), ticks, ticks*codec.FrameSamples, d)
		}
		if st.Frames != int64(len(pcm)/codec.FrameSamples) || st.Dropped != 0 || st.Packets == 0 {
			t.Errorf("stats %+v, file %d frames", st, len(pcm)/codec.FrameSamples)
		}
		t.Logf("%d ticks recorded, file %d samples, %d packets from the room", ticks, len(pcm), st.Packets)
		sec := codec.SampleRate
		talk := pcm[sec/4 : sec*5/4]
		for _, f := range []float64{440, 1000} {
			if l := audiotest.ToneLevel(talk, sec, f); l < -20 {
				t.Errorf("the %v Hz participant is at %.1f dBFS in the recording", f, l)
			}
		}
		if quiet := audiotest.RMS(pcm[len(pcm)-sec/2:]); quiet > -50 {
			t.Errorf("after everyone fell silent the recording is at %.1f dBFS", quiet)
		}
		_ = audiotest.WriteWAV(dir+"/decoded.wav", sec, 1, pcm)

		a.Leave("bye")
		c.Leave("bye")
		b.Close()
		events.Close()
		var states []any
		for e := range events.C {
			if e.Type == bridge.EventRecording {
				states = append(states, e.Data["state"])
				if e.Data["file"] != rec.File() {
					t.Errorf("event %+v", e)
				}
			}
		}
		if len(states) != 2 || states[0] != "started" || states[1] != "stopped" {
			t.Errorf("recording events %v", states)
		}
	})
}

func TestRecordingFinishesWhenTheRoomEmpties(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bridge.New(bridge.Config{})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		p := phone(t, b, "empties", codec.Opus, 111, 700, stop, &wg)
		time.Sleep(60 * time.Millisecond)
		rec, err := Start(b, "empties", t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
		close(stop)
		wg.Wait()
		p.Leave("bye")
		select {
		case <-rec.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("the recording goes on in an empty room")
		}
		synctest.Wait()
		if _, ok := b.Room("empties"); ok {
			t.Error("the recorder keeps the empty room alive")
		}
		pcm, eos := decodeOgg(t, rec.File())
		if !eos || len(pcm) < 24*codec.FrameSamples || len(pcm) > 27*codec.FrameSamples {
			t.Errorf("finished file: %d samples, end of stream %v", len(pcm), eos)
		}
		if l := audiotest.ToneLevel(pcm[codec.SampleRate/10:codec.SampleRate*4/10], codec.SampleRate, 700); l < -20 {
			t.Errorf("700 Hz at %.1f dBFS", l)
		}
		b.Close()
	})
}

func TestHangupFinishesTheRecording(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bridge.New(bridge.Config{})
		p := joinSilent(t, b, "drain")
		rec, err := Start(b, "drain", t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		b.HangupAll("shutdown") // what the drain does
		<-rec.Done()
		if _, eos := decodeOgg(t, rec.File()); !eos {
			t.Error("no end of stream")
		}
		p.Leave("bye")
		b.Close()
	})
}

func TestStartRefusesBadInput(t *testing.T) {
	b := bridge.New(bridge.Config{})
	if _, err := Start(b, "nobody", t.TempDir(), Options{}); !errors.Is(err, ErrEmptyRoom) {
		t.Errorf("empty room: %v", err)
	}
	if _, err := Start(b, "bad name", t.TempDir(), Options{}); !errors.Is(err, bridge.ErrBadRoomName) {
		t.Errorf("bad name: %v", err)
	}
	p := joinSilent(t, b, "r")
	defer b.Close()
	defer p.Leave("bye")
	if r, _ := b.Room("r"); r != nil {
		if _, ok := any(r).(PCMTapper); !ok {
			if _, err := Start(b, "r", t.TempDir(), Options{Tracks: true}); !errors.Is(err, ErrNoTap) {
				t.Errorf("tracks without a tap: %v", err)
			}
		}
	}
	if _, err := Start(b, "r", t.TempDir(), Options{Queue: -1}); !errors.Is(err, bridge.ErrBadSetting) {
		t.Errorf("negative queue: %v", err)
	}
	if st, _ := b.RoomState("r"); len(st.Participants) != 1 {
		t.Errorf("refused starts left participants behind: %+v", st.Participants)
	}
}

func TestManagerRecordsRoomsThatAskForItAndFinishesAtShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bridge.New(bridge.Config{Rooms: map[string]bridge.RoomSettings{"auto": {Record: true}}})
		m := NewManager(b, t.TempDir(), Options{})
		p := joinSilent(t, b, "auto")
		q := joinSilent(t, b, "manual")
		synctest.Wait()
		auto, ok := m.Recording("auto")
		if !ok {
			t.Fatal("a room declared with record is not recorded")
		}
		if _, ok := m.Recording("manual"); ok {
			t.Error("a room without record is recorded")
		}
		if _, err := m.Start("manual"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Start("manual"); !errors.Is(err, ErrRecording) {
			t.Errorf("second start: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
		manual, _ := m.Recording("manual")
		if _, err := m.Stop("manual"); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Stop("manual"); !errors.Is(err, ErrNotRecording) {
			t.Errorf("second stop: %v", err)
		}
		time.Sleep(300 * time.Millisecond)
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		for _, r := range []*Recording{auto, manual} {
			pcm, eos := decodeOgg(t, r.File())
			if !eos || len(pcm) < 14*codec.FrameSamples {
				t.Errorf("%s: %d samples, end of stream %v", r.File(), len(pcm), eos)
			}
		}
		if _, err := m.Start("auto"); !errors.Is(err, bridge.ErrDraining) {
			t.Errorf("start after Close: %v", err)
		}
		p.Leave("bye")
		q.Leave("bye")
		b.Close()
	})
}

// Issue 8, item 15: recordings are conversations. They must be readable by confd's user alone,
// and two recordings of a room started in the same second (stop, start again) must both be kept,
// as must a file that already stands under the name.
func TestRecordingsArePrivateAndNeverOverwritten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bridge.New(bridge.Config{})
		p := joinSilent(t, b, "private")
		dir := filepath.Join(t.TempDir(), "recordings")
		// A file planted under the next name: the recording must not write into it.
		start := time.Now().UTC().Format("20060102-150405")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		planted := filepath.Join(dir, "private-"+start+".opus")
		if err := os.WriteFile(planted, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		var files []string
		for range 2 { // two in the same (fake) second
			rec, err := Start(b, "private", dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			rec.Stop()
			<-rec.Done()
			files = append(files, rec.File())
		}
		if files[0] == files[1] || files[0] == planted || files[1] == planted {
			t.Fatalf("recordings %q share a name (planted %q)", files, filepath.Base(planted))
		}
		if b, _ := os.ReadFile(planted); string(b) != "keep me" {
			t.Errorf("the planted file was overwritten: %q", b)
		}
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			if mode := st.Mode().Perm(); mode != 0o600 {
				t.Errorf("%s: mode %v, want 0600", filepath.Base(f), mode)
			}
			if _, eos := decodeOgg(t, f); !eos {
				t.Errorf("%s: not finished", filepath.Base(f))
			}
		}
		p.Leave("bye")
		b.Close()
	})
	dirMode(t)
}

// dirMode checks that a recording directory confd makes is 0700.
func dirMode(t *testing.T) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "made")
	if _, err := reserve(dir, "x", ".opus"); err == nil {
		t.Fatal("reserve in a missing directory should fail (Start makes it)")
	}
	synctest.Test(t, func(t *testing.T) {
		b := bridge.New(bridge.Config{})
		p := joinSilent(t, b, "mk")
		rec, err := Start(b, "mk", dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rec.Stop()
		<-rec.Done()
		p.Leave("bye")
		b.Close()
	})
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if mode := st.Mode().Perm(); mode != 0o700 {
		t.Errorf("recording directory mode %v, want 0700", mode)
	}
}

// TestStoppedEventSaysDurationSeconds: the "recording" event of a stop says how long the file
// is as duration_seconds, the spelling of every duration in confd's events and replies
// (room_finished's, the play reply's), and still as duration_s, which the web page and existing
// integrators read.
func TestStoppedEventSaysDurationSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := bridge.New(bridge.Config{})
		defer b.Close()
		p := joinSilent(t, b, "timed")
		events := b.Bus().Subscribe("timed", 64, "")
		defer events.Close()
		rec, err := Start(b, "timed", t.TempDir(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if err := rec.Stop(); err != nil {
			t.Fatal(err)
		}
		p.Leave("bye")
		for {
			e := <-events.C
			if e.Type != bridge.EventRecording || e.Data["state"] != "stopped" {
				continue
			}
			secs, ok := e.Data["duration_seconds"].(float64)
			if !ok || secs < 0.9 || secs > 1.1 || e.Data["duration_s"] != secs {
				t.Errorf("stopped after 1 s: duration_seconds %v, duration_s %v", e.Data["duration_seconds"], e.Data["duration_s"])
			}
			return
		}
	})
}

// TestErrorsWrapTheBridgesErrors (review finding 5): recording's refusals are answered through
// the bridge's status table (bridge.StatusOf), as rtpfwd's are, so the API needs no table of
// its own for them: a room nobody is in 404, one already recorded 409, no recording to stop
// 404, bad audio for a player 400.
func TestErrorsWrapTheBridgesErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{ErrEmptyRoom, 404}, {ErrRecording, 409}, {ErrNotRecording, 404}, {ErrBadAudio, 400},
	} {
		err := fmt.Errorf("%w: %q", c.err, "r")
		if st, ok := bridge.StatusOf(err); !ok || st.HTTP != c.want {
			t.Errorf("%v: HTTP %d (in the table: %v), want %d", err, st.HTTP, ok, c.want)
		}
	}
}
