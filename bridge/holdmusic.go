package bridge

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"confd/codec"
	"confd/mixer"
)

// ErrBadHoldMusic is returned for a hold-music file that is not 16-bit PCM WAV (8, 16 or
// 48 kHz, mono or stereo) nor Ogg/Opus (RFC 7845).
var ErrBadHoldMusic = errors.New("bridge: bad hold-music file")

// HoldMusic is an audio file decoded once into mono PCM at the mixing rate (codec.SampleRate):
// a whole number of frames, with each frame's level, so that playing it is a copy and a lookup.
// It is never modified after decoding and is shared by every room that plays the same file.
type HoldMusic struct {
	path   string
	pcm    []int16
	levels []codec.Level
}

// Duration returns how long the music plays before it loops.
func (m *HoldMusic) Duration() time.Duration {
	return time.Duration(len(m.levels)) * codec.FrameDuration
}

// DecodeHoldMusic reads and decodes path: a WAV file (RIFF, 16-bit PCM, 8000, 16000 or 48000 Hz,
// mono or stereo, mixed down) or an Ogg/Opus file (RFC 7845; decoded to mono).
func DecodeHoldMusic(path string) (*HoldMusic, error) {
	data, err := readHoldMusicFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadHoldMusic, err)
	}
	var pcm []int16
	switch {
	case bytes.HasPrefix(data, []byte("RIFF")):
		pcm, err = decodeWAV(data)
	case bytes.HasPrefix(data, []byte("OggS")):
		pcm, err = decodeOggOpus(data)
	default:
		err = errors.New("neither WAV (RIFF) nor Ogg")
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadHoldMusic, filepath.Base(path), err)
	}
	if len(pcm) < codec.FrameSamples {
		return nil, fmt.Errorf("%w: %s: shorter than one frame", ErrBadHoldMusic, filepath.Base(path))
	}
	return newHoldMusic(path, pcm), nil
}

// Bounds on a hold-music file, so that a path that is not music cannot take confd down (red
// team, issue 13): /dev/zero or a huge file would grow os.ReadFile's buffer until the kernel
// kills confd, a FIFO would block the open for ever, and a small Ogg file of tiny 120 ms Opus
// packets decodes to thousands of times its size.
const (
	// MaxHoldMusicFileSize is the largest hold-music file read (a 48 kHz stereo WAV of
	// 10 minutes is 110 MiB).
	MaxHoldMusicFileSize = 128 << 20
	// MaxHoldMusic is the longest hold music decoded; it loops.
	MaxHoldMusic = 10 * time.Minute
	// maxHoldMusicSamples is MaxHoldMusic at codec.SampleRate.
	maxHoldMusicSamples = int(MaxHoldMusic/time.Second) * codec.SampleRate
)

// readHoldMusicFile reads a regular file of at most MaxHoldMusicFileSize bytes. It opens it
// without blocking (a FIFO's open waits for a writer otherwise) and refuses anything that is
// not a regular file (devices, FIFOs, directories, /proc's endless files report size 0 and
// are regular: the read's limit bounds them).
func readHoldMusicFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", filepath.Base(path))
	case fi.Size() > MaxHoldMusicFileSize:
		return nil, fmt.Errorf("%s is larger than %d MiB", filepath.Base(path), MaxHoldMusicFileSize>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxHoldMusicFileSize+1))
	if err == nil && len(data) > MaxHoldMusicFileSize {
		err = fmt.Errorf("%s is larger than %d MiB", filepath.Base(path), MaxHoldMusicFileSize>>20)
	}
	return data, err
}

// errHoldMusicTooLong is returned for music that decodes to more than MaxHoldMusic.
var errHoldMusicTooLong = fmt.Errorf("longer than %v", MaxHoldMusic)

// newHoldMusic makes a HoldMusic of pcm (48 kHz mono), padded with silence to whole frames.
func newHoldMusic(path string, pcm []int16) *HoldMusic {
	frames := (len(pcm) + codec.FrameSamples - 1) / codec.FrameSamples
	m := &HoldMusic{path: path, pcm: make([]int16, frames*codec.FrameSamples), levels: make([]codec.Level, frames)}
	copy(m.pcm, pcm)
	for i := range m.levels {
		m.levels[i] = codec.LevelOf(m.pcm[i*codec.FrameSamples : (i+1)*codec.FrameSamples])
	}
	return m
}

// decodeWAV returns the samples of a 16-bit PCM WAV file at codec.SampleRate, mono.
func decodeWAV(data []byte) ([]int16, error) {
	if len(data) < 12 || string(data[8:12]) != "WAVE" {
		return nil, errors.New("not a WAVE file")
	}
	var channels, rate, bits int
	var samples []byte
	for rest := data[12:]; len(rest) >= 8; {
		id, size := string(rest[:4]), int(binary.LittleEndian.Uint32(rest[4:8]))
		rest = rest[8:]
		if size > len(rest) {
			size = len(rest) // a data chunk whose size was never filled in: take what is there
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, errors.New("short fmt chunk")
			}
			if f := binary.LittleEndian.Uint16(rest[0:2]); f != 1 && f != 0xFFFE {
				return nil, fmt.Errorf("format %d is not PCM", f)
			}
			channels = int(binary.LittleEndian.Uint16(rest[2:4]))
			rate = int(binary.LittleEndian.Uint32(rest[4:8]))
			bits = int(binary.LittleEndian.Uint16(rest[14:16]))
		case "data":
			samples = rest[:size]
		}
		rest = rest[min(len(rest), size+size%2):]
	}
	if bits != 16 || channels < 1 || channels > 2 {
		return nil, fmt.Errorf("%d-bit %d-channel audio: want 16-bit mono or stereo", bits, channels)
	}
	n := len(samples) / (2 * channels)
	if rate > 0 && int64(n)*codec.SampleRate/int64(rate) > int64(maxHoldMusicSamples) {
		return nil, errHoldMusicTooLong // checked before anything is allocated
	}
	mono := make([]int16, n)
	for i := range mono {
		sum := 0
		for c := range channels {
			sum += int(int16(binary.LittleEndian.Uint16(samples[2*(i*channels+c):])))
		}
		mono[i] = int16(sum / channels)
	}
	return resampleAll(mono, rate)
}

// resampleAll resamples a whole mono signal at rate to codec.SampleRate.
func resampleAll(in []int16, rate int) ([]int16, error) {
	rs, err := codec.NewResampler(rate, codec.SampleRate)
	if err != nil {
		return nil, err
	}
	out := make([]int16, 0, len(in)*codec.SampleRate/rate+codec.FrameSamples)
	chunk := make([]int16, codec.FrameSamples*codec.SampleRate/8000)
	for i := 0; i < len(in); i += codec.FrameSamples {
		n := rs.Process(in[i:min(len(in), i+codec.FrameSamples)], chunk)
		out = append(out, chunk[:n]...)
	}
	return out, nil
}

// decodeOggOpus returns the decoded samples of an Ogg/Opus file (RFC 7845): its packets are
// reassembled from the pages' lacing values, the two header packets checked and skipped, the
// rest decoded, and the OpusHead's pre-skip dropped from the start.
func decodeOggOpus(data []byte) ([]int16, error) {
	// Each packet is decoded as soon as its last segment is read, rather than all of them
	// collected first: a page of zero lacing values is 255 empty packets in 282 bytes, and a
	// list of them would be twenty times the file's size (red team, issue 13).
	var (
		partial []byte
		npkt    int
		preSkip int
		dec     codec.Decoder
		out     []int16
		buf     = make([]int16, codec.MaxPacketSamples)
	)
	packet := func(pkt []byte) error {
		npkt++
		switch npkt {
		case 1:
			if !bytes.HasPrefix(pkt, []byte("OpusHead")) || len(pkt) < 19 {
				return errors.New("no OpusHead: not an Ogg/Opus file")
			}
			preSkip = int(binary.LittleEndian.Uint16(pkt[10:12]))
			var err error
			dec, err = codec.NewDecoder(codec.Opus)
			return err
		case 2:
			return nil // OpusTags
		}
		n, err := dec.Decode(pkt, buf)
		if err != nil {
			return err
		}
		if len(out)+n > maxHoldMusicSamples+preSkip {
			return errHoldMusicTooLong
		}
		out = append(out, buf[:n]...)
		return nil
	}
	for rest := data; len(rest) > 0; {
		if len(rest) < 27 || string(rest[:4]) != "OggS" {
			return nil, errors.New("bad Ogg page")
		}
		nseg := int(rest[26])
		if len(rest) < 27+nseg {
			return nil, errors.New("short Ogg page")
		}
		lacing := rest[27 : 27+nseg]
		body := rest[27+nseg:]
		for _, l := range lacing {
			if int(l) > len(body) {
				return nil, errors.New("short Ogg page body")
			}
			partial = append(partial, body[:l]...)
			body = body[l:]
			if l < 255 {
				if err := packet(partial); err != nil {
					return nil, err
				}
				partial = partial[:0]
			}
		}
		rest = body
	}
	if npkt < 2 {
		return nil, errors.New("no OpusHead: not an Ogg/Opus file")
	}
	return out[min(preSkip, len(out)):], nil
}

// LoadHoldMusic decodes the hold music of every declared room, once per file, so that a bad
// file stops confd at start rather than leaving a room silent. Rooms declared later (Declare)
// have theirs decoded then.
func (b *Bridge) LoadHoldMusic() error {
	b.mu.Lock()
	var paths []string
	for _, s := range b.declared {
		if s.HoldMusic != "" && b.music[s.HoldMusic] == nil {
			paths = append(paths, s.HoldMusic)
		}
	}
	b.mu.Unlock()
	var errs []error
	for _, p := range paths {
		if _, err := b.holdMusic(p); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// HoldMusicLoaded reports whether path's music has been decoded: named by a room of the
// config file (LoadHoldMusic) or of the rooms kept by -data-dir. The API may name only such a
// file (red team, issue 13): with any path, an API token could have confd open any file it can
// read (a device, a FIFO, /proc) and learn from the answer whether it exists.
func (b *Bridge) HoldMusicLoaded(path string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.music[path] != nil
}

// holdMusic returns the decoded music of path, decoding it the first time (outside b.mu: a
// file may take a moment, and joins must not wait for it).
func (b *Bridge) holdMusic(path string) (*HoldMusic, error) {
	if strings.TrimSpace(path) == "" {
		return nil, nil
	}
	b.mu.Lock()
	m := b.music[path]
	b.mu.Unlock()
	if m != nil {
		return m, nil
	}
	m, err := DecodeHoldMusic(path)
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if had := b.music[path]; had != nil {
		return had, nil
	}
	if b.music == nil {
		b.music = map[string]*HoldMusic{}
	}
	b.music[path] = m
	return m, nil
}

// loop plays PCM into a room's mixer as a mixer.Source: a frame per tick with its level known
// (so talker selection takes it at once) and the voice flag set (music is no fan): an intro
// once (a prompt), then the music looped, either of them absent. It allocates nothing.
type loop struct {
	intro, music *HoldMusic
	pos          int // the next tick's frame: the intro's, then the music's
	playhead
}

// playhead is this tick's frame of a source that plays decoded clips (hold music, prompts,
// announcements): frame of clip, or none when clip is nil. It reads that frame for the mixer.
type playhead struct {
	clip  *HoldMusic
	frame int
}

// set points the playhead at frame of clip (nil: nothing this tick) and returns the frame's
// activity for mixer.Source's Advance.
func (h *playhead) set(clip *HoldMusic, frame int) codec.Activity {
	h.clip, h.frame = clip, frame
	if clip == nil {
		return codec.Activity{}
	}
	return codec.Activity{Present: true, LevelKnown: true, Level: clip.levels[frame], Voice: true}
}

// Read implements mixer.Source.
func (h *playhead) Read(f *codec.Frame) bool {
	if h.clip == nil {
		return false
	}
	copy(f[:], h.clip.pcm[h.frame*codec.FrameSamples:])
	return true
}

// Advance implements mixer.Source.
func (l *loop) Advance(time.Time) codec.Activity {
	var clip *HoldMusic
	var frame int
	switch n := l.intro.frames(); {
	case l.pos < n:
		clip, frame = l.intro, l.pos
	case l.music != nil:
		if l.pos-n >= len(l.music.levels) {
			l.pos = n // loop, without the intro
		}
		clip, frame = l.music, l.pos-n
	default:
		return l.set(nil, 0)
	}
	l.pos++
	return l.set(clip, frame)
}

// frames returns how many frames m holds (0 for nil).
func (m *HoldMusic) frames() int {
	if m == nil {
		return 0
	}
	return len(m.levels)
}

// program is what a room plays into its own mix, besides its participants: the hold music,
// or the prompt that ends the room (moderator.go). It is a mixer participant that hears
// nothing and has no Participant (the API and the counts never see it), owned by the room's
// owner.
type program struct {
	music *HoldMusic // the room's hold music, nil for none
	src   loop
	mid   mixer.ID // its mixer id, 0 until first played
	on    bool
	gen   uint64 // counts the times it was put into the mix (census.go keeps it off cascades)
}

// play puts intro (once) and then m (looped) into the room's mix from the next tick. A program
// that is playing m already (its intro, if any, included) goes on unless there is a new intro.
// As the room's owner.
func (r *Room) play(intro, m *HoldMusic) {
	pg := &r.program
	if pg.on && intro == nil && pg.src.music == m {
		return
	}
	r.stopProgram()
	if intro == nil && m == nil {
		return
	}
	if pg.mid == 0 {
		_, pg.mid = r.b.newParticipantID()
	}
	pg.src = loop{intro: intro, music: m}
	if err := r.mix.Add(pg.mid, mixer.ParticipantConfig{Source: &pg.src}); err != nil {
		r.b.log.Warn("hold music not played", "room", r.name, "err", err)
		return
	}
	pg.on = true
	pg.gen++
}

// stopProgram takes the program out of the room's mix at once: the next tick has none of it.
func (r *Room) stopProgram() {
	if pg := &r.program; pg.on {
		_ = r.mix.Remove(pg.mid)
		pg.on = false
	}
}
