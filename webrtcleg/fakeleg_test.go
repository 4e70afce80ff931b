package webrtcleg

import (
	"sync"
	"testing"

	"confd/bridge"
	"confd/codec"
	"confd/jitter"
	"confd/testkit/rtptest"
)

// capLeg is a bridge leg that records the sizes of the packets the room sends it.
type capLeg struct {
	mu    sync.Mutex
	sizes []int
}

func (l *capLeg) SendRTP(pkt []byte) { l.mu.Lock(); l.sizes = append(l.sizes, len(pkt)); l.mu.Unlock() }
func (l *capLeg) Hangup(string)      {}

// startTone joins a participant to room through the bridge directly that sends an Opus tone
// of hz with its RFC 6464 level every 20 ms, like a clean browser on the room's side, until the
// test ends.
func startTone(t *testing.T, b *bridge.Bridge, room string, hz float64) *rtptest.Player {
	t.Helper()
	p, err := b.Join(room, bridge.ParticipantInfo{Name: "tone", Kind: "test",
		Input: []jitter.PayloadType{{Type: 111, Codec: codec.Opus}}, LevelExtensionID: 1}, &capLeg{})
	if err != nil {
		t.Fatal(err)
	}
	pl := rtptest.Play(p, rtptest.Tone{Codec: codec.Opus, PT: 111, Hz: hz, Amplitude: 0.5, LevelExtensionID: 1}, func() { p.Leave("done") })
	t.Cleanup(pl.Stop)
	return pl
}
