package webrtcleg

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/bridge"
	"confd/codec"
	"confd/internal/testkit/audiotest"
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
	enc, err := codec.NewEncoder(codec.Format{Codec: codec.Opus})
	if err != nil {
		t.Fatal(err)
	}
	tone := audiotest.NewTone(hz, 0.5, codec.SampleRate)
	tp.wg.Add(1)
	go func() {
		defer tp.wg.Done()
		pcm := make([]int16, codec.FrameSamples)
		buf := make([]byte, 1500)
		raw := make([]byte, 1500)
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SSRC: 0x70e, SequenceNumber: 1, Timestamp: 100}}
		_ = pkt.SetExtension(1, []byte{0x80 | 6})
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tp.stop:
				return
			case <-tick.C:
			}
			tone.Fill(pcm)
			n, _ := enc.Encode(pcm, buf)
			pkt.Payload = buf[:n]
			m, err := pkt.MarshalTo(raw)
			if err == nil {
				_ = p.PushRTP(raw[:m], time.Now())
			}
			pkt.SequenceNumber++
			pkt.Timestamp += codec.FrameSamples
		}
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
