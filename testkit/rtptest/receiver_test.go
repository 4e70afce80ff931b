package rtptest

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"confd/codec"
	"confd/testkit"
	"confd/testkit/audiotest"
)

// udpPusher sends what a Tone pushes to a Receiver's port.
type udpPusher struct{ conn *net.UDPConn }

func (u udpPusher) PushRTP(raw []byte, _ time.Time) error {
	_, err := u.conn.Write(raw)
	return err
}

// TestReceiverDecodesItsPayloadTypeOnly: a Receiver hands over a PCMU tone sent to it, decoded
// at the tone's level and stamped on arrival, and drops a datagram that is not RTP and a packet
// of another payload type.
func TestReceiverDecodesItsPayloadTypeOnly(t *testing.T) {
	var mu sync.Mutex
	var pcm []int16
	var others int
	start := time.Now()
	rx := Listen(t, codec.PCMU, 0, func(pkt *rtp.Packet, arrival time.Time, got []int16) {
		mu.Lock()
		defer mu.Unlock()
		if pkt.PayloadType != 0 || arrival.Before(start) || got == nil {
			others++
		}
		pcm = append(pcm, got...)
	})
	conn, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: rx.Port()})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	other, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 8}, Payload: make([]byte, 160)}).Marshal()
	for _, d := range [][]byte{[]byte("not RTP"), other} {
		if _, err := conn.Write(d); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- Tone{Codec: codec.PCMU, PT: 0, Hz: 440}.Send(udpPusher{conn}, stop) }()
	testkit.Eventually(t, 10*time.Second, "half a second of audio not received", func() bool { mu.Lock(); defer mu.Unlock(); return len(pcm) >= codec.SampleRate/2 })
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	rx.Close()
	mu.Lock()
	defer mu.Unlock()
	if others != 0 {
		t.Errorf("%d packets handed over that were not the tone's, or not stamped, or not decoded", others)
	}
	if l := audiotest.ToneLevel(pcm, codec.SampleRate, 440); l < -12 {
		t.Errorf("the tone decoded at %.1f dBFS, want about -10.5", l)
	}
}
