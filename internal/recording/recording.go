package recording

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"confd/bridge"
	"confd/codec"
)

// recorderPT is the RTP payload type of the recorder's Opus output; nothing but the recorder
// reads it.
const recorderPT = 111

// Options are a recording's settings; the zero value records the mix only.
type Options struct {
	// Tracks also writes one time-aligned WAV track per participant (needs PCMTapper).
	Tracks bool
	// Name is the files' base name; empty means ROOM-YYYYMMDD-HHMMSS (UTC). A name already
	// taken in the directory gets "-2", "-3"… added: a recording never overwrites another.
	Name string
	// Queue is how many 20 ms packets (and, with Tracks, frames) may wait for the writer before
	// new ones are dropped; 0 means 250 (5 s).
	Queue int
	// Logger logs the start, the stop and write errors; nil means slog.Default().
	Logger *slog.Logger
}

// PCMTapper is the hook per-participant tracks need from a room: SetPCMTap installs tap (nil
// removes it), which the room's tick calls, with the room's lock held, for every participant
// whose input the mixer read in that tick, right after the read: participant is its API id, now
// the tick's time, f the decoded frame (valid only during the call). *bridge.Room is expected to
// implement it.
type PCMTapper interface {
	SetPCMTap(tap func(participant string, now time.Time, f *codec.Frame))
}

// Stats is a snapshot of a recording's counters.
type Stats struct {
	// Packets counts Opus packets of the mix written; Frames the playable 20 ms frames written
	// (silence included), known once the recording has stopped.
	Packets uint64
	Frames  int64
	// Dropped counts packets and track frames lost because the writer fell behind.
	Dropped uint64
	// TrackFrames counts per-participant frames received through the tap.
	TrackFrames uint64
}

// rtpSlot is one packet on its way to the mix file.
type rtpSlot struct {
	n   int
	at  time.Time
	buf [bridge.MaxPacketSize]byte
}

// pcmSlot is one participant's frame on its way to its track.
type pcmSlot struct {
	id    string
	at    time.Time
	frame codec.Frame
}

// Recording records one room: the mix as Ogg Opus (RFC 7845) through a recorder participant,
// and optionally a WAV track per participant. It stops by Stop, when the room has no other
// participants, when its participant is hung up (drain, kick), or at shutdown; each way the
// files are finished and playable.
type Recording struct {
	b      *bridge.Bridge
	room   string
	opts   Options
	log    *slog.Logger
	file   string
	origin time.Time

	part   *bridge.Participant
	tapper PCMTapper
	rtp    *ring[rtpSlot]
	pcm    *ring[pcmSlot]
	closed atomic.Bool
	quit   chan struct{}
	done   chan struct{}
	stopAt time.Time
	watch  *bridge.Subscription

	mix         *mixWriter
	tracks      map[string]*TrackWriter
	trackFiles  []string
	packets     atomic.Uint64
	trackFrames atomic.Uint64
	frames      atomic.Int64

	stopOnce sync.Once
	err      error
}

// Start begins recording room into dir (created if needed) and publishes a "recording" event
// {state: started, file}. The room must have participants.
func Start(b *bridge.Bridge, room string, dir string, opts Options) (*Recording, error) {
	var tapper PCMTapper
	if opts.Tracks {
		r, _ := b.Room(room)
		var ok bool
		if tapper, ok = any(r).(PCMTapper); !ok {
			return nil, ErrNoTap
		}
	}
	return start(b, room, dir, opts, tapper)
}

// start is Start with the room's tap, if tracks are wanted.
func start(b *bridge.Bridge, room string, dir string, opts Options, tapper PCMTapper) (*Recording, error) {
	if err := bridge.CheckRoomName(room); err != nil {
		return nil, err
	}
	if opts.Queue < 0 {
		return nil, fmt.Errorf("%w: queue %d", bridge.ErrBadSetting, opts.Queue)
	}
	opts.Queue = cmp.Or(opts.Queue, 250)
	switch others, recorded := whoIsIn(b, room); {
	case recorded:
		return nil, fmt.Errorf("%w: %q", ErrRecording, room)
	case !others:
		return nil, fmt.Errorf("%w: %q", ErrEmptyRoom, room)
	}
	// Recordings are conversations: readable by confd's user alone.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	origin := time.Now()
	name := opts.Name
	if name == "" {
		name = room + "-" + origin.UTC().Format("20060102-150405")
	}
	file, err := reserve(dir, name, ".opus")
	if err != nil {
		return nil, err
	}
	rec := &Recording{
		b: b, room: room, opts: opts, log: opts.Logger, origin: origin,
		file: file, tapper: tapper,
		rtp: newRing[rtpSlot](opts.Queue), quit: make(chan struct{}), done: make(chan struct{}),
		tracks: map[string]*TrackWriter{},
	}
	if rec.log == nil {
		rec.log = slog.Default()
	}
	rec.log = rec.log.With("room", room)
	mix, err := newMixWriter(rec.file, origin)
	if err != nil {
		_ = os.Remove(rec.file)
		return nil, err
	}
	rec.mix = mix
	if tapper != nil {
		rec.pcm = newRing[pcmSlot](opts.Queue)
	}
	go rec.write()
	rec.part, err = b.Join(room, bridge.ParticipantInfo{Name: "recorder", Kind: bridge.KindRecorder,
		Output: codec.Format{Codec: codec.Opus}, OutputPT: recorderPT}, recorderLeg{rec})
	if err != nil {
		rec.closed.Store(true)
		close(rec.quit)
		<-rec.done
		_ = os.Remove(rec.file)
		return nil, err
	}
	if tapper != nil {
		tapper.SetPCMTap(rec.tap)
	}
	rec.watch = b.Bus().Subscribe(room, 64, "")
	go rec.watchRoom()
	b.Bus().Publish(bridge.Event{Type: bridge.EventRecording, Room: room,
		Data: map[string]any{"state": "started", "file": rec.file}})
	rec.log.Info("recording started", "file", rec.file, "tracks", opts.Tracks)
	return rec, nil
}

// whoIsIn reports whether room has a participant other than confd's own (bridge.InternalKind),
// and whether it has a recorder.
func whoIsIn(b *bridge.Bridge, room string) (others, recorded bool) {
	r, ok := b.Room(room)
	if !ok {
		return false, false
	}
	for _, p := range r.Participants() {
		recorded = recorded || p.Kind() == bridge.KindRecorder
		others = others || !p.Internal()
	}
	return others, recorded
}

// Room returns the recorded room's name.
func (r *Recording) Room() string { return r.room }

// File returns the path of the mix's Ogg Opus file.
func (r *Recording) File() string { return r.file }

// Tracks returns the paths of the per-participant tracks; complete once Done is closed.
func (r *Recording) Tracks() []string {
	select {
	case <-r.done:
		return append([]string(nil), r.trackFiles...)
	default:
		return nil
	}
}

// Done is closed once the recording has stopped and its files are finished.
func (r *Recording) Done() <-chan struct{} { return r.done }

// Stats returns the recording's counters.
func (r *Recording) Stats() Stats {
	st := Stats{Packets: r.packets.Load(), Frames: r.frames.Load(), Dropped: r.rtp.dropped.Load(), TrackFrames: r.trackFrames.Load()}
	if r.pcm != nil {
		st.Dropped += r.pcm.dropped.Load()
	}
	return st
}

// recorderLeg is the recorder's side of the bridge: the room's packets go to the file writer.
type recorderLeg struct{ r *Recording }

// SendRTP copies the packet for the writer; the tick never waits for the disk.
func (l recorderLeg) SendRTP(pkt []byte) {
	r := l.r
	if r.closed.Load() || len(pkt) > len(rtpSlot{}.buf) {
		return
	}
	i, s, ok := r.rtp.acquire()
	if !ok {
		return
	}
	s.n = copy(s.buf[:], pkt)
	s.at = time.Now()
	r.rtp.publish(i)
}

// Hangup (a kick, the drain) ends the recording, which finishes its files.
func (l recorderLeg) Hangup(string) { go func() { _ = l.r.Stop() }() }

// tap receives one participant's decoded frame from the room's tick.
func (r *Recording) tap(participant string, now time.Time, f *codec.Frame) {
	if r.closed.Load() {
		return
	}
	i, s, ok := r.pcm.acquire()
	if !ok {
		return
	}
	s.id, s.at, s.frame = participant, now, *f
	r.pcm.publish(i)
}

// watchRoom stops the recording once the room has nobody else in it.
func (r *Recording) watchRoom() {
	check := time.NewTicker(time.Second) // in case a leave event was dropped
	defer check.Stop()
	for {
		select {
		case e, ok := <-r.watch.C:
			if !ok {
				return
			}
			if e.Type != bridge.EventLeave {
				continue
			}
		case <-check.C:
		case <-r.done:
			return
		}
		if others, _ := whoIsIn(r.b, r.room); !others {
			go func() { _ = r.Stop() }()
			return
		}
	}
}

// Stop ends the recording: the recorder leaves the room, the writer writes what is queued and
// finishes the files, and a "recording" event {state: stopped, file} is published. It returns
// the first write error, and is safe to call more than once and from any goroutine.
func (r *Recording) Stop() error {
	r.stopOnce.Do(func() {
		r.closed.Store(true)
		if r.tapper != nil {
			r.tapper.SetPCMTap(nil)
		}
		// After Leave no tick is running for the recorder, and closed stops the taps of later
		// ticks: nothing is published after quit.
		r.part.Leave("recording stopped")
		r.stopAt = time.Now()
		close(r.quit)
		<-r.done
		r.watch.Close()
		secs := float64(r.frames.Load()) * codec.FrameDuration.Seconds()
		// duration_s is the old spelling, kept for the integrators that read it.
		data := map[string]any{"state": "stopped", "file": r.file, "duration_seconds": secs, "duration_s": secs}
		if len(r.trackFiles) > 0 {
			data["tracks"] = r.trackFiles
		}
		if r.err != nil {
			data["error"] = r.err.Error()
		}
		r.b.Bus().Publish(bridge.Event{Type: bridge.EventRecording, Room: r.room, Data: data})
		r.log.Info("recording stopped", "file", r.file, "frames", r.frames.Load(), "dropped", r.Stats().Dropped, "err", r.err)
	})
	return r.err
}

// write is the writer goroutine: it owns the files.
func (r *Recording) write() {
	defer close(r.done)
	var pcmFull chan int32
	if r.pcm != nil {
		pcmFull = r.pcm.full
	}
	for {
		select {
		case i := <-r.rtp.full:
			r.writePacket(i)
		case i := <-pcmFull:
			r.writeFrame(i)
		case <-r.quit:
			r.drain()
			r.finish()
			return
		}
	}
}

// drain writes what was queued before quit.
func (r *Recording) drain() {
	for {
		select {
		case i := <-r.rtp.full:
			r.writePacket(i)
			continue
		default:
		}
		if r.pcm == nil {
			return
		}
		select {
		case i := <-r.pcm.full:
			r.writeFrame(i)
		default:
			return
		}
	}
}

func (r *Recording) writePacket(i int32) {
	s := &r.rtp.slots[i]
	if err := r.mix.packet(s.buf[:s.n], s.at); err != nil {
		r.fail(err)
	} else {
		r.packets.Add(1)
	}
	r.rtp.release(i)
}

func (r *Recording) writeFrame(i int32) {
	s := &r.pcm.slots[i]
	t, ok := r.tracks[s.id]
	if !ok {
		path := fmt.Sprintf("%s-p%s.wav", r.file[:len(r.file)-len(".opus")], s.id)
		var err error
		if t, err = NewTrackWriter(path, r.origin); err != nil {
			r.fail(err)
			t = nil
		} else {
			r.trackFiles = append(r.trackFiles, path)
		}
		r.tracks[s.id] = t // nil after an error: the participant's frames are skipped
	}
	if t != nil {
		if err := t.WriteFrame(s.at, &s.frame); err != nil {
			r.fail(err)
		}
		r.trackFrames.Add(1)
	}
	r.pcm.release(i)
}

// fail keeps the first write error (the rest are usually the same disk problem again).
func (r *Recording) fail(err error) {
	if r.err == nil {
		r.err = err
		r.log.Error("recording: write failed", "file", r.file, "err", err)
	}
}

func (r *Recording) finish() {
	if err := r.mix.finish(r.stopAt); err != nil {
		r.fail(err)
	}
	r.frames.Store(r.mix.frames)
	for _, t := range r.tracks {
		if t != nil {
			if err := t.Close(r.stopAt); err != nil {
				r.fail(err)
			}
		}
	}
}

// reserve creates dir/name+ext, or dir/name-N+ext for the first N from 2 that is free, exclusively
// and readable by the owner alone (0600), and returns its path. Two recordings of a room started
// in the same second get two files; a file planted under the name (a link included) is never
// opened.
func reserve(dir, name, ext string) (string, error) {
	for n := 1; n <= 1000; n++ {
		path := filepath.Join(dir, name+ext)
		if n > 1 {
			path = filepath.Join(dir, fmt.Sprintf("%s-%d%s", name, n, ext))
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return path, f.Close()
	}
	return "", fmt.Errorf("%w: %s%s and its 999 successors", ErrNameTaken, filepath.Join(dir, name), ext)
}
