package recording

import (
	"bufio"
	"encoding/binary"
	"os"
	"time"

	"confd/codec"
)

// wavHeaderSize is the size of a canonical PCM WAV header (RIFF, fmt, data).
const wavHeaderSize = 44

// TrackWriter writes one participant's decoded audio as a 48 kHz mono 16-bit WAV file whose
// time line is the recording's: frame n of the file is the tick n frames after origin, and
// ticks in which the participant was not heard (silent, not among the mixed talkers, not yet
// joined, or gone) are silence, so that tracks of one recording line up for transcription.
// It is not safe for concurrent use: the recording's writer goroutine owns it.
type TrackWriter struct {
	f      *os.File
	w      *bufio.Writer
	origin time.Time
	frames int64
	buf    [codec.FrameSamples * 2]byte
	err    error
}

// NewTrackWriter creates the WAV file at path with frame 0 at origin. The file must not exist
// (it is created exclusively, readable by the owner alone).
func NewTrackWriter(path string, origin time.Time) (*TrackWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	t := &TrackWriter{f: f, w: bufio.NewWriterSize(f, 64<<10), origin: origin}
	var h [wavHeaderSize]byte
	if _, err := t.w.Write(h[:]); err != nil { // written for real by Close, once sizes are known
		_ = f.Close()
		return nil, err
	}
	return t, nil
}

// Frames returns the number of frames written so far.
func (t *TrackWriter) Frames() int64 { return t.frames }

func (t *TrackWriter) index(at time.Time) int64 {
	return max(int64(at.Sub(t.origin)/codec.FrameDuration), 0)
}

// WriteFrame writes f as the frame of the tick at time at, after silence for the ticks since the
// last frame. A frame for a tick already written (a repeat) is ignored.
func (t *TrackWriter) WriteFrame(at time.Time, f *codec.Frame) error {
	i := t.index(at)
	if i < t.frames || t.err != nil {
		return t.err
	}
	t.silence(i - t.frames)
	for k, s := range f {
		binary.LittleEndian.PutUint16(t.buf[2*k:], uint16(s))
	}
	t.put()
	return t.err
}

func (t *TrackWriter) put() {
	if t.err == nil {
		_, t.err = t.w.Write(t.buf[:])
		t.frames++
	}
}

func (t *TrackWriter) silence(n int64) {
	if n <= 0 {
		return
	}
	clear(t.buf[:])
	for range n {
		t.put()
	}
}

// Close fills the time line with silence up to stopAt, writes the WAV header and closes the file.
func (t *TrackWriter) Close(stopAt time.Time) error {
	t.silence(t.index(stopAt) - t.frames)
	if t.err == nil {
		t.err = t.w.Flush()
	}
	if t.err == nil {
		_, t.err = t.f.WriteAt(wavHeader(t.frames*codec.FrameSamples*2), 0)
	}
	if err := t.f.Close(); t.err == nil {
		t.err = err
	}
	return t.err
}

// wavHeader returns the header of a 48 kHz mono 16-bit PCM WAV file with dataBytes of samples.
func wavHeader(dataBytes int64) []byte {
	h := make([]byte, wavHeaderSize)
	le := binary.LittleEndian
	copy(h[0:], "RIFF")
	le.PutUint32(h[4:], uint32(36+dataBytes))
	copy(h[8:], "WAVEfmt ")
	le.PutUint32(h[16:], 16)
	le.PutUint16(h[20:], 1) // PCM
	le.PutUint16(h[22:], 1) // mono
	le.PutUint32(h[24:], codec.SampleRate)
	le.PutUint32(h[28:], codec.SampleRate*2)
	le.PutUint16(h[32:], 2)
	le.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	le.PutUint32(h[40:], uint32(dataBytes))
	return h
}
