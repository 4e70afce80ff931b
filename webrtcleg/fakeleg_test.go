package webrtcleg

import (
	"sync"
	"testing"

	"confd/bridge"
	"confd/codec"
	"confd/internal/testkit/rtptest"
	"confd/jitter"
)

// capLeg is a bridge leg that records the sizes of the packets the room sends it.
type capLeg struct {
	mu    sync.Mutex
	sizes []int
}

func (l *capLeg) SendRTP(pkt []byte) { l.mu.Lock(); l.sizes = append(l.sizes, len(pkt)); l.mu.Unlock() }
func (l *capLeg) Hangup(string)      {}

// tonePusher is a participant joined through the bridge directly that sends an Opus tone with
// its RFC 6464 level every 20 ms, like a clean browser on the room's side.
type tonePusher struct {
	stop chan struct{}
	wg   sync.WaitGroup
	p    *bridge.Participant
}

func startTone(t *testing.T, b *bridge.Bridge, room string, hz float64) *tonePusher {
	t.Helper()
	p, err := b.Join(room, bridge.ParticipantInfo{Name: "tone", Kind: "test",
		Input: []jitter.PayloadType{{Type: 111, Codec: codec.Opus}}, LevelExtensionID: 1}, &capLeg{})
	if err != nil {
		t.Fatal(err)
	}
	tp := &tonePusher{stop: make(chan struct{}), p: p}
	tp.wg.Add(1)
	go func() {
		defer tp.wg.Done()
		_ = rtptest.Tone{Codec: codec.Opus, PT: 111, Hz: hz, Amplitude: 0.5, LevelExtensionID: 1}.Send(p, tp.stop)
	}()
	t.Cleanup(tp.close)
	return tp
}

func (tp *tonePusher) close() {
	select {
	case <-tp.stop:
		return
	default:
	}
	close(tp.stop)
	tp.wg.Wait()
	tp.p.Leave("done")
}
