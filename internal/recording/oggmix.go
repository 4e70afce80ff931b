package recording

import (
	"fmt"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4/pkg/media/oggwriter"

	"confd/codec"
)

// opusSilence is a 20 ms CELT fullband Opus frame (TOC 0xF8: configuration 31, mono, one frame)
// that decodes to digital silence: what the file holds where the room sent nothing (DTX).
var opusSilence = []byte{0xF8, 0xFF, 0xFE}

// oggPreSkip is the pre-skip pion's oggwriter writes into the OpusHead (RFC 7845 section 5.1:
// 3840 samples at 48 kHz, 80 ms); a player drops that many samples from the start.
const oggPreSkip = 3840

// frameSamples is one tick at the Opus RTP clock (48 kHz).
const frameSamples = codec.FrameSamples

// mixWriter writes the Opus packets the room sends the recorder into an Ogg Opus file (RFC 7845)
// and keeps the file's time line equal to the room's: silence frames before the first packet,
// in DTX gaps (the RTP timestamp jumped) and up to the stop. The pre-skip is filled with silence
// too, so the playable length is exactly the frames recorded. It runs on the writer goroutine.
type mixWriter struct {
	ogg     *oggwriter.OggWriter
	origin  time.Time // when the recording started: frame 0
	started bool
	nextTS  uint32 // RTP timestamp the next packet should carry
	frames  int64  // playable frames written
	pkt     rtp.Packet
}

func newMixWriter(path string, origin time.Time) (*mixWriter, error) {
	ogg, err := oggwriter.New(path, codec.SampleRate, 1)
	if err != nil {
		return nil, err
	}
	w := &mixWriter{ogg: ogg, origin: origin}
	for range oggPreSkip / frameSamples {
		if err := w.write(opusSilence); err != nil {
			_ = ogg.Close()
			return nil, err
		}
	}
	return w, nil
}

// due returns how many frames the time line holds at t.
func (w *mixWriter) due(t time.Time) int64 {
	return max(int64(t.Sub(w.origin)/codec.FrameDuration), 0)
}

func (w *mixWriter) write(payload []byte) error {
	return w.ogg.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2}, Payload: payload})
}

// silence writes n frames of silence.
func (w *mixWriter) silence(n int64) error {
	for range n {
		if err := w.write(opusSilence); err != nil {
			return err
		}
		w.frames++
	}
	return nil
}

// packet writes one RTP packet that arrived at time at.
func (w *mixWriter) packet(raw []byte, at time.Time) error {
	if err := w.pkt.Unmarshal(raw); err != nil {
		return err
	}
	samples, err := codec.OpusPacketSamples(w.pkt.Payload)
	if err != nil {
		return fmt.Errorf("%w: %w", codec.ErrCorruptPayload, err)
	}
	// The packet covers the frames up to at; whatever the file lacks before it is a gap.
	missing := w.due(at) - w.frames
	if w.started {
		// Trust the RTP timestamps for the gap, but never beyond the wall clock.
		gap := int64(int32(w.pkt.Timestamp-w.nextTS)) / frameSamples
		missing = min(max(gap, 0), missing)
	}
	if err := w.silence(missing); err != nil {
		return err
	}
	w.started = true
	if err := w.ogg.WriteRTP(&w.pkt); err != nil {
		return err
	}
	w.frames += int64(samples / frameSamples)
	w.nextTS = w.pkt.Timestamp + uint32(samples)
	return nil
}

// finish fills the time line up to stopAt and closes the file, which marks the end of stream.
func (w *mixWriter) finish(stopAt time.Time) error {
	err := w.silence(w.due(stopAt) - w.frames)
	if cerr := w.ogg.Close(); err == nil {
		err = cerr
	}
	return err
}
