package sipleg

import (
	"sync"
	"time"

	"github.com/pion/rtp"

	"confd/bridge"
	"confd/codec"
	"confd/prompts"
)

// A caller's recorded name, for rooms that announce who comes and goes (announce_join_leave,
// bridge/announce.go), after Asterisk ConfBridge's announce_join_leave: once the IVR knows the
// room and the room announces, it says "Please say your name after the tone", beeps, and keeps
// NameDuration of what the caller sends, decoded, in memory. The name goes with the call into
// the room (ParticipantInfo.RecordedName) and is dropped with the call. A caller that meets no
// IVR (a room without a PIN, called directly) has no recorded name and is announced by nothing.

// NameDuration is how much of the caller's audio is kept as its name.
const NameDuration = 2500 * time.Millisecond

// nameGrace is how much longer than NameDuration the IVR waits for the name to fill: it ends
// when NameDuration of the caller's audio has been decoded, not when NameDuration has passed on
// confd's clock, so that packets that came in time but were read late (a busy machine) still
// count; a caller that sends less (DTX in a pause, a phone that stops) is cut off at
// NameDuration + nameGrace with what it sent.
const nameGrace = 2 * time.Second

// nameRecorder decodes the caller's audio packets into a buffer of NameDuration, on the media
// reader, while the IVR waits; it allocates nothing per packet.
type nameRecorder struct {
	mu   sync.Mutex
	pt   uint8 // the audio payload type the caller sends
	dec  codec.Decoder
	pcm  []int16 // what was said so far; its capacity is NameDuration
	buf  [codec.MaxPacketSamples]int16
	done bool          // full, or stopped: later packets are ignored
	full chan struct{} // closed when the name has NameDuration of audio
}

func newNameRecorder(pt uint8, dec codec.Decoder) *nameRecorder {
	return &nameRecorder{pt: pt, dec: dec, full: make(chan struct{}),
		pcm: make([]int16, 0, int(NameDuration/time.Millisecond)*codec.SampleRate/1000)}
}

// push decodes one packet of the caller's into the name; other payload types (DTMF, CN) are
// not audio and are skipped.
func (n *nameRecorder) push(h *rtp.Header, payload []byte) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done || h.PayloadType != n.pt {
		return
	}
	k, err := n.dec.Decode(payload, n.buf[:])
	if err != nil {
		return
	}
	k = min(k, cap(n.pcm)-len(n.pcm))
	n.pcm = append(n.pcm, n.buf[:k]...)
	if len(n.pcm) == cap(n.pcm) {
		n.done = true
		close(n.full)
	}
}

// stop ends the recording and returns the name (nil for nothing heard).
func (n *nameRecorder) stop() *bridge.HoldMusic {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.done = true
	return bridge.NewRecordedName(n.pcm)
}

// wantsName reports whether room announces who comes and goes, so that the caller is asked
// for its name.
func (c *call) wantsName(room string) bool {
	return c.s.bridge.Settings(room).AnnounceJoinLeave
}

// recordName asks the caller for its name and keeps it for the call (c.recordedName). A caller
// that hangs up meanwhile ends it with errIVRQuit.
func (v *ivr) recordName(pl *player) error {
	c := v.c
	res := c.result()
	dec, err := codec.NewDecoder(res.Codec)
	if err != nil {
		c.log.Warn("ivr: no decoder for the name", "err", err)
		return nil // joins unannounced
	}
	if err := v.play(pl, prompts.SayName); err != nil {
		return err
	}
	if err := v.play(pl, prompts.Beep); err != nil {
		return err
	}
	rec := newNameRecorder(res.LocalPayloadType, dec)
	v.name.Store(rec)
	timer := time.NewTimer(NameDuration + nameGrace)
	defer timer.Stop()
	select {
	case <-v.quit:
		err = errIVRQuit
	case <-rec.full:
	case <-timer.C:
	}
	v.name.Store(nil)
	if name := rec.stop(); name != nil && err == nil {
		c.recordedName.Store(name)
		c.log.Info("ivr: name recorded", "duration", name.Duration())
	}
	return err
}
